//! Documents named by `src`: fetched once (http(s) with reqwest, `file:` URLs, plain paths, else the built-in
//! sample flow of that relative path, [`crate::samples`]), parsed (in the ORS
//! dialect when [`dialect::is_ors_document`] says so), and shared by every session that runs them (`Arc<Model>`).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

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

/// The parsed documents, by `src`.
#[derive(Debug)]
pub struct Documents {
    cache: Mutex<HashMap<String, Arc<Model>>>,
    client: reqwest::Client,
    base_dirs: Vec<PathBuf>,
}

impl Documents {
    /// A cache resolving relative paths against each of `base_dirs` in turn (the current directory first).
    pub fn new(client: reqwest::Client, base_dirs: Vec<PathBuf>) -> Documents {
        Documents {
            cache: Mutex::new(HashMap::new()),
            client,
            base_dirs,
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
            let response = self
                .client
                .get(src)
                .send()
                .await
                .map_err(|error| fail(error.to_string()))?;
            if !response.status().is_success() {
                return Err(fail(format!("the server answered {}", response.status())));
            }
            let text = response
                .text()
                .await
                .map_err(|error| fail(error.to_string()))?;
            return Ok((text, None));
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
        let mut last = String::from("no such file");
        for candidate in candidates {
            match tokio::fs::read(&candidate).await {
                Ok(bytes) => {
                    let text = String::from_utf8(bytes)
                        .map_err(|_| fail("the file is not valid UTF-8".to_string()))?;
                    return Ok((text, Some(candidate)));
                }
                Err(error) => last = error.to_string(),
            }
        }
        if let Some(text) = crate::samples::file(relative) {
            return Ok((text.to_string(), None));
        }
        Err(fail(last))
    }
}
