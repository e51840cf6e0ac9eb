//! Durability: writes the server acknowledged survive `kill -9` of the real binary.

mod common;

use common::Binary;

#[tokio::test]
async fn acknowledged_writes_survive_kill_9() {
    const N: usize = 40;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("gms.ini");
    std::fs::write(&config, common::SAMPLE).unwrap();
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
