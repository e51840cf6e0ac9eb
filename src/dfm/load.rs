//! The second stage of loading a DFM file: positioned elements into a checked [`Dfm`] model.
//!
//! Every mistake is reported as `file:line:column: sentence`. Unknown elements are errors (they are almost always
//! typos that would otherwise silently drop a definition); unknown attributes are ignored so that files written
//! for a real ORS with extra attributes still load.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use super::model::{
    Action, AttrMapping, AttrType, Attribute, Connection, Dfm, Encoding, Method, ModuleSession,
    Protocol, SelectionMode, Server, SessionScript, StatusEvent, StatusRange, Transport,
};
use super::template::Template;
use super::xml::{self, Pos, XmlAttr, XmlElement};

/// Why a DFM file could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct LoadError {
    /// The file (or the name given to the text).
    pub source_name: String,
    /// Where the problem is; `None` when the file could not be read at all.
    pub pos: Option<Pos>,
    /// A sentence describing the problem.
    pub message: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.pos {
            Some(pos) => write!(f, "{}:{}: {}", self.source_name, pos, self.message),
            None => write!(f, "{}: {}", self.source_name, self.message),
        }
    }
}

/// Reads and loads the DFM file at `path`.
pub fn load_file(path: &Path) -> Result<Dfm> {
    let source_name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|err| LoadError {
        source_name: source_name.clone(),
        pos: None,
        message: format!("cannot read the file: {err}"),
    })?;
    let text = String::from_utf8(bytes).map_err(|err| LoadError {
        source_name: source_name.clone(),
        pos: None,
        message: format!("the file is not UTF-8 text: {err}"),
    })?;
    load_str(&text, &source_name)
}

/// Loads a DFM definition from `text`; `source_name` names it in errors.
pub fn load_str(text: &str, source_name: &str) -> Result<Dfm> {
    let root = xml::parse(text).map_err(|err| LoadError {
        source_name: source_name.to_string(),
        pos: Some(err.pos),
        message: err.message,
    })?;
    Loader { source_name }.dfm(&root)
}

struct Loader<'a> {
    source_name: &'a str,
}

type Result<T> = std::result::Result<T, LoadError>;

