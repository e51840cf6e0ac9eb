//! Each action of the shipped DFM files builds the request of the GMS REST API it stands for.

use std::path::Path;

use gms::dfm::model::Method;
use gms::dfm::request::decode_form;
use gms::dfm::{AttrValues, CallError, Dfm, DfmSet, build_request};
use serde_json::{Value, json};

use crate::dfm_values as values;

fn shipped() -> DfmSet {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("dfm");
    DfmSet::load_files(&[
        dir.join("cfg_GSG_storage.txt"),
        dir.join("cfg_GSG_notification.txt"),
        dir.join("cfg_GSG_base_services.txt"),
        dir.join("cfg_GSG_geocoding.txt"),
    ])
    .unwrap()
}

/// What a test expects of a request, in a form that prints readably when it differs.
#[derive(Debug, PartialEq)]
struct Seen {
    method: &'static str,
    url: String,
    content_type: Option<&'static str>,
    form: Vec<(String, String)>,
    json: Value,
}

fn seen(dfm: &Dfm, action: &str, given: Value) -> Seen {
    let request = build_request(dfm, action, &values(given)).unwrap();
    let body = String::from_utf8(request.body.clone()).unwrap();
    let is_json = request.content_type == Some("application/json");
    Seen {
        method: request.method.as_str(),
        url: request.url(),
        content_type: request.content_type,
        form: if is_json {
            Vec::new()
        } else {
            decode_form(&body)
        },
        json: if is_json {
            serde_json::from_str(&body).unwrap()
        } else {
            Value::Null
        },
    }
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(key, value)| (key.to_string(), value.to_string()))
        .collect()
}

const FORM: Option<&str> = Some("application/x-www-form-urlencoded");
const JSON: Option<&str> = Some("application/json");

#[test]
fn storage_actions() {
    let set = shipped();
    let dfm = set.by_name("gsgStorage").unwrap();
    assert_eq!(
        seen(
            dfm,
            "create",
            json!({"ttl": 60, "data": {"first name": "Ann", "phone": "+1 555"}})
        ),
        Seen {
            method: "POST",
            url: "http://localhost:8081/genesys/1/storage/60".into(),
            content_type: FORM,
            form: pairs(&[("first name", "Ann"), ("phone", "+1 555")]),
            json: Value::Null,
        }
    );
    // The default TTL applies, and a JSON string is accepted for an Object attribute.
    assert_eq!(
        seen(dfm, "create", json!({"data": "{\"a\": 1}"})).url,
        "http://localhost:8081/genesys/1/storage/30"
    );
    assert_eq!(
        seen(
            dfm,
            "update",
            json!({"id": "d/1", "ttl": "90", "data": {"a": "b"}})
        ),
        Seen {
            method: "POST",
            url: "http://localhost:8081/genesys/1/storage/d%2F1/90".into(),
            content_type: FORM,
            form: pairs(&[("a", "b")]),
            json: Value::Null,
        }
    );
    for (action, url) in [
        ("read", "http://localhost:8081/genesys/1/storage/abc"),
        (
            "readkey",
            "http://localhost:8081/genesys/1/storage/abc/first%20name",
        ),
    ] {
        let request = seen(dfm, action, json!({"id": "abc", "key": "first name"}));
        assert_eq!(
            (request.method, request.url.as_str(), request.content_type),
            ("GET", url, None)
        );
    }
    let request = seen(dfm, "delete", json!({"id": "abc"}));
    assert_eq!(
        (request.method, request.url.as_str()),
        ("DELETE", "http://localhost:8081/genesys/1/storage/abc")
    );
}

#[test]
fn notification_actions() {
    let set = shipped();
    let dfm = set.by_name("gsgNotification").unwrap();
    assert_eq!(
        seen(
            dfm,
            "subscribe",
            json!({"subscriberId": "s1", "deviceId": "http://app/cb", "type": "httpcb",
                   "properties": {"debug": "true"}, "expire": "60", "filter": "ors.contact.7"})
        ),
        Seen {
            method: "POST",
            url: "http://localhost:8081/genesys/1/notification/subscription".into(),
            content_type: JSON,
            form: Vec::new(),
            json: json!({"subscriberId": "s1", "providerName": "GMS",
                         "notificationDetails": {"deviceId": "http://app/cb", "type": "httpcb",
                                                 "properties": {"debug": "true"}},
                         "expire": 60, "filter": "ors.contact.7"}),
        }
    );
    let request = seen(dfm, "unsubscribe", json!({"id": "sub 1"}));
    assert_eq!(
        (request.method, request.url.as_str()),
        (
            "DELETE",
            "http://localhost:8081/genesys/1/notification/subscription/sub%201"
        )
    );
    // A message is a string; an object given for it is sent as its JSON text.
    assert_eq!(
        seen(
            dfm,
            "publish",
            json!({"tag": "ors.contact.7", "message": {"_id": "42", "_action": "connect"}})
        )
        .json,
        json!({"tag": "ors.contact.7", "message": "{\"_action\":\"connect\",\"_id\":\"42\"}",
               "mediatype": "application/json", "expire": 30})
    );
}

