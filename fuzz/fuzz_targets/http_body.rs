//! Fuzz target: any bytes given as a request body to the body parsers of the REST API, under each content type
//! a client sends (form, multipart with a fixed or an arbitrary boundary, JSON, none, or an arbitrary type), give
//! fields or a 400 / 415 answer, never a panic, a hang or a 500. `gms::http::extract::body_fields` is what the
//! Storage and Service APIs read bodies with; `gms::http::extract::parameters` what ORS service requests read.
//!
//! The first byte picks the content type; for "arbitrary", the bytes up to the first newline are the header.
//! Run with `cargo fuzz run http_body` from the repository root (seed it as `fuzz/README.md` says).

#![no_main]

use axum::http::{HeaderMap, HeaderValue, header::CONTENT_TYPE};
use bytes::Bytes;
use gms::http::extract::{body_fields, parameters};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let (content_type, body): (Option<String>, &[u8]) = match selector % 6 {
        0 => (Some("application/x-www-form-urlencoded".into()), rest),
        1 => (Some("multipart/form-data; boundary=X".into()), rest),
        2 => (Some("application/json".into()), rest),
        3 => (None, rest),
        _ => {
            let split = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
            let header = String::from_utf8_lossy(&rest[..split]).into_owned();
            let body = rest.get(split + 1..).unwrap_or_default();
            if selector % 6 == 4 {
                (Some(format!("multipart/form-data; boundary={header}")), body)
            } else {
                (Some(header), body)
            }
        }
    };
    let bytes = Bytes::copy_from_slice(body);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    match runtime.block_on(body_fields(content_type.as_deref(), bytes.clone())) {
        Ok(_) => {}
        Err(error) => assert!(
            matches!(error.status.as_u16(), 400 | 413 | 415),
            "{} {}",
            error.status,
            error.message
        ),
    }
    let mut headers = HeaderMap::new();
    if let Some(content_type) = &content_type
        && let Ok(value) = HeaderValue::from_str(content_type)
    {
        headers.insert(CONTENT_TYPE, value);
    }
    if let Err(error) = parameters(Vec::new(), &headers, &bytes) {
        assert!(
            matches!(error.status.as_u16(), 400 | 415),
            "{} {}",
            error.status,
            error.message
        );
    }
});
