//! Forwarding: a `gms` (A) whose ORS services run on another `gms` standing in for ORS (B), through a capturing
//! proxy. The app's calls against A get the answers the flow gives; the proxy sees exactly ORS's wire format; an
//! unreachable ORS gives a clear error.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use crate::server::{SAMPLE, TestServer, assert_error};
use axum::body::Bytes;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Method, Uri};

/// One request seen by the proxy: method, path with query, content type, body, the caller's source port.
type Seen = (String, String, String, String, u16);

/// A proxy on 127.0.0.1:0 that records every request and passes it on to `target` (set once B runs).
async fn capture_proxy(target: Arc<Mutex<String>>, seen: Arc<Mutex<Vec<Seen>>>) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let client = reqwest::Client::new();
    let app = axum::Router::new().fallback(
        move |ConnectInfo(peer): ConnectInfo<SocketAddr>,
              method: Method,
              uri: Uri,
              headers: HeaderMap,
              body: Bytes| {
            let target = target.lock().unwrap().clone();
            let seen = seen.clone();
            let client = client.clone();
            async move {
                let content_type = headers
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                seen.lock().unwrap().push((
                    method.to_string(),
                    uri.to_string(),
                    content_type.clone(),
                    String::from_utf8_lossy(&body).into_owned(),
                    peer.port(),
                ));
                let response = client
                    .request(
                        reqwest::Method::from_bytes(method.as_str().as_bytes()).unwrap(),
                        format!("{target}{uri}"),
                    )
                    .header("content-type", content_type)
                    .body(body.to_vec())
                    .send()
                    .await
                    .unwrap();
                let status = response.status().as_u16();
                let text = response.text().await.unwrap();
                (
                    axum::http::StatusCode::from_u16(status).unwrap(),
                    [("content-type", "application/json")],
                    text,
                )
            }
        },
    );
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap()
    });
    port
}

fn form(body: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(body.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

#[tokio::test]
async fn services_forwarded_to_an_ors_answer_the_same_and_speak_its_wire_format() {
    let target = Arc::new(Mutex::new(String::new()));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let proxy = capture_proxy(target.clone(), seen.clone()).await;
    // A binds its ORS calls to `http.client_port_range`, as every outbound call of GMS.
    let a = TestServer::start(&format!(
        "{}\n[ors]\nurl = http://127.0.0.1:{proxy}\n",
        SAMPLE.replacen(
            "[gms]\n",
            "[gms]\nhttp.client_port_range = 47100-47900\n",
            1
        )
    ))
    .await;

    // B runs the flows; its base-services DFM points at A, as a real ORS's would.
    let dir = tempfile::tempdir().unwrap();
    let base = std::fs::read_to_string("dfm/cfg_GSG_base_services.txt")
        .unwrap()
        .replace("port='8081'", &format!("port='{}'", a.internal.port()));
    let base_path = dir.path().join("cfg_GSG_base_services.txt");
    std::fs::write(&base_path, base).unwrap();
    let cwd = std::env::current_dir().unwrap();
    let b = TestServer::start(&format!(
        "{SAMPLE}\n[dfm]\ngsgBasedServices = file://{}\ngsgStorage = {}\n",
        base_path.display(),
        cwd.join("dfm/cfg_GSG_storage.txt").display()
    ))
    .await;
    *target.lock().unwrap() = format!("http://{}", b.internal);

    let (status, reply) = a
        .post_form(
            "/genesys/1/service/request-inbound-immediate",
            &[("_phone_number", "5551234"), ("first_name", "Ann")],
        )
        .await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["_action"], "DialNumber");
    assert_eq!(reply["_label"], "Call now");
    let id = reply["_id"].as_str().unwrap().to_string();
    let number = reply["_tel_url"]
        .as_str()
        .unwrap()
        .strip_prefix("tel:")
        .unwrap()
        .to_string();
    // The number was booked on A, for the session B runs.
    let (_, record) = a.get(&format!("/genesys/1/service/{id}")).await;
    assert_eq!(record["_access_number"], number.as_str());

    let (status, answer) = a
        .post_form(&format!("/genesys/1/service/{id}/cancel"), &[])
        .await;
    assert_eq!((status, &answer), (200, &serde_json::json!({"_id": id})));
    let (status, _) = a
        .send(
            a.http
                .delete(a.public_url(&format!("/genesys/1/service/{id}"))),
        )
        .await;
    assert_eq!(status, 200);

    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 4, "{seen:?}");
    assert!(
        seen.iter()
            .all(|request| (47100..=47900).contains(&request.4)),
        "source ports outside http.client_port_range: {seen:?}"
    );
    let (method, path, content_type, body, _) = &seen[0];
    assert_eq!(
        (method.as_str(), path.as_str()),
        ("POST", "/scxml/session/start")
    );
    assert_eq!(content_type, "application/x-www-form-urlencoded");
    let start = form(body);
    assert_eq!(
        start[0],
        (
            "src".to_string(),
            "scxml/request-inbound-immediate.scxml".to_string()
        )
    );
    assert!(start.contains(&("_phone_number".to_string(), "5551234".to_string())));
    assert!(start.iter().any(|(k, _)| k == "_data_id"));
    assert!(
        !start.iter().any(|(k, _)| k == "first_name"),
        "user data stays in GMS"
    );
    assert_eq!(seen[1].0, "POST");
    assert_eq!(seen[1].1, format!("/scxml/session/{id}/request/gms.start"));
    assert_eq!(seen[1].2, "application/x-www-form-urlencoded");
    assert_eq!(seen[2].1, format!("/scxml/session/{id}/request/cancel"));
    assert_eq!(seen[3].1, format!("/scxml/session/{id}/terminate"));
}

