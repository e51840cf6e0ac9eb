//! HTTP Basic authentication on the public listeners (`auth_users_file`), as the deployment guide's gateway
//! does it in front of GMS: a request without the right `Authorization: Basic` credentials is answered 401 with
//! a `WWW-Authenticate` challenge and the JSON error body.
//!
//! The users file holds one `name:hash` line per user, the hash an Argon2 PHC string (`gms hash-password`
//! prints one); `#` starts a comment. It is read again when it changes. Argon2 is slow on purpose, so it runs on
//! the blocking pool, two checks at a time at most, and credentials that passed are remembered (in memory, until
//! the file changes) so a client's next requests cost a map lookup. The node's status route stays open, for load
//! balancers' health checks.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwap;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;

use super::error::ApiError;
use crate::config::security::AuthOptions;

/// How many credentials that passed are remembered before the memory is cleared.
const REMEMBERED: usize = 1024;

/// Why the users file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// It could not be read.
    #[error("cannot read users file `{path}`: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A line is not `name:argon2-hash`.
    #[error("{path}:{line}: {reason}")]
    Line {
        /// The file.
        path: PathBuf,
        /// The line, from 1.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
}

/// The users of `auth_users_file` and the credentials that passed.
#[derive(Debug)]
pub struct Users {
    options: AuthOptions,
    hashes: ArcSwap<HashMap<String, String>>,
    stamp: Mutex<Option<(SystemTime, u64)>>,
    /// `Authorization` header values that passed, with their user.
    passed: Mutex<HashMap<String, String>>,
    gate: tokio::sync::Semaphore,
}

impl Users {
    /// Reads the users file of `options`.
    pub fn load(options: &AuthOptions) -> Result<Arc<Users>, Error> {
        let stamp = stamp(&options.users_file);
        let hashes = read(&options.users_file)?;
        Ok(Arc::new(Users {
            options: options.clone(),
            hashes: ArcSwap::from_pointee(hashes),
            stamp: Mutex::new(stamp),
            passed: Mutex::new(HashMap::new()),
            gate: tokio::sync::Semaphore::new(2),
        }))
    }

    /// Reads the file again if it changed; `Ok(true)` when new users are in use.
    pub fn reload_if_changed(&self) -> Result<bool, Error> {
        let now = stamp(&self.options.users_file);
        {
            let Ok(mut seen) = self.stamp.lock() else {
                return Ok(false);
            };
            if *seen == now {
                return Ok(false);
            }
            *seen = now;
        }
        let hashes = read(&self.options.users_file)?;
        self.hashes.store(Arc::new(hashes));
        if let Ok(mut passed) = self.passed.lock() {
            passed.clear();
        }
        Ok(true)
    }

    /// Checks the users file every `every` until `stop` resolves.
    pub async fn watch(
        self: Arc<Self>,
        every: Duration,
        stop: impl std::future::Future<Output = ()>,
    ) {
        tokio::pin!(stop);
        let mut ticks = tokio::time::interval(every);
        loop {
            tokio::select! {
                _ = &mut stop => return,
                _ = ticks.tick() => match self.reload_if_changed() {
                    Ok(true) => tracing::info!("users file changed: its users are in use"),
                    Ok(false) => {}
                    Err(error) => tracing::error!("users file changed but cannot be used ({error}); the previous users stay"),
                },
            }
        }
    }

    /// The user whose credentials `authorization` carries, if they are right.
    pub async fn check(&self, authorization: Option<&HeaderValue>) -> Option<String> {
        let value = authorization?.to_str().ok()?;
        if let Some(user) = self
            .passed
            .lock()
            .ok()
            .and_then(|passed| passed.get(value).cloned())
        {
            return Some(user);
        }
        let (name, password) = decode_basic(value)?;
        let hash = self.hashes.load().get(&name).cloned()?;
        let _permit = self.gate.acquire().await.ok()?;
        let matches = tokio::task::spawn_blocking(move || verify(&password, &hash))
            .await
            .unwrap_or(false);
        if !matches {
            return None;
        }
        if let Ok(mut passed) = self.passed.lock() {
            if passed.len() >= REMEMBERED {
                passed.clear();
            }
            passed.insert(value.to_string(), name.clone());
        }
        Some(name)
    }

