//! The `[geo]` section: a node configured for a Nominatim-compatible service answers its geocoding routes (and so
//! the geocoding DFM) from it, over real HTTP to a local peer speaking Nominatim's `jsonv2`; bad options are
//! reported with their line and fall back to the embedded gazetteer.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::server::{SAMPLE, TestServer};
use axum::Router;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::routing::get;
use gms::config::{GmsConfig, RawConfig};
use gms::geo::GeocoderConfig;
use serde_json::json;

type Seen = Arc<Mutex<Vec<(String, HashMap<String, String>)>>>;

async fn reverse(
    State(seen): State<Seen>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> axum::Json<serde_json::Value> {
    let agent = headers
        .get("user-agent")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_string();
    seen.lock().unwrap().push((agent, params));
    axum::Json(json!({
        "lat": "-33.8698439", "lon": "151.2082848", "name": "Sydney",
        "display_name": "Sydney, Council of the City of Sydney, New South Wales, 2000, Australia",
        "address": {"city": "Sydney", "state": "New South Wales", "country_code": "au"}
    }))
}

/// The typed `[geo]` of `text` (a node id added after it, so line numbers stay those of `text`).
fn typed(text: &str) -> (GeocoderConfig, Vec<String>) {
    let text = format!("{text}\n[server]\nnode_id = 01\n");
    let raw = RawConfig::parse(std::path::Path::new("gms.ini"), &text).unwrap();
    let config = GmsConfig::from_raw(raw).unwrap();
    gms::geo::config::from_config(&config)
}

#[tokio::test]
async fn a_node_configured_for_nominatim_geocodes_through_it() {
    let seen: Seen = Arc::default();
    let peer = Router::new()
        .route("/reverse", get(reverse))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, peer).await.unwrap() });

    let server = TestServer::start(&format!(
        "{SAMPLE}\n[geo]\nprovider = nominatim\nurl = {url}\nuser_agent = gms-test-site/2\n"
    ))
    .await;
    let (status, hit) = server
        .send(
            server
                .http
                .get(server.internal_url("/genesys/1/geo/reverse?lat=-33.87&lon=151.21")),
        )
        .await;
    assert_eq!(status, 200, "{hit}");
    // The embedded gazetteer would answer Sydney too: the peer's own display name shows who answered.
    assert_eq!(
        hit["place"]["display_name"],
        "Sydney, Council of the City of Sydney, New South Wales, 2000, Australia",
        "{hit}"
    );
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].0, "gms-test-site/2");
    assert_eq!(seen[0].1["lat"], "-33.87");
    assert_eq!(seen[0].1["format"], "jsonv2");
}

#[test]
fn geo_options_are_typed_with_their_defaults() {
    let (config, warnings) = typed("");
    assert_eq!(
        config,
        GeocoderConfig::Embedded {
            max_distance_km: 200.0
        }
    );
    assert!(warnings.is_empty());

    let (config, warnings) = typed(
        "[gms]\nhttp.socket_timeout = 7\n[geo]\nprovider = Nominatim\nurl = https://geo.example.org\n",
    );
    assert!(warnings.is_empty(), "{warnings:?}");
    match config {
        GeocoderConfig::Nominatim {
            base_url,
            user_agent,
            timeout,
        } => {
            assert_eq!(base_url, "https://geo.example.org");
            assert!(user_agent.starts_with("gms/"), "{user_agent}");
            assert_eq!(timeout.as_secs(), 7);
        }
        other => panic!("{other:?}"),
    }

    let (config, _) = typed("[geo]\nmax_distance_km = 50.5\n");
    assert_eq!(
        config,
        GeocoderConfig::Embedded {
            max_distance_km: 50.5
        }
    );
}

#[test]
fn bad_geo_options_are_reported_and_fall_back() {
    let (config, warnings) = typed("[geo]\nprovider = yahoo\n");
    assert!(matches!(config, GeocoderConfig::Embedded { .. }));
    assert_eq!(warnings.len(), 1);
    assert!(
        warnings[0].starts_with(
            "gms.ini:2: option `provider` must be `embedded` or `nominatim`, found `yahoo`"
        ),
        "{warnings:?}"
    );

    let (config, warnings) = typed("[geo]\nprovider = nominatim\n");
    assert!(matches!(config, GeocoderConfig::Embedded { .. }));
    assert!(
        warnings[0].starts_with("gms.ini:2: provider `nominatim` needs option `url`"),
        "{warnings:?}"
    );

    let (_, warnings) = typed("[geo]\nmax_distance_km = far\ntimeout = 0\n");
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(warnings[0].starts_with("gms.ini:2: option `max_distance_km`"));
    assert!(warnings[1].starts_with("gms.ini:3: option `timeout`"));
    // A `[geo]` section is the Application's, not a resource group.
    let raw = RawConfig::parse(
        std::path::Path::new("gms.ini"),
        "[geo]\nprovider = embedded\n[server]\nnode_id = 01\n",
    )
    .unwrap();
    let config = GmsConfig::from_raw(raw).unwrap();
    assert!(!config.resources.groups.contains_key("geo"));
}
