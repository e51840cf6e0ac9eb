//! `httpcb`: POST the message to the subscriber's URL (`deviceId`); success only on 200.

use http_body_util::Full;
use hyper::Request;
use hyper::body::Bytes;

use super::{Outcome, Outgoing};
use crate::outbound::HttpClient;

/// Posts `outgoing.text` to `url`, with the `mediatype` (or `text/plain`) as content type.
pub async fn deliver(client: &HttpClient, url: &str, outgoing: &Outgoing) -> Outcome {
    let content_type = outgoing
        .mediatype
        .as_deref()
        .filter(|mediatype| mediatype.contains('/'))
        .unwrap_or("text/plain; charset=utf-8");
    let request = match Request::post(url)
        .header(hyper::header::CONTENT_TYPE, content_type)
        .header("gms-notification-tag", outgoing.tag.as_str())
        .body(Full::new(Bytes::from(outgoing.text.clone())))
    {
        Ok(request) => request,
        Err(error) => return Outcome::failed(format!("bad callback URL `{url}`: {error}")),
    };
    match client.send(request).await {
        Ok(reply) if reply.status == 200 => Outcome::delivered(),
        Ok(reply) => Outcome::failed(format!("callback answered {}", reply.status)),
        Err(error) => Outcome::failed(format!("callback failed: {error}")),
    }
}
