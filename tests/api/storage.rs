//! Storage API over real HTTP: create, read, update, delete, multipart files, expiry, limits and bad input.

use std::time::Duration;

use crate::server::{TestServer, assert_error};
use serde_json::json;

async fn create(server: &TestServer, ttl: &str, form: &[(&str, &str)]) -> String {
    let (status, body) = server
        .post_form(&format!("/genesys/1/storage/{ttl}"), form)
        .await;
    assert_eq!(status, 200, "{body}");
    body["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn create_read_update_delete() {
    let server = TestServer::sample().await;
    let id = create(&server, "60", &[("name", "Bob"), ("city", "Paris")]).await;
    assert_eq!(
        server.get(&format!("/genesys/1/storage/{id}")).await,
        (200, json!({"name": "Bob", "city": "Paris"}))
    );
    let response = server
        .http
        .get(server.public_url(&format!("/genesys/1/storage/{id}/name")))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; charset=utf-8"
    );
    assert_eq!(response.text().await.unwrap(), "Bob");
    let (status, _) = server
        .post_form(
            &format!("/genesys/1/storage/{id}/120"),
            &[("city", "Lyon"), ("zip", "69")],
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        server.get(&format!("/genesys/1/storage/{id}")).await.1,
        json!({"name": "Bob", "city": "Lyon", "zip": "69"})
    );
    // The update restarted the TTL at 120 s.
    server.advance(Duration::from_secs(100));
    assert_eq!(server.get(&format!("/genesys/1/storage/{id}")).await.0, 200);
    let (status, _) = server
        .send(
            server
                .http
                .delete(server.public_url(&format!("/genesys/1/storage/{id}"))),
        )
        .await;
    assert_eq!(status, 200);
    assert_error(
        &server.get(&format!("/genesys/1/storage/{id}")).await,
        404,
        "NotFound",
    );
    assert_error(
        &server
            .send(
                server
                    .http
                    .delete(server.public_url(&format!("/genesys/1/storage/{id}"))),
            )
            .await,
        404,
        "NotFound",
    );
}

#[tokio::test]
async fn data_expires_after_its_ttl_and_bad_ttls_mean_thirty_seconds() {
    let server = TestServer::sample().await;
    let short = create(&server, "5", &[("a", "1")]).await;
    let defaulted = create(&server, "soon", &[("a", "1")]).await;
    let zero = create(&server, "0", &[("a", "1")]).await;
    server.advance(Duration::from_secs(6));
    assert_error(
        &server.get(&format!("/genesys/1/storage/{short}")).await,
        404,
        "NotFound",
    );
    assert_error(
        &server.get(&format!("/genesys/1/storage/{short}/a")).await,
        404,
        "NotFound",
    );
    assert_eq!(
        server
            .get(&format!("/genesys/1/storage/{defaulted}"))
            .await
            .0,
        200
    );
    server.advance(Duration::from_secs(25));
    assert_error(
        &server.get(&format!("/genesys/1/storage/{defaulted}")).await,
        404,
        "NotFound",
    );
    assert_error(
        &server.get(&format!("/genesys/1/storage/{zero}")).await,
        404,
        "NotFound",
    );
    // An update of expired data is a 404 too.
    assert_error(
        &server
            .post_form(&format!("/genesys/1/storage/{short}/30"), &[("b", "2")])
            .await,
        404,
        "NotFound",
    );
}