impl Loader<'_> {
    fn error(&self, pos: Pos, message: impl Into<String>) -> LoadError {
        LoadError {
            source_name: self.source_name.to_string(),
            pos: Some(pos),
            message: message.into(),
        }
    }

    fn required<'e>(&self, element: &'e XmlElement, name: &str) -> Result<&'e XmlAttr> {
        match element.attr(name) {
            Some(attr) if !attr.value.trim().is_empty() => Ok(attr),
            Some(attr) => Err(self.error(
                attr.pos,
                format!("attribute '{name}' of <{}> is empty", element.name),
            )),
            None => Err(self.error(
                element.pos,
                format!("<{}> needs a '{name}' attribute", element.name),
            )),
        }
    }

    fn expect_children<'e>(
        &self,
        element: &'e XmlElement,
        allowed: &[&str],
    ) -> Result<&'e [XmlElement]> {
        for child in &element.children {
            if !allowed.contains(&child.local_name()) {
                let expected = allowed
                    .iter()
                    .map(|name| format!("<{name}>"))
                    .collect::<Vec<_>>()
                    .join(", ");
                return Err(self.error(
                    child.pos,
                    format!(
                        "<{}> is not allowed in <{}> (expected {expected})",
                        child.name, element.name
                    ),
                ));
            }
        }
        Ok(&element.children)
    }

    fn dfm(&self, root: &XmlElement) -> Result<Dfm> {
        if root.local_name() != "dfm" {
            return Err(self.error(
                root.pos,
                format!("the root element is <{}>, expected <dfm>", root.name),
            ));
        }
        let name = self.required(root, "name")?.value.trim().to_string();
        let namespace = self.required(root, "namespace")?.value.trim().to_string();
        let mut dfm = Dfm {
            name,
            namespace,
            scripts: Vec::new(),
            sessions: Vec::new(),
            protocols: BTreeMap::new(),
            connections: BTreeMap::new(),
            transports: BTreeMap::new(),
            actions: BTreeMap::new(),
            source: self.source_name.to_string(),
        };
        let sections = [
            "globalsessionscripts",
            "sessions",
            "protocols",
            "connections",
            "transports",
            "actions",
        ];
        let mut seen: Vec<&str> = Vec::new();
        for section in self.expect_children(root, &sections)? {
            let section_name = section.local_name();
            if seen.contains(&section_name) {
                return Err(self.error(
                    section.pos,
                    format!("<{section_name}> appears twice in <dfm>"),
                ));
            }
            seen.push(section_name);
            match section_name {
                "globalsessionscripts" => dfm.scripts = self.scripts(section)?,
                "sessions" => dfm.sessions = self.sessions(section)?,
                "protocols" => dfm.protocols = self.protocols(section)?,
                "connections" => dfm.connections = self.connections(section)?,
                "transports" => dfm.transports = self.transports(section)?,
                _ => dfm.actions = self.actions(section)?,
            }
        }
        // Sections may come in any order, so references are checked once everything is read.
        self.check_references(root, &dfm)?;
        Ok(dfm)
    }

    fn check_references(&self, root: &XmlElement, dfm: &Dfm) -> Result<()> {
        let find = |section: &str, name: &str| -> Pos {
            root.children
                .iter()
                .filter(|child| child.local_name() == section)
                .flat_map(|child| child.children.iter())
                .find(|child| {
                    child
                        .attr("name")
                        .is_some_and(|attr| attr.value.trim() == name)
                })
                .map_or(root.pos, |child| child.pos)
        };
        for transport in dfm.transports.values() {
            if !dfm.connections.contains_key(&transport.connection) {
                return Err(self.error(
                    find("transports", &transport.name),
                    format!(
                        "transport '{}' uses connection '{}', which is not declared in <connections>",
                        transport.name, transport.connection
                    ),
                ));
            }
        }
        for action in dfm.actions.values() {
            let Some(transport) = dfm.transports.get(&action.transport) else {
                return Err(self.error(
                    action.pos,
                    format!(
                        "action '{}' uses transport '{}', which is not declared in <transports>",
                        action.name, action.transport
                    ),
                ));
            };
            let method = action.method.unwrap_or(transport.method);
            if action.body.is_some() && !method.has_body() {
                return Err(self.error(
                    action.pos,
                    format!(
                        "action '{}' overrides the body but is sent with {}, which carries none",
                        action.name,
                        method.as_str()
                    ),
                ));
            }
        }
        Ok(())
    }

    fn scripts(&self, section: &XmlElement) -> Result<Vec<SessionScript>> {
        let mut scripts = Vec::new();
        for script in self.expect_children(section, &["script"])? {
            scripts.push(SessionScript {
                name: self.required(script, "name")?.value.clone(),
                reference: self.required(script, "ref")?.value.clone(),
            });
        }
        Ok(scripts)
    }

    fn sessions(&self, section: &XmlElement) -> Result<Vec<ModuleSession>> {
        let mut sessions = Vec::new();
        for session in self.expect_children(section, &["session"])? {
            let scope = match session.attr("type") {
                None => "node".to_string(),
                Some(attr) => match attr.value.trim() {
                    value @ ("cluster" | "node") => value.to_string(),
                    other => {
                        return Err(self.error(
                            attr.pos,
                            format!("session type '{other}' is neither 'cluster' nor 'node'"),
                        ));
                    }
                },
            };
            let mut params = BTreeMap::new();
            for params_element in self.expect_children(session, &["params"])? {
                params.extend(self.params(params_element)?);
            }
            sessions.push(ModuleSession {
                name: self.required(session, "name")?.value.clone(),
                reference: self.required(session, "ref")?.value.clone(),
                scope,
                expose: self.boolean(session, "expose", false)?,
                params,
            });
        }
        Ok(sessions)
    }

    /// `<param name expr/>` children of `element`, by name.
    fn params(&self, element: &XmlElement) -> Result<BTreeMap<String, String>> {
        let mut params = BTreeMap::new();
        for param in self.expect_children(element, &["param"])? {
            let name = self.required(param, "name")?.value.trim().to_string();
            let expr = param
                .attr("expr")
                .map(|attr| attr.value.clone())
                .ok_or_else(|| {
                    self.error(
                        param.pos,
                        format!("param '{name}' needs an 'expr' attribute"),
                    )
                })?;
            if params.insert(name.clone(), expr).is_some() {
                return Err(self.error(param.pos, format!("param '{name}' is given twice")));
            }
        }
        Ok(params)
    }

    fn param_pos(element: &XmlElement, name: &str) -> Pos {
        element
            .children
            .iter()
            .flat_map(|child| {
                if child.local_name() == "param" {
                    std::slice::from_ref(child)
                } else {
                    child.children.as_slice()
                }
            })
            .find(|param| {
                param
                    .attr("name")
                    .is_some_and(|attr| attr.value.trim() == name)
            })
            .and_then(|param| param.attr("expr").map(|attr| attr.pos))
            .unwrap_or(element.pos)
    }

    fn boolean(&self, element: &XmlElement, name: &str, default: bool) -> Result<bool> {
        match element.attr(name) {
            None => Ok(default),
            Some(attr) => match attr.value.trim() {
                "true" => Ok(true),
                "false" => Ok(false),
                other => Err(self.error(
                    attr.pos,
                    format!("attribute '{name}' must be 'true' or 'false', not '{other}'"),
                )),
            },
        }
    }

    fn protocols(&self, section: &XmlElement) -> Result<BTreeMap<String, Protocol>> {
        let mut protocols = BTreeMap::new();
        for element in self.expect_children(section, &["protocol"])? {
            let kind_attr = self.required(element, "type")?;
            let kind = self.protocol_kind(kind_attr)?;
            let mut protocol = Protocol {
                kind: kind.clone(),
                timeout_secs: Protocol::DEFAULT_TIMEOUT_SECS,
                params: BTreeMap::new(),
                events: Vec::new(),
            };
            let mut has_events = false;
            for child in self.expect_children(element, &["params", "globalevents"])? {
                if child.local_name() == "params" {
                    protocol.params.extend(self.params(child)?);
                } else {
                    has_events = true;
                    protocol.events.extend(self.global_events(child)?);
                }
            }
            if let Some(timeout) = protocol.params.get("timeout") {
                let pos = Self::param_pos(element, "timeout");
                protocol.timeout_secs = parse_timeout(timeout).ok_or_else(|| {
                    self.error(
                        pos,
                        format!("timeout '{timeout}' is not a positive number of seconds"),
                    )
                })?;
            }
            if !has_events {
                protocol.events = Protocol::default_for(&kind).events;
            }
            if protocols.insert(kind.clone(), protocol).is_some() {
                return Err(self.error(element.pos, format!("protocol '{kind}' is declared twice")));
            }
        }
        Ok(protocols)
    }

    fn protocol_kind(&self, attr: &XmlAttr) -> Result<String> {
        match attr.value.trim().to_ascii_lowercase().as_str() {
            kind @ ("http" | "https") => Ok(kind.to_string()),
            other => Err(self.error(
                attr.pos,
                format!("protocol type '{other}' is not supported (expected 'http' or 'https')"),
            )),
        }
    }

    fn global_events(&self, element: &XmlElement) -> Result<Vec<StatusEvent>> {
        let mut events = Vec::new();
        for event in self.expect_children(element, &["event"])? {
            let name = self.required(event, "name")?.value.trim().to_string();
            let mapping = self.required(event, "mapping")?;
            let ranges = parse_mapping(&mapping.value)
                .map_err(|message| self.error(mapping.pos, message))?;
            events.push(StatusEvent { name, ranges });
        }
        Ok(events)
    }

    fn connections(&self, section: &XmlElement) -> Result<BTreeMap<String, Connection>> {
        let mut connections = BTreeMap::new();
        for element in self.expect_children(section, &["connection"])? {
            let name = self.required(element, "name")?.value.trim().to_string();
            let kind = match element.attr("type") {
                Some(attr) => self.protocol_kind(attr)?,
                None => "http".to_string(),
            };
            let selection = match element.attr("selectionmode") {
                None => SelectionMode::Simple,
                Some(attr) => match attr.value.trim() {
                    "simple" => SelectionMode::Simple,
                    "round-robin" => SelectionMode::RoundRobin,
                    other => {
                        return Err(self.error(
                            attr.pos,
                            format!(
                                "selection mode '{other}' is neither 'simple' nor 'round-robin'"
                            ),
                        ));
                    }
                },
            };
            let mut servers = Vec::new();
            for servers_element in self.expect_children(element, &["servers"])? {
                for server in self.expect_children(servers_element, &["server"])? {
                    servers.push(self.server(server, &kind)?);
                }
            }
            if servers.is_empty() {
                return Err(self.error(
                    element.pos,
                    format!("connection '{name}' declares no <server>"),
                ));
            }
            let connection = Connection::new(name.clone(), kind, selection, servers);
            if connections.insert(name.clone(), connection).is_some() {
                return Err(self.error(
                    element.pos,
                    format!("connection '{name}' is declared twice"),
                ));
            }
        }
        Ok(connections)
    }

    fn server(&self, element: &XmlElement, kind: &str) -> Result<Server> {
        let host_attr = self.required(element, "host")?;
        let host = host_attr.value.trim().to_string();
        if host.contains(['/', ' ', '?', '#', '@']) {
            return Err(self.error(host_attr.pos, format!("host '{host}' is not a host name")));
        }
        let port = match element.attr("port") {
            None => {
                if kind == "https" {
                    443
                } else {
                    80
                }
            }
            Some(attr) => attr
                .value
                .trim()
                .parse::<u16>()
                .ok()
                .filter(|port| *port > 0)
                .ok_or_else(|| {
                    self.error(
                        attr.pos,
                        format!("port '{}' is not a number from 1 to 65535", attr.value),
                    )
                })?,
        };
        let name = element
            .attr("name")
            .map_or_else(|| host.clone(), |attr| attr.value.trim().to_string());
        Ok(Server { name, host, port })
    }

    fn transports(&self, section: &XmlElement) -> Result<BTreeMap<String, Transport>> {
        let mut transports = BTreeMap::new();
        for element in self.expect_children(section, &["transport"])? {
            let name = self.required(element, "name")?.value.trim().to_string();
            let connection = self.required(element, "conntype")?.value.trim().to_string();
            // Genesys files put the params directly in <transport>; a <params> wrapper is accepted too.
            let mut params = BTreeMap::new();
            for child in self.expect_children(element, &["param", "params"])? {
                if child.local_name() == "params" {
                    params.extend(self.params(child)?);
                }
            }
            let direct = XmlElement {
                children: element
                    .children
                    .iter()
                    .filter(|child| child.local_name() == "param")
                    .cloned()
                    .collect(),
                ..element.clone()
            };
            for (key, value) in self.params(&direct)? {
                if params.insert(key.clone(), value).is_some() {
                    return Err(self.error(element.pos, format!("param '{key}' is given twice")));
                }
            }
            let method = match params.get("method") {
                Some(value) => self.method(value, Self::param_pos(element, "method"))?,
                None => Method::Get,
            };
            let encoding = match params.get("enctype") {
                Some(value) => self.encoding(value, Self::param_pos(element, "enctype"))?,
                None => Encoding::Form,
            };
            let url_text = params.get("url").map_or("/", String::as_str);
            let url = self.url(url_text, Self::param_pos(element, "url"))?;
            if let Some(var) = url.names().next() {
                return Err(self.error(
                    Self::param_pos(element, "url"),
                    format!("the url of transport '{name}' names '${{{var}}}'; only an action's url may use attributes"),
                ));
            }
            let transport = Transport {
                name: name.clone(),
                connection,
                method,
                encoding,
                url,
            };
            if transports.insert(name.clone(), transport).is_some() {
                return Err(
                    self.error(element.pos, format!("transport '{name}' is declared twice"))
                );
            }
        }
        Ok(transports)
    }

    fn method(&self, value: &str, pos: Pos) -> Result<Method> {
        match value.trim().to_ascii_uppercase().as_str() {
            "GET" => Ok(Method::Get),
            "POST" => Ok(Method::Post),
            "PUT" => Ok(Method::Put),
            "DELETE" => Ok(Method::Delete),
            other => Err(self.error(
                pos,
                format!("method '{other}' is not one of GET, POST, PUT, DELETE"),
            )),
        }
    }

    fn encoding(&self, value: &str, pos: Pos) -> Result<Encoding> {
        let media_type = crate::media::essence(value);
        match media_type.as_str() {
            "application/x-www-form-urlencoded" => Ok(Encoding::Form),
            "application/json" => Ok(Encoding::Json),
            other => Err(self.error(
                pos,
                format!("enctype '{other}' is not supported (expected application/x-www-form-urlencoded or application/json)"),
            )),
        }
    }

    fn url(&self, text: &str, pos: Pos) -> Result<Template> {
        let trimmed = text.trim();
        if !trimmed.starts_with('/') {
            return Err(self.error(
                pos,
                format!("url '{trimmed}' must be a path starting with '/'"),
            ));
        }
        Template::parse(trimmed)
            .map_err(|err| self.error(pos, format!("url '{trimmed}': {}", err.message)))
    }

    fn actions(&self, section: &XmlElement) -> Result<BTreeMap<String, Action>> {
        let mut actions = BTreeMap::new();
        for element in self.expect_children(section, &["action"])? {
            let action = self.action(element)?;
            let name = action.name.clone();
            if actions.insert(name.clone(), action).is_some() {
                return Err(self.error(element.pos, format!("action '{name}' is declared twice")));
            }
        }
        Ok(actions)
    }

    fn action(&self, element: &XmlElement) -> Result<Action> {
        let name = self.required(element, "name")?.value.trim().to_string();
        let transport = self
            .required(element, "transport")?
            .value
            .trim()
            .to_string();
        let mut action = Action {
            name: name.clone(),
            transport,
            url: None,
            method: None,
            encoding: None,
            body: None,
            attributes: Vec::new(),
            pos: element.pos,
        };
        let mut overrides: Option<&XmlElement> = None;
        for child in self.expect_children(element, &["overrides", "attributes"])? {
            if child.local_name() == "overrides" {
                overrides = Some(child);
            } else {
                for attribute in self.expect_children(child, &["attribute"])? {
                    let attribute = self.attribute(attribute)?;
                    if action.attribute(&attribute.name).is_some() {
                        return Err(self.error(
                            attribute.pos,
                            format!(
                                "attribute '{}' is declared twice in action '{name}'",
                                attribute.name
                            ),
                        ));
                    }
                    action.attributes.push(attribute);
                }
            }
        }
        if let Some(overrides) = overrides {
            for (key, value) in self.params(overrides)? {
                let pos = Self::param_pos(overrides, &key);
                match key.as_str() {
                    "url" => action.url = Some(self.url(&value, pos)?),
                    "method" => action.method = Some(self.method(&value, pos)?),
                    "enctype" => action.encoding = Some(self.encoding(&value, pos)?),
                    "body" => action.body = Some(self.body(&value, pos)?),
                    other => {
                        return Err(self.error(
                            pos,
                            format!("override '{other}' is not one of url, method, enctype, body"),
                        ));
                    }
                }
            }
            for (template, key) in [(&action.url, "url"), (&action.body, "body")] {
                let Some(template) = template else { continue };
                if let Some(unknown) = template.names().find(|var| action.attribute(var).is_none())
                {
                    return Err(self.error(
                        Self::param_pos(overrides, key),
                        format!("the {key} of action '{name}' names '${{{unknown}}}', which is not a declared attribute"),
                    ));
                }
            }
        }
        Ok(action)
    }

    fn body(&self, text: &str, pos: Pos) -> Result<Template> {
        let template = Template::parse(text)
            .map_err(|err| self.error(pos, format!("body template: {}", err.message)))?;
        // Every place becomes a JSON value, so the template must be JSON once its places are filled.
        let probe = template.expand(|_| "null".to_string());
        serde_json::from_str::<serde_json::Value>(&probe).map_err(|err| {
            self.error(
                pos,
                format!("the body template is not JSON once its ${{…}} places are filled: {err}"),
            )
        })?;
        Ok(template)
    }

    fn attribute(&self, element: &XmlElement) -> Result<Attribute> {
        let name = self.required(element, "name")?.value.trim().to_string();
        let kind = match element.attr("type") {
            None => AttrType::String,
            Some(attr) => match attr.value.trim().to_ascii_lowercase().as_str() {
                "string" => AttrType::String,
                "integer" | "int" | "number" | "long" => AttrType::Number,
                "boolean" | "bool" => AttrType::Boolean,
                "object" | "json" => AttrType::Object,
                _ => {
                    return Err(self.error(
                        attr.pos,
                        format!(
                            "attribute type '{}' is not one of String, Integer, Boolean, Object",
                            attr.value.trim()
                        ),
                    ));
                }
            },
        };
        let mapping = match element.attr("mapping") {
            None => AttrMapping::None,
            Some(attr) => {
                match attr.value.trim() {
                    "parameter" => AttrMapping::Parameter,
                    "" | "none" => AttrMapping::None,
                    other => {
                        return Err(self.error(
                        attr.pos,
                        format!("attribute mapping '{other}' is not supported (expected 'parameter')"),
                    ));
                    }
                }
            }
        };
        Ok(Attribute {
            name,
            kind,
            optional: self.boolean(element, "optional", false)?,
            default: element.attr("default").map(|attr| attr.value.clone()),
            mapping,
            pos: element.pos,
        })
    }
}