    fn challenge(&self) -> Response {
        let mut response = ApiError::new(
            StatusCode::UNAUTHORIZED,
            "UnauthorizedException",
            "credentials are missing or wrong: send `Authorization: Basic` with a user of this server",
        )
        .into_response();
        if let Ok(value) = HeaderValue::from_str(&format!(
            "Basic realm=\"{}\", charset=\"UTF-8\"",
            self.options.realm
        )) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, value);
        }
        response
    }
}

/// The middleware: passes requests with right credentials (and the node's status), answers 401 to the others.
pub async fn authenticate(
    State(users): State<Arc<Users>>,
    request: Request,
    next: Next,
) -> Response {
    if request.uri().path() == "/genesys/1/admin/node/status" {
        return next.run(request).await;
    }
    match users
        .check(request.headers().get(header::AUTHORIZATION))
        .await
    {
        Some(_) => next.run(request).await,
        None => users.challenge(),
    }
}

/// `name` and `password` of a `Basic` credentials header value.
fn decode_basic(value: &str) -> Option<(String, String)> {
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (name, password) = text.split_once(':')?;
    Some((name.to_string(), password.to_string()))
}

fn verify(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// An Argon2id PHC string of `password`, with a random salt, for a users file line.
pub fn hash_password(password: &str) -> Result<String, String> {
    let salt_bytes: [u8; 16] = rand::random();
    let salt = SaltString::encode_b64(&salt_bytes).map_err(|error| error.to_string())?;
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| error.to_string())
}

fn stamp(path: &Path) -> Option<(SystemTime, u64)> {
    let metadata = std::fs::metadata(path).ok()?;
    Some((metadata.modified().ok()?, metadata.len()))
}

/// The users of the file at `path`, by name.
fn read(path: &Path) -> Result<HashMap<String, String>, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse(path, &text)
}

/// The users of a users file's `text`, by name; a bad line is reported with its `file:line`.
pub fn parse(path: &Path, text: &str) -> Result<HashMap<String, String>, Error> {
    let mut users = HashMap::new();
    for (index, line) in text.lines().enumerate() {
        let line_text = line.trim();
        if line_text.is_empty() || line_text.starts_with('#') {
            continue;
        }
        let bad = |reason: String| Error::Line {
            path: path.to_path_buf(),
            line: index + 1,
            reason,
        };
        let Some((name, hash)) = line_text.split_once(':') else {
            return Err(bad(
                "expected `name:hash` (the hash from `gms hash-password`)".into(),
            ));
        };
        if name.is_empty() {
            return Err(bad("the user name is empty".into()));
        }
        match PasswordHash::new(hash) {
            Ok(parsed) if parsed.algorithm.as_str().starts_with("argon2") => {}
            _ => {
                return Err(bad(format!(
                    "the hash of user `{name}` is not an Argon2 PHC string (`$argon2id$...`)"
                )));
            }
        }
        if users.insert(name.to_string(), hash.to_string()).is_some() {
            return Err(bad(format!("user `{name}` is listed twice")));
        }
    }
    Ok(users)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let hash = hash_password("s3cret").expect("hashes");
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify("s3cret", &hash));
        assert!(!verify("s3cret ", &hash));
    }

    #[test]
    fn bad_lines_are_positioned() {
        let hash = hash_password("x").expect("hashes");
        let text = format!("# users\nalice:{hash}\nbob:plain\n");
        let error = parse(Path::new("users"), &text).expect_err("bob's hash is no hash");
        assert_eq!(
            error.to_string(),
            "users:3: the hash of user `bob` is not an Argon2 PHC string (`$argon2id$...`)"
        );
        assert_eq!(
            parse(Path::new("users"), &format!("alice:{hash}\n"))
                .expect("parses")
                .len(),
            1
        );
    }

    #[test]
    fn basic_credentials_decode() {
        assert_eq!(
            decode_basic("Basic YWxpY2U6czNjcjp0"),
            Some(("alice".into(), "s3cr:t".into()))
        );
        assert_eq!(decode_basic("Bearer abc"), None);
        assert_eq!(decode_basic("Basic !!!"), None);
    }
}
