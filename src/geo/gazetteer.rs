//! The embedded world-cities gazetteer: reverse lookups through a k-d tree, forward lookups through an index of
//! folded names.

use std::collections::HashMap;

use super::kdtree::KdTree;
use super::text::fold;
use super::{
    BoxFuture, EARTH_RADIUS_KM, GeoError, Geocoder, Place, ReverseHit, check_coordinates,
    distance_km,
};

/// The cities compiled into the binary (see `GAZETTEER.md`).
const CITIES_TSV: &str = include_str!("cities15000.tsv");
/// ISO country codes and names.
const COUNTRIES_TSV: &str = include_str!("countries.tsv");

/// Reverse lookups farther than this from every city find nothing: far enough for any inhabited area, near
/// enough that a point at sea does not get a city on another coast.
pub const DEFAULT_MAX_DISTANCE_KM: f64 = 200.0;

#[derive(Debug, Clone)]
struct City {
    name: String,
    country_code: String,
    admin1: String,
    lat: f64,
    lon: f64,
    population: u64,
}

/// A gazetteer of cities with nearest-city and name lookups.
#[derive(Debug, Clone)]
pub struct Gazetteer {
    cities: Vec<City>,
    countries: HashMap<String, String>,
    tree: KdTree,
    /// Folded name → city indexes.
    by_name: HashMap<String, Vec<u32>>,
    /// Folded names in order, for prefix lookups.
    sorted_names: Vec<(String, u32)>,
    max_distance_km: f64,
}

impl Gazetteer {
    /// The gazetteer compiled into the binary.
    pub fn embedded() -> Self {
        // The embedded files are checked by a test; should a line ever be malformed, it is skipped rather than
        // taking the server down.
        let (cities, _) = parse_cities(CITIES_TSV);
        Self::from_parts(cities, parse_countries(COUNTRIES_TSV))
    }

    /// A gazetteer of the cities in `cities_tsv` (the format of `cities15000.tsv`: name, country code, admin1, lat,
    /// lon, population, tab-separated, `#` comments) and the countries of `countries_tsv`; errors name the line.
    pub fn from_tsv(cities_tsv: &str, countries_tsv: &str) -> Result<Self, GeoError> {
        let (cities, errors) = parse_cities(cities_tsv);
        if let Some(error) = errors.into_iter().next() {
            return Err(GeoError::Config(error));
        }
        Ok(Self::from_parts(cities, parse_countries(countries_tsv)))
    }

    /// Sets the largest distance at which a reverse lookup still finds a city.
    pub fn with_max_distance(mut self, max_distance_km: f64) -> Self {
        self.max_distance_km = max_distance_km.max(0.0);
        self
    }

    fn from_parts(cities: Vec<City>, countries: HashMap<String, String>) -> Self {
        let points: Vec<(f64, f64)> = cities.iter().map(|city| (city.lat, city.lon)).collect();
        let tree = KdTree::new(&points);
        let mut by_name: HashMap<String, Vec<u32>> = HashMap::new();
        let mut sorted_names = Vec::with_capacity(cities.len());
        for (idx, city) in cities.iter().enumerate() {
            let idx = u32::try_from(idx).unwrap_or(u32::MAX);
            let folded = fold(&city.name);
            by_name.entry(folded.clone()).or_default().push(idx);
            sorted_names.push((folded, idx));
        }
        sorted_names.sort();
        Gazetteer {
            cities,
            countries,
            tree,
            by_name,
            sorted_names,
            max_distance_km: DEFAULT_MAX_DISTANCE_KM,
        }
    }

    /// Number of cities.
    pub fn len(&self) -> usize {
        self.cities.len()
    }

    /// Whether the gazetteer holds no city.
    pub fn is_empty(&self) -> bool {
        self.cities.is_empty()
    }

    /// The city nearest to `lat`, `lon` within the maximum distance.
    pub fn nearest(&self, lat: f64, lon: f64) -> Result<Option<ReverseHit>, GeoError> {
        check_coordinates(lat, lon)?;
        let half_angle =
            (self.max_distance_km / (2.0 * EARTH_RADIUS_KM)).min(std::f64::consts::FRAC_PI_2);
        let max_chord = 2.0 * half_angle.sin();
        let Some((id, _)) = self.tree.nearest(lat, lon, max_chord * max_chord) else {
            return Ok(None);
        };
        let Some(city) = self.cities.get(id as usize) else {
            return Ok(None);
        };
        Ok(Some(ReverseHit {
            distance_km: distance_km(lat, lon, city.lat, city.lon),
            place: self.place(city),
        }))
    }

