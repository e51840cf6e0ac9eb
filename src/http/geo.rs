//! Geocoding routes: `GET /genesys/1/geo/reverse?lat=&lon=` (the place nearest a point; 404 when none is near
//! enough) and `GET /genesys/1/geo/search?q=&limit=` (places matching a name), over [`crate::geo::api`]. The
//! geocoding DFM (`dfm/cfg_GSG_geocoding.txt`) calls them.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::get;

use super::error::ApiError;
use crate::geo::api::{self, ReverseParams, SearchAnswer, SearchParams};
use crate::geo::{GeoError, Geocoder, ReverseHit};

/// The geocoding routes over `geocoder`.
pub fn routes(geocoder: Arc<dyn Geocoder>) -> Router {
    Router::new()
        .route("/genesys/1/geo/reverse", get(reverse))
        .route("/genesys/1/geo/search", get(search))
        .with_state(geocoder)
}

fn geo_error(error: GeoError) -> ApiError {
    match error {
        GeoError::Upstream(_) => ApiError::new(
            StatusCode::BAD_GATEWAY,
            "BackendUnavailable",
            error.to_string(),
        ),
        GeoError::Config(_) => ApiError::internal(error),
        _ => ApiError::bad_request(error.to_string()),
    }
}

async fn reverse(
    State(geocoder): State<Arc<dyn Geocoder>>,
    Query(params): Query<ReverseParams>,
) -> Result<Json<ReverseHit>, ApiError> {
    api::reverse(geocoder.as_ref(), &params)
        .await
        .map_err(geo_error)?
        .map(Json)
        .ok_or_else(|| ApiError::not_found("no known place is near enough to these coordinates"))
}

async fn search(
    State(geocoder): State<Arc<dyn Geocoder>>,
    Query(params): Query<SearchParams>,
) -> Result<Json<SearchAnswer>, ApiError> {
    Ok(Json(
        api::search(geocoder.as_ref(), &params)
            .await
            .map_err(geo_error)?,
    ))
}
