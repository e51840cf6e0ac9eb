//! Geocoding routes: `GET /genesys/1/geo/reverse?lat=&lon=` (the place nearest a point; 404 when none is near
//! enough) and `GET /genesys/1/geo/search?q=&limit=` (places matching a name), over [`crate::geo::api`]. The
//! geocoding DFM (`dfm/cfg_GSG_geocoding.txt`) calls them.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::get;

use super::error::{ApiError, ErrorBody};
use crate::geo::api::{self, ReverseParams, SearchAnswer, SearchParams};
use crate::geo::{GeoError, Geocoder, ReverseHit};

/// The geocoding routes over `geocoder`.
pub fn routes(geocoder: Arc<dyn Geocoder>) -> Router {
    Router::new()
        .route("/genesys/1/geo/reverse", get(reverse))
        .route("/genesys/1/geo/search", get(search))
        .with_state(geocoder)
}

/// The description of the geocoding routes, for `Routers::describe`.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(reverse, search),
    components(schemas(ErrorBody)),
    tags((name = "geo", description = "Geocoding (internal listener; the geocoding DFM calls it)"))
)]
pub struct GeoDoc;

/// The description of the geocoding routes.
pub fn describe() -> utoipa::openapi::OpenApi {
    <GeoDoc as utoipa::OpenApi>::openapi()
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

/// The known place nearest a point.
#[utoipa::path(get, path = "/genesys/1/geo/reverse", tag = "geo",
    params(("lat" = f64, Query, description = "Latitude in degrees"), ("lon" = f64, Query, description = "Longitude in degrees (`long` too)")),
    responses((status = 200, description = "`{\"place\": {\"name\", \"country_code\", \"admin1\", \"lat\", \"lon\", \"population\", \"display_name\"}, \"distance_km\"}`", body = Object),
        (status = 400, description = "Missing or bad coordinates", body = ErrorBody),
        (status = 404, description = "No known place near enough", body = ErrorBody),
        (status = 502, description = "The configured geocoder is unreachable", body = ErrorBody)))]
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

/// Places matching a name, best first.
#[utoipa::path(get, path = "/genesys/1/geo/search", tag = "geo",
    params(("q" = String, Query, description = "The text to look up (`location` too)"), ("limit" = Option<u32>, Query, description = "Most places, 1..=50 (5)")),
    responses((status = 200, description = "`{\"places\": [Place...]}`", body = Object),
        (status = 400, body = ErrorBody), (status = 502, body = ErrorBody)))]
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
