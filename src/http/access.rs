//! The access rules of the public listener: the deployment guide's "Block" list (match-interaction,
//! notification/publish, node) answers 404 there, whatever else is mounted (applied by `edge::Edge`). Path segments are compared after
//! percent-decoding, so `match%2Dinteraction` is blocked too.

use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use percent_encoding::percent_decode_str;

use super::error::ApiError;

/// Whether `path` is on the "Block" list: `/genesys/{version}/service/match-interaction`,
/// `/genesys/{version}/notification/publish`, `/genesys/{version}/node` (and anything below them).
pub fn is_blocked(path: &str) -> bool {
    let segments: Vec<String> = path
        .split('/')
        .filter(|segment| !segment.is_empty())
        .map(|segment| percent_decode_str(segment).decode_utf8_lossy().into_owned())
        .collect();
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    matches!(
        segments.as_slice(),
        ["genesys", _, "service", "match-interaction", ..]
            | ["genesys", _, "notification", "publish", ..]
            | ["genesys", _, "node", ..]
    )
}

/// The public listener's answer to a blocked path: 404, as for a route that does not exist.
pub fn blocked(request: &Request) -> Response {
    ApiError::not_found(format!(
        "no route for {} {}",
        request.method(),
        request.uri().path()
    ))
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::is_blocked;

    #[test]
    fn blocks_the_block_list_only() {
        assert!(is_blocked("/genesys/1/service/match-interaction"));
        assert!(is_blocked("//genesys/1/service/match%2Dinteraction/"));
        assert!(is_blocked("/genesys/1/notification/publish"));
        assert!(is_blocked("/genesys/2/node"));
        assert!(!is_blocked("/genesys/1/service/request-interaction"));
        assert!(!is_blocked("/genesys/1/notification/subscription"));
        assert!(!is_blocked("/genesys/1/storage/30"));
    }
}
