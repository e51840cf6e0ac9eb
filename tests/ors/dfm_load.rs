//! Loading DFM files: every shipped file loads, the real Genesys sample format loads, and bad files give
//! positioned errors and never a panic (including a mutation-based fuzz run over the shipped files).

use std::path::{Path, PathBuf};

use gms::dfm::model::{AttrMapping, AttrType, Encoding, Method, SelectionMode};
use gms::dfm::{DfmSet, load_file, load_str};

fn shipped() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("dfm");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "txt"))
        .collect();
    files.sort();
    files
}

/// The Yahoo PlaceFinder DFM of the GMS 8.1 sample archive, as published.
const YAHOO: &str = r#"<dfm name='yahoo_placefinder' namespace='http://www.genesyslab.com/modules/dfm/yahoo_placefinder/v1'>
	<protocols>
		<protocol type='http'>
			<params>
				<param name='timeout' expr='20'/>
			</params>
			<globalevents>
				<event name='done' mapping='200'/>
				<event name='error' mapping='0,400-510'/>
			</globalevents>
		</protocol>
	</protocols>
	<connections>
		<connection name='HTTP_simple' type='http' selectionmode='simple'>
			<servers>
				<server name='Yahoo' host='where.yahooapis.com' port='80' />
			</servers>
		</connection>
	</connections>
	<transports>
		<transport name='HTTP_GET' conntype='HTTP_simple'>
			<param name='method' expr='GET'/>
			<param name='enctype' expr='application/x-www-form-urlencoded'/>
			<param name='url' expr='/geocode?'/>
		</transport>
	</transports>
	<actions>
		<action name='query_location' transport='HTTP_GET' >
			<overrides>
				<param name='url' expr='/geocode?appid=${appid}&amp;gflags=${gflags}&amp;flags=${flags}&amp;location=${lat}+${long}'/>
			</overrides>
			<attributes>
				<attribute name='appid' type='String' optional='true' default='yourappid' mapping='parameter'/>
				<attribute name='gflags' type='String' optional='true' default='R' mapping='parameter'/>
				<attribute name='flags' type='String' optional='true' default='JT' mapping='parameter'/>
				<attribute name='lat' type='String' optional='false' />
				<attribute name='long' type='String' optional='false' />
			</attributes>
		</action>
	</actions>
</dfm>"#;

#[test]
fn every_shipped_file_loads() {
    let files = shipped();
    assert_eq!(files.len(), 4, "{files:?}");
    let set = DfmSet::load_files(&files).unwrap();
    for (name, actions) in [
        (
            "gsgStorage",
            &["create", "update", "read", "readkey", "delete"][..],
        ),
        (
            "gsgNotification",
            &["subscribe", "unsubscribe", "publish"][..],
        ),
        (
            "gsgBasedServices",
            &["request-access", "match-interaction", "create"][..],
        ),
        (
            "yahoo_placefinder",
            &["query_location", "find_location"][..],
        ),
    ] {
        let dfm = set
            .by_name(name)
            .unwrap_or_else(|| panic!("{name} is shipped"));
        assert_eq!(
            dfm.namespace,
            format!("http://www.genesyslab.com/modules/dfm/{name}/v1")
        );
        let mut declared: Vec<&str> = dfm.actions.keys().map(String::as_str).collect();
        declared.sort();
        let mut expected = actions.to_vec();
        expected.sort();
        assert_eq!(declared, expected, "{name}");
    }
}

