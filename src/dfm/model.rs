//! The immutable model of a loaded DFM file: protocols, connections, transports and actions.
//!
//! Every name reference of the file (action → transport → connection → protocol) is resolved by the loader, so
//! code using the model never meets a dangling reference.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::template::Template;
use super::xml::Pos;

/// One loaded DFM file.
#[derive(Debug)]
pub struct Dfm {
    /// `name` of `<dfm>`: the prefix of the completion events (`<name>.<action>.done`).
    pub name: String,
    /// `namespace` of `<dfm>`: flows call the actions as elements of this namespace.
    pub namespace: String,
    /// `<globalsessionscripts>`: scripts to load into every session (kept, not run by this module).
    pub scripts: Vec<SessionScript>,
    /// `<sessions>`: SCXML sessions the module runs beside the flows (kept, not started by this module).
    pub sessions: Vec<ModuleSession>,
    /// `<protocols>`, by `type` (`http`, `https`).
    pub protocols: BTreeMap<String, Protocol>,
    /// `<connections>`, by name.
    pub connections: BTreeMap<String, Connection>,
    /// `<transports>`, by name.
    pub transports: BTreeMap<String, Transport>,
    /// `<actions>`, by name.
    pub actions: BTreeMap<String, Action>,
    /// The file the definition came from, for messages.
    pub source: String,
}

impl Dfm {
    /// The action named `name`.
    pub fn action(&self, name: &str) -> Option<&Action> {
        self.actions.get(name)
    }

    /// The transport of `action` (always present: the loader checks it).
    pub fn transport_of(&self, action: &Action) -> Option<&Transport> {
        self.transports.get(&action.transport)
    }

    /// The connection of `transport` (always present: the loader checks it).
    pub fn connection_of(&self, transport: &Transport) -> Option<&Connection> {
        self.connections.get(&transport.connection)
    }

    /// The protocol a connection speaks; `None` when the file declares no `<protocol>` of that type, in which
    /// case the defaults of [`Protocol::default_for`] apply.
    pub fn protocol_of(&self, connection: &Connection) -> Option<&Protocol> {
        self.protocols.get(&connection.kind)
    }
}

/// `<globalsessionscripts><script name ref/>`.
#[derive(Debug, Clone)]
pub struct SessionScript {
    /// `name`.
    pub name: String,
    /// `ref`: a `file://` or `http://` URL, possibly with `${dfmgvar.*}` variables.
    pub reference: String,
}

/// `<sessions><session name ref type expose>` with its `<params>`.
#[derive(Debug, Clone)]
pub struct ModuleSession {
    /// `name`.
    pub name: String,
    /// `ref`: URL of the SCXML document.
    pub reference: String,
    /// `type`: `cluster` or `node`.
    pub scope: String,
    /// `expose`.
    pub expose: bool,
    /// `<params><param name expr/>`.
    pub params: BTreeMap<String, String>,
}

/// `<protocol type>`: timeout and the status → event mapping.
#[derive(Debug, Clone)]
pub struct Protocol {
    /// `type`: `http` or `https`.
    pub kind: String,
    /// `<param name='timeout' expr='…'/>` in seconds; defaults to [`Protocol::DEFAULT_TIMEOUT_SECS`].
    pub timeout_secs: f64,
    /// Other `<params>` as written.
    pub params: BTreeMap<String, String>,
    /// `<globalevents>` in document order; the first mapping that covers a status wins.
    pub events: Vec<StatusEvent>,
}

impl Protocol {
    /// The timeout when a file gives none: the value the Genesys samples use.
    pub const DEFAULT_TIMEOUT_SECS: f64 = 20.0;

    /// The protocol assumed when a connection's type has no `<protocol>`: the default timeout, `done` for
    /// 200-299 and `error` for no answer and 300-599.
    pub fn default_for(kind: &str) -> Protocol {
        Protocol {
            kind: kind.to_string(),
            timeout_secs: Self::DEFAULT_TIMEOUT_SECS,
            params: BTreeMap::new(),
            events: vec![
                StatusEvent {
                    name: "done".to_string(),
                    ranges: vec![StatusRange {
                        low: 200,
                        high: 299,
                    }],
                },
                StatusEvent {
                    name: "error".to_string(),
                    ranges: vec![
                        StatusRange { low: 0, high: 0 },
                        StatusRange {
                            low: 300,
                            high: 599,
                        },
                    ],
                },
            ],
        }
    }

    /// The event suffix for an HTTP status (`0` = no answer), if any mapping covers it.
    pub fn event_for(&self, status: u16) -> Option<&str> {
        self.events
            .iter()
            .find(|event| event.ranges.iter().any(|range| range.contains(status)))
            .map(|event| event.name.as_str())
    }
}

/// `<event name mapping>`: a list of statuses and inclusive ranges (`0,400-510`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusEvent {
    /// `name`: `done`, `error` or any other suffix.
    pub name: String,
    /// The statuses it covers.
    pub ranges: Vec<StatusRange>,
}

