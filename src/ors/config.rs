//! The `[ors]` section of the option file (and the `[dfm]` section, as ORS has it), typed from
//! [`GmsConfig::raw`] with [`crate::config::value`].
//!
//! | option | meaning (default) |
//! |---|---|
//! | `ors/url` | run every `type=ors` service on this ORS (`http://host:7210`) instead of in-process (none) |
//! | `ors/port` | also serve the `/scxml/...` routes on their own listener on this port, as ORS does on 7210 (none) |
//! | `ors/workers` | session worker threads (the number of cores) |
//! | `ors/max_sessions` | the most live sessions (200000) |
//! | `ors/session_ttl` | seconds a session started over `/scxml/session/start` lives (3600) |
//! | `ors/request_timeout` | seconds a `/request/` waits for the flow (`gms/http.socket_timeout`) |
//! | `ors/document_roots` | directories local `src` documents may come from, comma-separated (`scxml` under the working directory and under the option file's directory, and the option file's directory itself) |
//! | `ors/document_max_size` | the largest document read, bytes, from a file or over http(s) (4194304) |
//! | `ors/document_fetch_timeout` | seconds an http(s) `src` may take to arrive (10) |
//! | `ors/route_points` | strategies started on inbound calls, `DN=src` comma-separated: a call to `DN` that no service's booking matches starts a session of `src` and offers it the call as `interaction.added`, as ORS does for a routing point (none) |
//! | `dfm/<name>` | a DFM file (`file://path` or a path), one option per file; default: the four `dfm/cfg_GSG_*.txt` |
//!
//! A bad value is reported with its file and line, and the default is used.

use std::path::PathBuf;
use std::time::Duration;

use crate::config::GmsConfig;
use crate::config::value;

/// How the session runtime is sized (the `[ors]` options above).
#[derive(Debug, Clone)]
pub struct OrsOptions {
    /// Worker threads (each with one ECMAScript runtime).
    pub workers: usize,
    /// The most sessions alive at once; starting one more fails with
    /// [`crate::ors::exchange::OrsError::Capacity`].
    pub max_sessions: usize,
    /// How long a session lives when its starter gives no TTL.
    pub session_ttl: Duration,
    /// How long a request waits for the flow's `<ws:response>`.
    pub request_timeout: Duration,
}

impl Default for OrsOptions {
    fn default() -> Self {
        OrsOptions {
            workers: std::thread::available_parallelism().map_or(2, |n| n.get()),
            max_sessions: 200_000,
            session_ttl: Duration::from_secs(3600),
            request_timeout: Duration::from_secs(2),
        }
    }
}

/// The typed `[ors]` and `[dfm]` sections.
#[derive(Debug, Clone)]
pub struct OrsSection {
    /// `url`.
    pub url: Option<String>,
    /// `port`.
    pub port: Option<u16>,
    /// Runtime sizing.
    pub options: OrsOptions,
    /// DFM files to load.
    pub dfm_files: Vec<PathBuf>,
    /// Where documents named by `src` may be read from.
    pub documents: DocumentLimits,
    /// `route_points`: (DN, src) of the strategies started on inbound calls.
    pub route_points: Vec<(String, String)>,
    /// Problems found, as `file:line: sentence`.
    pub warnings: Vec<String>,
}

/// The limits on documents named by `src` (the `ors/document_*` options).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentLimits {
    /// `document_roots` as written (`None`: the defaults, worked out where the base directories are known).
    pub roots: Option<Vec<PathBuf>>,
    /// `document_max_size`, bytes.
    pub max_size: u64,
    /// `document_fetch_timeout`.
    pub fetch_timeout: Duration,
}

impl Default for DocumentLimits {
    fn default() -> DocumentLimits {
        DocumentLimits {
            roots: None,
            max_size: 4 * 1024 * 1024,
            fetch_timeout: Duration::from_secs(10),
        }
    }
}

