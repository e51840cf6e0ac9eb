//! Service API over real HTTP: the builtin services, resource groups (RANDOM, LOCAL, CLUSTER, backup), access
//! codes, configuration overriding request parameters, and bad input.

use std::time::Duration;

use crate::server::{TestServer, assert_error};

/// The sample options with a different resource list and extra services.
fn options(groups: &str, extra: &str) -> String {
    let base = crate::server::SAMPLE
        .split("[Dnis_Pool]")
        .next()
        .unwrap()
        .to_string();
    format!("{base}{extra}\n{groups}")
}

const ONE_LOCAL: &str =
    "[Dnis_Pool]\n_allocation_strategy = LOCAL\n_booking_expiration_time = 20\nd1 = 555-0001\n";

async fn metric(server: &TestServer, name: &str) -> String {
    let text = server
        .http
        .get(server.internal_url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find(|line| line.starts_with(name))
        .map(|line| line.rsplit(' ').next().unwrap().to_string())
        .unwrap_or_default()
}

#[tokio::test]
async fn request_interaction_then_match_interaction() {
    let server = TestServer::sample().await;
    let (status, reply) = server
        .post_form(
            "/genesys/1/service/request-interaction",
            &[
                ("_phone_number", "+1 555 0100"),
                ("first_name", "Ann"),
                ("_provide_code", "false"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{reply}");
    let id = reply["_id"].as_str().unwrap();
    let number = reply["_access_number"].as_str().unwrap();
    assert!(number.starts_with("1-888-call-me"));
    // provide_code = true in the section overrides `_provide_code=false`; codes start with node id 01.
    let code = reply["_access_code"].as_str().unwrap();
    assert!(code.starts_with("01") && code.len() == 6, "{code}");
    assert_eq!(reply["_expiration_time"], 20);
    // User data went to Storage.
    let data_id = reply["_data_id"].as_str().unwrap();
    assert_eq!(
        server.get(&format!("/genesys/1/storage/{data_id}")).await.1["first_name"],
        "Ann"
    );
    assert_eq!(
        metric(&server, "gms_resources_in_use{group=\"Dnis_Pool\"}").await,
        "1"
    );
    // Wrong code or wrong phone: no match.
    let wrong_code = [("_access_number", number), ("_access_code", "0000000")];
    assert_error(
        &server
            .post_internal("/genesys/1/service/match-interaction", &wrong_code)
            .await,
        404,
        "NoMatch",
    );
    let wrong_phone = [("_access_number", number), ("_phone_number", "5550199")];
    assert_error(
        &server
            .post_internal("/genesys/1/service/match-interaction", &wrong_phone)
            .await,
        404,
        "NoMatch",
    );
    let good = [
        ("_access_number", number),
        ("_access_code", code),
        ("_phone_number", "15550100"),
    ];
    let (status, matched) = server
        .post_internal("/genesys/1/service/match-interaction", &good)
        .await;
    assert_eq!(status, 200, "{matched}");
    assert_eq!(matched["_id"], id);
    assert_eq!(matched["_data_id"], data_id);
    // The booking is released and, with delete_match, the match is gone.
    assert_eq!(
        metric(&server, "gms_resources_in_use{group=\"Dnis_Pool\"}").await,
        "0"
    );
    assert_error(
        &server
            .post_internal("/genesys/1/service/match-interaction", &good)
            .await,
        404,
        "NoMatch",
    );
}

#[tokio::test]
async fn request_access_attaches_to_a_live_service_and_query_and_delete_work() {
    let server = TestServer::sample().await;
    let (_, created) = server
        .post_form(
            "/genesys/1/service/request-interaction",
            &[("_phone_number", "5550100")],
        )
        .await;
    let id = created["_id"].as_str().unwrap().to_string();
    let (status, access) = server
        .post_form(
            "/genesys/1/service/request-access",
            &[("_id", &id), ("_provide_code", "true")],
        )
        .await;
    assert_eq!(status, 200, "{access}");
    assert_eq!(access["_id"], id.as_str());
    let code = access["_access_code"].as_str().unwrap();
    assert_eq!(code.len(), 4, "access_code_length = 4 in the section");
    assert!(code.starts_with("01"));
    let (status, shown) = server.get(&format!("/genesys/1/service/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(shown["_access_number"], access["_access_number"]);
    assert_eq!(shown["_access_code"], code);
    // The earlier number was released when request-access replaced it: one booking only.
    assert_eq!(
        metric(&server, "gms_resources_in_use{group=\"Dnis_Pool\"}").await,
        "1"
    );
    let (status, _) = server
        .send(
            server
                .http
                .delete(server.public_url(&format!("/genesys/1/service/{id}"))),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        metric(&server, "gms_resources_in_use{group=\"Dnis_Pool\"}").await,
        "0"
    );
    assert_error(
        &server.get(&format!("/genesys/1/service/{id}")).await,
        404,
        "NotFound",
    );
    assert_error(
        &server
            .send(
                server
                    .http
                    .delete(server.public_url(&format!("/genesys/1/service/{id}"))),
            )
            .await,
        404,
        "NotFound",
    );
    assert_error(
        &server
            .post_form(
                "/genesys/1/service/request-access",
                &[("_id", "no-such-service")],
            )
            .await,
        404,
        "NotFound",
    );
}

#[tokio::test]
async fn bad_parameters_are_400_and_unknown_services_404() {
    let server = TestServer::sample().await;
    assert_error(
        &server
            .post_form("/genesys/1/service/request-access", &[])
            .await,
        400,
        "InvalidParameter",
    );
    assert_error(
        &server
            .post_internal("/genesys/1/service/match-interaction", &[])
            .await,
        400,
        "InvalidParameter",
    );
    // `ttl` in a section overrides `_ttl`; match-interaction's section has none, so the request's is checked.
    let bad_ttl = [("_access_number", "1"), ("_ttl", "forever")];
    assert_error(
        &server
            .post_internal("/genesys/1/service/match-interaction", &bad_ttl)
            .await,
        400,
        "InvalidParameter",
    );
    for timeout in ["4", "1801", "x"] {
        let form = [
            ("_phone_number", "1"),
            ("_booking_expiration_timeout", timeout),
        ];
        assert_error(
            &server
                .post_form("/genesys/1/service/request-interaction", &form)
                .await,
            400,
            "InvalidParameter",
        );
    }
    assert_error(
        &server
            .post_form("/genesys/1/service/no-such-service", &[])
            .await,
        404,
        "ServiceNotFound",
    );
    let json = server
        .http
        .post(server.public_url("/genesys/1/service/request-interaction"))
        .header("content-type", "application/json")
        .body("{}");
    assert_error(&server.send(json).await, 415, "UnsupportedMediaType");
    let file = reqwest::multipart::Form::new().part(
        "_phone_number",
        reqwest::multipart::Part::bytes(vec![1, 2]).file_name("a.bin"),
    );
    let multipart = server
        .http
        .post(server.public_url("/genesys/1/service/request-interaction"))
        .multipart(file);
    assert_error(&server.send(multipart).await, 400, "InvalidParameter");
}

#[tokio::test]
async fn exhausted_local_group_is_503_with_alarm_2001_then_backup_resource() {
    let server = TestServer::start(&options(ONE_LOCAL, "")).await;
    let first = server
        .post_form(
            "/genesys/1/service/request-interaction",
            &[("_phone_number", "1")],
        )
        .await;
    assert_eq!(first.0, 200);
    let second = server
        .post_form(
            "/genesys/1/service/request-interaction",
            &[("_phone_number", "2")],
        )
        .await;
    assert_error(&second, 503, "NoMoreResources");
    assert_eq!(
        metric(&server, "gms_alarms_total{alarm=\"2001\"}").await,
        "1"
    );
    // The booking expires after `_booking_expiration_time` (20 s): the resource is free again.
    server.advance(Duration::from_secs(21));
    let third = server
        .post_form(
            "/genesys/1/service/request-interaction",
            &[("_phone_number", "3")],
        )
        .await;
    assert_eq!(third.0, 200, "{:?}", third.1);
    assert_eq!(third.1["_access_number"], "555-0001");

    let with_backup = format!("{ONE_LOCAL}_backup_resource = 555-9999\n");
    let server = TestServer::start(&options(&with_backup, "")).await;
    server
        .post_form(
            "/genesys/1/service/request-interaction",
            &[("_phone_number", "1")],
        )
        .await;
    let backup = server
        .post_form(
            "/genesys/1/service/request-interaction",
            &[("_phone_number", "2")],
        )
        .await;
    assert_eq!(backup.0, 200);
    assert_eq!(backup.1["_access_number"], "555-9999");
}

#[tokio::test]
async fn booking_timeout_comes_from_request_then_service_then_group() {
    let extra = "[service.short]\ntype = builtin\nservice = request-interaction\nresource_group = Dnis_Pool\n_booking_expiration_timeout = 7\n";
    let server = TestServer::start(&options(
        ONE_LOCAL
            .replace("d1 = 555-0001\n", "d1 = 1\nd2 = 2\nd3 = 3\n")
            .as_str(),
        extra,
    ))
    .await;
    let by_service = server
        .post_form("/genesys/1/service/short", &[("_phone_number", "1")])
        .await;
    assert_eq!(by_service.1["_expiration_time"], 7);
    let by_request = server
        .post_form(
            "/genesys/1/service/short",
            &[("_phone_number", "1"), ("_booking_expiration_timeout", "9")],
        )
        .await;
    assert_eq!(by_request.1["_expiration_time"], 9);
    let by_group = server
        .post_form(
            "/genesys/1/service/request-interaction",
            &[("_phone_number", "1")],
        )
        .await;
    assert_eq!(by_group.1["_expiration_time"], 20);
}

#[tokio::test]
async fn random_and_cluster_groups() {
    let groups =
        "[Dnis_Pool]\nd1 = 1\nd2 = 2\n[Cluster_Pool]\n_allocation_strategy = CLUSTER\nc1 = 10\n";
    let extra = "[service.clustered]\ntype = builtin\nservice = request-interaction\nresource_group = Cluster_Pool\n";
    let server = TestServer::start(&options(groups, extra)).await;
    // RANDOM reserves nothing: many services share two numbers.
    for _ in 0..6 {
        let (status, reply) = server
            .post_form(
                "/genesys/1/service/request-interaction",
                &[("_phone_number", "1")],
            )
            .await;
        assert_eq!(status, 200);
        assert!(["1", "2"].contains(&reply["_access_number"].as_str().unwrap()));
    }
    assert_eq!(
        server
            .post_form("/genesys/1/service/clustered", &[("_phone_number", "1")])
            .await
            .0,
        200
    );
    assert_error(
        &server
            .post_form("/genesys/1/service/clustered", &[("_phone_number", "1")])
            .await,
        503,
        "NoMoreResources",
    );
    assert_eq!(
        metric(&server, "gms_resources_in_use{group=\"Cluster_Pool\"}").await,
        "1"
    );
}

#[tokio::test]
async fn concurrent_bookings_of_the_last_resource_have_exactly_one_winner() {
    let server = std::sync::Arc::new(TestServer::start(&options(ONE_LOCAL, "")).await);
    let mut tasks = Vec::new();
    for idx in 0..12 {
        let server = server.clone();
        tasks.push(tokio::spawn(async move {
            let phone = idx.to_string();
            server
                .post_form(
                    "/genesys/1/service/request-interaction",
                    &[("_phone_number", &phone)],
                )
                .await
        }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap().0);
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 503).count(),
        11,
        "{statuses:?}"
    );
}

#[tokio::test]
async fn duplicated_resources_raise_alarm_2000() {
    let groups = "[Dnis_Pool]\nd1 = 1\nd2 = 1\n[Other]\nx = 1\n";
    let server = TestServer::start(&options(groups, "")).await;
    assert_eq!(
        metric(&server, "gms_alarms_total{alarm=\"2000\"}").await,
        "2"
    );
}

#[tokio::test]
async fn extra_parameters_are_kept_as_data_or_ignored_and_services_expire() {
    let server = TestServer::sample().await;
    let (status, reply) = server
        .post_form(
            "/genesys/1/service/request-interaction",
            &[
                ("_phone_number", "1"),
                ("_not_a_known_parameter", "x"),
                ("note", "call me"),
                ("lang", "fr"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{reply}");
    let id = reply["_id"].as_str().unwrap();
    let number = reply["_access_number"].as_str().unwrap();
    let data = server
        .get(&format!(
            "/genesys/1/storage/{}",
            reply["_data_id"].as_str().unwrap()
        ))
        .await
        .1;
    assert_eq!(data, serde_json::json!({"note": "call me", "lang": "fr"}));
    // The section's ttl is 30 s: after it the service, its match and its data are gone.
    server.advance(Duration::from_secs(31));
    assert_error(
        &server.get(&format!("/genesys/1/service/{id}")).await,
        404,
        "NotFound",
    );
    assert_error(
        &server
            .post_internal(
                "/genesys/1/service/match-interaction",
                &[("_access_number", number)],
            )
            .await,
        404,
        "NoMatch",
    );
    assert_error(
        &server
            .post_form("/genesys/1/service/request-access", &[("_id", id)])
            .await,
        404,
        "NotFound",
    );
}

/// Genesys's own functional tests of GMS create request-interaction with an empty form and read `_data_id` from
/// match-interaction.
#[tokio::test]
async fn request_interaction_needs_no_phone_number_and_a_match_always_names_user_data() {
    let server = TestServer::sample().await;
    let (status, created) = server
        .post_form("/genesys/1/service/request-interaction", &[])
        .await;
    assert_eq!(status, 200, "{created}");
    for field in ["_access_code", "_access_number", "_expiration_time", "_id"] {
        assert!(!created[field].is_null(), "{field} in {created}");
    }
    let form = [
        (
            "_access_number",
            created["_access_number"].as_str().unwrap(),
        ),
        ("_access_code", created["_access_code"].as_str().unwrap()),
    ];
    let (status, matched) = server
        .post_internal("/genesys/1/service/match-interaction", &form)
        .await;
    assert_eq!(status, 200, "{matched}");
    assert_eq!(matched["_id"], created["_id"]);
    let data_id = matched["_data_id"].as_str().expect("a _data_id");
    // It is a real (empty) data set of the Storage API.
    let (status, data) = server.get(&format!("/genesys/1/storage/{data_id}")).await;
    assert_eq!(status, 200, "{data}");
    assert_eq!(data, serde_json::json!({}));
}

#[tokio::test]
async fn a_lapsed_booking_never_matches_and_unreserved_numbers_do_not_expire() {
    let server = TestServer::start(&options(ONE_LOCAL, "")).await;
    let request = |phone: &'static str| {
        let server = &server;
        async move {
            let (status, reply) = server
                .post_form(
                    "/genesys/1/service/request-interaction",
                    &[("_phone_number", phone)],
                )
                .await;
            assert_eq!(status, 200, "{reply}");
            reply
        }
    };
    let first = request("5550001").await;
    assert_eq!(first["_expiration_time"], 20, "{first}");
    // A's booking lapses (its service lives on) and B is given the same number.
    server.advance(std::time::Duration::from_secs(21));
    let second = request("5550002").await;
    assert_eq!(second["_access_number"], first["_access_number"]);
    let number = first["_access_number"].as_str().unwrap();
    let with_code = |code: &str| {
        [
            ("_access_number", number.to_string()),
            ("_access_code", code.to_string()),
        ]
    };
    let stale = with_code(first["_access_code"].as_str().unwrap());
    let stale: Vec<(&str, &str)> = stale.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_error(
        &server
            .post_internal("/genesys/1/service/match-interaction", &stale)
            .await,
        404,
        "NoMatch",
    );
    let live = with_code(second["_access_code"].as_str().unwrap());
    let live: Vec<(&str, &str)> = live.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, matched) = server
        .post_internal("/genesys/1/service/match-interaction", &live)
        .await;
    assert_eq!(status, 200, "{matched}");
    assert_eq!(matched["_id"], second["_id"]);

    // A RANDOM group reserves nothing, so its answer has no expiration time.
    let random = TestServer::start(&options("[Dnis_Pool]\nd1 = 555-0001\n", "")).await;
    let (status, reply) = random
        .post_form(
            "/genesys/1/service/request-interaction",
            &[("_phone_number", "5550001")],
        )
        .await;
    assert_eq!(status, 200, "{reply}");
    assert!(reply.get("_expiration_time").is_none(), "{reply}");
}

/// A number listed in two groups (alarm 2000) belongs to its first group only, so two services never hold it at
/// once.
#[tokio::test]
async fn a_number_in_two_groups_is_never_booked_twice() {
    let groups = "[Dnis_Pool]\n_allocation_strategy = LOCAL\nd1 = 555-0001\n\
                  [Other_Pool]\n_allocation_strategy = LOCAL\no1 = 555-0001\n";
    let extra = "[service.other]\ntype = builtin\nservice = request-interaction\nresource_group = Other_Pool\n";
    let server = TestServer::start(&options(groups, extra)).await;
    let (status, first) = server
        .post_form(
            "/genesys/1/service/request-interaction",
            &[("_phone_number", "5550001")],
        )
        .await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["_access_number"], "555-0001");
    let (status, second) = server
        .post_form("/genesys/1/service/other", &[("_phone_number", "5550002")])
        .await;
    assert_ne!(second["_access_number"], "555-0001", "{second}");
    assert_error(&(status, second), 503, "NoMoreResources");
}
