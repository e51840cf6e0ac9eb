//! Access rules: the deployment guide's "Block" list is 404 on the public listener and works on the internal one;
//! node, metrics and the OpenAPI document are internal only.

use crate::server::{TestServer, assert_error};

#[tokio::test]
async fn block_list_is_404_on_public_and_served_on_internal() {
    let server = TestServer::sample().await;
    let (_, created) = server
        .post_form(
            "/genesys/1/service/request-interaction",
            &[("_phone_number", "5550100")],
        )
        .await;
    let number = created["_access_number"].as_str().unwrap();
    let form = [("_access_number", number)];
    for path in [
        "/genesys/1/service/match-interaction",
        "/genesys/1/service/match%2Dinteraction",
        "//genesys/1/service/match-interaction",
    ] {
        let public = server
            .send(server.http.post(server.public_url(path)).form(&form))
            .await;
        assert_error(&public, 404, "NotFound");
    }
    let internal = server
        .post_internal("/genesys/1/service/match-interaction", &form)
        .await;
    assert_eq!(internal.0, 200, "{:?}", internal.1);
    assert_eq!(internal.1["_id"], created["_id"]);

    assert_error(&server.get("/genesys/1/node").await, 404, "NotFound");
    assert_error(&server.get("/genesys/2/node").await, 404, "NotFound");
    let node = server
        .send(server.http.get(server.internal_url("/genesys/1/node")))
        .await;
    assert_eq!(node.0, 200);
    assert_eq!(node.1["status"], "ONLINE");
    assert_eq!(node.1["node_id"], "01");
    assert_eq!(node.1["version"], env!("CARGO_PKG_VERSION"));
    let status = server
        .http
        .get(server.internal_url("/genesys/1/admin/node/status"))
        .send()
        .await
        .unwrap();
    assert_eq!(status.text().await.unwrap(), "ONLINE");

    // notification/publish is on the Block list whoever mounts it.
    let publish = server
        .send(
            server
                .http
                .post(server.public_url("/genesys/1/notification/publish"))
                .body("{}"),
        )
        .await;
    assert_error(&publish, 404, "NotFound");

    assert_error(&server.get("/metrics").await, 404, "NotFound");
    assert_error(&server.get("/genesys/openapi.json").await, 404, "NotFound");
}

#[tokio::test]
async fn allow_list_routes_are_served_on_both_listeners() {
    let server = TestServer::sample().await;
    for base in [server.public_url(""), server.internal_url("")] {
        let (status, body) = server
            .send(
                server
                    .http
                    .post(format!("{base}/genesys/1/storage/30"))
                    .form(&[("a", "1")]),
            )
            .await;
        assert_eq!(status, 200);
        let id = body["id"].as_str().unwrap();
        let read = server
            .send(server.http.get(format!("{base}/genesys/1/storage/{id}")))
            .await;
        assert_eq!(read.0, 200);
        let service = server
            .send(
                server
                    .http
                    .post(format!("{base}/genesys/1/service/request-interaction"))
                    .form(&[("_phone_number", "1")]),
            )
            .await;
        assert_eq!(service.0, 200);
    }
}

#[tokio::test]
async fn metrics_and_openapi_on_the_internal_listener() {
    let server = TestServer::sample().await;
    server.get("/genesys/1/storage/unknown").await;
    let metrics = server
        .http
        .get(server.internal_url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("gms_http_requests_total{method=\"GET\",route=\"/genesys/1/storage/{id}\",status=\"404\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("gms_store_operation_seconds_count"));
    assert!(metrics.contains("gms_resources_in_use{group=\"Dnis_Pool\"} 0"));
    assert!(metrics.contains("gms_alarms_total{alarm=\"2001\"} 0"));
    let document = openapi(&server).await;
    let paths = document["paths"].as_object().unwrap();
    for path in [
        "/genesys/1/storage/{ttl}",
        "/genesys/1/storage/{id}/{ttl}",
        "/genesys/1/storage/{id}",
        "/genesys/1/storage/{id}/{key}",
        "/genesys/1/service/{name}",
        "/genesys/1/service/{id}",
        "/genesys/1/node",
        "/metrics",
    ] {
        assert!(
            paths.contains_key(path),
            "missing {path} in {:?}",
            paths.keys().collect::<Vec<_>>()
        );
    }
    assert!(document["components"]["schemas"]["ErrorBody"].is_object());
}

/// `/genesys/openapi.json` from the internal listener.
async fn openapi(server: &TestServer) -> serde_json::Value {
    let (status, document) = server
        .send(
            server
                .http
                .get(server.internal_url("/genesys/openapi.json")),
        )
        .await;
    assert_eq!(status, 200, "{document}");
    document
}

/// Every path some `src/http` router serves, read from its `.route("...")` calls (wildcard routes and the
/// description itself left out).
fn served_paths() -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/http");
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|ext| ext != "rs") {
            // Pages and other assets the routers serve, not routers.
            continue;
        }
        let text = std::fs::read_to_string(path).unwrap();
        // Test modules mount routes of their own.
        let text = text.split("#[cfg(test)]").next().unwrap();
        for piece in text.split(".route(").skip(1) {
            let piece = piece.trim_start();
            let Some(rest) = piece.strip_prefix('"') else {
                continue;
            };
            let path = &rest[..rest.find('"').unwrap()];
            if !path.contains("{*") && path != "/genesys/openapi.json" {
                paths.push(path.to_string());
            }
        }
    }
    paths.sort();
    paths.dedup();
    paths
}