#[test]
fn the_genesys_sample_file_loads_as_published() {
    let dfm = load_str(YAHOO, "cfg_YahooPlaceFinder.txt").unwrap();
    assert_eq!(dfm.name, "yahoo_placefinder");
    let http = &dfm.protocols["http"];
    assert_eq!(http.timeout_secs, 20.0);
    assert_eq!(http.event_for(200), Some("done"));
    assert_eq!(http.event_for(0), Some("error"));
    assert_eq!(http.event_for(404), Some("error"));
    assert_eq!(http.event_for(510), Some("error"));
    assert_eq!(http.event_for(302), None);
    let connection = &dfm.connections["HTTP_simple"];
    assert_eq!(connection.selection, SelectionMode::Simple);
    assert_eq!(connection.servers[0].host, "where.yahooapis.com");
    let transport = &dfm.transports["HTTP_GET"];
    assert_eq!(transport.method, Method::Get);
    assert_eq!(transport.encoding, Encoding::Form);
    let action = dfm.action("query_location").unwrap();
    assert_eq!(action.attributes.len(), 5);
    let gflags = action.attribute("gflags").unwrap();
    assert_eq!(gflags.default.as_deref(), Some("R"));
    assert_eq!(gflags.mapping, AttrMapping::Parameter);
    assert_eq!(gflags.kind, AttrType::String);
    assert!(!action.attribute("lat").unwrap().optional);
}

#[test]
fn the_prototype_sections_load() {
    let text = r#"<dfm name='context_services' namespace='http://www.genesyslab.com/modules/dfm/context_services/v1'>
  <globalsessionscripts>
    <script name='MyScript1' ref='file://C:\ORS\DFM\Scripts\Script1.js' />
    <script name='MyScript4' ref='${dfmgvar.cfgbaselocation}\${dfmgvar.dfmname}' />
  </globalsessionscripts>
  <sessions>
    <session name='DNISAlloc' ref='http://ca-to-ferb:80/DFM/rm.scxml' type='cluster'>
      <params><param name='DNISPOOL' expr='7102' /></params>
    </session>
    <session name='Directory' ref='http://ca-to-ferb:80/DFM/rm.scxml' type='node' expose='true' />
  </sessions>
  <protocols>
    <protocol type='http'>
      <params><param name='timeout' expr='2'/></params>
      <globalevents><event name='protocol_event' mapping='101'/></globalevents>
    </protocol>
    <protocol type='https'><params><param name='timeout' expr='5'/></params></protocol>
  </protocols>
  <connections>
    <connection name='HTTP_round_robin' type='http' selectionmode='round-robin'>
      <servers>
        <server name='gms1' host='gms1' port='8080'/>
        <server name='gms2' host='gms2' port='8080'/>
        <server name='gms3' host='gms3' port='8080'/>
      </servers>
    </connection>
  </connections>
</dfm>"#;
    let dfm = load_str(text, "proto.txt").unwrap();
    assert_eq!(dfm.scripts.len(), 2);
    assert_eq!(dfm.sessions[0].params["DNISPOOL"], "7102");
    assert!(dfm.sessions[1].expose);
    assert_eq!(dfm.protocols["http"].event_for(101), Some("protocol_event"));
    // A protocol without <globalevents> gets the default done/error mapping.
    assert_eq!(dfm.protocols["https"].event_for(204), Some("done"));
    let connection = &dfm.connections["HTTP_round_robin"];
    let picked: Vec<&str> = (0..4)
        .map(|_| connection.pick().unwrap().host.as_str())
        .collect();
    assert_eq!(picked, ["gms1", "gms2", "gms3", "gms1"]);
}

/// Loads `text` and returns the error as printed.
fn error_of(text: &str) -> String {
    load_str(text, "bad.txt").unwrap_err().to_string()
}

const HEAD: &str = "<dfm name='d' namespace='urn:d'>\n";

