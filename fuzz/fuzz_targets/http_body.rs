//! Fuzz target: a request body with any `Content-Type` goes through the body readers of `src/http/extract.rs`:
//! `http::extract::parameters` (the ORS interface and service requests: query, then a form or JSON object body)
//! and the `multipart/form-data` reading `Fields` does (axum's `Multipart`, part by part, as `extract.rs` reads
//! it). Each gives fields or an `ApiError` of status 400 or 415 with a sentence, never a panic or a hang.
//!
//! Input: the first line is the `Content-Type` value, the rest is the body. Run with `cargo fuzz run http_body`
//! from the repository root (seed it as `fuzz/README.md` says).

#![no_main]

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use bytes::Bytes;
use gms::http::ApiError;
use gms::http::extract::parameters;
use gms::scxml::Value as ScxmlValue;
use libfuzzer_sys::fuzz_target;

/// Runs a future that only reads an in-memory body: it is ready at every poll, so a future still pending after
/// many polls is a hang.
fn run<T>(future: impl Future<Output = T>) -> T {
    let mut future = pin!(future);
    let mut context = Context::from_waker(Waker::noop());
    for _ in 0..1_000_000 {
        if let Poll::Ready(value) = future.as_mut().poll(&mut context) {
            return value;
        }
    }
    panic!("reading an in-memory body never finished");
}

/// An answer to bad input names the problem: a 4xx the body readers use, with a sentence.
fn assert_clear(error: &ApiError) {
    assert!(
        error.status == StatusCode::BAD_REQUEST
            || error.status == StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unexpected status {} for {:?}",
        error.status,
        error.message
    );
    assert!(
        !error.message.trim().is_empty(),
        "an error without a message"
    );
}

/// The multipart reading of `Fields::from_request` (names, file names, content types, bytes of each part).
async fn multipart(
    content_type: &HeaderValue,
    body: Bytes,
) -> Result<Vec<(String, Bytes)>, ApiError> {
    let request = Request::builder()
        .header(CONTENT_TYPE, content_type)
        .body(Body::from(body))
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let mut multipart = Multipart::from_request(request, &())
        .await
        .map_err(|e| ApiError::bad_request(format!("bad multipart body: {}", e.body_text())))?;
    let mut fields = Vec::new();
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| ApiError::bad_request(format!("bad multipart body: {}", e.body_text())))?
    {
        let Some(name) = field.name().map(str::to_string) else {
            return Err(ApiError::bad_request("a multipart part has no name"));
        };
        let _ = field.file_name().map(str::to_string);
        let _ = field.content_type().map(str::to_string);
        let data = field.bytes().await.map_err(|e| {
            ApiError::bad_request(format!("bad multipart part `{name}`: {}", e.body_text()))
        })?;
        fields.push((name, data));
    }
    Ok(fields)
}

fuzz_target!(|data: &[u8]| {
    let (head, body) = match data.iter().position(|&b| b == b'\n') {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[][..]),
    };
    let Ok(content_type) = HeaderValue::from_bytes(head) else {
        return;
    };
    let body = Bytes::copy_from_slice(body);
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, content_type.clone());
    let query = vec![("q".to_string(), "1".to_string())];

    match parameters(query, &headers, &body) {
        Ok(params) => {
            // The query comes first and is kept as it was sent.
            assert!(
                matches!(params.first(), Some((name, ScxmlValue::String(value))) if name == "q" && &**value == "1"),
                "the query parameter is not first: {params:?}"
            );
            let media = content_type
                .to_str()
                .map(gms::media::essence)
                .unwrap_or_default();
            if media == gms::media::FORM || media.is_empty() {
                assert_eq!(params.len(), 1 + form_count(&body), "form fields lost");
            }
        }
        Err(error) => assert_clear(&error),
    }

    let essence = content_type
        .to_str()
        .map(gms::media::essence)
        .unwrap_or_default();
    if essence == "multipart/form-data" {
        match run(multipart(&content_type, body)) {
            Ok(_) => {}
            Err(error) => assert_clear(&error),
        }
    }
});

/// The fields of a form body, or none for a blank one (`parameters` ignores a body of white space).
fn form_count(body: &[u8]) -> usize {
    if body.iter().all(u8::is_ascii_whitespace) {
        return 0;
    }
    form_urlencoded::parse(body).count()
}