#[tokio::test]
async fn multipart_files_come_back_with_their_content_type() {
    let server = TestServer::sample().await;
    let png: Vec<u8> = vec![0x89, b'P', b'N', b'G', 0, 255, 1, 2];
    let form = reqwest::multipart::Form::new().text("note", "hello").part(
        "picture",
        reqwest::multipart::Part::bytes(png.clone())
            .file_name("me.png")
            .mime_str("image/png")
            .unwrap(),
    );
    let (status, body) = server
        .send(
            server
                .http
                .post(server.public_url("/genesys/1/storage/60"))
                .multipart(form),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let id = body["id"].as_str().unwrap();
    let all = server.get(&format!("/genesys/1/storage/{id}")).await.1;
    assert_eq!(all["note"], "hello");
    assert_eq!(all["picture"], format!("/genesys/1/storage/{id}/picture"));
    let response = server
        .http
        .get(server.public_url(&format!("/genesys/1/storage/{id}/picture")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["content-type"], "image/png");
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("me.png")
    );
    assert_eq!(response.bytes().await.unwrap().to_vec(), png);
}

#[tokio::test]
async fn bad_requests_get_json_errors() {
    let server = TestServer::sample().await;
    let json_body = server
        .http
        .post(server.public_url("/genesys/1/storage/30"))
        .header("content-type", "application/json")
        .body("{\"a\":1}");
    assert_error(&server.send(json_body).await, 415, "UnsupportedMediaType");
    let no_type = server
        .http
        .post(server.public_url("/genesys/1/storage/30"))
        .body("a=1");
    assert_error(&server.send(no_type).await, 415, "UnsupportedMediaType");
    assert_error(
        &server.post_form("/genesys/1/storage/30", &[]).await,
        400,
        "InvalidParameter",
    );
    let bad_multipart = server
        .http
        .post(server.public_url("/genesys/1/storage/30"))
        .header("content-type", "multipart/form-data; boundary=xyz")
        .body("--xyz\r\nnot a part");
    assert_error(&server.send(bad_multipart).await, 400, "InvalidParameter");
    let long_key = "k".repeat(300);
    assert_error(
        &server
            .post_form("/genesys/1/storage/30", &[(&long_key, "v")])
            .await,
        400,
        "InvalidParameter",
    );
    let id = create(&server, "30", &[("a", "1")]).await;
    assert_error(
        &server
            .get(&format!("/genesys/1/storage/{id}/missing"))
            .await,
        404,
        "NotFound",
    );
    assert_error(
        &server.get("/genesys/1/storage/unknown-id").await,
        404,
        "NotFound",
    );
    assert_error(
        &server.get("/genesys/1/nothing/here").await,
        404,
        "NotFound",
    );
    assert_error(
        &server
            .send(server.http.put(server.public_url("/genesys/1/storage/30")))
            .await,
        405,
        "MethodNotAllowed",
    );
}

#[tokio::test]
async fn oversized_bodies_and_too_many_keys_are_413() {
    let options = crate::server::SAMPLE
        .replace("storage.max_size = 1048576", "storage.max_size = 1000")
        .replace("storage.max_keys = 256", "storage.max_keys = 3");
    let server = TestServer::start(&options).await;
    let big = "x".repeat(2000);
    assert_error(
        &server
            .post_form("/genesys/1/storage/30", &[("a", &big)])
            .await,
        413,
        "PayloadTooLarge",
    );
    let chunked = server
        .http
        .post(server.public_url("/genesys/1/storage/30"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(reqwest::Body::wrap_stream(futures_stream(format!(
            "a={big}"
        ))));
    assert_error(&server.send(chunked).await, 413, "PayloadTooLarge");
    let many = [("a", "1"), ("b", "1"), ("c", "1"), ("d", "1")];
    assert_error(
        &server.post_form("/genesys/1/storage/30", &many).await,
        413,
        "PayloadTooLarge",
    );
    let id = create(&server, "30", &many[..3]).await;
    assert_error(
        &server
            .post_form(&format!("/genesys/1/storage/{id}/30"), &[("e", "1")])
            .await,
        413,
        "PayloadTooLarge",
    );
}

/// A body without a Content-Length, sent in chunks.
fn futures_stream(
    text: String,
) -> impl futures_core::Stream<Item = Result<Vec<u8>, std::io::Error>> {
    struct Chunks(Vec<Vec<u8>>);
    impl futures_core::Stream for Chunks {
        type Item = Result<Vec<u8>, std::io::Error>;
        fn poll_next(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Self::Item>> {
            std::task::Poll::Ready(if self.0.is_empty() {
                None
            } else {
                Some(Ok(self.0.remove(0)))
            })
        }
    }
    Chunks(text.into_bytes().chunks(100).map(<[u8]>::to_vec).collect())
}

#[tokio::test]
async fn odd_paths_and_encodings_are_4xx_not_5xx() {
    let server = TestServer::sample().await;
    for path in [
        "/genesys/1/storage/%FF%FE",
        "/genesys/1/storage/%FF/%FE",
        "/genesys/1/storage/a/b/c",
        "/genesys/1/storage/",
        "/genesys/1/service/",
        "/genesys/1/service/%00",
    ] {
        let (status, body) = server.get(path).await;
        assert!((400..500).contains(&status), "{path}: {status}");
        assert!(body["exception"].is_string(), "{path}: {body}");
    }
    let bad_form = server
        .http
        .post(server.public_url("/genesys/1/storage/30"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(vec![b'a', b'=', 0xff, 0xfe, b'&', b'=', b'&', b'%']);
    let (status, _) = server.send(bad_form).await;
    assert!(status == 200 || (400..500).contains(&status), "{status}");
}