/// The DFM files shipped in `dfm/`, loaded when no `[dfm]` section names any.
pub const DEFAULT_DFM_FILES: &[&str] = &[
    "dfm/cfg_GSG_storage.txt",
    "dfm/cfg_GSG_notification.txt",
    "dfm/cfg_GSG_base_services.txt",
    "dfm/cfg_GSG_geocoding.txt",
];

impl OrsSection {
    /// Reads the sections from `config`.
    pub fn from_config(config: &GmsConfig) -> OrsSection {
        let mut warnings = Vec::new();
        let mut options = OrsOptions {
            request_timeout: config.gms.http_socket_timeout,
            ..OrsOptions::default()
        };
        let mut url = None;
        let mut port = None;
        let mut documents = DocumentLimits::default();
        let mut route_points = Vec::new();
        if let Some(section) = config.raw().section("ors") {
            if let Some(option) = section.get("document_roots") {
                documents.roots =
                    Some(value::list(option).into_iter().map(PathBuf::from).collect());
            }
            if let Some(option) = section.get("route_points") {
                for item in value::list(option) {
                    match item.split_once('=') {
                        Some((dn, src)) if !dn.trim().is_empty() && !src.trim().is_empty() => {
                            route_points.push((dn.trim().to_string(), src.trim().to_string()));
                        }
                        _ => warnings.push(format!(
                            "{}: route_points: `{item}` is not DN=src.",
                            option.location
                        )),
                    }
                }
            }
            if let Some(option) = section.get("document_max_size") {
                match value::integer::<u64>(option, 1, 1 << 30) {
                    Ok(value) => documents.max_size = value,
                    Err(diagnostic) => warnings.push(diagnostic.to_string()),
                }
            }
            if let Some(option) = section.get("document_fetch_timeout") {
                match value::seconds(option, 1, 3600) {
                    Ok(value) => documents.fetch_timeout = value,
                    Err(diagnostic) => warnings.push(diagnostic.to_string()),
                }
            }
            url = section
                .value("url")
                .map(str::trim)
                .filter(|url| !url.is_empty())
                .map(str::to_string);
            if let Some(option) = section.get("port") {
                match value::integer::<u16>(option, 1, u16::MAX) {
                    Ok(value) => port = Some(value),
                    Err(diagnostic) => warnings.push(diagnostic.to_string()),
                }
            }
            if let Some(option) = section.get("workers") {
                match value::integer::<usize>(option, 1, 256) {
                    Ok(value) => options.workers = value,
                    Err(diagnostic) => warnings.push(diagnostic.to_string()),
                }
            }
            if let Some(option) = section.get("max_sessions") {
                match value::integer::<usize>(option, 1, 100_000_000) {
                    Ok(value) => options.max_sessions = value,
                    Err(diagnostic) => warnings.push(diagnostic.to_string()),
                }
            }
            if let Some(option) = section.get("session_ttl") {
                match value::seconds(option, 1, 31 * 24 * 3600) {
                    Ok(value) => options.session_ttl = value,
                    Err(diagnostic) => warnings.push(diagnostic.to_string()),
                }
            }
            if let Some(option) = section.get("request_timeout") {
                match value::seconds(option, 1, 3600) {
                    Ok(value) => options.request_timeout = value,
                    Err(diagnostic) => warnings.push(diagnostic.to_string()),
                }
            }
        }
        let mut dfm_files: Vec<PathBuf> = config
            .raw()
            .section("dfm")
            .map(|section| {
                section
                    .options
                    .iter()
                    .map(|option| {
                        let path = option.value.trim();
                        let path = path
                            .strip_prefix("file://")
                            .or_else(|| path.strip_prefix("file:"))
                            .unwrap_or(path);
                        PathBuf::from(path)
                    })
                    .collect()
            })
            .unwrap_or_default();
        if dfm_files.is_empty() {
            dfm_files = DEFAULT_DFM_FILES.iter().map(PathBuf::from).collect();
        }
        OrsSection {
            url,
            port,
            options,
            dfm_files,
            documents,
            route_points,
            warnings,
        }
    }
}
