//! Documents named by `src`: fetched once (http(s) with reqwest, `file:` URLs, plain paths, else the built-in
//! sample flow of that relative path, [`crate::samples`]), parsed (in the ORS
//! dialect when [`dialect::is_ors_document`] says so), and shared by every session that runs them (`Arc<Model>`).
//!
//! `src` comes from whoever may start a session, so what it can reach is bounded ([`Limits`], the
//! `ors/document_*` options): a local path must resolve (symbolic links and `..` followed) inside one of the
//! document roots, and be a regular file (a FIFO or a device is refused before it is opened, so it cannot hold
//! the request); files and http(s) bodies are read up to a size cap, http(s) under a timeout. An error names the
//! document as the caller gave it and says why, never what another file holds or where: a path outside the roots
//! and a path that does not exist get the same answer.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::ors::dialect;
use crate::scxml::parse::{Source, parse_source};
use crate::scxml::{Dialect, Model, ParseErrors};

/// Why a document cannot be used.
#[derive(Debug, Clone, thiserror::Error)]
pub enum DocumentError {
    /// It could not be read or fetched.
    #[error("cannot read document `{src}`: {reason}")]
    Fetch {
        /// The `src` asked for.
        src: String,
        /// What went wrong.
        reason: String,
    },
    /// It was read but is not a valid chart.
    #[error("document `{src}` is not valid SCXML: {errors}")]
    Invalid {
        /// The `src` asked for.
        src: String,
        /// The positioned errors.
        errors: ParseErrors,
    },
}

/// What documents may be read.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Directories (canonical) a local document must be inside.
    pub roots: Vec<PathBuf>,
    /// The largest document read, in bytes.
    pub max_size: u64,
    /// How long an http(s) document may take to arrive.
    pub fetch_timeout: Duration,
}

impl Limits {
    /// The limits of the `ors/document_*` options: `roots` as written (relative ones against each of
    /// `base_dirs`), or by default `scxml` under each base directory and the last base directory itself (the
    /// option file's). Roots that do not exist are left out.
    pub fn new(
        roots: Option<&[PathBuf]>,
        base_dirs: &[PathBuf],
        max_size: u64,
        fetch_timeout: Duration,
    ) -> Limits {
        let mut candidates = Vec::new();
        match roots {
            Some(roots) => {
                for root in roots {
                    if root.is_absolute() {
                        candidates.push(root.clone());
                    } else {
                        candidates.extend(base_dirs.iter().map(|dir| dir.join(root)));
                    }
                }
            }
            None => {
                candidates.extend(base_dirs.iter().map(|dir| dir.join("scxml")));
                // The option file's directory (the working directory is the first base, not a root).
                if base_dirs.len() > 1 {
                    candidates.extend(base_dirs.last().cloned());
                }
            }
        }
        let mut roots: Vec<PathBuf> = candidates
            .iter()
            .filter_map(|root| std::fs::canonicalize(root).ok())
            .filter(|root| root.is_dir())
            .collect();
        roots.dedup();
        Limits {
            roots,
            max_size,
            fetch_timeout,
        }
    }

    /// Adds `dirs` to the roots (those that exist).
    pub fn add_roots(&mut self, dirs: &[PathBuf]) {
        for dir in dirs {
            if let Ok(root) = std::fs::canonicalize(dir)
                && root.is_dir()
                && !self.roots.contains(&root)
            {
                self.roots.push(root);
            }
        }
    }

    fn allows(&self, canonical: &Path) -> bool {
        self.roots.iter().any(|root| canonical.starts_with(root))
    }
}

/// The parsed documents, by `src`.
#[derive(Debug)]
pub struct Documents {
    cache: Mutex<HashMap<String, Arc<Model>>>,
    client: reqwest::Client,
    base_dirs: Vec<PathBuf>,
    limits: Limits,
}

impl Documents {
    /// A cache resolving relative paths against each of `base_dirs` in turn (the current directory first), and
    /// reading only what `limits` allows.
    pub fn new(client: reqwest::Client, base_dirs: Vec<PathBuf>, limits: Limits) -> Documents {
        Documents {
            cache: Mutex::new(HashMap::new()),
            client,
            base_dirs,
            limits,
        }
    }