fn parse_timeout(text: &str) -> Option<f64> {
    let value: f64 = text.trim().parse().ok()?;
    (value.is_finite() && value > 0.0 && value <= 86_400.0).then_some(value)
}

/// Parses a `<globalevents>` mapping such as `0,400-510`.
pub fn parse_mapping(text: &str) -> std::result::Result<Vec<StatusRange>, String> {
    let mut ranges = Vec::new();
    for item in text.split(',') {
        let item = item.trim();
        if item.is_empty() {
            return Err(format!("mapping '{text}' has an empty item"));
        }
        let status = |part: &str| -> std::result::Result<u16, String> {
            part.trim()
                .parse::<u16>()
                .ok()
                .filter(|code| *code <= 999)
                .ok_or_else(|| {
                    format!(
                        "'{}' in mapping '{text}' is not an HTTP status (0-999)",
                        part.trim()
                    )
                })
        };
        let range = match item.split_once('-') {
            Some((low, high)) => {
                let (low, high) = (status(low)?, status(high)?);
                if low > high {
                    return Err(format!("range '{item}' in mapping '{text}' runs backwards"));
                }
                StatusRange { low, high }
            }
            None => {
                let code = status(item)?;
                StatusRange {
                    low: code,
                    high: code,
                }
            }
        };
        ranges.push(range);
    }
    Ok(ranges)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mappings_take_lists_and_ranges() {
        let ranges = parse_mapping("0, 400-510,200").unwrap();
        assert_eq!(
            ranges,
            [
                StatusRange { low: 0, high: 0 },
                StatusRange {
                    low: 400,
                    high: 510
                },
                StatusRange {
                    low: 200,
                    high: 200
                }
            ]
        );
        assert!(parse_mapping("510-400").unwrap_err().contains("backwards"));
        assert!(
            parse_mapping("2x0")
                .unwrap_err()
                .contains("not an HTTP status")
        );
        assert!(parse_mapping("200,").unwrap_err().contains("empty item"));
        assert!(parse_mapping("1000").is_err());
    }
}