#[test]
fn bad_files_name_the_place_and_the_problem() {
    let cases: &[(&str, &str)] = &[
        ("", "bad.txt:1:1: the file holds no XML element"),
        (
            "<dfm name='d'/>",
            "bad.txt:1:1: <dfm> needs a 'namespace' attribute",
        ),
        (
            "<dfx name='d' namespace='n'/>",
            "bad.txt:1:1: the root element is <dfx>, expected <dfm>",
        ),
        (
            "<dfm name='d' namespace='n'>\n  <actoins/>\n</dfm>",
            "bad.txt:2:3: <actoins> is not allowed in <dfm>",
        ),
        (
            "<dfm name='d' namespace='n'>\n<protocols><protocol type='http'><globalevents>\n  <event name='done' mapping='200-'/></globalevents></protocol></protocols></dfm>",
            "bad.txt:3:22: '' in mapping '200-' is not an HTTP status (0-999)",
        ),
        (
            "<dfm name='d' namespace='n'>\n<protocols><protocol type='http'><globalevents>\n  <event name='done' mapping='2x0'/></globalevents></protocol></protocols></dfm>",
            "bad.txt:3:22: '2x0' in mapping '2x0' is not an HTTP status (0-999)",
        ),
        (
            "<dfm name='d' namespace='n'>\n<protocols><protocol type='ftp'/></protocols></dfm>",
            "bad.txt:2:22: protocol type 'ftp' is not supported",
        ),
        (
            "<dfm name='d' namespace='n'>\n<protocols><protocol type='http'><params>\n<param name='timeout' expr='soon'/></params></protocol></protocols></dfm>",
            "bad.txt:3:23: timeout 'soon' is not a positive number of seconds",
        ),
        (
            "<dfm name='d' namespace='n'>\n<connections><connection name='c'>\n</connection></connections></dfm>",
            "bad.txt:2:14: connection 'c' declares no <server>",
        ),
        (
            "<dfm name='d' namespace='n'>\n<connections><connection name='c' selectionmode='random'><servers><server host='h'/></servers></connection></connections></dfm>",
            "bad.txt:2:35: selection mode 'random' is neither 'simple' nor 'round-robin'",
        ),
        (
            "<dfm name='d' namespace='n'>\n<connections><connection name='c'><servers>\n<server host='h' port='99999'/></servers></connection></connections></dfm>",
            "bad.txt:3:18: port '99999' is not a number from 1 to 65535",
        ),
        (
            "<dfm name='d' namespace='n'>\n<transports><transport name='t' conntype='nowhere'/></transports></dfm>",
            "bad.txt:2:13: transport 't' uses connection 'nowhere', which is not declared in <connections>",
        ),
        (
            "<dfm name='d' namespace='n'>\n<connections><connection name='c'><servers><server host='h'/></servers></connection></connections>\n<transports><transport name='t' conntype='c'><param name='method' expr='PATCH'/></transport></transports></dfm>",
            "bad.txt:3:67: method 'PATCH' is not one of GET, POST, PUT, DELETE",
        ),
        (
            "<dfm name='d' namespace='n'>\n  <actions>\n  <action name='a' transport='t'/></actions></dfm>",
            "bad.txt:3:3: action 'a' uses transport 't', which is not declared in <transports>",
        ),
    ];
    for (text, expected) in cases {
        let message = error_of(text);
        assert!(
            message.starts_with(expected),
            "for {text:?}\n  expected: {expected}\n  got:      {message}"
        );
    }
}

/// Found by `fuzz/fuzz_targets/dfm_load.rs`: attribute places were found by searching the start tag for the name,
/// which stopped at a `>` inside a value, matched a name written inside another value, and accepted names such as
/// `/` that the reader takes from `t=''/='n'`. Places now come from the reader itself, and names must be XML names
/// separated by white space.
#[test]
fn attribute_places_and_names_are_exact() {
    let cases: &[(&str, &str)] = &[
        (
            "<dfm name='d' namespace='n'>\n<connections><connection name='c' note='a > b' selectionmode='rr'/></connections></dfm>",
            "bad.txt:2:48: selection mode 'rr' is neither 'simple' nor 'round-robin'",
        ),
        (
            "<dfm name='d' namespace='n'>\n<connections><connection name='c' note=' selectionmode=' selectionmode='rr'/></connections></dfm>",
            "bad.txt:2:58: selection mode 'rr' is neither 'simple' nor 'round-robin'",
        ),
        (
            "<dfm name='d' namespace='n' t=''/='n'/>",
            "bad.txt:1:33: attribute name '/' in <dfm> is not an XML name",
        ),
        (
            "<dfm name='d'namespace='n'/>",
            "bad.txt:1:14: attribute 'namespace' in <dfm> must be separated from what precedes it by white space",
        ),
        (
            "\u{feff}<dfm name='d'/>",
            "bad.txt:1:2: <dfm> needs a 'namespace' attribute",
        ),
    ];
    for (text, expected) in cases {
        let message = error_of(text);
        assert_eq!(&message, expected, "for {text:?}");
    }
}

