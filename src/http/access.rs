//! The access rules of the public listener, as an allow list: it serves exactly the deployment guide's "Allow"
//! shapes (CometD, services, storage, notification subscriptions, chat), plus the node's status for load
//! balancers' health checks; any other path answers 404 there, whatever else is mounted (applied by
//! `edge::Edge`). The "Block" list (match-interaction, notification/publish, node) is outside the shapes, and a
//! service whose section makes it a match-interaction is refused whatever its name.
//!
//! Path segments are compared after percent-decoding (`match%2Dinteraction` is match-interaction), on the path
//! the edge has already normalised (duplicate and trailing slashes), so routing and these rules see one spelling.

use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use percent_encoding::percent_decode_str;

use super::error::ApiError;
use crate::config::GmsConfig;

/// The builtin services the public listener never serves (the "Block" list's match-interaction).
const BLOCKED_BUILTINS: &[&str] = &["match-interaction"];

/// Whether the public listener serves `path`, given the configured services.
pub fn is_allowed(path: &str, config: &GmsConfig) -> bool {
    let segments: Vec<String> = path
        .split('/')
        .filter(|segment| !segment.is_empty())
        .map(|segment| percent_decode_str(segment).decode_utf8_lossy().into_owned())
        .collect();
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    match segments.as_slice() {
        ["genesys", "cometd", ..] => true,
        ["genesys", _, "admin", "node", "status"] => true,
        ["genesys", _, "storage", _] | ["genesys", _, "storage", _, _] => true,
        ["genesys", _, "notification", "subscription"]
        | ["genesys", _, "notification", "subscription", _] => true,
        // `{service name}` on creation, `{id}` afterwards: a name that is a blocked builtin is refused.
        ["genesys", _, "service", name] => !is_blocked_service(name, config),
        ["genesys", _, "service", _, "request", _] => true,
        ["genesys", _, "service", id, name] => {
            !is_blocked_service(id, config) && !is_blocked_service(name, config)
        }
        ["genesys", _, "service", _, "ixn", "chat"]
        | ["genesys", _, "service", _, "ixn", "chat", _] => true,
        _ => false,
    }
}

/// Whether the service `name` is a blocked builtin, by its name or by its section's type.
fn is_blocked_service(name: &str, config: &GmsConfig) -> bool {
    if BLOCKED_BUILTINS.contains(&name) {
        return true;
    }
    config.service(name).is_some_and(|service| {
        service.kind == "builtin" && BLOCKED_BUILTINS.contains(&service.service.as_str())
    })
}

/// The public listener's answer to a path it does not serve: 404, as for a route that does not exist.
pub fn refused(request: &Request) -> Response {
    ApiError::not_found(format!(
        "no route for {} {}",
        request.method(),
        request.uri().path()
    ))
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::is_allowed;
    use crate::config::{GmsConfig, RawConfig};

    fn config() -> GmsConfig {
        let text = "[server]\nnode_id = 1\n[service.match2]\ntype = builtin\nservice = match-interaction\n\
                    [service.request-interaction]\ntype = builtin\nservice = request-interaction\n";
        let raw = RawConfig::parse(std::path::Path::new("gms.ini"), text).expect("parses");
        GmsConfig::from_raw(raw).expect("types")
    }

    #[test]
    fn serves_the_allow_shapes_only() {
        let config = config();
        for allowed in [
            "/genesys/cometd",
            "/genesys/cometd/handshake",
            "/genesys/1/service/request-interaction",
            "/genesys/1/service/0a1b2c",
            "/genesys/1/service/0a1b2c/request/check-queue-position",
            "/genesys/1/service/0a1b2c/check-queue-position",
            "/genesys/1/service/0a1b2c/ixn/chat",
            "/genesys/1/service/0a1b2c/ixn/chat/refresh",
            "/genesys/1/service/chat-sync",
            "/genesys/1/storage/30",
            "/genesys/1/storage/abc/key",
            "/genesys/1/notification/subscription",
            "/genesys/1/notification/subscription/abc",
            "/genesys/1/admin/node/status",
        ] {
            assert!(is_allowed(allowed, &config), "{allowed}");
        }
        for refused in [
            "/genesys/1/service/match-interaction",
            "/genesys/1/service/match%2Dinteraction",
            "/genesys/1/service/match2",
            "/genesys/1/service/0a1b2c/match2",
            "/genesys/1/notification/publish",
            "/genesys/1/node",
            "/genesys/2/node",
            "/genesys/1/admin/node/changestatus/OFFLINE",
            "/genesys/1/contact-center/calls",
            "/genesys/1/geo/search",
            "/genesys/openapi.json",
            "/metrics",
            "/scxml/session/start",
            "/genesys/1/storage/a/b/c",
            "/",
        ] {
            assert!(!is_allowed(refused, &config), "{refused}");
        }
    }
}
