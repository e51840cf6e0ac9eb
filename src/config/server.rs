//! The `server` section: this node's identity (`node_id`, used in access codes) and its listeners.
//! Changes take effect immediately, except the listener ports, which are bound once at start.

use super::raw::{Location, RawSection};
use super::value::{self, Diagnostic};

/// Typed `server` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSection {
    /// `node_id`: the two-digit number of this node (0..=99), embedded in every access code.
    pub node_id: u8,
    /// `dateFormat` (optional, kept as written).
    pub date_format: Option<String>,
    /// `web_host` (default: this machine's host name, resolved at use).
    pub web_host: Option<String>,
    /// `web_port`: the port of the public listener (REST API for apps). Default 80.
    pub web_port: u16,
    /// `http_settings_port`: the port of the internal listener (node API, ORS flows, agents). Default 8081.
    pub http_settings_port: u16,
    /// `app_name` (default `gsg_web`).
    pub app_name: String,
    /// `external_url_base` (optional): the URL apps use to reach this node through the gateway.
    pub external_url_base: Option<String>,
}

impl ServerSection {
    /// Types the section. `node_id` is mandatory.
    pub fn from_raw(
        section: Option<&RawSection>,
        file_location: &Location,
        errors: &mut Vec<Diagnostic>,
    ) -> ServerSection {
        let mut server = ServerSection {
            node_id: 0,
            date_format: None,
            web_host: None,
            web_port: 80,
            http_settings_port: 8081,
            app_name: "gsg_web".into(),
            external_url_base: None,
        };
        let Some(section) = section else {
            errors.push(Diagnostic {
                location: file_location.clone(),
                message: "section `server` with option `node_id` (a two-digit number) is mandatory"
                    .into(),
            });
            return server;
        };
        match section.get("node_id") {
            Some(option) => match value::integer::<u8>(option, 0, 99) {
                Ok(node_id) => server.node_id = node_id,
                Err(_) => errors.push(Diagnostic::at(
                    option,
                    format!(
                        "option `node_id` must be a two-digit number (00 to 99), found `{}`",
                        option.value
                    ),
                )),
            },
            None => errors.push(Diagnostic {
                location: section.location.clone(),
                message: "option `node_id` (a two-digit number) is mandatory in section `server`"
                    .into(),
            }),
        }
        let text = |name: &str| {
            section
                .value(name)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        server.date_format = text("dateFormat");
        server.web_host = text("web_host");
        server.external_url_base = text("external_url_base");
        if let Some(app_name) = text("app_name") {
            server.app_name = app_name;
        }
        for (name, slot) in [
            ("web_port", &mut server.web_port),
            ("http_settings_port", &mut server.http_settings_port),
        ] {
            if let Some(option) = section.get(name) {
                match value::integer::<u16>(option, 0, 65535) {
                    Ok(port) => *slot = port,
                    Err(diagnostic) => errors.push(diagnostic),
                }
            }
        }
        server
    }
}
