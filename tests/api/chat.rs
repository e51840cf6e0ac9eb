//! The Chat API v1 over real HTTP as deployed chat clients call it (a Node.js bridge polling without positions, an
//! Android client with `_verbose`), routed to a simulated agent who answers through the agent side; and bad input.

use std::time::Duration;

use serde_json::{Value, json};

use crate::server::{TestServer, assert_error};

/// Makes `agent` ready and waits until it has joined the chat of `id` (the contact center routes on its own task).
async fn agent_joins(server: &TestServer, agent: &str, id: &str) {
    let (status, _) = server
        .post_internal(
            &format!("/genesys/1/contact-center/agents/{agent}/ready"),
            &[],
        )
        .await;
    assert_eq!(status, 200);
    for _ in 0..500 {
        let (_, chats) = server
            .send(server.http.get(
                server.internal_url(&format!("/genesys/1/contact-center/agents/{agent}/chats")),
            ))
            .await;
        if chats["chats"]
            .as_array()
            .is_some_and(|chats| chats.iter().any(|chat| chat["_id"] == id))
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{agent} never joined the chat of {id}");
}

async fn agent(
    server: &TestServer,
    agent: &str,
    id: &str,
    operation: &str,
    form: &[(&str, &str)],
) -> (u16, Value) {
    server
        .post_internal(
            &format!("/genesys/1/contact-center/agents/{agent}/chats/{id}/{operation}"),
            form,
        )
        .await
}

fn texts(reply: &Value) -> Vec<(String, String)> {
    reply["transcriptToShow"]
        .as_array()
        .map(|entries| {
            entries
                .iter()
                .map(|entry| {
                    (
                        entry[0].as_str().unwrap_or_default().to_string(),
                        entry[2].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

async fn request_chat(server: &TestServer) -> String {
    let (status, reply) = server
        .post_form(
            "/genesys/1/service/request-chat",
            &[("_verbose", "true"), ("MSISDN", "5551234")],
        )
        .await;
    assert_eq!(status, 200, "{reply}");
    let id = reply["_id"].as_str().unwrap().to_string();
    assert_eq!(
        reply["_chatIxnAPI-CREATE-URL"],
        format!("/genesys/1/service/{id}/ixn/chat")
    );
    id
}

#[tokio::test]
async fn the_node_bridge_sequence_polls_without_positions_until_the_end() {
    let server = TestServer::sample().await;
    let id = request_chat(&server).await;
    let chat = |op: &str| format!("/genesys/1/service/{id}/ixn/chat{op}");
    let (status, created) = server
        .post_form(
            &chat(""),
            &[("subject", "billing"), ("email", "ann@example.org")],
        )
        .await;
    assert_eq!(status, 200, "{created}");
    assert!(
        created["chatSessionId"]
            .as_str()
            .is_some_and(|id| !id.is_empty())
    );
    assert_eq!(created["chatIxnState"], "CONNECTED");
    assert_eq!(created["transcriptPosition"], 2);
    assert!(
        created["startedAt"]
            .as_str()
            .is_some_and(|at| at.ends_with('Z') && at.len() == 20)
    );

    agent_joins(&server, "agent1", &id).await;
    let (_, reply) = server
        .post_form(&chat("/refresh"), &[("message", "my bill")])
        .await;
    assert_eq!(
        texts(&reply),
        [
            (
                "Notice.Joined".to_string(),
                "has joined the session".to_string()
            ),
            ("Message.Text".to_string(), "my bill".to_string())
        ]
    );
    assert_eq!(reply["transcriptToShow"][0][4], "AGENT");
    // Nothing new: nothing shown again.
    let (_, reply) = server.post_form(&chat("/refresh"), &[]).await;
    assert_eq!(texts(&reply), []);
    let (status, _) = agent(
        &server,
        "agent1",
        &id,
        "send",
        &[("message", "let me look")],
    )
    .await;
    assert_eq!(status, 200);
    let (_, reply) = server.post_form(&chat("/refresh"), &[]).await;
    assert_eq!(
        texts(&reply),
        [("Message.Text".to_string(), "let me look".to_string())]
    );
    assert_eq!(reply["transcriptToShow"][0][4], "AGENT");
    let (status, _) = agent(&server, "agent1", &id, "leave", &[]).await;
    assert_eq!(status, 200);
    let (_, reply) = server.post_form(&chat("/refresh"), &[]).await;
    assert_eq!(reply["chatIxnState"], "DISCONNECTED", "{reply}");
    // The bridge stops at the first answer with an `exception`.
    let answer = server.post_form(&chat("/refresh"), &[]).await;
    assert_error(&answer, 404, "ChatEnded");
    let answer = server.post_form(&chat("/disconnect"), &[]).await;
    assert_error(&answer, 404, "ChatEnded");
}

#[tokio::test]
async fn the_android_sequence_reads_every_url_and_any_body_shape() {
    let server = TestServer::sample().await;
    let id = request_chat(&server).await;
    let base = format!("/genesys/1/service/{id}/ixn/chat");
    // A JSON body, `_verbose` among its fields.
    let (status, created) = server
        .send(
            server
                .http
                .post(server.public_url(&base))
                .json(&json!({"firstName": "Ann", "lastName": "Lee", "_verbose": "true"})),
        )
        .await;
    assert_eq!(status, 200, "{created}");
    for name in [
        "SEND",
        "REFRESH",
        "START_TYPING",
        "STOP_TYPING",
        "DISCONNECT",
        "REFRESH_FROM_START",
    ] {
        let url = created[format!("_chatIxnAPI_{name}_URL")]
            .as_str()
            .unwrap_or_default();
        assert!(url.starts_with(&base), "{name}: {created}");
    }
    assert_eq!(created["transcriptToShow"][0][1], "Ann Lee");
    assert_eq!(created["chatWebApiPort"], 0);
    assert_eq!(created["isTLSrequired"], false);
    agent_joins(&server, "agent1", &id).await;
    let url = |field: &str| created[field].as_str().unwrap().to_string();
    let (status, _) = server
        .post_form(&url("_chatIxnAPI_START_TYPING_URL"), &[])
        .await;
    assert_eq!(status, 200);
    let (status, _) = server
        .post_form(&url("_chatIxnAPI_STOP_TYPING_URL"), &[])
        .await;
    assert_eq!(status, 200);
    // `{}` as the body, multipart as the body.
    let (status, _) = server
        .send(
            server
                .http
                .post(server.public_url(&url("_chatIxnAPI_SEND_URL")))
                .header("content-type", "application/json")
                .body("{\"message\": \"hello\"}"),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = server
        .send(
            server
                .http
                .post(server.public_url(&url("_chatIxnAPI_REFRESH_URL")))
                .header("content-type", "application/json")
                .body("{}"),
        )
        .await;
    assert_eq!(status, 200);
    let form = reqwest::multipart::Form::new().text("message", "from multipart");
    let (status, _) = server
        .send(
            server
                .http
                .post(server.public_url(&url("_chatIxnAPI_SEND_URL")))
                .multipart(form),
        )
        .await;
    assert_eq!(status, 200);
    // From the start, the position given in the query string, or as a string or a number in a JSON body.
    let (status, all) = server
        .post_form(&url("_chatIxnAPI_REFRESH_FROM_START_URL"), &[])
        .await;
    assert_eq!(status, 200, "{all}");
    let total = all["transcriptPosition"].as_u64().unwrap();
    assert_eq!(
        all["transcriptToShow"].as_array().unwrap().len() as u64,
        total - 1
    );
    for body in [
        json!({"transcriptPosition": total - 1}),
        json!({"transcriptPosition": (total - 1).to_string()}),
    ] {
        let (_, reply) = server
            .send(
                server
                    .http
                    .post(server.public_url(&format!("{base}/refresh")))
                    .json(&body),
            )
            .await;
        assert_eq!(
            texts(&reply),
            [("Message.Text".to_string(), "from multipart".to_string())],
            "{body}"
        );
    }
    let (_, reply) = server
        .post_form(&url("_chatIxnAPI_DISCONNECT_URL"), &[])
        .await;
    assert_eq!(reply["chatIxnState"], "DISCONNECTED");
}

#[tokio::test]
async fn bad_chat_requests_get_clear_errors() {
    let server = TestServer::sample().await;
    let answer = server
        .post_form("/genesys/1/service/nope/ixn/chat", &[])
        .await;
    assert_error(&answer, 404, "NotFound");
    let answer = server
        .post_form("/genesys/1/service/nope/ixn/chat/refresh", &[])
        .await;
    assert_error(&answer, 404, "NotFound");
    let id = request_chat(&server).await;
    let base = format!("/genesys/1/service/{id}/ixn/chat");
    assert_eq!(server.post_form(&base, &[]).await.0, 200);
    assert_error(&server.post_form(&base, &[]).await, 409, "ChatConflict");
    assert_error(
        &server.post_form(&format!("{base}/dance"), &[]).await,
        400,
        "InvalidParameter",
    );
    assert_error(
        &server.post_form(&format!("{base}/send"), &[]).await,
        400,
        "InvalidParameter",
    );
    for position in ["-1", "999", "abc"] {
        let answer = server
            .post_form(
                &format!("{base}/refresh"),
                &[("transcriptPosition", position)],
            )
            .await;
        assert_error(&answer, 400, "InvalidParameter");
    }
    let long = "x".repeat(20_000);
    assert_error(
        &server
            .post_form(&format!("{base}/send"), &[("message", &long)])
            .await,
        413,
        "PayloadTooLarge",
    );
    let answer = server
        .send(
            server
                .http
                .post(server.public_url(&format!("{base}/send")))
                .header("content-type", "text/plain")
                .body("hi"),
        )
        .await;
    assert_error(&answer, 415, "UnsupportedMediaType");
    let answer = server
        .send(
            server
                .http
                .post(server.public_url(&base))
                .form(&[("notify_by", "comet")]),
        )
        .await;
    assert_error(&answer, 400, "InvalidParameter");
    assert_error(
        &agent(&server, "agent2", &id, "send", &[("message", "x")]).await,
        404,
        "NotFound",
    );
    assert_eq!(
        server.post_form(&format!("{base}/disconnect"), &[]).await.0,
        200
    );
    assert_error(
        &server.post_form(&format!("{base}/disconnect"), &[]).await,
        404,
        "ChatEnded",
    );
}

#[tokio::test]
async fn a_chat_no_agent_takes_ends_after_the_request_timeout() {
    let server = TestServer::sample().await;
    let id = request_chat(&server).await;
    let base = format!("/genesys/1/service/{id}/ixn/chat");
    assert_eq!(server.post_form(&base, &[]).await.0, 200);
    // `chat_session_request_timeout` is 30000 ms in the sample options; no agent is ready.
    server.advance(Duration::from_secs(31));
    let mut ended = Value::Null;
    for _ in 0..500 {
        let (_, reply) = server
            .post_form(&format!("{base}/refresh"), &[("transcriptPosition", "1")])
            .await;
        if reply["chatIxnState"] == "DISCONNECTED" {
            ended = reply;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let last = ended["transcriptToShow"]
        .as_array()
        .and_then(|entries| entries.last().cloned());
    assert_eq!(
        last.as_ref().map(|entry| entry[4].clone()),
        Some(json!("EXTERNAL")),
        "{ended}"
    );
}

/// The next line of the client that starts with `prefix` (bounded).
async fn client_line(lines: &mut tokio::sync::mpsc::Receiver<String>, prefix: &str) -> String {
    loop {
        let line = tokio::time::timeout(Duration::from_secs(20), lines.recv())
            .await
            .unwrap_or_else(|_| panic!("no `{prefix}` line in time"))
            .unwrap_or_else(|| panic!("the client ended before printing `{prefix}`"));
        if line.starts_with(prefix) {
            return line;
        }
    }
}

#[tokio::test]
async fn the_npm_cometd_client_follows_a_chat_and_resumes_after_a_disconnect() {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let server = TestServer::sample().await;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/cometd-npm");
    let mut child = tokio::process::Command::new("node")
        .current_dir(&dir)
        .arg(dir.join("chat.mjs"))
        .arg(format!("http://{}", server.public))
        .arg("ann-phone")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("node runs the client");
    let stdout = child.stdout.take().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let (tx, mut lines) = tokio::sync::mpsc::channel(64);
    tokio::spawn(async move {
        let mut reader = BufReader::new(stdout).lines();
        while let Ok(Some(line)) = reader.next_line().await {
            eprintln!("client: {line}");
            if tx.send(line).await.is_err() {
                break;
            }
        }
    });
    let created = client_line(&mut lines, "created").await;
    let id = created.split(' ').nth(1).unwrap().to_string();
    assert!(created.ends_with("CONNECTED"), "{created}");
    assert_eq!(
        client_line(&mut lines, "entry").await,
        "entry 1 Notice.Joined has joined the session"
    );
    agent_joins(&server, "agent1", &id).await;
    assert_eq!(
        client_line(&mut lines, "entry").await,
        "entry 2 Notice.Joined has joined the session"
    );
    assert_eq!(
        agent(&server, "agent1", &id, "send", &[("message", "one")])
            .await
            .0,
        200
    );
    assert_eq!(
        client_line(&mut lines, "entry").await,
        "entry 3 Message.Text one"
    );
    assert_eq!(
        client_line(&mut lines, "disconnected").await,
        "disconnected 4"
    );
    // While the app is away the agent goes on; the app comes back and misses nothing.
    assert_eq!(
        agent(&server, "agent1", &id, "send", &[("message", "two")])
            .await
            .0,
        200
    );
    assert_eq!(
        agent(&server, "agent1", &id, "send", &[("message", "three")])
            .await
            .0,
        200
    );
    stdin.write_all(b"resume\n").await.unwrap();
    assert_eq!(
        client_line(&mut lines, "entry").await,
        "entry 4 Message.Text two"
    );
    assert_eq!(
        client_line(&mut lines, "entry").await,
        "entry 5 Message.Text three"
    );
    assert_eq!(client_line(&mut lines, "done").await, "done");
    let status = tokio::time::timeout(Duration::from_secs(20), child.wait())
        .await
        .expect("the client exits")
        .unwrap();
    assert!(status.success(), "client exit status {status}");
}

#[tokio::test]
async fn an_agent_pokes_the_customers_device() {
    let server = TestServer::sample().await;
    let mut device = crate::sample_flows::PushReceiver::start().await;
    let id = request_chat(&server).await;
    let base = format!("/genesys/1/service/{id}/ixn/chat");
    let (status, created) = server
        .post_form(
            &base,
            &[
                ("push_notification_deviceid", device.url.as_str()),
                ("push_notification_type", "httpcb"),
                ("push_notification_language", "en"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{created}");
    agent_joins(&server, "agent1", &id).await;
    // The agent desktop finds the poke URL in the chat's user data.
    let (_, chats) = server
        .send(
            server
                .http
                .get(server.internal_url("/genesys/1/contact-center/agents/agent1/chats")),
        )
        .await;
    let poke_url = chats["chats"][0]["userData"]["_poke_url"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/genesys/1/chat/{id}/poke");
    assert_eq!(poke_url, format!("http://127.0.0.1:8081{path}"));
    let (status, report) = server.post_internal(&path, &[]).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        device.next().await.1,
        "Your agent is waiting for you in the chat"
    );
    let (status, _) = server
        .post_internal(&path, &[("poke_message", "Still there?")])
        .await;
    assert_eq!(status, 200);
    assert_eq!(device.next().await.1, "Still there?");
    // The poke is for agents: the public listener does not serve it.
    assert_eq!(server.post_form(&path, &[]).await.0, 404);
    let answer = server.post_internal("/genesys/1/chat/nope/poke", &[]).await;
    assert_error(&answer, 404, "NotFound");
}

#[tokio::test]
async fn the_agent_page_in_chromium_answers_a_customer() {
    let server = TestServer::sample().await;
    let id = request_chat(&server).await;
    let base = format!("/genesys/1/service/{id}/ixn/chat");
    assert_eq!(
        server
            .post_form(&base, &[("userDisplayName", "Ann")])
            .await
            .0,
        200
    );
    let mut page =
        crate::browser::Browser::open(&server.internal_url("/agent/?agent=agent1")).await;
    // The agent makes itself ready on the page and is routed the waiting chat.
    page.eval("document.getElementById('ready').click()").await;
    page.until(&format!(
        "document.querySelector('#chats li[data-id=\"{id}\"]') !== null"
    ))
    .await;
    let (status, _) = server
        .post_form(&format!("{base}/refresh"), &[("message", "hello from Ann")])
        .await;
    assert_eq!(status, 200);
    page.until("document.getElementById('transcript').innerText.includes('Ann: hello from Ann')")
        .await;
    // The agent types (a typing notice) and sends.
    page.eval(
        "(() => { const input = document.getElementById('message'); input.value = 'hi Ann, how can I help?'; \
         input.dispatchEvent(new Event('input')); })()",
    )
    .await;
    let (_, reply) = server.post_form(&format!("{base}/refresh"), &[]).await;
    let mut seen = texts(&reply);
    page.eval("document.getElementById('send').click()").await;
    page.until("document.getElementById('transcript').innerText.includes('agent1: hi Ann, how can I help?')")
        .await;
    let (_, reply) = server.post_form(&format!("{base}/refresh"), &[]).await;
    seen.extend(texts(&reply));
    assert!(
        seen.contains(&("Notice.TypingStarted".to_string(), "is typing".to_string())),
        "{seen:?}"
    );
    assert!(
        seen.contains(&(
            "Message.Text".to_string(),
            "hi Ann, how can I help?".to_string()
        )),
        "{seen:?}"
    );
    let png = page.screenshot().await;
    assert!(png.starts_with(b"\x89PNG"), "not a PNG");
    let artifacts = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    std::fs::write(artifacts.join("agent-page.png"), png).unwrap();
}

#[tokio::test]
async fn chat_sync_and_a_bodiless_get_create_a_chat_service() {
    let server = TestServer::sample().await;
    let (status, reply) = server
        .post_form(
            "/genesys/1/service/chat-sync",
            &[("userDisplayName", "Ann"), ("_verbose", "true")],
        )
        .await;
    assert_eq!(status, 200, "{reply}");
    let id = reply["_id"].as_str().unwrap().to_string();
    assert_eq!(reply["chatIxnState"], "CONNECTED");
    assert_eq!(
        reply["_chatIxnAPI-CREATE-URL"],
        format!("/genesys/1/service/{id}/ixn/chat")
    );
    assert!(reply["_chatIxnAPI_SEND_URL"].is_string(), "{reply}");
    let (status, _) = server
        .post_form(
            &format!("/genesys/1/service/{id}/ixn/chat/send"),
            &[("message", "hi")],
        )
        .await;
    assert_eq!(status, 200);
    // A client that creates its service with a bodiless GET.
    let (status, created) = server.get("/genesys/1/service/request-chat").await;
    assert_eq!(status, 200, "{created}");
    let id = created["_id"].as_str().unwrap().to_string();
    let (status, record) = server.get(&format!("/genesys/1/service/{id}")).await;
    assert_eq!(
        (status, record["_service"].as_str()),
        (200, Some("request-chat")),
        "{record}"
    );
}
