//! Durability: writes the server acknowledged survive `kill -9` of the real binary.

use crate::server::Binary;

#[tokio::test]
async fn acknowledged_writes_survive_kill_9() {
    const N: usize = 40;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("gms.ini");
    std::fs::write(&config, crate::server::SAMPLE).unwrap();
    let data = dir.path().join("data");
    let http = reqwest::Client::new();
    let mut server = Binary::start(&config, &data);
    let mut ids = Vec::new();
    // Concurrent writes, so several share a commit.
    let mut tasks = Vec::new();
    for idx in 0..N {
        let http = http.clone();
        let url = format!("http://{}/genesys/1/storage/3600", server.public);
        tasks.push(tokio::spawn(async move {
            let value = format!("value-{idx}");
            let reply: serde_json::Value = http
                .post(url)
                .form(&[("n", value.as_str())])
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            (reply["id"].as_str().unwrap().to_string(), value)
        }));
    }
    for task in tasks {
        ids.push(task.await.unwrap());
    }
    server.kill();
    let server = Binary::start(&config, &data);
    for (id, value) in &ids {
        let read = http
            .get(format!("http://{}/genesys/1/storage/{id}/n", server.public))
            .send()
            .await
            .unwrap();
        assert_eq!(read.status(), 200, "data set {id} lost");
        assert_eq!(&read.text().await.unwrap(), value);
    }
    assert_eq!(ids.len(), N);
}

#[tokio::test]
async fn acknowledged_request_access_bookings_survive_kill_9() {
    const ROUNDS: usize = 5;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("gms.ini");
    std::fs::write(&config, crate::server::SAMPLE).unwrap();
    let data = dir.path().join("data");
    let http = reqwest::Client::new();
    let mut server = Binary::start(&config, &data);
    // One service per number of the sample's Dnis_Pool (three), each rebooked several times; the services run
    // side by side, so their bookings share log records and race for the same numbers.
    let mut services = Vec::new();
    for idx in 0..3 {
        let created: serde_json::Value = http
            .post(format!(
                "http://{}/genesys/1/service/request-interaction",
                server.public
            ))
            .form(&[("_phone_number", format!("555010{idx}").as_str())])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        services.push(created["_id"].as_str().unwrap().to_string());
    }
    let mut tasks = Vec::new();
    for id in services {
        let http = http.clone();
        let url = format!("http://{}/genesys/1/service/request-access", server.public);
        tasks.push(tokio::spawn(async move {
            let mut last = String::new();
            for _ in 0..ROUNDS {
                let reply: serde_json::Value = http
                    .post(&url)
                    .form(&[("_id", id.as_str())])
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                last = reply["_access_number"]
                    .as_str()
                    .unwrap_or_else(|| panic!("no access number in {reply}"))
                    .to_string();
            }
            (id, last)
        }));
    }
    let mut acknowledged = Vec::new();
    for task in tasks {
        acknowledged.push(task.await.unwrap());
    }
    server.kill();
    let server = Binary::start(&config, &data);
    for (id, number) in &acknowledged {
        let shown: serde_json::Value = http
            .get(format!("http://{}/genesys/1/service/{id}", server.public))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(shown["_access_number"], number.as_str(), "service {id}");
    }
    let metrics = http
        .get(format!("http://{}/metrics", server.internal))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics
            .lines()
            .any(|line| line == "gms_resources_in_use{group=\"Dnis_Pool\"} 3"),
        "every number still booked once: {metrics}"
    );
    // The match index written with each booking came back too.
    for (id, number) in &acknowledged {
        let matched: serde_json::Value = http
            .post(format!(
                "http://{}/genesys/1/service/match-interaction",
                server.internal
            ))
            .form(&[("_access_number", number.as_str())])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(matched["_id"], id.as_str(), "match of {number}");
    }
}

#[tokio::test]
async fn an_acknowledged_chat_survives_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("gms.ini");
    std::fs::write(&config, crate::server::SAMPLE).unwrap();
    let data = dir.path().join("data");
    let http = reqwest::Client::new();
    let mut server = Binary::start(&config, &data);
    let post = |base: String, form: Vec<(&'static str, String)>| {
        let http = http.clone();
        async move {
            let reply = http.post(base).form(&form).send().await.unwrap();
            assert_eq!(reply.status(), 200);
            reply.json::<serde_json::Value>().await.unwrap()
        }
    };
    let public = server.public;
    let service = post(
        format!("http://{public}/genesys/1/service/request-chat"),
        vec![],
    )
    .await;
    let id = service["_id"].as_str().unwrap().to_string();
    let chat = format!("http://{public}/genesys/1/service/{id}/ixn/chat");
    let created = post(chat.clone(), vec![("userDisplayName", "Ann".to_string())]).await;
    for n in 0..10 {
        post(
            format!("{chat}/send"),
            vec![("message", format!("message {n}"))],
        )
        .await;
    }
    server.kill();
    let server = Binary::start(&config, &data);
    let chat = format!("http://{}/genesys/1/service/{id}/ixn/chat", server.public);
    let reply = post(
        format!("{chat}/refresh"),
        vec![("transcriptPosition", "1".to_string())],
    )
    .await;
    assert_eq!(reply["chatSessionId"], created["chatSessionId"]);
    assert_eq!(reply["transcriptPosition"], 12, "{reply}");
    let texts: Vec<&str> = reply["transcriptToShow"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry[2].as_str().unwrap())
        .collect();
    assert_eq!(texts[1], "message 0");
    assert_eq!(texts[10], "message 9");
    // The chat goes on after the restart.
    post(
        format!("{chat}/send"),
        vec![("message", "after".to_string())],
    )
    .await;
}