#[tokio::test]
async fn an_unreachable_ors_is_a_clear_502() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let a = TestServer::start(&format!("{SAMPLE}\n[ors]\nurl = http://127.0.0.1:{port}\n")).await;
    // The internal listener names the ORS; the public one does not give its address away.
    let answer = a
        .post_internal(
            "/genesys/1/service/request-inbound-immediate",
            &[("_phone_number", "1")],
        )
        .await;
    assert_error(&answer, 502, "BackendUnavailable");
    assert!(
        answer.1["message"]
            .as_str()
            .unwrap()
            .contains(&format!("127.0.0.1:{port}"))
    );
    let public = a
        .post_form(
            "/genesys/1/service/request-inbound-immediate",
            &[("_phone_number", "1")],
        )
        .await;
    assert_error(&public, 502, "BackendUnavailable");
    let message = public.1["message"].as_str().unwrap();
    assert!(!message.contains(&port.to_string()), "{public:?}");
    assert!(message.contains("could not be reached"), "{public:?}");
}

#[tokio::test]
async fn a_forwarded_flow_that_never_answers_gms_start_is_a_clear_504() {
    const SILENT: &str = r#"<scxml xmlns="http://www.w3.org/2005/07/scxml" version="1.0" datamodel="ecmascript"
       xmlns:ws="http://www.genesyslab.com/modules/ws" initial="wait">
  <state id="wait"><transition event="gms.start"/></state>
</scxml>"#;
    let b = TestServer::start(&format!("{SAMPLE}\n[ors]\nrequest_timeout = 1\n")).await;
    let dir = b.config_path.parent().unwrap().to_path_buf();
    std::fs::write(dir.join("silent-forwarded.scxml"), SILENT).unwrap();
    let a = TestServer::start(&format!(
        "{SAMPLE}\n[ors]\nurl = http://{}\n\n[service.silent]\ntype = ors\nservice = silent-forwarded.scxml\n",
        b.internal
    ))
    .await;
    let answer = a.post_form("/genesys/1/service/silent", &[]).await;
    assert_error(&answer, 504, "Timeout");
    assert!(
        answer.1["message"].as_str().unwrap().contains("gms.start"),
        "{answer:?}"
    );
}