#[tokio::test]
async fn openapi_describes_every_route_served() {
    let server = TestServer::sample().await;
    let document = openapi(&server).await;
    let described = document["paths"].as_object().unwrap();
    let served = served_paths();
    assert!(served.len() > 20, "{served:?}");
    // Path parameters are named by the router for its own sake (`{id}` at the first position of every service
    // and storage path): the description may name them for what they hold.
    let shape = |path: &str| -> String {
        path.split('/')
            .map(|segment| {
                if segment.starts_with('{') {
                    "{}"
                } else {
                    segment
                }
            })
            .collect::<Vec<_>>()
            .join("/")
    };
    let described_shapes: Vec<String> = described.keys().map(|path| shape(path)).collect();
    let missing: Vec<&String> = served
        .iter()
        .filter(|path| !described_shapes.contains(&shape(path)))
        .collect();
    assert!(
        missing.is_empty(),
        "routes served but not in /genesys/openapi.json: {missing:?}"
    );
    for (path, item) in described {
        for (_, operation) in item.as_object().unwrap() {
            if let Some(responses) = operation.get("responses") {
                assert!(
                    responses.as_object().is_some_and(|r| !r.is_empty()),
                    "{path} has no responses"
                );
            }
        }
    }
}

#[tokio::test]
async fn doubled_and_trailing_slashes_reach_the_same_routes_and_rules() {
    let server = TestServer::sample().await;
    let (status, stored) = server
        .post_form("/genesys/1/storage/60/", &[("a", "1")])
        .await;
    assert_eq!(status, 200, "{stored}");
    let id = stored["id"].as_str().unwrap();
    let (status, read) = server.get(&format!("//genesys//1/storage/{id}/")).await;
    assert_eq!(status, 200, "{read}");
    assert_eq!(read["a"], "1");
    let (status, created) = server
        .post_form(
            "/genesys/1/service/request-interaction/",
            &[("_phone_number", "5550100")],
        )
        .await;
    assert_eq!(status, 200, "{created}");
    // The deployment guide's own spelling of the CometD URL.
    let handshake = server
        .send(
            server
                .http
                .post(server.public_url("//genesys/cometd"))
                .json(&serde_json::json!([{"channel": "/meta/handshake", "version": "1.0"}])),
        )
        .await;
    assert_eq!(handshake.0, 200, "{:?}", handshake.1);
    assert_eq!(handshake.1[0]["successful"], true);
    // The Block list holds for every spelling.
    let form = [("_access_number", "1-888-call-me1")];
    for path in [
        "/genesys/1/service/match-interaction/",
        "//genesys//1//service//match-interaction",
    ] {
        let public = server
            .send(server.http.post(server.public_url(path)).form(&form))
            .await;
        assert_error(&public, 404, "NotFound");
    }
}

#[tokio::test]
async fn cors_answers_preflights_for_configured_origins_only() {
    let options = crate::server::SAMPLE.replace(
        "app_name = gms",
        "app_name = gms\ncors_allowed_origins = https://widget.example.com",
    );
    assert_ne!(options, crate::server::SAMPLE);
    let server = TestServer::start(&options).await;
    let preflight = |origin: &'static str| {
        server
            .http
            .request(
                reqwest::Method::OPTIONS,
                server.public_url("/genesys/1/storage/60"),
            )
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header("Access-Control-Request-Headers", "content-type")
            .send()
    };
    let allowed = preflight("https://widget.example.com").await.unwrap();
    assert!(allowed.status().is_success(), "{}", allowed.status());
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://widget.example.com"
    );
    let methods = allowed.headers()["access-control-allow-methods"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(methods.contains("POST"), "{methods}");
    let refused = preflight("https://evil.example.net").await.unwrap();
    assert!(
        refused
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    // A real request from the allowed origin carries the header too.
    let stored = server
        .http
        .post(server.public_url("/genesys/1/storage/60"))
        .header("Origin", "https://widget.example.com")
        .form(&[("a", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(stored.status(), 200);
    assert_eq!(
        stored.headers()["access-control-allow-origin"],
        "https://widget.example.com"
    );

    // Nothing is allowed by default.
    let plain = TestServer::sample().await;
    let answer = plain
        .http
        .post(plain.public_url("/genesys/1/storage/60"))
        .header("Origin", "https://widget.example.com")
        .form(&[("a", "1")])
        .send()
        .await
        .unwrap();
    assert!(
        answer
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}

#[tokio::test]
async fn the_public_listener_serves_the_allow_shapes_only() {
    let server = TestServer::start(
        "[server]\nnode_id = 1\n[service.match2]\ntype = builtin\nservice = match-interaction\n",
    )
    .await;
    // A match-interaction under another section name is still match-interaction: never public.
    for path in ["/genesys/1/service/match2", "/genesys/1/service/match2/"] {
        let public = server.post_form(path, &[("_access_number", "1")]).await;
        assert_error(&public, 404, "NotFound");
        assert!(
            public.1["message"]
                .as_str()
                .unwrap()
                .starts_with("no route for POST"),
            "{public:?}"
        );
    }
    let internal = server
        .post_internal("/genesys/1/service/match2", &[("_access_number", "1")])
        .await;
    assert!(
        !internal.1["message"]
            .as_str()
            .unwrap_or_default()
            .starts_with("no route"),
        "served internally: {internal:?}"
    );
    // Internal areas mounted on the internal listener only are 404 publicly whatever the spelling.
    for path in [
        "/genesys/1/contact-center/ewt",
        "//genesys/1/geo/search?q=x",
        "/genesys/1/admin/node/changestatus/OFFLINE",
        "/metrics",
    ] {
        assert_error(&server.get(path).await, 404, "NotFound");
    }
}
