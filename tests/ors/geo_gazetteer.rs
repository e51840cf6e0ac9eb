//! The embedded gazetteer: the shipped data parses, reverse lookups find the nearest city (checked against a
//! full scan), and forward lookups rank and qualify names.

use gms::geo::{Gazetteer, GeoError, GeocoderConfig, build, distance_km};

const CITIES: &str = include_str!("../../src/geo/cities15000.tsv");
const COUNTRIES: &str = include_str!("../../src/geo/countries.tsv");

#[test]
fn the_embedded_data_parses_without_a_bad_line() {
    let strict = Gazetteer::from_tsv(CITIES, COUNTRIES).unwrap();
    assert!(strict.len() > 30_000, "{}", strict.len());
    assert_eq!(strict.len(), Gazetteer::embedded().len());
}

#[test]
fn malformed_lines_are_named() {
    let err = Gazetteer::from_tsv("# header\nLyon\tFR\t84\t45.7\tfour\t1\n", "").unwrap_err();
    assert_eq!(
        err,
        GeoError::Config(
            "gazetteer line 2: expected name, country code, admin1, lat, lon, population separated by tabs".into()
        )
    );
}

#[test]
fn reverse_lookups_find_the_nearest_city() {
    let gazetteer = Gazetteer::embedded();
    for (lat, lon, name, cc) in [
        (48.8566, 2.3522, "Paris", "FR"),
        (45.7485, 4.8467, "Lyon", "FR"),
        (40.7128, -74.0060, "New York City", "US"),
        (-33.8688, 151.2093, "Sydney", "AU"),
        (35.6895, 139.6917, "Tokyo", "JP"),
    ] {
        let hit = gazetteer.nearest(lat, lon).unwrap().unwrap();
        assert_eq!(
            (hit.place.name.as_str(), hit.place.country_code.as_str()),
            (name, cc),
            "{lat},{lon}"
        );
        assert!(hit.distance_km < 10.0, "{name}: {}", hit.distance_km);
    }
    let springfield = gazetteer.nearest(39.80, -89.64).unwrap().unwrap();
    assert_eq!(
        springfield.place.display_name,
        "Springfield, Illinois, United States"
    );
}

#[test]
fn points_far_from_any_city_find_nothing() {
    let gazetteer = Gazetteer::embedded();
    assert_eq!(gazetteer.nearest(0.0, -140.0).unwrap(), None);
    // With a larger radius the same point finds the nearest city anyway.
    let wide = Gazetteer::embedded().with_max_distance(5_000.0);
    assert!(wide.nearest(0.0, -140.0).unwrap().is_some());
    assert!(matches!(
        gazetteer.nearest(95.0, 0.0),
        Err(GeoError::BadCoordinates { .. })
    ));
}

#[test]
fn the_nearest_city_is_found_across_the_antimeridian() {
    let cities = "East\tFJ\t\t-16.0\t179.9\t20000\nWest\tUS\t\t-16.0\t-170.0\t90000\n";
    let gazetteer = Gazetteer::from_tsv(cities, "FJ\tFiji\n").unwrap();
    let hit = gazetteer.nearest(-16.0, -179.95).unwrap().unwrap();
    assert_eq!(hit.place.name, "East");
    assert_eq!(hit.place.display_name, "East, Fiji");
    assert!(hit.distance_km < 20.0);
}

/// Deterministic pseudo-random points.
fn points(n: usize) -> Vec<(f64, f64)> {
    let mut state: u64 = 0x853c_49e6_748f_ea9b;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    (0..n)
        .map(|_| (next() * 140.0 - 60.0, next() * 360.0 - 180.0))
        .collect()
}

#[test]
fn reverse_lookups_agree_with_a_full_scan() {
    let gazetteer = Gazetteer::embedded().with_max_distance(20_100.0);
    let all: Vec<(f64, f64)> = CITIES
        .lines()
        .filter(|line| !line.starts_with('#'))
        .map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            (fields[3].parse().unwrap(), fields[4].parse().unwrap())
        })
        .collect();
    for (lat, lon) in points(200) {
        let hit = gazetteer.nearest(lat, lon).unwrap().unwrap();
        let best = all
            .iter()
            .map(|(c_lat, c_lon)| distance_km(lat, lon, *c_lat, *c_lon))
            .fold(f64::INFINITY, f64::min);
        assert!(
            (hit.distance_km - best).abs() < 1e-6,
            "{lat},{lon}: {} vs {best}",
            hit.distance_km
        );
    }
}

#[test]
fn forward_lookups_rank_and_qualify() {
    let gazetteer = Gazetteer::embedded();
    let names = |query: &str, limit: usize| -> Vec<String> {
        gazetteer
            .find(query, limit)
            .unwrap()
            .into_iter()
            .map(|place| place.display_name)
            .collect()
    };
    assert_eq!(
        names("Springfield", 3),
        [
            "Springfield, Missouri, United States",
            "Springfield, Massachusetts, United States",
            "Springfield, Illinois, United States"
        ]
    );
    assert_eq!(
        names("springfield, illinois", 5),
        ["Springfield, Illinois, United States"]
    );
    assert_eq!(names("Lyon, France", 5), ["Lyon, France"]);
    assert_eq!(names("LYON, fr", 5), ["Lyon, France"]);
    assert_eq!(names("zurich", 1), ["Zürich, Switzerland"]);
    assert_eq!(names("Saint-Etienne, France", 1), ["Saint-Étienne, France"]);
    assert_eq!(names("Bordea", 1), ["Bordeaux, France"]);
    assert!(names("Xyzzyville", 5).is_empty());
    assert_eq!(gazetteer.find(" , ", 5), Err(GeoError::EmptyQuery));
}

#[tokio::test]
async fn the_default_configuration_is_the_embedded_gazetteer() {
    let geocoder = build(&GeocoderConfig::default()).unwrap();
    let hit = geocoder.reverse(51.5074, -0.1278).await.unwrap().unwrap();
    assert_eq!(hit.place.name, "London");
    let places = geocoder.search("London, United Kingdom", 1).await.unwrap();
    assert_eq!(places[0].country_code, "GB");
}

#[test]
fn arbitrary_queries_and_points_never_panic() {
    let gazetteer = Gazetteer::embedded();
    let pieces = [
        "a", "é", ",", " ", "san", "Saint-", "东京", "ß", "'", "-", "0", "\u{0}", "ÆØÅ", "Ω", "🙂",
        "z",
    ];
    let mut state: u64 = 0xdead_beef_cafe_f00d;
    let mut next = move |n: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % n
    };
    for _ in 0..2000 {
        let query: String = (0..next(6))
            .map(|_| pieces[next(pieces.len() as u64) as usize])
            .collect();
        let limit = next(4) as usize;
        match gazetteer.find(&query, limit) {
            Ok(places) => assert!(places.len() <= limit),
            Err(err) => assert_eq!(err, GeoError::EmptyQuery, "{query:?}"),
        }
        let lat = next(200_000) as f64 / 1000.0 - 100.0;
        let lon = next(400_000) as f64 / 1000.0 - 200.0;
        match gazetteer.nearest(lat, lon) {
            Ok(Some(hit)) => assert!(
                hit.distance_km <= 200.0 + 1e-6,
                "{lat},{lon}: {}",
                hit.distance_km
            ),
            Ok(None) => {}
            Err(err) => assert!(matches!(err, GeoError::BadCoordinates { .. }), "{err}"),
        }
    }
}
