//! GMS option sections (`gms`, `push`, `resources`, `server`, `chat`, `service.NAME`, resource lists): read, typed, reloaded.
//!
//! Two stages, as in ripgrep's low/high arguments:
//! - [`raw`]: sections exactly as read, each option with `file:line` ([`raw::RawConfig`]).
//! - [`GmsConfig`]: typed sections built from a [`raw::RawConfig`]. Bad values are errors with `file:line` and a
//!   sentence, or fall back to the documented default with a warning where the option tables say so.
//!
//! Modules that own a section type it themselves from [`GmsConfig::raw`] with the helpers of [`value`] (the
//! `push` and `push.provider.*` sections are typed in `notify`). [`reload`] rebuilds a [`GmsConfig`] when the
//! file changes or on SIGHUP and swaps it atomically; readers hold an `Arc<GmsConfig>` for one request.

pub mod gms;
pub mod raw;
pub mod reload;
pub mod resources;
pub mod security;
pub mod server;
pub mod service;
pub mod value;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

pub use gms::GmsSection;
pub use raw::{Location, RawConfig, RawOption, RawSection};
pub use reload::{ConfigHandle, Overrides};
pub use resources::{AllocationStrategy, DuplicateResource, ResourceGroup, ResourcesSection};
pub use server::ServerSection;
pub use service::ServiceConfig;
pub use value::Diagnostic;

/// Why a configuration could not be built.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file could not be read or is not an option file.
    #[error(transparent)]
    Read(#[from] raw::ReadError),
    /// Some options have bad values; one diagnostic per line.
    #[error("{}", join(.0))]
    Invalid(Vec<Diagnostic>),
}

