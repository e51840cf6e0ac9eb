//! Helpers shared by the integration tests: start a server on 127.0.0.1:0 (in-process with a manual clock, or the
//! real `gms` binary), and build URLs for its two listeners.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use gms::app::{App, AppOptions};
use gms::clock::ShiftedClock;
use gms::config::GmsConfig;
use gms::http::AppState;

/// The sample option file of the repository.
pub const SAMPLE: &str = include_str!("../../samples/gms.ini");

/// A server running in this process, on a clock the test moves forward ([`TestServer::advance`]): real time
/// passes too, so flows and the simulated contact center run as on a real server.
pub struct TestServer {
    /// Public listener.
    pub public: SocketAddr,
    /// Internal listener.
    pub internal: SocketAddr,
    /// The clock of the store, the services, the contact center and the flows.
    pub clock: ShiftedClock,
    /// The flows' runtime.
    pub ors: gms::ors::Ors,
    /// The running state.
    pub state: AppState,
    /// The option file (rewrite it to test reload).
    pub config_path: PathBuf,
    /// An HTTP client.
    pub http: reqwest::Client,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    _dir: tempfile::TempDir,
}

impl TestServer {
    /// Starts a server with the option file `options`.
    pub async fn start(options: &str) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let config_path = dir.path().join("gms.ini");
        std::fs::write(&config_path, options).unwrap();
        let config = GmsConfig::load(&config_path).unwrap();
        let clock = ShiftedClock::new();
        let app = App::build(AppOptions {
            overrides: Default::default(),
            redis: None,
            store: Default::default(),
            config,
            config_path: Some(config_path.clone()),
            data_dir: dir.path().join("data"),
            clock: Arc::new(clock.clone()),
        })
        .unwrap();
        let state = app.state.clone();
        let ors = app.ors.node.ors.clone();
        let public = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let internal = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (public_addr, internal_addr) =
            (public.local_addr().unwrap(), internal.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(app.serve(public, internal, async move {
            let _ = stopped.await;
        }));
        TestServer {
            public: public_addr,
            internal: internal_addr,
            clock,
            ors,
            state,
            config_path,
            http: reqwest::Client::new(),
            stop: Some(stop),
            _dir: dir,
        }
    }

    /// Starts a server with `samples/gms.ini`.
    pub async fn sample() -> TestServer {
        TestServer::start(SAMPLE).await
    }

    /// Moves the server's clock forward by `by`, and wakes what waits on it (session timers and TTLs, the
    /// contact center's deadlines) so that what has come due happens now.
    pub fn advance(&self, by: Duration) {
        self.clock.advance(by);
        self.ors.tick();
        self.ors.contact_center_wake().notify_one();
    }

    /// URL on the public listener.
    pub fn public_url(&self, path: &str) -> String {
        format!("http://{}{path}", self.public)
    }

    /// URL on the internal listener.
    pub fn internal_url(&self, path: &str) -> String {
        format!("http://{}{path}", self.internal)
    }

    /// POSTs a urlencoded form to the public listener; returns status and JSON body.
    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> (u16, serde_json::Value) {
        self.send(self.http.post(self.public_url(path)).form(form))
            .await
    }

    /// POSTs a urlencoded form to the internal listener; returns status and JSON body.
    pub async fn post_internal(
        &self,
        path: &str,
        form: &[(&str, &str)],
    ) -> (u16, serde_json::Value) {
        self.send(self.http.post(self.internal_url(path)).form(form))
            .await
    }

    /// GETs from the public listener; returns status and JSON body.
    pub async fn get(&self, path: &str) -> (u16, serde_json::Value) {
        self.send(self.http.get(self.public_url(path))).await
    }

    /// Sends a request; returns status and JSON body (`Null` when the body is not JSON).
    pub async fn send(&self, request: reqwest::RequestBuilder) -> (u16, serde_json::Value) {
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
        )
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Asserts an error answer: the status and the JSON body's `exception`, with a non-empty `message`.
pub fn assert_error(answer: &(u16, serde_json::Value), status: u16, exception: &str) {
    assert_eq!(answer.0, status, "unexpected answer {answer:?}");
    assert_eq!(
        answer.1["exception"], exception,
        "unexpected answer {answer:?}"
    );
    assert!(
        answer.1["message"].as_str().is_some_and(|m| !m.is_empty()),
        "no message in {answer:?}"
    );
}

/// The real `gms` binary running `serve` with JSON logs; its log lines are collected.
pub struct Binary {
    /// The process.
    pub child: Child,
    /// Public listener.
    pub public: SocketAddr,
    /// Internal listener.
    pub internal: SocketAddr,
    /// ORS's own port (`/scxml/...` only).
    pub ors: Option<SocketAddr>,
    /// The HTTPS public listener, when the options configure one.
    pub https: Option<SocketAddr>,
    /// Every log line so far.
    pub lines: Arc<Mutex<Vec<String>>>,
}

impl Binary {
    /// Runs `gms serve --log-json` with `config` and `data_dir` on ports chosen by the system.
    pub fn start(config: &Path, data_dir: &Path) -> Binary {
        Binary::start_in(Some(config), data_dir, Path::new("."))
    }

    /// Runs `gms serve --log-json` in the working directory `cwd`, with `config` (or the default options when
    /// `None`) and `data_dir`, on ports chosen by the system.
    pub fn start_in(config: Option<&Path>, data_dir: &Path, cwd: &Path) -> Binary {
        Binary::start_with(config, data_dir, cwd, &[])
    }

    /// As [`Binary::start_in`], with more arguments for `serve` (`--store`, `--node-id`...).
    pub fn start_with(
        config: Option<&Path>,
        data_dir: &Path,
        cwd: &Path,
        extra: &[&str],
    ) -> Binary {
        let mut command = Command::new(env!("CARGO_BIN_EXE_gms"));
        command.current_dir(cwd).args([
            "serve",
            "--log-json",
            "--public-port",
            "0",
            "--internal-port",
            "0",
            "--ors-port",
            "0",
        ]);
        if let Some(config) = config {
            command.arg("--config").arg(config);
        }
        command.args(extra);
        let mut child = command
            .arg("--data-dir")
            .arg(data_dir)
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let (ready, addresses) = std::sync::mpsc::channel();
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let lines = lines.clone();
            let ready = ready.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    if let Ok(json) = serde_json::from_str::<serde_json::Value>(&line)
                        && json["fields"]["message"] == "gms listening"
                    {
                        let public = json["fields"]["public"].as_str().unwrap().parse().unwrap();
                        let internal = json["fields"]["internal"]
                            .as_str()
                            .unwrap()
                            .parse()
                            .unwrap();
                        let ors = json["fields"]["ors"]
                            .as_str()
                            .and_then(|ors| ors.parse().ok());
                        let https = json["fields"]["https"]
                            .as_str()
                            .and_then(|https| https.parse().ok());
                        let _ = ready.send((public, internal, ors, https));
                    }
                    lines.lock().unwrap().push(line);
                }
            });
        }
        let (public, internal, ors, https) = addresses
            .recv_timeout(Duration::from_secs(60))
            .expect("the server reports its listeners");
        Binary {
            child,
            public,
            internal,
            ors,
            https,
            lines,
        }
    }

    /// Every log line so far, joined.
    pub fn log(&self) -> String {
        self.lines.lock().unwrap().join("\n")
    }

    /// Kills the process with SIGKILL and waits for it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        self.kill();
    }
}
