//! The geocoding routes the geocoding DFM calls, over real HTTP: reverse and forward lookups, bad parameters; the
//! internal listener serves them, the public one does not (they are not on the Allow list).

use crate::server::{TestServer, assert_error};

#[tokio::test]
async fn reverse_and_search_answer_from_the_embedded_gazetteer() {
    let server = TestServer::sample().await;
    let get = |path: &str| server.send(server.http.get(server.internal_url(path)));
    let (status, hit) = get("/genesys/1/geo/reverse?lat=48.8566&lon=2.3522").await;
    assert_eq!(status, 200, "{hit}");
    assert_eq!(hit["place"]["name"], "Paris", "{hit}");
    let (status, answer) = get("/genesys/1/geo/search?q=Paris&limit=2").await;
    assert_eq!(status, 200, "{answer}");
    assert!(!answer["places"].as_array().unwrap().is_empty(), "{answer}");

    let answer = get("/genesys/1/geo/reverse?lat=123&lon=0").await;
    assert_error(&answer, 400, "InvalidParameter");
    let answer = get("/genesys/1/geo/reverse?lon=0").await;
    assert_error(&answer, 400, "InvalidParameter");
    let answer = get("/genesys/1/geo/search?q=Paris&limit=0").await;
    assert_error(&answer, 400, "InvalidParameter");
    // The middle of the Pacific is near no city.
    let answer = get("/genesys/1/geo/reverse?lat=-30&lon=-140").await;
    assert_error(&answer, 404, "NotFound");

    let public = server
        .get("/genesys/1/geo/reverse?lat=48.8566&lon=2.3522")
        .await;
    assert_error(&public, 404, "NotFound");
}