    /// The parsed chart of `src`, fetched and parsed on first use.
    pub async fn load(&self, src: &str) -> Result<Arc<Model>, DocumentError> {
        if let Some(model) = self.lock().get(src) {
            return Ok(model.clone());
        }
        let (text, file) = self.fetch(src).await?;
        let dialect = if dialect::is_ors_document(&text) {
            Dialect::Ors
        } else {
            Dialect::W3c
        };
        let source = Source {
            name: src.to_string(),
            file,
            dialect,
        };
        let model = parse_source(&text, &source).map_err(|errors| DocumentError::Invalid {
            src: src.to_string(),
            errors,
        })?;
        self.lock().insert(src.to_string(), model.clone());
        Ok(model)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Model>>> {
        crate::sync::lock(&self.cache)
    }

    async fn fetch(&self, src: &str) -> Result<(String, Option<PathBuf>), DocumentError> {
        let fail = |reason: String| DocumentError::Fetch {
            src: src.to_string(),
            reason,
        };
        if src.starts_with("http://") || src.starts_with("https://") {
            return self.fetch_http(src).await.map(|text| (text, None));
        }
        let path = src
            .strip_prefix("file://")
            .or_else(|| src.strip_prefix("file:"))
            .unwrap_or(src);
        if path.is_empty() {
            return Err(fail("`src` is empty".to_string()));
        }
        let relative = path;
        let path = PathBuf::from(path);
        let candidates: Vec<PathBuf> = if path.is_absolute() {
            vec![path]
        } else {
            self.base_dirs.iter().map(|dir| dir.join(&path)).collect()
        };
        for candidate in candidates {
            // Symbolic links and `..` resolved first, so the root check sees where the file really is.
            let Ok(canonical) = tokio::fs::canonicalize(&candidate).await else {
                continue;
            };
            if !self.limits.allows(&canonical) {
                continue;
            }
            let metadata = tokio::fs::metadata(&canonical)
                .await
                .map_err(|_| fail("the file cannot be read".to_string()))?;
            if !metadata.is_file() {
                return Err(fail("not a regular file".to_string()));
            }
            if metadata.len() > self.limits.max_size {
                return Err(fail(self.too_large()));
            }
            let bytes = tokio::fs::read(&canonical)
                .await
                .map_err(|_| fail("the file cannot be read".to_string()))?;
            if bytes.len() as u64 > self.limits.max_size {
                return Err(fail(self.too_large()));
            }
            let text = String::from_utf8(bytes)
                .map_err(|_| fail("the file is not valid UTF-8".to_string()))?;
            return Ok((text, Some(candidate)));
        }
        if let Some(text) = crate::samples::file(relative) {
            return Ok((text.to_string(), None));
        }
        Err(fail(
            "no such document under the document roots (option ors/document_roots)".to_string(),
        ))
    }

    fn too_large(&self) -> String {
        format!(
            "larger than {} bytes (option ors/document_max_size)",
            self.limits.max_size
        )
    }

    /// An http(s) document: under the fetch timeout, read up to the size cap.
    async fn fetch_http(&self, src: &str) -> Result<String, DocumentError> {
        let fail = |reason: String| DocumentError::Fetch {
            src: src.to_string(),
            reason,
        };
        let fetch = async {
            let mut response = self
                .client
                .get(src)
                .send()
                .await
                .map_err(|error| fail(error.without_url().to_string()))?;
            if !response.status().is_success() {
                return Err(fail(format!("the server answered {}", response.status())));
            }
            if response
                .content_length()
                .is_some_and(|length| length > self.limits.max_size)
            {
                return Err(fail(self.too_large()));
            }
            let mut bytes = Vec::new();
            while let Some(chunk) = response
                .chunk()
                .await
                .map_err(|error| fail(error.without_url().to_string()))?
            {
                if (bytes.len() + chunk.len()) as u64 > self.limits.max_size {
                    return Err(fail(self.too_large()));
                }
                bytes.extend_from_slice(&chunk);
            }
            String::from_utf8(bytes)
                .map_err(|_| fail("the document is not valid UTF-8".to_string()))
        };
        match tokio::time::timeout(self.limits.fetch_timeout, fetch).await {
            Ok(result) => result,
            Err(_) => Err(fail(format!(
                "no answer within {} s (option ors/document_fetch_timeout)",
                self.limits.fetch_timeout.as_secs()
            ))),
        }
    }
}
