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
    /// `route` (default: the node id, two digits): this node's worker name for a load balancer's sticky sessions,
    /// sent as the suffix of the `JSESSIONID` cookie (`<session>.<route>`), as Jetty's `WorkerName` is.
    pub route: Option<String>,
    /// `internal_url` (default: `http://` + the bound address of the internal listener): where the other nodes
    /// reach this node's internal listener, when that is not the address it binds to.
    pub internal_url: Option<String>,
    /// `cors_allowed_origins` (default none): origins whose browser pages may call the public API
    /// (`https://shop.example.com, https://help.example.com`, or `*` for any); none: no CORS headers at all.
    pub cors_allowed_origins: Vec<String>,
    /// `cors_allowed_methods` (default `GET, POST, PUT, DELETE`): methods a preflight allows.
    pub cors_allowed_methods: Vec<String>,
    /// `cors_allowed_headers` (default `Content-Type, gms_user`): request headers a preflight allows.
    pub cors_allowed_headers: Vec<String>,
    /// `drain_timeout` (seconds, default 5): how long a stopping node answers the Node API with 503 `OFFLINE`
    /// before it stops taking requests, so a load balancer's health check sends traffic elsewhere first.
    pub drain_timeout: std::time::Duration,
    /// HTTPS, authentication, rate limits and connection timeouts ([`super::security`]).
    pub security: super::security::Security,
}

impl ServerSection {
    /// The route of this node's sticky sessions (`route`, default the two-digit node id).
    pub fn route(&self) -> String {
        self.route
            .clone()
            .unwrap_or_else(|| format!("{:02}", self.node_id))
    }
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
            route: None,
            internal_url: None,
            drain_timeout: std::time::Duration::from_secs(5),
            cors_allowed_origins: Vec::new(),
            cors_allowed_methods: ["GET", "POST", "PUT", "DELETE"]
                .map(str::to_string)
                .to_vec(),
            cors_allowed_headers: ["Content-Type", "gms_user"].map(str::to_string).to_vec(),
            security: super::security::Security::default(),
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
        server.security = super::security::Security::from_raw(section, errors);
        server.date_format = text("dateFormat");
        server.web_host = text("web_host");
        server.external_url_base = text("external_url_base");
        server.route = text("route");
        if let Some(route) = &server.route
            && !route
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            && let Some(option) = section.get("route")
        {
            errors.push(Diagnostic::at(
                option,
                format!("option `route` must be letters, digits, `-` or `_`, found `{route}`"),
            ));
        }
        server.internal_url = text("internal_url").map(|url| url.trim_end_matches('/').to_string());
        if let Some(option) = section.get("drain_timeout") {
            match value::seconds(option, 0, 3600) {
                Ok(drain) => server.drain_timeout = drain,
                Err(diagnostic) => errors.push(diagnostic),
            }
        }
        if let Some(option) = section.get("cors_allowed_origins") {
            let origins = value::list(option);
            for origin in &origins {
                let scheme_ok = origin.starts_with("https://") || origin.starts_with("http://");
                if origin != "*"
                    && (!scheme_ok || origin.contains(char::is_whitespace) || origin.ends_with('/'))
                {
                    errors.push(Diagnostic::at(
                        option,
                        format!(
                            "option `cors_allowed_origins`: `{origin}` is no origin (`https://host[:port]`, or `*`)"
                        ),
                    ));
                }
            }
            server.cors_allowed_origins = origins;
        }
        for (name, slot, valid) in [
            (
                "cors_allowed_methods",
                &mut server.cors_allowed_methods,
                (|item: &str| item.bytes().all(|b| b.is_ascii_uppercase())) as fn(&str) -> bool,
            ),
            (
                "cors_allowed_headers",
                &mut server.cors_allowed_headers,
                |item: &str| {
                    item.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                },
            ),
        ] {
            if let Some(option) = section.get(name) {
                let items = value::list(option);
                if let Some(bad) = items.iter().find(|item| !valid(item)) {
                    errors.push(Diagnostic::at(
                        option,
                        format!("option `{name}`: `{bad}` is not a valid entry"),
                    ));
                }
                *slot = items;
            }
        }
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