fn join(diagnostics: &[Diagnostic]) -> String {
    diagnostics
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Typed `chat` section (kept as written; the chat module gives it meaning).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChatSection {
    /// `chat_load_balancer_url_path`.
    pub chat_load_balancer_url_path: Option<String>,
    /// `chat_session_request_timeout` (milliseconds).
    pub chat_session_request_timeout_ms: Option<u64>,
    /// `ixn_server_submit_queue`.
    pub ixn_server_submit_queue: Option<String>,
}

/// The whole typed configuration of one GMS node.
#[derive(Debug, Clone)]
pub struct GmsConfig {
    raw: Arc<RawConfig>,
    /// `gms` section.
    pub gms: GmsSection,
    /// `server` section.
    pub server: ServerSection,
    /// `resources` section and its resource list.
    pub resources: ResourcesSection,
    /// `chat` section.
    pub chat: ChatSection,
    /// `store` section, `url`: the store shared by the nodes (`redis://...`, `redis+cluster://...`); `None` or
    /// `embedded`: the embedded store. Read at start only (`gms serve --store` wins).
    pub store_url: Option<String>,
    /// `service.NAME` sections by NAME.
    pub services: BTreeMap<String, Arc<ServiceConfig>>,
    /// Problems that did not stop the configuration (a default was used instead), with `file:line`.
    pub warnings: Vec<Diagnostic>,
}

impl GmsConfig {
    /// Reads and types the option file at `path`.
    pub fn load(path: &Path) -> Result<GmsConfig, Error> {
        GmsConfig::from_raw(RawConfig::load(path)?)
    }

    /// Types every section this module owns.
    pub fn from_raw(raw: RawConfig) -> Result<GmsConfig, Error> {
        let mut errors = Vec::new();
        let mut warnings = Vec::new();
        let file_location = Location {
            file: raw.file.clone(),
            line: 1,
        };
        let gms = GmsSection::from_raw(raw.section("gms"), &mut errors);
        let server = ServerSection::from_raw(raw.section("server"), &file_location, &mut errors);
        let resources = ResourcesSection::from_raw(&raw, &mut errors, &mut warnings);
        let chat = chat_from_raw(raw.section("chat"), &mut errors);
        let store_url = raw
            .section("store")
            .and_then(|section| section.value("url"))
            .map(str::trim)
            .filter(|url| !url.is_empty() && *url != "embedded")
            .map(str::to_string);
        let mut services = BTreeMap::new();
        for section in raw.sections_with_prefix("service.") {
            if let Some(service) = ServiceConfig::from_raw(section, &mut errors) {
                let builtins = [
                    "request-interaction",
                    "match-interaction",
                    "request-access",
                    "request-chat",
                    "a2c-basic",
                    "a2c-match",
                    "a2c-reserve-accessinfo",
                ];
                // A misspelt builtin is refused with the file, as the other errors of the file are, not found at
                // the first request.
                if service.kind == "builtin" && !builtins.contains(&service.service.as_str()) {
                    errors.push(Diagnostic {
                        location: service.location.clone(),
                        message: format!(
                            "service `{}` names builtin `{}`; the builtins are request-interaction, \
                             match-interaction, request-access and request-chat",
                            service.name, service.service
                        ),
                    });
                }
                if let Some(group) = &service.resource_group
                    && !resources.groups.contains_key(group)
                {
                    warnings.push(Diagnostic {
                        location: service.location.clone(),
                        message: format!(
                            "service `{}` names resource group `{group}`, which is not in list `{}`",
                            service.name, resources.list_name
                        ),
                    });
                }
                services.insert(service.name.clone(), Arc::new(service));
            }
        }
        if !errors.is_empty() {
            return Err(Error::Invalid(errors));
        }
        Ok(GmsConfig {
            raw: Arc::new(raw),
            gms,
            server,
            resources,
            chat,
            store_url,
            services,
            warnings,
        })
    }

    /// The sections as read, for modules that type their own (`push`, `push.provider.*`, `log`...).
    pub fn raw(&self) -> &Arc<RawConfig> {
        &self.raw
    }

    /// The `service.NAME` section for `name`.
    pub fn service(&self, name: &str) -> Option<&Arc<ServiceConfig>> {
        self.services.get(name)
    }
}

fn chat_from_raw(section: Option<&RawSection>, errors: &mut Vec<Diagnostic>) -> ChatSection {
    let Some(section) = section else {
        return ChatSection::default();
    };
    let text = |name: &str| {
        section
            .value(name)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    let mut chat = ChatSection {
        chat_load_balancer_url_path: text("chat_load_balancer_url_path"),
        chat_session_request_timeout_ms: None,
        ixn_server_submit_queue: text("ixn_server_submit_queue"),
    };
    if let Some(option) = section.get("chat_session_request_timeout") {
        match value::integer(option, 0u64, 86_400_000) {
            Ok(v) => chat.chat_session_request_timeout_ms = Some(v),
            Err(diagnostic) => errors.push(diagnostic),
        }
    }
    chat
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(text: &str) -> Result<GmsConfig, Error> {
        GmsConfig::from_raw(RawConfig::parse(Path::new("t.ini"), text).unwrap())
    }

    #[test]
    fn cors_options_are_checked_with_their_line() {
        let ok = typed("[server]\nnode_id = 01\ncors_allowed_origins = https://a.example, http://b.example:8080\n")
            .unwrap();
        assert_eq!(
            ok.server.cors_allowed_origins,
            ["https://a.example", "http://b.example:8080"]
        );
        let err = typed("[server]\nnode_id = 01\ncors_allowed_origins = a.example\ncors_allowed_methods = get\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("t.ini:3: option `cors_allowed_origins`: `a.example` is no origin"),
            "{err}"
        );
        assert!(
            err.contains("t.ini:4: option `cors_allowed_methods`: `get` is not a valid entry"),
            "{err}"
        );
    }

    #[test]
    fn the_store_section_is_read_and_is_no_resource_group() {
        let config =
            typed("[server]\nnode_id = 01\n[store]\nurl = redis://127.0.0.1:6379\n").unwrap();
        assert_eq!(config.store_url.as_deref(), Some("redis://127.0.0.1:6379"));
        assert!(!config.resources.groups.contains_key("store"));
        let embedded = typed("[server]\nnode_id = 01\n[store]\nurl = embedded\n").unwrap();
        assert_eq!(embedded.store_url, None);
    }

    #[test]
    fn seed_resource_list_example_loads_unchanged() {
        let config = typed(
            "[server]\nnode_id = 01\n[Dnis_Pool]\n_allocation_strategy = LOCAL\n_booking_expiration_timeout = 20\ndnis1 = 1-888-call-me1\ndnis2 = 1-888-call-me2\ndnis3 = 1-888-call-me3\n",
        )
        .unwrap();
        let group = &config.resources.groups["Dnis_Pool"];
        assert_eq!(group.strategy, AllocationStrategy::Local);
        assert_eq!(group.booking_expiration.as_secs(), 20);
        assert_eq!(
            *group.resources,
            ["1-888-call-me1", "1-888-call-me2", "1-888-call-me3"]
        );
        assert!(config.warnings.is_empty());
    }

    #[test]
    fn bad_values_are_reported_with_their_line() {
        let err = typed("[server]\nnode_id = 123\n[gms]\nhttp.socket_timeout = soon\n[service.x]\ntype = builtin\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("t.ini:2: option `node_id` must be a two-digit number"),
            "{err}"
        );
        assert!(
            err.contains("t.ini:4: option `http.socket_timeout` must be an integer"),
            "{err}"
        );
        assert!(
            err.contains("t.ini:5: option `service` is mandatory in section `service.x`"),
            "{err}"
        );
    }

    #[test]
    fn unknown_strategy_falls_back_to_random_and_duplicates_are_found() {
        let config = typed(
            "[server]\nnode_id=7\n[a]\n_allocation_strategy = ROUND\nx = 1\nx2 = 1\n[b]\ny = 1\n#z = 2\n_backup_resource = 9\n",
        )
        .unwrap();
        assert_eq!(
            config.resources.groups["a"].strategy,
            AllocationStrategy::Random
        );
        assert_eq!(*config.resources.groups["a"].resources, ["1"]);
        // A value of an earlier group is that group's only: `b` keeps nothing of it.
        assert!(config.resources.groups["b"].resources.is_empty());
        assert_eq!(
            config.resources.groups["b"].backup_resource.as_deref(),
            Some("9")
        );
        assert_eq!(config.resources.duplicates.len(), 2);
        assert!(
            config.warnings[0]
                .to_string()
                .starts_with("t.ini:4: unknown `_allocation_strategy`")
        );
    }

    #[test]
    fn service_sections_accept_both_spellings_and_bound_booking_timeout() {
        let config = typed(
            "[server]\nnode_id=7\n[service.a]\n_type = builtin\n_service = request-access\naccess_code_length = 4\nprovide_code = true\n",
        )
        .unwrap();
        let service = &config.services["a"];
        assert_eq!(service.kind, "builtin");
        assert_eq!(service.access_code_length, Some(4));
        assert_eq!(service.overrides["_provide_code"], "true");
        let err = typed("[server]\nnode_id=7\n[service.a]\ntype=builtin\nservice=x\n_booking_expiration_timeout = 4\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(
                "t.ini:6: option `_booking_expiration_timeout` must be between 5 and 1800"
            ),
            "{err}"
        );
    }
}
