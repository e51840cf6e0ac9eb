//! Geocoding for flows: reverse (latitude/longitude → nearest place) and forward (text → places), behind the
//! [`Geocoder`] trait.
//!
//! Two implementations:
//! - [`Gazetteer`] (the default): a world-cities gazetteer (GeoNames cities of 15,000 inhabitants or more, CC BY 4.0,
//!   see `src/geo/GAZETTEER.md`) compiled into the binary, so `gms serve` answers without network. Nearest-city
//!   lookup uses a 3-d k-d tree over unit vectors (chord distance orders points as great-circle distance does, so
//!   the poles and the antimeridian need no special case): a reverse lookup descends the tree and prunes the
//!   branches that cannot hold a nearer city, instead of scanning all 34,000 cities. Forward lookup uses a hash
//!   index of folded names plus a sorted list for prefixes.
//! - [`Nominatim`]: a client for a configurable Nominatim-compatible endpoint (`/reverse?format=jsonv2&lat=..&lon=..`,
//!   `/search?format=jsonv2&q=..`).
//!
//! [`GeocoderConfig`] selects one; [`build`] makes it. The DFM `yahoo_placefinder` actions (`dfm/cfg_GSG_geocoding.txt`)
//! reach it through the routes `GET /genesys/1/geo/reverse` and `GET /genesys/1/geo/search` (documented in
//! `dfm/README.md`); [`api`] holds their parameters and answers.

pub mod api;
pub mod config;
pub mod gazetteer;
pub mod kdtree;
pub mod nominatim;
pub mod text;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use gazetteer::Gazetteer;
pub use nominatim::Nominatim;

/// A boxed future, so that [`Geocoder`] stays usable as `Arc<dyn Geocoder>`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A named place.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Place {
    /// The place's name (a city, town or village).
    pub name: String,
    /// ISO 3166-1 alpha-2 country code, upper case.
    pub country_code: String,
    /// First-level region (state, province); empty when unknown.
    pub admin1: String,
    /// Latitude in degrees.
    pub lat: f64,
    /// Longitude in degrees.
    pub lon: f64,
    /// Inhabitants, when known.
    pub population: Option<u64>,
    /// One line for people, e.g. `"Springfield, Illinois, United States"`.
    pub display_name: String,
}

/// The answer to a reverse lookup.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReverseHit {
    /// The nearest place.
    pub place: Place,
    /// Great-circle distance from the asked point, in kilometres.
    pub distance_km: f64,
}

/// Why a lookup failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GeoError {
    /// Latitude outside −90..90 or longitude outside −180..180 (or not a number).
    #[error("coordinates {lat}, {lon} are not a latitude in -90..90 and a longitude in -180..180")]
    BadCoordinates {
        /// Latitude asked.
        lat: f64,
        /// Longitude asked.
        lon: f64,
    },
    /// A forward lookup of empty text.
    #[error("the place to look up is empty")]
    EmptyQuery,
    /// A request parameter is missing or malformed.
    #[error("{0}")]
    BadParameter(String),
    /// The remote geocoder gave no usable answer.
    #[error("geocoder unavailable: {0}")]
    Upstream(String),
    /// The configuration is not usable.
    #[error("geocoder configuration: {0}")]
    Config(String),
}

/// Reverse and forward geocoding.
pub trait Geocoder: Send + Sync {
    /// The place nearest to `lat`, `lon`; `None` when no place is known near enough.
    fn reverse(&self, lat: f64, lon: f64) -> BoxFuture<'_, Result<Option<ReverseHit>, GeoError>>;

    /// Places matching `query` (`"city"`, `"city, region"` or `"city, country"`), best first, at most `limit`.
    fn search<'a>(
        &'a self,
        query: &'a str,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<Place>, GeoError>>;
}

/// Which geocoder a node uses.
#[derive(Debug, Clone, PartialEq)]
pub enum GeocoderConfig {
    /// The embedded gazetteer; reverse lookups farther than `max_distance_km` from any city find nothing.
    Embedded {
        /// Largest distance to the nearest city that still counts as a match.
        max_distance_km: f64,
    },
    /// A Nominatim-compatible service.
    Nominatim {
        /// Base URL, e.g. `https://nominatim.example.org` (paths `/reverse` and `/search` are appended).
        base_url: String,
        /// `User-Agent` sent with every request (public Nominatim services require one that names the application).
        user_agent: String,
        /// Timeout of one request.
        timeout: Duration,
    },
}

impl Default for GeocoderConfig {
    fn default() -> Self {
        GeocoderConfig::Embedded {
            max_distance_km: gazetteer::DEFAULT_MAX_DISTANCE_KM,
        }
    }
}

/// Makes the geocoder `config` describes.
pub fn build(config: &GeocoderConfig) -> Result<Arc<dyn Geocoder>, GeoError> {
    match config {
        GeocoderConfig::Embedded { max_distance_km } => Ok(Arc::new(
            Gazetteer::embedded().with_max_distance(*max_distance_km),
        )),
        GeocoderConfig::Nominatim {
            base_url,
            user_agent,
            timeout,
        } => Ok(Arc::new(Nominatim::new(base_url, user_agent, *timeout)?)),
    }
}

/// Checks coordinates; every implementation refuses the same inputs.
pub fn check_coordinates(lat: f64, lon: f64) -> Result<(), GeoError> {
    if lat.is_finite()
        && lon.is_finite()
        && (-90.0..=90.0).contains(&lat)
        && (-180.0..=180.0).contains(&lon)
    {
        Ok(())
    } else {
        Err(GeoError::BadCoordinates { lat, lon })
    }
}

/// Mean Earth radius in kilometres.
pub const EARTH_RADIUS_KM: f64 = 6371.0088;

/// Great-circle (haversine) distance in kilometres.
pub fn distance_km(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (phi1, phi2) = (lat1.to_radians(), lat2.to_radians());
    let d_phi = (lat2 - lat1).to_radians();
    let d_lambda = (lon2 - lon1).to_radians();
    let a = (d_phi / 2.0).sin().powi(2) + phi1.cos() * phi2.cos() * (d_lambda / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * a.sqrt().min(1.0).asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_follow_the_great_circle() {
        // Paris to London is about 344 km.
        let km = distance_km(48.8566, 2.3522, 51.5074, -0.1278);
        assert!((km - 343.5).abs() < 2.0, "{km}");
        assert_eq!(distance_km(10.0, 20.0, 10.0, 20.0), 0.0);
        // Across the antimeridian.
        assert!(distance_km(0.0, 179.5, 0.0, -179.5) < 112.0);
    }

    #[test]
    fn coordinates_are_checked() {
        assert!(check_coordinates(45.0, 4.8).is_ok());
        assert!(check_coordinates(91.0, 0.0).is_err());
        assert!(check_coordinates(0.0, f64::NAN).is_err());
    }
}
