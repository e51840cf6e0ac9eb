//! The Nominatim client against a local peer on 127.0.0.1:0 that speaks Nominatim's `jsonv2` format.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use gms::geo::{GeoError, GeocoderConfig, Nominatim, build};
use serde_json::json;

/// One request as the peer saw it: its user agent and query parameters.
type Seen = (String, HashMap<String, String>);

#[derive(Clone, Default)]
struct Peer {
    seen: Arc<Mutex<Vec<Seen>>>,
}

async fn reverse(
    State(peer): State<Peer>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> axum::response::Response {
    let agent = headers
        .get("user-agent")
        .map(|value| value.to_str().unwrap().to_string())
        .unwrap_or_default();
    peer.seen.lock().unwrap().push((agent, params.clone()));
    if params.get("format").map(String::as_str) != Some("jsonv2") {
        return (StatusCode::BAD_REQUEST, "format").into_response();
    }
    let lat: f64 = params["lat"].parse().unwrap();
    if lat < -80.0 {
        return axum::Json(json!({"error": "Unable to geocode"})).into_response();
    }
    if lat > 80.0 {
        return (StatusCode::SERVICE_UNAVAILABLE, "overloaded").into_response();
    }
    axum::Json(json!({
        "place_id": 1, "lat": "45.7578137", "lon": "4.8320114", "category": "boundary", "type": "administrative",
        "name": "Lyon", "display_name": "Lyon, Métropole de Lyon, Auvergne-Rhône-Alpes, France métropolitaine, France",
        "address": {"city": "Lyon", "state": "Auvergne-Rhône-Alpes", "country": "France", "country_code": "fr"}
    }))
    .into_response()
}

async fn search(
    State(peer): State<Peer>,
    Query(params): Query<HashMap<String, String>>,
) -> axum::response::Response {
    peer.seen
        .lock()
        .unwrap()
        .push((String::new(), params.clone()));
    if params["q"] == "garbage" {
        return "not json".into_response();
    }
    axum::Json(json!([
        {"lat": "39.7990175", "lon": "-89.6439575", "name": "",
         "display_name": "Springfield, Sangamon County, Illinois, United States",
         "address": {"city": "Springfield", "state": "Illinois", "country_code": "us"}},
        {"lat": "37.2081729", "lon": "-93.2922715", "name": "Springfield",
         "display_name": "Springfield, Greene County, Missouri, United States",
         "address": {"city": "Springfield", "state": "Missouri", "country_code": "us"}}
    ]))
    .into_response()
}

async fn start_peer() -> (Peer, String) {
    let peer = Peer::default();
    let app = Router::new()
        .route("/reverse", get(reverse))
        .route("/search", get(search))
        .with_state(peer.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (peer, url)
}

fn client(url: &str) -> Nominatim {
    Nominatim::new(url, "gms-test/1", Duration::from_secs(5)).unwrap()
}

#[tokio::test]
async fn reverse_lookups_read_the_jsonv2_answer() {
    let (peer, url) = start_peer().await;
    let hit = client(&format!("{url}/"))
        .reverse_lookup(45.76, 4.83)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(hit.place.name, "Lyon");
    assert_eq!(hit.place.country_code, "FR");
    assert_eq!(hit.place.admin1, "Auvergne-Rhône-Alpes");
    assert!((hit.place.lat - 45.7578137).abs() < 1e-9);
    assert!(hit.distance_km < 1.0);
    let seen = peer.seen.lock().unwrap();
    assert_eq!(seen[0].0, "gms-test/1");
    assert_eq!(seen[0].1["lat"], "45.76");
    assert_eq!(seen[0].1["lon"], "4.83");
}

#[tokio::test]
async fn unable_to_geocode_is_no_place() {
    let (_peer, url) = start_peer().await;
    assert_eq!(client(&url).reverse_lookup(-85.0, 0.0).await.unwrap(), None);
}

#[tokio::test]
async fn searches_send_the_text_and_keep_the_order() {
    let (peer, url) = start_peer().await;
    let geocoder = build(&GeocoderConfig::Nominatim {
        base_url: url,
        user_agent: "gms-test/1".into(),
        timeout: Duration::from_secs(5),
    })
    .unwrap();
    let places = geocoder.search("Springfield, IL & co", 1).await.unwrap();
    assert_eq!(places.len(), 1);
    // An empty `name` falls back to the locality of the address.
    assert_eq!(places[0].name, "Springfield");
    assert_eq!(places[0].admin1, "Illinois");
    assert_eq!(places[0].population, None);
    let seen = peer.seen.lock().unwrap();
    assert_eq!(seen[0].1["q"], "Springfield, IL & co");
    assert_eq!(seen[0].1["limit"], "1");
}

#[tokio::test]
async fn failures_are_errors_not_panics() {
    let (_peer, url) = start_peer().await;
    let nominatim = client(&url);
    assert!(matches!(
        nominatim.reverse_lookup(85.0, 0.0).await,
        Err(GeoError::Upstream(_))
    ));
    assert!(matches!(
        nominatim.search_places("garbage", 5).await,
        Err(GeoError::Upstream(_))
    ));
    assert_eq!(
        nominatim.search_places("  ", 5).await,
        Err(GeoError::EmptyQuery)
    );
    assert!(matches!(
        nominatim.reverse_lookup(0.0, 200.0).await,
        Err(GeoError::BadCoordinates { .. })
    ));
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    assert!(matches!(
        client(&closed).reverse_lookup(1.0, 1.0).await,
        Err(GeoError::Upstream(_))
    ));
    assert!(matches!(
        Nominatim::new("nominatim.example.org", "x", Duration::from_secs(1)),
        Err(GeoError::Config(_))
    ));
}