/// A well-formed file with one action, whose action body is `action`.
fn with_action(action: &str) -> String {
    format!(
        "{HEAD}<connections><connection name='c'><servers><server host='h'/></servers></connection></connections>\n\
         <transports><transport name='t' conntype='c'><param name='method' expr='POST'/></transport></transports>\n\
         <actions>\n{action}\n</actions></dfm>"
    )
}

#[test]
fn bad_actions_name_the_place_and_the_problem() {
    let cases: &[(&str, &str)] = &[
        (
            "<action name='a' transport='t'><overrides><param name='url' expr='/x/${nope}'/></overrides></action>",
            "bad.txt:5:61: the url of action 'a' names '${nope}', which is not a declared attribute",
        ),
        (
            "<action name='a' transport='t'><overrides><param name='url' expr='/x/${id'/></overrides></action>",
            "bad.txt:5:61: url '/x/${id': '${' is not closed by '}'",
        ),
        (
            "<action name='a' transport='t'><overrides><param name='url' expr='x'/></overrides></action>",
            "bad.txt:5:61: url 'x' must be a path starting with '/'",
        ),
        (
            "<action name='a' transport='t'><overrides><param name='body' expr='{\"a\": ${a'/></overrides><attributes><attribute name='a'/></attributes></action>",
            "bad.txt:5:62: body template: '${' is not closed by '}'",
        ),
        (
            "<action name='a' transport='t'><overrides><param name='body' expr='{\"a\": ${a}'/></overrides><attributes><attribute name='a'/></attributes></action>",
            "bad.txt:5:62: the body template is not JSON once its ${…} places are filled",
        ),
        (
            "<action name='a' transport='t'><overrides><param name='verb' expr='GET'/></overrides></action>",
            "bad.txt:5:62: override 'verb' is not one of url, method, enctype, body",
        ),
        (
            "<action name='a' transport='t'><attributes><attribute name='x' type='Date'/></attributes></action>",
            "bad.txt:5:64: attribute type 'Date' is not one of String, Integer, Boolean, Object",
        ),
        (
            "<action name='a' transport='t'><attributes><attribute name='x' optional='yes'/></attributes></action>",
            "bad.txt:5:64: attribute 'optional' must be 'true' or 'false', not 'yes'",
        ),
        (
            "<action name='a' transport='t'><attributes><attribute name='x'/><attribute name='x'/></attributes></action>",
            "bad.txt:5:65: attribute 'x' is declared twice in action 'a'",
        ),
        (
            "<action name='a' transport='t'/><action name='a' transport='t'/>",
            "bad.txt:5:33: action 'a' is declared twice",
        ),
        (
            "<action name='a' transport='t'><overrides><param name='method' expr='GET'/><param name='body' expr='{}'/></overrides></action>",
            "bad.txt:5:1: action 'a' overrides the body but is sent with GET, which carries none",
        ),
    ];
    for (action, expected) in cases {
        let message = error_of(&with_action(action));
        assert!(
            message.starts_with(expected),
            "for {action:?}\n  expected: {expected}\n  got:      {message}"
        );
    }
}

#[test]
fn unreadable_files_are_reported_without_a_position() {
    let err = load_file(Path::new("/nonexistent/cfg.txt")).unwrap_err();
    assert!(err.pos.is_none());
    assert!(
        err.to_string()
            .starts_with("/nonexistent/cfg.txt: cannot read the file")
    );
}