#[test]
fn service_actions() {
    let set = shipped();
    let dfm = set.by_name("gsgBasedServices").unwrap();
    assert_eq!(
        seen(
            dfm,
            "request-access",
            json!({"_id": "sess-1", "_resource_group": "Access Numbers", "_provide_code": true})
        ),
        Seen {
            method: "POST",
            url: "http://localhost:8081/genesys/1/service/request-access".into(),
            content_type: FORM,
            form: pairs(&[
                ("_id", "sess-1"),
                ("_resource_group", "Access Numbers"),
                ("_provide_code", "true")
            ]),
            json: Value::Null,
        }
    );
    assert_eq!(
        seen(
            dfm,
            "match-interaction",
            json!({"_access_number": "+18005550100", "_phone_number": "5551234"})
        )
        .form,
        pairs(&[
            ("_access_number", "+18005550100"),
            ("_phone_number", "5551234")
        ])
    );
    let request = seen(
        dfm,
        "create",
        json!({"service": "request-interaction", "data": {"_phone_number": "1"}}),
    );
    assert_eq!(
        request.url,
        "http://localhost:8081/genesys/1/service/request-interaction"
    );
    assert_eq!(request.form, pairs(&[("_phone_number", "1")]));
}

#[test]
fn geocoding_actions() {
    let set = shipped();
    let dfm = set.by_name("yahoo_placefinder").unwrap();
    let request = seen(dfm, "query_location", json!({"lat": 45.76, "long": "4.84"}));
    assert_eq!(
        (request.method, request.url.as_str()),
        (
            "GET",
            "http://localhost:8081/genesys/1/geo/reverse?lat=45.76&lon=4.84"
        )
    );
    let request = seen(dfm, "find_location", json!({"location": "Lyon, France"}));
    assert_eq!(
        request.url,
        "http://localhost:8081/genesys/1/geo/search?q=Lyon%2C%20France&limit=5"
    );
}

#[test]
fn bad_calls_are_errors_not_requests() {
    let set = shipped();
    let storage = set.by_name("gsgStorage").unwrap();
    assert_eq!(
        build_request(storage, "read", &AttrValues::new()).unwrap_err(),
        CallError::MissingAttribute {
            action: "read".into(),
            attribute: "id".into()
        }
    );
    assert!(matches!(
        build_request(storage, "explode", &AttrValues::new()).unwrap_err(),
        CallError::UnknownAction { .. }
    ));
    let err = build_request(
        storage,
        "create",
        &values(json!({"ttl": "soon", "data": {}})),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "attribute 'ttl' of action 'create' must be a number, not \"soon\""
    );
    let services = set.by_name("gsgBasedServices").unwrap();
    let err = build_request(
        services,
        "request-access",
        &values(json!({"_id": "1", "_resource_group": "g", "_provide_code": "maybe"})),
    )
    .unwrap_err();
    assert!(err.to_string().contains("must be true or false"), "{err}");
}

#[test]
fn the_published_yahoo_url_is_rebuilt_exactly() {
    // The original template: `${x}` values are encoded, the literal `+` between lat and long stays.
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("dfm/cfg_GSG_geocoding.txt"))
        .unwrap()
        .replace(
            "/genesys/1/geo/reverse?lat=${lat}&amp;lon=${long}",
            "/geocode?appid=${appid}&amp;gflags=${gflags}&amp;flags=${flags}&amp;location=${lat}+${long}",
        );
    let dfm = gms::dfm::load_str(&text, "yahoo.txt").unwrap();
    let request = build_request(
        &dfm,
        "query_location",
        &values(json!({"lat": "37.4", "long": "-122.1"})),
    )
    .unwrap();
    assert_eq!(request.method, Method::Get);
    assert_eq!(
        request.path_and_query,
        "/geocode?appid=yourappid&gflags=R&flags=JT&location=37.4+-122.1"
    );
}

#[test]
fn ipv6_hosts_get_brackets_in_the_url() {
    let text = "<dfm name='d' namespace='urn:d'>
      <connections><connection name='c'><servers><server host='::1' port='8080'/></servers></connection></connections>
      <transports><transport name='t' conntype='c'><param name='url' expr='/x'/></transport></transports>
      <actions><action name='a' transport='t'/></actions></dfm>";
    let dfm = gms::dfm::load_str(text, "v6.txt").unwrap();
    let request = build_request(&dfm, "a", &AttrValues::new()).unwrap();
    assert_eq!(request.url(), "http://[::1]:8080/x");
}
