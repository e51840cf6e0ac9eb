//! The geocoding routes' parameters and answers (`GET /genesys/1/geo/reverse` and `/genesys/1/geo/search`, used by
//! the `yahoo_placefinder` DFM actions), kept here so that the HTTP layer only maps [`GeoError`] and `None` to
//! statuses.
//!
//! Answers: reverse → [`ReverseHit`] (`{"place": Place, "distance_km": …}`), or `None` when no place is near
//! (the route answers 404); search → [`SearchAnswer`] (`{"places": [Place, …]}`). Bad parameters are
//! [`GeoError::BadParameter`] or [`GeoError::BadCoordinates`] (400); [`GeoError::Upstream`] is a failed remote
//! geocoder (502).

use serde::{Deserialize, Serialize};

use super::{GeoError, Geocoder, Place, ReverseHit};

/// Number of places a search answers when the request gives no `limit`.
pub const DEFAULT_LIMIT: usize = 5;
/// Largest `limit` a search accepts.
pub const MAX_LIMIT: usize = 50;

/// Query parameters of the reverse route, as strings so that a bad value gets a clear message.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ReverseParams {
    /// Latitude in degrees.
    pub lat: Option<String>,
    /// Longitude in degrees (`long` is accepted too, as the Yahoo DFM attribute is named).
    #[serde(alias = "long")]
    pub lon: Option<String>,
}

/// Query parameters of the search route.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SearchParams {
    /// The text to look up (`location` is accepted too).
    #[serde(alias = "location")]
    pub q: Option<String>,
    /// Most places to answer (1..=50, default 5).
    pub limit: Option<String>,
}

/// The search route's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchAnswer {
    /// Places, best first.
    pub places: Vec<Place>,
}

/// Serves the reverse route.
pub async fn reverse(
    geocoder: &dyn Geocoder,
    params: &ReverseParams,
) -> Result<Option<ReverseHit>, GeoError> {
    let lat = number("lat", params.lat.as_deref())?;
    let lon = number("lon", params.lon.as_deref())?;
    geocoder.reverse(lat, lon).await
}

/// Serves the search route.
pub async fn search(
    geocoder: &dyn Geocoder,
    params: &SearchParams,
) -> Result<SearchAnswer, GeoError> {
    let query = params.q.as_deref().unwrap_or("");
    let limit = match params.limit.as_deref().map(str::trim) {
        None | Some("") => DEFAULT_LIMIT,
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|limit| (1..=MAX_LIMIT).contains(limit))
            .ok_or_else(|| {
                GeoError::BadParameter(format!(
                    "limit '{text}' is not a number from 1 to {MAX_LIMIT}"
                ))
            })?,
    };
    let places = geocoder.search(query, limit).await?;
    Ok(SearchAnswer { places })
}

fn number(name: &str, value: Option<&str>) -> Result<f64, GeoError> {
    let text = value.map(str::trim).unwrap_or("");
    if text.is_empty() {
        return Err(GeoError::BadParameter(format!(
            "parameter '{name}' is missing"
        )));
    }
    text.parse::<f64>().map_err(|_| {
        GeoError::BadParameter(format!(
            "parameter '{name}' = '{text}' is not a number of degrees"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geo::Gazetteer;

    fn gazetteer() -> Gazetteer {
        Gazetteer::from_tsv("Lyon\tFR\t84\t45.7485\t4.8467\t520774\n", "FR\tFrance\n").unwrap()
    }

    #[tokio::test]
    async fn reverse_reads_and_checks_its_parameters() {
        let geocoder = gazetteer();
        let params = ReverseParams {
            lat: Some("45.75".into()),
            lon: Some(" 4.85".into()),
        };
        let hit = reverse(&geocoder, &params).await.unwrap().unwrap();
        assert_eq!(hit.place.display_name, "Lyon, France");
        let missing = ReverseParams {
            lat: Some("45".into()),
            lon: None,
        };
        assert_eq!(
            reverse(&geocoder, &missing).await,
            Err(GeoError::BadParameter("parameter 'lon' is missing".into()))
        );
        let bad = ReverseParams {
            lat: Some("north".into()),
            lon: Some("4".into()),
        };
        assert!(matches!(
            reverse(&geocoder, &bad).await,
            Err(GeoError::BadParameter(_))
        ));
    }

    #[tokio::test]
    async fn search_takes_a_bounded_limit() {
        let geocoder = gazetteer();
        let params = SearchParams {
            q: Some("lyon".into()),
            limit: None,
        };
        assert_eq!(search(&geocoder, &params).await.unwrap().places.len(), 1);
        let params = SearchParams {
            q: Some("lyon".into()),
            limit: Some("500".into()),
        };
        assert!(matches!(
            search(&geocoder, &params).await,
            Err(GeoError::BadParameter(_))
        ));
        let params: SearchParams =
            serde_json::from_value(serde_json::json!({"location": "Lyon"})).unwrap();
        assert_eq!(params.q.as_deref(), Some("Lyon"));
        assert_eq!(
            search(&geocoder, &SearchParams::default()).await,
            Err(GeoError::EmptyQuery)
        );
    }
}