    /// Cities matching `query`: `"name"`, or `"name, qualifier, …"` where each qualifier is a country code, a
    /// country name or a region; exact names first, else names starting with the text; larger cities first.
    pub fn find(&self, query: &str, limit: usize) -> Result<Vec<Place>, GeoError> {
        let mut parts = query.split(',').map(fold).filter(|part| !part.is_empty());
        let Some(name) = parts.next() else {
            return Err(GeoError::EmptyQuery);
        };
        let qualifiers: Vec<String> = parts.collect();
        let mut candidates: Vec<u32> = self.by_name.get(&name).cloned().unwrap_or_default();
        if candidates.is_empty() {
            let start = self
                .sorted_names
                .partition_point(|(folded, _)| folded.as_str() < name.as_str());
            candidates = self.sorted_names[start..]
                .iter()
                .take_while(|(folded, _)| folded.starts_with(&name))
                .map(|(_, idx)| *idx)
                .collect();
        }
        let mut found: Vec<&City> = candidates
            .iter()
            .filter_map(|idx| self.cities.get(*idx as usize))
            .filter(|city| {
                qualifiers
                    .iter()
                    .all(|qualifier| self.qualifies(city, qualifier))
            })
            .collect();
        found.sort_by(|a, b| {
            b.population
                .cmp(&a.population)
                .then_with(|| a.name.cmp(&b.name))
        });
        Ok(found
            .into_iter()
            .take(limit)
            .map(|city| self.place(city))
            .collect())
    }

    fn qualifies(&self, city: &City, qualifier: &str) -> bool {
        if city.country_code.eq_ignore_ascii_case(qualifier) {
            return true;
        }
        let country = self
            .countries
            .get(&city.country_code)
            .map(|name| fold(name))
            .unwrap_or_default();
        let admin1 = fold(&city.admin1);
        country == qualifier
            || (!admin1.is_empty() && (admin1 == qualifier || admin1.starts_with(qualifier)))
            || (qualifier == "usa" && city.country_code == "US")
            || (qualifier == "uk" && city.country_code == "GB")
    }

    fn place(&self, city: &City) -> Place {
        let country = self
            .countries
            .get(&city.country_code)
            .cloned()
            .unwrap_or_else(|| city.country_code.clone());
        // Only US regions are stored by name; elsewhere admin1 is a GeoNames code, not for people.
        let display_name = if city.country_code == "US" && !city.admin1.is_empty() {
            format!("{}, {}, {}", city.name, city.admin1, country)
        } else {
            format!("{}, {}", city.name, country)
        };
        Place {
            name: city.name.clone(),
            country_code: city.country_code.clone(),
            admin1: city.admin1.clone(),
            lat: city.lat,
            lon: city.lon,
            population: Some(city.population),
            display_name,
        }
    }
}

impl Geocoder for Gazetteer {
    fn reverse(&self, lat: f64, lon: f64) -> BoxFuture<'_, Result<Option<ReverseHit>, GeoError>> {
        let answer = self.nearest(lat, lon);
        Box::pin(async move { answer })
    }

    fn search<'a>(
        &'a self,
        query: &'a str,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<Place>, GeoError>> {
        let answer = self.find(query, limit);
        Box::pin(async move { answer })
    }
}

fn parse_cities(text: &str) -> (Vec<City>, Vec<String>) {
    let mut cities = Vec::new();
    let mut errors = Vec::new();
    for (idx, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        match parse_city(line) {
            Some(city) => cities.push(city),
            None => errors.push(format!(
                "gazetteer line {}: expected name, country code, admin1, lat, lon, population separated by tabs",
                idx + 1
            )),
        }
    }
    (cities, errors)
}

fn parse_city(line: &str) -> Option<City> {
    let mut fields = line.split('\t');
    let name = fields.next()?.trim().to_string();
    let country_code = fields.next()?.trim().to_string();
    let admin1 = fields.next()?.trim().to_string();
    let lat: f64 = fields.next()?.trim().parse().ok()?;
    let lon: f64 = fields.next()?.trim().parse().ok()?;
    let population: u64 = fields.next()?.trim().parse().ok()?;
    if fields.next().is_some() || name.is_empty() || check_coordinates(lat, lon).is_err() {
        return None;
    }
    Some(City {
        name,
        country_code,
        admin1,
        lat,
        lon,
        population,
    })
}

fn parse_countries(text: &str) -> HashMap<String, String> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| line.split_once('\t'))
        .map(|(code, name)| (code.trim().to_string(), name.trim().to_string()))
        .collect()
}
