//! The `[geo]` section of the option file: which geocoder serves the geocoding routes (and so the geocoding DFM's
//! `query_location` and `find_location`). Typed from [`GmsConfig::raw`] with [`crate::config::value`]; read at
//! start-up.
//!
//! | option | meaning (default) |
//! |---|---|
//! | `geo/provider` | `embedded` (the world-cities gazetteer compiled into the binary: no network) or `nominatim` (`embedded`) |
//! | `geo/url` | base URL of the Nominatim-compatible service, e.g. `https://nominatim.example.org` (mandatory for `nominatim`) |
//! | `geo/user_agent` | `User-Agent` of its requests; public Nominatim services ask for one naming the application (`gms/<version>`) |
//! | `geo/timeout` | seconds one request may take (`gms/http.socket_timeout`) |
//! | `geo/max_distance_km` | `embedded`: a reverse lookup farther than this from every city finds nothing (200) |
//!
//! A bad value is reported with its file and line and the default is used; `nominatim` without a `url` falls back to
//! the embedded gazetteer, with a warning.

use std::time::Duration;

use crate::config::GmsConfig;
use crate::config::value::{self, Diagnostic};
use crate::geo::{GeocoderConfig, gazetteer};

/// The geocoder the options choose, and the problems found (`file:line: sentence`).
pub fn from_config(config: &GmsConfig) -> (GeocoderConfig, Vec<String>) {
    let mut warnings = Vec::new();
    let embedded = |max_distance_km| GeocoderConfig::Embedded { max_distance_km };
    let Some(section) = config.raw().section("geo") else {
        return (embedded(gazetteer::DEFAULT_MAX_DISTANCE_KM), warnings);
    };
    let mut max_distance_km = gazetteer::DEFAULT_MAX_DISTANCE_KM;
    if let Some(option) = section.get("max_distance_km") {
        match option.value.trim().parse::<f64>() {
            Ok(km) if km.is_finite() && (0.0..=20_040.0).contains(&km) => max_distance_km = km,
            _ => warnings.push(
                Diagnostic::at(
                    option,
                    format!(
                        "option `max_distance_km` must be a number of kilometres from 0 to 20040, found `{}`",
                        option.value
                    ),
                )
                .to_string(),
            ),
        }
    }
    let mut timeout = config.gms.http_socket_timeout.max(Duration::from_secs(1));
    if let Some(option) = section.get("timeout") {
        match value::seconds(option, 1, 300) {
            Ok(seconds) => timeout = seconds,
            Err(diagnostic) => warnings.push(diagnostic.to_string()),
        }
    }
    let provider = section.get("provider");
    match provider.map(|option| option.value.trim().to_ascii_lowercase()) {
        None => {}
        Some(name) if name == "embedded" => {}
        Some(name) if name == "nominatim" => {
            let url = section
                .value("url")
                .map(str::trim)
                .filter(|url| !url.is_empty());
            match url {
                Some(url) => {
                    let user_agent = section
                        .value("user_agent")
                        .map(str::trim)
                        .filter(|agent| !agent.is_empty())
                        .map_or_else(
                            || format!("gms/{}", env!("CARGO_PKG_VERSION")),
                            str::to_string,
                        );
                    return (
                        GeocoderConfig::Nominatim {
                            base_url: url.to_string(),
                            user_agent,
                            timeout,
                        },
                        warnings,
                    );
                }
                None => {
                    if let Some(option) = provider {
                        warnings.push(
                            Diagnostic::at(
                                option,
                                "provider `nominatim` needs option `url` in section `geo`; \
                                 the embedded gazetteer is used",
                            )
                            .to_string(),
                        );
                    }
                }
            }
        }
        Some(_) => {
            if let Some(option) = provider {
                warnings.push(
                    Diagnostic::at(
                        option,
                        format!(
                            "option `provider` must be `embedded` or `nominatim`, found `{}`; the embedded \
                             gazetteer is used",
                            option.value
                        ),
                    )
                    .to_string(),
                );
            }
        }
    }
    (embedded(max_distance_km), warnings)
}
