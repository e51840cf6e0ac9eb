//! `orscb`: the message becomes an event of the ORS session named by the subscription's `deviceId`, sent as
//! `POST {orscb.url}/scxml/session/{id}/event/{tag}` with form parameters (the ORS HTTP interface). Without
//! `orscb.url`, the base is this node's own ORS interface (its internal listener).

use http_body_util::Full;
use hyper::Request;
use hyper::body::Bytes;

use super::{Outcome, Outgoing};
use crate::notify::config::OrscbChannel;
use crate::outbound::HttpClient;

/// Sends the event; any 2xx reply is a delivery.
pub async fn deliver(
    client: &HttpClient,
    channel: &OrscbChannel,
    local: Option<&str>,
    session_id: &str,
    outgoing: &Outgoing,
) -> Outcome {
    let Some(base) = channel.url.as_deref().or(local) else {
        return Outcome::failed(
            "orscb.url is not set and this node's ORS interface is not listening yet".to_string(),
        );
    };
    let url = format!(
        "{}/scxml/session/{}/event/{}",
        base,
        path_segment(session_id),
        path_segment(&outgoing.tag)
    );
    let mut fields = vec![
        ("message", outgoing.text.as_str()),
        ("tag", outgoing.tag.as_str()),
        ("subscriptionId", outgoing.subscription_id.as_str()),
    ];
    if let Some(mediatype) = &outgoing.mediatype {
        fields.push(("mediatype", mediatype.as_str()));
    }
    let body = serde_urlencoded::to_string(&fields).unwrap_or_default();
    let request = match Request::post(url.as_str())
        .header(
            hyper::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .body(Full::new(Bytes::from(body)))
    {
        Ok(request) => request,
        Err(error) => return Outcome::failed(format!("bad ORS URL `{url}`: {error}")),
    };
    match client.send(request).await {
        Ok(reply) if (200..300).contains(&reply.status) => Outcome::delivered(),
        Ok(reply) => Outcome::failed(format!("ORS answered {}", reply.status)),
        Err(error) => Outcome::failed(format!("ORS unreachable: {error}")),
    }
}

/// Percent-encodes everything but unreserved characters, so an id or tag stays one path segment.
fn path_segment(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (byte as char).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}
