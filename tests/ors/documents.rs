//! What a `src` may reach: documents under the document roots only (symbolic links and `..` followed), regular
//! files only, a size cap on files and http(s) bodies, a fetch timeout; errors name the document as given and
//! nothing of other files.

use crate::server::{TestServer, assert_error};

const CHART: &str = r#"<scxml xmlns="http://www.w3.org/2005/07/scxml" version="1.0" initial="a"><state id="a"/></scxml>"#;

async fn start_with(server: &TestServer, src: &str) -> (u16, serde_json::Value) {
    server
        .post_internal("/scxml/session/start", &[("src", src)])
        .await
}

fn message(answer: &(u16, serde_json::Value)) -> String {
    answer.1["message"].as_str().unwrap_or_default().to_string()
}

async fn server(extra: &str) -> TestServer {
    TestServer::start(&format!("[server]\nnode_id = 1\n[ors]\n{extra}\n")).await
}

#[tokio::test]
async fn documents_outside_the_roots_are_refused_without_saying_what_they_hold() {
    let server = server("").await;
    let dir = server.config_path.parent().unwrap().to_path_buf();
    std::fs::write(dir.join("ok.scxml"), CHART).unwrap();
    assert_eq!(
        start_with(&server, &dir.join("ok.scxml").display().to_string())
            .await
            .0,
        200
    );
    // A chart beside the root, reached by `..`, by a symbolic link, and by its own absolute path.
    let outside = tempfile::tempdir().unwrap();
    let elsewhere = outside.path().join("elsewhere.scxml");
    std::fs::write(&elsewhere, CHART).unwrap();
    std::os::unix::fs::symlink(&elsewhere, dir.join("link.scxml")).unwrap();
    let dotdot = format!(
        "{}/../{}/elsewhere.scxml",
        dir.display(),
        outside
            .path()
            .strip_prefix(dir.parent().unwrap())
            .map_or_else(
                |_| outside.path().display().to_string(),
                |p| p.display().to_string()
            )
    );
    for src in [
        elsewhere.display().to_string(),
        dir.join("link.scxml").display().to_string(),
        dotdot,
        "/etc/passwd".to_string(),
        "file:///etc/passwd".to_string(),
        "../../../../../../etc/passwd".to_string(),
    ] {
        let answer = start_with(&server, &src).await;
        assert_error(&answer, 400, "InvalidParameter");
        let text = message(&answer);
        assert!(
            text.contains(&format!("`{src}`")),
            "names the src as given: {text}"
        );
        assert!(
            text.contains("no such document under the document roots"),
            "{text}"
        );
        assert!(!text.contains("root:") && !text.contains(":1:1"), "{text}");
    }
}

#[tokio::test]
async fn a_fifo_is_refused_at_once() {
    let server = server("").await;
    let fifo = server.config_path.parent().unwrap().join("pipe.scxml");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let answer = start_with(&server, &fifo.display().to_string()).await;
    assert_error(&answer, 400, "InvalidParameter");
    assert!(
        message(&answer).contains("not a regular file"),
        "{answer:?}"
    );
}

#[tokio::test]
async fn documents_larger_than_the_cap_are_refused() {
    let server = server("document_max_size = 1000").await;
    let big = server.config_path.parent().unwrap().join("big.scxml");
    let padding = format!("<!--{}-->", "x".repeat(2000));
    std::fs::write(&big, format!("{CHART}{padding}")).unwrap();
    let answer = start_with(&server, &big.display().to_string()).await;
    assert_error(&answer, 400, "InvalidParameter");
    assert!(
        message(&answer).contains("larger than 1000 bytes (option ors/document_max_size)"),
        "{answer:?}"
    );
    // Over http(s) too, with or without a Content-Length.
    for declared in [true, false] {
        let body = format!("{CHART}{padding}");
        let url = serve_once(body, declared).await;
        let answer = start_with(&server, &url).await;
        assert_error(&answer, 400, "InvalidParameter");
        assert!(
            message(&answer).contains("larger than 1000 bytes"),
            "{answer:?}"
        );
    }
}

#[tokio::test]
async fn an_http_document_that_never_comes_times_out() {
    let server = server("document_fetch_timeout = 1").await;
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/flow.scxml", silent.local_addr().unwrap());
    // Accepts the connection and never answers.
    let held = tokio::spawn(async move {
        let (socket, _) = silent.accept().await.unwrap();
        std::future::pending::<()>().await;
        drop(socket);
    });
    let answer = start_with(&server, &url).await;
    held.abort();
    assert_error(&answer, 400, "InvalidParameter");
    assert!(
        message(&answer).contains("no answer within 1 s (option ors/document_fetch_timeout)"),
        "{answer:?}"
    );
}

#[tokio::test]
async fn a_document_under_the_roots_keeps_its_positioned_errors() {
    let roots = tempfile::tempdir().unwrap();
    let server2 = TestServer::start(&format!(
        "[server]\nnode_id = 1\n[ors]\ndocument_roots = {}\n",
        roots.path().display()
    ))
    .await;
    let broken = roots.path().join("broken.scxml");
    std::fs::write(&broken, "<scxml xmlns=\"http://www.w3.org/2005/07/scxml\" version=\"1.0\">\n<state id=\"a\"><transition target=\"b\"/></state>\n</scxml>").unwrap();
    let answer = start_with(&server2, &broken.display().to_string()).await;
    assert_error(&answer, 400, "InvalidParameter");
    assert!(message(&answer).contains("broken.scxml:2:"), "{answer:?}");
    // The option replaces the default roots: the option file's directory is no root any more.
    let beside = server2.config_path.parent().unwrap().join("ok.scxml");
    std::fs::write(&beside, CHART).unwrap();
    assert_eq!(
        start_with(&server2, &beside.display().to_string()).await.0,
        400
    );
}

/// Serves `body` once over HTTP on a free port (with a Content-Length when `declared`, else chunked); its URL.
async fn serve_once(body: String, declared: bool) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/flow.scxml", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut request = [0u8; 4096];
        let _ = socket.read(&mut request).await;
        let answer = if declared {
            format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
        } else {
            format!(
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n{body}\r\n0\r\n\r\n",
                body.len()
            )
        };
        let _ = socket.write_all(answer.as_bytes()).await;
    });
    url
}