/// An inclusive range of HTTP statuses; a single code is a range of one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusRange {
    /// Lowest status covered.
    pub low: u16,
    /// Highest status covered.
    pub high: u16,
}

impl StatusRange {
    /// Whether `status` lies in the range.
    pub fn contains(&self, status: u16) -> bool {
        (self.low..=self.high).contains(&status)
    }
}

/// How a connection picks a server among several.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SelectionMode {
    /// `simple`: always the first server.
    Simple,
    /// `round-robin`: each call takes the next server.
    RoundRobin,
}

/// `<connection name type selectionmode>` with its `<servers>`.
#[derive(Debug)]
pub struct Connection {
    /// `name`.
    pub name: String,
    /// `type`: the protocol spoken (`http` or `https`).
    pub kind: String,
    /// `selectionmode`.
    pub selection: SelectionMode,
    /// `<servers>` in document order; never empty.
    pub servers: Vec<Server>,
    next: AtomicUsize,
}

impl Connection {
    /// Creates a connection; `servers` must not be empty (the loader checks it).
    pub fn new(name: String, kind: String, selection: SelectionMode, servers: Vec<Server>) -> Self {
        Connection {
            name,
            kind,
            selection,
            servers,
            next: AtomicUsize::new(0),
        }
    }

    /// The server for the next call, following the selection mode.
    pub fn pick(&self) -> Option<&Server> {
        match self.selection {
            SelectionMode::Simple => self.servers.first(),
            SelectionMode::RoundRobin => {
                if self.servers.is_empty() {
                    return None;
                }
                let idx = self.next.fetch_add(1, Ordering::Relaxed) % self.servers.len();
                self.servers.get(idx)
            }
        }
    }
}

/// `<server name host port/>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    /// `name`.
    pub name: String,
    /// `host`.
    pub host: String,
    /// `port`.
    pub port: u16,
}

/// HTTP methods a transport may declare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `GET`.
    Get,
    /// `POST`.
    Post,
    /// `PUT`.
    Put,
    /// `DELETE`.
    Delete,
}

impl Method {
    /// The method as written on the wire.
    pub fn as_str(&self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
        }
    }

    /// Whether request parameters travel in the body (otherwise in the query string).
    pub fn has_body(&self) -> bool {
        matches!(self, Method::Post | Method::Put)
    }
}

/// How request parameters and bodies are encoded (`enctype`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// `application/x-www-form-urlencoded`.
    Form,
    /// `application/json`: the body is a JSON object (or the action's `body` template).
    Json,
}

impl Encoding {
    /// The media type.
    pub fn content_type(&self) -> &'static str {
        match self {
            Encoding::Form => "application/x-www-form-urlencoded",
            Encoding::Json => "application/json",
        }
    }
}

/// `<transport name conntype>` with its `method`, `enctype` and `url` params.
#[derive(Debug, Clone)]
pub struct Transport {
    /// `name`.
    pub name: String,
    /// `conntype`: name of the connection.
    pub connection: String,
    /// `method`.
    pub method: Method,
    /// `enctype`.
    pub encoding: Encoding,
    /// `url`: the path (prefix) used when an action does not override it.
    pub url: Template,
}

/// The value type an attribute is declared with (`type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrType {
    /// `String` (the default).
    String,
    /// `Integer` / `Number`.
    Number,
    /// `Boolean`.
    Boolean,
    /// `Object` / `JSON`: a structured value, sent as JSON.
    Object,
}

/// Where an attribute's value goes besides the `${name}` places of the templates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrMapping {
    /// No `mapping`: the value is used only where a template names it.
    None,
    /// `mapping='parameter'`: sent as a request parameter (query string, form field or JSON member) unless a
    /// template of the action already names it.
    Parameter,
}

/// `<attribute name type optional default mapping/>`.
#[derive(Debug, Clone)]
pub struct Attribute {
    /// `name`: the XML attribute of the custom element.
    pub name: String,
    /// `type`.
    pub kind: AttrType,
    /// `optional` (default false).
    pub optional: bool,
    /// `default`, used when the element leaves the attribute out.
    pub default: Option<String>,
    /// `mapping`.
    pub mapping: AttrMapping,
    /// Where it is declared.
    pub pos: Pos,
}

/// `<action name transport>` with its `<overrides>` and `<attributes>`.
#[derive(Debug, Clone)]
pub struct Action {
    /// `name`: the local name of the custom element.
    pub name: String,
    /// `transport`.
    pub transport: String,
    /// `<overrides><param name='url'>`: replaces the transport's `url`.
    pub url: Option<Template>,
    /// `<overrides><param name='method'>`: replaces the transport's method.
    pub method: Option<Method>,
    /// `<overrides><param name='enctype'>`: replaces the transport's encoding.
    pub encoding: Option<Encoding>,
    /// `<overrides><param name='body'>`: a JSON template whose `${x}` are replaced by JSON values.
    pub body: Option<Template>,
    /// `<attributes>` in document order.
    pub attributes: Vec<Attribute>,
    /// Where it is declared.
    pub pos: Pos,
}

impl Action {
    /// The declared attribute named `name`.
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|attr| attr.name == name)
    }
}
