//! A node put on the network as it is: the HTTPS listener (HTTP/1.1 and HTTP/2 by ALPN, mutual TLS, the redirect
//! from plain HTTP, certificates renewed while serving), Basic authentication, per-client rate limits, and
//! clients that are slow on purpose. Certificates are made here (rcgen); the TLS clients are curl and rustls.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};

use crate::server::{Binary, TestServer, assert_error};

/// A certificate authority and the files it signed, in a directory of their own.
struct Pki {
    dir: tempfile::TempDir,
    ca: CertifiedIssuer<'static, KeyPair>,
}

impl Pki {
    fn new() -> Pki {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "gms test authority");
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ca.pem"), ca.pem()).unwrap();
        Pki { dir, ca }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Signs a certificate named `name` (`name.pem`, `name.key`); returns its DER.
    fn issue(&self, name: &str, client: bool) -> Vec<u8> {
        let mut params =
            CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.extended_key_usages = vec![if client {
            ExtendedKeyUsagePurpose::ClientAuth
        } else {
            ExtendedKeyUsagePurpose::ServerAuth
        }];
        let key = KeyPair::generate().unwrap();
        let certificate = params.signed_by(&key, &self.ca).unwrap();
        // Written whole and renamed, as certificate tools do, so a reader never sees half a file.
        for (extension, text) in [("key", key.serialize_pem()), ("pem", certificate.pem())] {
            let temporary = self.path(&format!("{name}.{extension}.new"));
            std::fs::write(&temporary, text).unwrap();
            std::fs::rename(&temporary, self.path(&format!("{name}.{extension}"))).unwrap();
        }
        certificate.der().to_vec()
    }

    /// An option file with HTTPS on a free port, the server certificate `server`, and `extra` [server] options.
    fn options(&self, extra: &str) -> PathBuf {
        let path = self.path("gms.ini");
        std::fs::write(
            &path,
            format!(
                "[server]\nnode_id = 1\nhttps_port = 0\ntls_certificate = {}\ntls_private_key = {}\n{extra}\n",
                self.path("server.pem").display(),
                self.path("server.key").display(),
            ),
        )
        .unwrap();
        path
    }
}

