//! Real Redis servers for tests, on 127.0.0.1 and free ports, with no persistence and a temporary directory:
//! [`RedisServer`] (one `redis-server`) and [`RedisCluster`] (three masters, `redis-cli --cluster create`).
//! Killed and removed on drop.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A port nothing listens on now, whose cluster bus port (+10000) is free too.
pub fn free_port() -> u16 {
    for _ in 0..100 {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        if port < 55000 && TcpListener::bind(("127.0.0.1", port + 10000)).is_ok() {
            return port;
        }
    }
    panic!("no free port pair found");
}

/// Sends one inline command and returns the raw reply (enough for PING and CLUSTER INFO).
pub fn command(port: u16, line: &str) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_millis(500)))
        .ok()?;
    stream.write_all(format!("{line}\r\n").as_bytes()).ok()?;
    let mut buffer = [0u8; 8192];
    let read = stream.read(&mut buffer).ok()?;
    Some(String::from_utf8_lossy(&buffer[..read]).into_owned())
}

fn spawn(port: u16, dir: &Path, extra: &[String]) -> Child {
    Command::new("redis-server")
        .args([
            "--bind",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
        ])
        .arg(dir)
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("redis-server runs (scripts/test installs it)")
}

fn wait_for(port: u16, what: &str, ready: impl Fn(&str) -> bool) {
    for _ in 0..600 {
        if command(port, what).is_some_and(|reply| ready(&reply)) {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("redis on port {port} did not answer {what}");
}

/// One `redis-server`.
pub struct RedisServer {
    child: Option<Child>,
    /// Its port.
    pub port: u16,
    dir: tempfile::TempDir,
    persistent: bool,
}

impl RedisServer {
    /// Starts a server without persistence and waits until it answers PING.
    pub fn start() -> RedisServer {
        RedisServer::with_persistence(false)
    }

    /// Starts a server that syncs every write to an append-only file in its temporary directory, so what it
    /// acknowledged survives [`RedisServer::stop`] and [`RedisServer::resume`].
    pub fn start_persistent() -> RedisServer {
        RedisServer::with_persistence(true)
    }

    fn with_persistence(persistent: bool) -> RedisServer {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let mut server = RedisServer {
            child: None,
            port,
            dir,
            persistent,
        };
        server.resume();
        server
    }

    /// `redis://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills the server (an outage); [`RedisServer::resume`] starts it again on the same port.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server (again) and waits until it answers PING.
    pub fn resume(&mut self) {
        self.stop();
        let extra: Vec<String> = if self.persistent {
            ["--appendonly", "yes", "--appendfsync", "always"]
                .iter()
                .map(|arg| arg.to_string())
                .collect()
        } else {
            Vec::new()
        };
        self.child = Some(spawn(self.port, self.dir.path(), &extra));
        wait_for(self.port, "PING", |reply| reply.starts_with("+PONG"));
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A local Redis Cluster of three masters, no replicas.
pub struct RedisCluster {
    children: Vec<Child>,
    /// The masters' ports.
    pub ports: Vec<u16>,
    _dir: tempfile::TempDir,
}

impl RedisCluster {
    /// Starts three cluster-enabled servers, joins them with `redis-cli --cluster create`, and waits until every
    /// node reports `cluster_state:ok`.
    pub fn start() -> RedisCluster {
        let dir = tempfile::tempdir().unwrap();
        let mut ports: Vec<u16> = Vec::new();
        while ports.len() < 3 {
            let port = free_port();
            if !ports.contains(&port) {
                ports.push(port);
            }
        }
        let mut children = Vec::new();
        for port in &ports {
            let node_dir = dir.path().join(port.to_string());
            std::fs::create_dir_all(&node_dir).unwrap();
            let extra = vec![
                "--cluster-enabled".to_string(),
                "yes".to_string(),
                "--cluster-config-file".to_string(),
                node_dir.join("nodes.conf").display().to_string(),
                "--cluster-node-timeout".to_string(),
                "2000".to_string(),
            ];
            children.push(spawn(*port, &node_dir, &extra));
        }
        let cluster = RedisCluster {
            children,
            ports: ports.clone(),
            _dir: dir,
        };
        for port in &ports {
            wait_for(*port, "PING", |reply| reply.starts_with("+PONG"));
        }
        let status = Command::new("redis-cli")
            .arg("--cluster")
            .arg("create")
            .args(ports.iter().map(|port| format!("127.0.0.1:{port}")))
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("redis-cli runs");
        assert!(status.success(), "redis-cli --cluster create failed");
        for port in &ports {
            wait_for(*port, "CLUSTER INFO", |reply| {
                reply.contains("cluster_state:ok")
            });
        }
        cluster
    }

    /// `redis+cluster://127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3`.
    pub fn url(&self) -> String {
        let seeds: Vec<String> = self
            .ports
            .iter()
            .map(|port| format!("127.0.0.1:{port}"))
            .collect();
        format!("redis+cluster://{}", seeds.join(","))
    }
}

impl Drop for RedisCluster {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