#[test]
fn a_set_refuses_two_dfms_with_one_namespace() {
    let mut set = DfmSet::new();
    set.insert(load_str(YAHOO, "a.txt").unwrap()).unwrap();
    let err = set.insert(load_str(YAHOO, "b.txt").unwrap()).unwrap_err();
    assert!(
        err.to_string().contains("already loaded from a.txt"),
        "{err}"
    );
    assert!(
        set.by_namespace("www.genesyslab.com/modules/dfm/yahoo_placefinder/v1")
            .is_some()
    );
}

/// A small deterministic generator, so a failing case can be replayed from its seed.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const TOKENS: &[&str] = &[
    "<",
    ">",
    "/>",
    "</",
    "'",
    "\"",
    "=",
    "&amp;",
    "&",
    "${",
    "}",
    "${x}",
    "-",
    ",",
    "<!--",
    "-->",
    "<![CDATA[",
    "]]>",
    "é",
    "\u{0}",
    "<param name='url' expr='/a/${b}'/>",
    "<action name='q' transport='HTTP_GET'/>",
    "mapping='0-999'",
    " ",
    "\n",
    "99999",
    "<dfm>",
];

fn mutate(rng: &mut XorShift, text: &str) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for _ in 0..=rng.below(4) {
        let at = rng.below(bytes.len() + 1);
        match rng.below(4) {
            0 => {
                let end = (at + rng.below(40)).min(bytes.len());
                bytes.drain(at..end);
            }
            1 => {
                let token = TOKENS[rng.below(TOKENS.len())].as_bytes();
                bytes.splice(at..at, token.iter().copied());
            }
            2 => bytes.truncate(at),
            _ => {
                let end = (at + rng.below(60)).min(bytes.len());
                let copy: Vec<u8> = bytes[at..end].to_vec();
                let to = rng.below(bytes.len() + 1);
                bytes.splice(to..to, copy);
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

#[test]
fn mutated_files_never_panic_and_errors_point_inside_the_text() {
    let mut sources: Vec<String> = shipped()
        .iter()
        .map(|path| std::fs::read_to_string(path).unwrap())
        .collect();
    sources.push(YAHOO.to_string());
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let mut n_loaded = 0;
    for case_idx in 0..4000 {
        let source = &sources[case_idx % sources.len()];
        let text = mutate(&mut rng, source);
        match load_str(&text, "fuzz.txt") {
            Ok(dfm) => {
                n_loaded += 1;
                // Whatever loads must also build requests without panicking.
                for action in dfm.actions.keys() {
                    let _ = gms::dfm::build_request(&dfm, action, &Default::default());
                }
            }
            Err(err) => {
                let pos = err.pos.expect("text errors have a position");
                let n_lines = text.lines().count().max(1) as u32 + 1;
                assert!(
                    pos.line >= 1 && pos.line <= n_lines,
                    "case {case_idx}: {err}"
                );
                assert!(pos.column >= 1, "case {case_idx}: {err}");
                assert!(!err.message.is_empty());
            }
        }
    }
    // The mutations must leave some files valid, or the run would only test the XML layer.
    assert!(n_loaded > 50, "only {n_loaded} mutated files loaded");
}

#[test]
fn transport_params_may_be_wrapped_and_https_defaults_to_port_443() {
    let text = "<dfm name='d' namespace='urn:d'>
      <connections><connection name='c' type='https'><servers><server host='gms.example'/></servers></connection></connections>
      <transports><transport name='t' conntype='c'>
        <params><param name='method' expr='post'/><param name='enctype' expr='application/json; charset=utf-8'/></params>
      </transport></transports>
    </dfm>";
    let dfm = load_str(text, "wrapped.txt").unwrap();
    let transport = &dfm.transports["t"];
    assert_eq!(
        (transport.method, transport.encoding),
        (Method::Post, Encoding::Json)
    );
    assert_eq!(dfm.connections["c"].servers[0].port, 443);
    assert_eq!(dfm.connections["c"].servers[0].name, "gms.example");
}