/// Runs curl; returns its exit code and standard output.
fn curl(args: &[&str]) -> (i32, String) {
    let output = Command::new("curl")
        .args(["-s", "--max-time", "20"])
        .args(args)
        .output()
        .expect("curl runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

fn start(pki: &Pki, options: &Path) -> (Binary, SocketAddr) {
    let data = pki.path("data");
    let server = Binary::start_with(Some(options), &data, Path::new("."), &[]);
    let https = server.https.expect("the HTTPS listener is reported");
    (server, https)
}

#[test]
fn https_serves_http1_and_http2_by_alpn() {
    let pki = Pki::new();
    pki.issue("server", false);
    let (server, https) = start(&pki, &pki.options(""));
    let ca = pki.path("ca.pem");
    let ca = ca.to_str().unwrap();
    let url = format!("https://{https}/genesys/1/storage/30");
    for (flag, version) in [("--http1.1", "1.1"), ("--http2", "2")] {
        let (code, out) = curl(&[
            flag,
            "--cacert",
            ca,
            "-w",
            "\n%{http_code} %{http_version}",
            "--data",
            "a=1",
            &url,
        ]);
        assert_eq!(code, 0, "curl {flag}: {out}");
        let status = out.lines().last().unwrap();
        assert_eq!(status, format!("200 {version}"), "{out}");
    }
    // The plain public listener still answers, and a client that does not trust the certificate is refused.
    let (_, out) = curl(&[
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        &format!("http://{}/genesys/1/admin/node/status", server.public),
    ]);
    assert_eq!(out, "200");
    let (code, _) = curl(&[&url]);
    assert_eq!(code, 60, "curl's exit code for an untrusted certificate");
}

#[test]
fn mutual_tls_accepts_a_signed_client_and_refuses_the_others() {
    let pki = Pki::new();
    pki.issue("server", false);
    pki.issue("client", true);
    let options = pki.options(&format!("tls_client_ca = {}", pki.path("ca.pem").display()));
    let (_server, https) = start(&pki, &options);
    let url = format!("https://{https}/genesys/1/admin/node/status");
    let (ca, cert, key) = (
        pki.path("ca.pem"),
        pki.path("client.pem"),
        pki.path("client.key"),
    );
    let (code, out) = curl(&[
        "--cacert",
        ca.to_str().unwrap(),
        "--cert",
        cert.to_str().unwrap(),
        "--key",
        key.to_str().unwrap(),
        &url,
    ]);
    assert_eq!((code, out.as_str()), (0, "ONLINE"));
    let (code, _) = curl(&["--cacert", ca.to_str().unwrap(), &url]);
    assert_ne!(code, 0, "no client certificate: refused in the handshake");
    // A certificate from another authority is refused too.
    let other = Pki::new();
    other.issue("client", true);
    let (code, _) = curl(&[
        "--cacert",
        ca.to_str().unwrap(),
        "--cert",
        other.path("client.pem").to_str().unwrap(),
        "--key",
        other.path("client.key").to_str().unwrap(),
        &url,
    ]);
    assert_ne!(
        code, 0,
        "a client certificate of another authority: refused"
    );
}

#[test]
fn plain_http_is_redirected_to_https_with_its_path_and_query() {
    let pki = Pki::new();
    pki.issue("server", false);
    let (server, https) = start(&pki, &pki.options("https_redirect = true"));
    let (code, out) = curl(&[
        "-o",
        "/dev/null",
        "-w",
        "%{http_code} %{redirect_url}",
        "--data",
        "a=1",
        &format!("http://{}/genesys/1/storage/30?x=1", server.public),
    ]);
    assert_eq!(code, 0);
    assert_eq!(
        out,
        format!(
            "308 https://127.0.0.1:{}/genesys/1/storage/30?x=1",
            https.port()
        )
    );
    // Followed by curl, the POST arrives on HTTPS with its body.
    let (code, out) = curl(&[
        "-L",
        "--cacert",
        pki.path("ca.pem").to_str().unwrap(),
        "--data",
        "a=1",
        &format!("http://{}/genesys/1/storage/30", server.public),
    ]);
    assert_eq!(code, 0, "{out}");
    let body: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(body["id"].is_string(), "{out}");
}

/// The certificate the HTTPS listener presents to a new connection, read with a rustls client.
fn presented(https: SocketAddr, ca: &Path) -> Vec<u8> {
    let mut roots = rustls::RootCertStore::empty();
    for certificate in rustls_pemfile::certs(&mut std::io::BufReader::new(
        std::fs::File::open(ca).unwrap(),
    )) {
        roots.add(certificate.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
    let mut connection = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    let mut socket = TcpStream::connect(https).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    while connection.is_handshaking() {
        connection.complete_io(&mut socket).unwrap();
    }
    connection.peer_certificates().unwrap()[0].to_vec()
}

#[test]
fn a_renewed_certificate_is_served_without_a_restart() {
    let pki = Pki::new();
    let first = pki.issue("server", false);
    let (server, https) = start(&pki, &pki.options(""));
    let ca = pki.path("ca.pem");
    assert_eq!(presented(https, &ca), first);
    let renewed = pki.issue("server", false);
    assert_ne!(first, renewed);
    // The files are checked twice a second: wait for the change, bounded.
    let mut seen = first.clone();
    for _ in 0..200 {
        seen = presented(https, &ca);
        if seen == renewed {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(seen, renewed, "new connections get the renewed certificate");
    // A broken file is reported and the renewed certificate stays.
    std::fs::write(pki.path("server.pem"), "not a certificate").unwrap();
    for _ in 0..200 {
        if server.log().contains("cannot be used") {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(server.log().contains("cannot be used"), "{}", server.log());
    assert_eq!(presented(https, &ca), renewed);
}

#[test]
fn unusable_certificates_stop_the_start_with_the_file_named() {
    let pki = Pki::new();
    std::fs::write(pki.path("server.pem"), "nothing").unwrap();
    std::fs::write(pki.path("server.key"), "nothing").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_gms"))
        .args([
            "serve",
            "--public-port",
            "0",
            "--internal-port",
            "0",
            "--config",
        ])
        .arg(pki.options(""))
        .arg("--data-dir")
        .arg(pki.path("data"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!(
            "`{}` holds no certificate (PEM)",
            pki.path("server.pem").display()
        )),
        "{stderr}"
    );
}

/// A users file with `alice` / `s3cret`, made by `gms hash-password`.
fn users_file(dir: &Path) -> PathBuf {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gms"))
        .args(["hash-password", "alice"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"s3cret\n").unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    let line = String::from_utf8(output.stdout).unwrap();
    assert!(line.starts_with("alice:$argon2id$"), "{line}");
    let path = dir.join("users");
    std::fs::write(&path, format!("# users of the public API\n{line}")).unwrap();
    path
}

#[tokio::test]
async fn basic_authentication_guards_the_public_listener() {
    let dir = tempfile::tempdir().unwrap();
    let users = users_file(dir.path());
    let server = TestServer::start(&format!(
        "[server]\nnode_id = 1\nauth_users_file = {}\nauth_realm = Shop\n",
        users.display()
    ))
    .await;
    let url = server.public_url("/genesys/1/storage/30");
    let none = server
        .http
        .post(&url)
        .form(&[("a", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(none.status(), 401);
    assert_eq!(
        none.headers()["www-authenticate"],
        "Basic realm=\"Shop\", charset=\"UTF-8\""
    );
    let body: serde_json::Value = none.json().await.unwrap();
    assert_eq!(body["exception"], "UnauthorizedException");
    for (user, password) in [("alice", "wrong"), ("bob", "s3cret"), ("alice", "")] {
        let answer = server
            .send(
                server
                    .http
                    .post(&url)
                    .basic_auth(user, Some(password))
                    .form(&[("a", "1")]),
            )
            .await;
        assert_error(&answer, 401, "UnauthorizedException");
    }
    for _ in 0..2 {
        let answer = server
            .send(
                server
                    .http
                    .post(&url)
                    .basic_auth("alice", Some("s3cret"))
                    .form(&[("a", "1")]),
            )
            .await;
        assert_eq!(answer.0, 200, "{answer:?}");
    }
    // Health checks and the internal listener need no credentials.
    let status = server.get("/genesys/1/admin/node/status").await;
    assert_eq!(status.0, 200);
    let internal = server
        .post_internal("/genesys/1/storage/30", &[("a", "1")])
        .await;
    assert_eq!(internal.0, 200);
}

#[tokio::test]
async fn a_client_beyond_its_rate_gets_429_until_its_bucket_refills() {
    let server =
        TestServer::start("[server]\nnode_id = 1\nrate_limit = 2\nrate_limit_burst = 3\n").await;
    for _ in 0..3 {
        assert_eq!(server.get("/genesys/1/admin/node/status").await.0, 200);
    }
    let refused = server
        .http
        .get(server.public_url("/genesys/1/storage/30/x"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 429);
    assert_eq!(refused.headers()["retry-after"], "1");
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["exception"], "TooManyRequests");
    // The internal listener is not limited.
    let internal = server
        .send(
            server
                .http
                .get(server.internal_url("/genesys/1/admin/node/status")),
        )
        .await;
    assert_eq!(internal.0, 200);
    server.advance(Duration::from_secs(1));
    assert_eq!(server.get("/genesys/1/admin/node/status").await.0, 200);
}

/// Reads from `socket` until the server closes it (bounded by the socket's read timeout).
fn read_to_close(socket: &mut TcpStream) -> String {
    socket
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        match socket.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => answer.extend_from_slice(&buffer[..n]),
            Err(error) => panic!("the server kept the connection open: {error}"),
        }
    }
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn slow_headers_and_unfinished_bodies_are_cut_off() {
    let server =
        TestServer::start("[server]\nnode_id = 1\nidle_timeout = 1\nrequest_body_timeout = 1\n")
            .await;
    let public = server.public;
    let (headers, body) = tokio::task::spawn_blocking(move || {
        let mut slow = TcpStream::connect(public).unwrap();
        slow.write_all(b"GET /genesys/1/admin/node/status HTTP/1.1\r\nHost: x")
            .unwrap();
        let headers = read_to_close(&mut slow);
        let mut unfinished = TcpStream::connect(public).unwrap();
        unfinished
            .write_all(
                b"POST /genesys/1/storage/30 HTTP/1.1\r\nHost: x\r\n\
                  Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\na=1",
            )
            .unwrap();
        let body = read_to_close(&mut unfinished);
        // A connection that sends nothing at all is closed too.
        let mut idle = TcpStream::connect(public).unwrap();
        let nothing = read_to_close(&mut idle);
        assert!(nothing.is_empty(), "{nothing}");
        // And one whose request has been answered, then stays silent.
        let mut kept = TcpStream::connect(public).unwrap();
        kept.write_all(b"GET /genesys/1/admin/node/status HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let answered = read_to_close(&mut kept);
        assert!(answered.starts_with("HTTP/1.1 200"), "{answered}");
        (headers, body)
    })
    .await
    .unwrap();
    assert!(
        headers.is_empty() || headers.starts_with("HTTP/1.1 408"),
        "{headers}"
    );
    assert!(body.starts_with("HTTP/1.1 408"), "{body}");
    assert!(body.contains("RequestTimeout"), "{body}");
    // Others are served meanwhile and after.
    assert_eq!(server.get("/genesys/1/admin/node/status").await.0, 200);
}

#[test]
fn the_internal_listener_speaks_tls_when_asked() {
    let pki = Pki::new();
    pki.issue("server", false);
    let (server, _) = start(&pki, &pki.options("tls_internal = true"));
    let ca = pki.path("ca.pem");
    let (code, out) = curl(&[
        "--cacert",
        ca.to_str().unwrap(),
        &format!("https://{}/genesys/1/node", server.internal),
    ]);
    assert_eq!(code, 0, "{out}");
    let node: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(node["status"], "ONLINE");
    let (code, _) = curl(&[&format!("http://{}/genesys/1/node", server.internal)]);
    assert_ne!(code, 0, "plain HTTP is not spoken there");
}
