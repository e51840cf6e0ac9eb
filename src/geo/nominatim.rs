//! A client for a Nominatim-compatible geocoding service (`/reverse` and `/search` with `format=jsonv2`).

use std::time::Duration;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;

use super::{BoxFuture, GeoError, Geocoder, Place, ReverseHit, check_coordinates, distance_km};

const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A Nominatim-compatible service at a base URL.
#[derive(Debug, Clone)]
pub struct Nominatim {
    client: reqwest::Client,
    base_url: String,
}

/// One result as Nominatim's `jsonv2` format gives it (only the fields used).
#[derive(Debug, Deserialize)]
struct Answer {
    lat: String,
    lon: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    address: Option<Address>,
}

#[derive(Debug, Default, Deserialize)]
struct Address {
    city: Option<String>,
    town: Option<String>,
    village: Option<String>,
    hamlet: Option<String>,
    municipality: Option<String>,
    state: Option<String>,
    country_code: Option<String>,
}

impl Nominatim {
    /// A client for the service at `base_url`, sending `user_agent`, with `timeout` per request.
    pub fn new(base_url: &str, user_agent: &str, timeout: Duration) -> Result<Self, GeoError> {
        let base_url = base_url.trim().trim_end_matches('/').to_string();
        if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
            return Err(GeoError::Config(format!(
                "the Nominatim URL '{base_url}' must start with http:// or https://"
            )));
        }
        let client = reqwest::Client::builder()
            .user_agent(user_agent)
            .timeout(timeout)
            .build()
            .map_err(|err| GeoError::Config(format!("cannot build the HTTP client: {err}")))?;
        Ok(Nominatim { client, base_url })
    }

    /// The place nearest to `lat`, `lon` according to the service.
    pub async fn reverse_lookup(&self, lat: f64, lon: f64) -> Result<Option<ReverseHit>, GeoError> {
        check_coordinates(lat, lon)?;
        let url = format!(
            "{}/reverse?format=jsonv2&addressdetails=1&lat={lat}&lon={lon}",
            self.base_url
        );
        let body = self.get(&url).await?;
        // Nominatim answers a point it cannot place with 200 and {"error": "Unable to geocode"}.
        if body.get("error").is_some() {
            return Ok(None);
        }
        let answer: Answer = serde_json::from_value(body)
            .map_err(|err| GeoError::Upstream(format!("unexpected reverse answer: {err}")))?;
        let place = to_place(answer)?;
        Ok(Some(ReverseHit {
            distance_km: distance_km(lat, lon, place.lat, place.lon),
            place,
        }))
    }

    /// Places matching `query`, as the service ranks them.
    pub async fn search_places(&self, query: &str, limit: usize) -> Result<Vec<Place>, GeoError> {
        if query.trim().is_empty() {
            return Err(GeoError::EmptyQuery);
        }
        let url = format!(
            "{}/search?format=jsonv2&addressdetails=1&limit={limit}&q={}",
            self.base_url,
            utf8_percent_encode(query.trim(), COMPONENT)
        );
        let body = self.get(&url).await?;
        let answers: Vec<Answer> = serde_json::from_value(body)
            .map_err(|err| GeoError::Upstream(format!("unexpected search answer: {err}")))?;
        answers.into_iter().take(limit).map(to_place).collect()
    }

    async fn get(&self, url: &str) -> Result<serde_json::Value, GeoError> {
        let response = self.client.get(url).send().await.map_err(|err| {
            GeoError::Upstream(format!("no answer from {}: {err}", self.base_url))
        })?;
        let status = response.status();
        if !status.is_success() {
            return Err(GeoError::Upstream(format!(
                "{} answered {status}",
                self.base_url
            )));
        }
        let bytes = response.bytes().await.map_err(|err| {
            GeoError::Upstream(format!("reading the answer of {}: {err}", self.base_url))
        })?;
        serde_json::from_slice(&bytes).map_err(|err| {
            GeoError::Upstream(format!("{} answered with no JSON: {err}", self.base_url))
        })
    }
}

fn to_place(answer: Answer) -> Result<Place, GeoError> {
    let lat: f64 = answer
        .lat
        .trim()
        .parse()
        .map_err(|_| bad_number("lat", &answer.lat))?;
    let lon: f64 = answer
        .lon
        .trim()
        .parse()
        .map_err(|_| bad_number("lon", &answer.lon))?;
    let address = answer.address.unwrap_or_default();
    let locality = [
        address.city,
        address.town,
        address.village,
        address.hamlet,
        address.municipality,
    ]
    .into_iter()
    .flatten()
    .next();
    let name = answer
        .name
        .filter(|name| !name.is_empty())
        .or(locality)
        .unwrap_or_default();
    Ok(Place {
        display_name: answer.display_name.unwrap_or_else(|| name.clone()),
        name,
        country_code: address
            .country_code
            .unwrap_or_default()
            .to_ascii_uppercase(),
        admin1: address.state.unwrap_or_default(),
        lat,
        lon,
        population: None,
    })
}

fn bad_number(field: &str, value: &str) -> GeoError {
    GeoError::Upstream(format!("the answer's {field} '{value}' is not a number"))
}

impl Geocoder for Nominatim {
    fn reverse(&self, lat: f64, lon: f64) -> BoxFuture<'_, Result<Option<ReverseHit>, GeoError>> {
        Box::pin(self.reverse_lookup(lat, lon))
    }

    fn search<'a>(
        &'a self,
        query: &'a str,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<Place>, GeoError>> {
        Box::pin(self.search_places(query, limit))
    }
}
