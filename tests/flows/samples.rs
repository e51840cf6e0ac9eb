//! The sample flows are well-formed SCXML in the ORS dialect (and pass `gms validate --dialect ors`), and every
//! custom element they use is either an action declared (with those attributes) in a shipped DFM file or a
//! documented ORS module element.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use gms::dfm::DfmSet;
use gms::dfm::xml::{XmlElement, parse};

const SCXML_NS: &str = "http://www.w3.org/2005/07/scxml";

/// SCXML elements of the ORS dialect (May 2009 draft plus the W3C names ORS also accepts).
const SCXML_ELEMENTS: &[&str] = &[
    "scxml",
    "state",
    "parallel",
    "final",
    "initial",
    "history",
    "transition",
    "onentry",
    "onexit",
    "datamodel",
    "data",
    "assign",
    "send",
    "cancel",
    "log",
    "raise",
    "event",
    "if",
    "elseif",
    "else",
    "foreach",
    "script",
    "param",
    "content",
    "invoke",
    "finalize",
    "donedata",
    "validate",
];

/// The ORS module elements `scxml/README.md` documents.
const MODULES: &[(&str, &[&str])] = &[
    ("http://www.genesyslab.com/modules/ws", &["response"]),
    (
        "http://www.genesyslab.com/modules/queue",
        &["submit", "targets", "target", "cancel"],
    ),
    (
        "http://www.genesyslab.com/modules/interaction",
        &["createcall", "accept"],
    ),
    (
        "http://www.genesyslab.com/modules/dialog",
        &["playsound", "play", "runtreatments"],
    ),
    (
        "http://www.genesyslab.com/modules/statistic",
        &["subscribe"],
    ),
    (
        "http://www.genesyslab.com/modules/session",
        &["fetch", "start", "terminate"],
    ),
];

const FLOWS: &[&str] = &[
    "request-inbound-immediate",
    "request-inbound-delay",
    "request-inbound-poll",
    "request-inbound-delay-location",
    "request-outbound-immediate",
    "request-outbound-delay",
    "request-outbound-poll",
    "request-chat-poll",
];

fn root_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn dfms() -> DfmSet {
    let dir = root_dir().join("dfm");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "txt"))
        .collect();
    files.sort();
    DfmSet::load_files(&files).unwrap()
}

/// Walks `element` with the namespace prefixes in scope, collecting problems.
fn check(
    element: &XmlElement,
    scope: &BTreeMap<String, String>,
    dfms: &DfmSet,
    used: &mut BTreeSet<String>,
    problems: &mut Vec<String>,
) {
    let mut scope = scope.clone();
    for attr in &element.attrs {
        if attr.name == "xmlns" {
            scope.insert(String::new(), attr.value.clone());
        } else if let Some(prefix) = attr.name.strip_prefix("xmlns:") {
            scope.insert(prefix.to_string(), attr.value.clone());
        }
    }
    let (prefix, local) = element.name.split_once(':').unwrap_or(("", &element.name));
    let at = format!("<{}> at {}", element.name, element.pos);
    match scope.get(prefix) {
        None => problems.push(format!("{at}: prefix '{prefix}' is not declared")),
        Some(namespace) if namespace == SCXML_NS => {
            if !SCXML_ELEMENTS.contains(&local) {
                problems.push(format!("{at}: not an SCXML element"));
            }
        }
        Some(namespace) => {
            if let Some(dfm) = dfms.by_namespace(namespace) {
                used.insert(format!("{}:{local}", dfm.name));
                match dfm.action(local) {
                    None => problems.push(format!(
                        "{at}: DFM '{}' declares no action '{local}'",
                        dfm.name
                    )),
                    Some(action) => {
                        for attr in &element.attrs {
                            if action.attribute(&attr.name).is_none() {
                                problems.push(format!(
                                    "{at}: action '{local}' declares no attribute '{}'",
                                    attr.name
                                ));
                            }
                        }
                        for declared in &action.attributes {
                            if !declared.optional
                                && declared.default.is_none()
                                && element.attr(&declared.name).is_none()
                            {
                                problems.push(format!(
                                    "{at}: required attribute '{}' is missing",
                                    declared.name
                                ));
                            }
                        }
                    }
                }
            } else {
                let known = MODULES
                    .iter()
                    .find(|(module, _)| module == namespace)
                    .is_some_and(|(_, elements)| elements.contains(&local));
                if !known {
                    problems.push(format!("{at}: '{local}' of {namespace} is neither a DFM action nor a documented module element"));
                }
            }
        }
    }
    for child in &element.children {
        check(child, &scope, dfms, used, problems);
    }
}

fn ids(element: &XmlElement, out: &mut Vec<String>) {
    if ["state", "parallel", "final", "history"].contains(&element.local_name())
        && let Some(id) = element.attr("id")
    {
        out.push(id.value.clone());
    }
    for child in &element.children {
        ids(child, out);
    }
}

fn references(element: &XmlElement, out: &mut Vec<(String, String)>) {
    let attr = match element.local_name() {
        "transition" => element.attr("target"),
        "scxml" | "state" => element.attr("initial"),
        _ => None,
    };
    if let Some(attr) = attr {
        for id in attr.value.split_whitespace() {
            out.push((
                id.to_string(),
                format!("<{}> at {}", element.name, element.pos),
            ));
        }
    }
    for child in &element.children {
        references(child, out);
    }
}

/// DFM completion events a transition waits for must name a shipped action.
fn dfm_events(element: &XmlElement, dfms: &DfmSet, problems: &mut Vec<String>) {
    if element.local_name() == "transition"
        && let Some(events) = element.attr("event")
    {
        for event in events.value.split_whitespace() {
            let bare = event.strip_prefix("error.").unwrap_or(event);
            let mut parts = bare.split('.');
            let (Some(dfm_name), Some(action)) = (parts.next(), parts.next()) else {
                continue;
            };
            if let Some(dfm) = dfms.by_name(dfm_name)
                && dfm.action(action).is_none()
            {
                problems.push(format!(
                    "event '{event}' at {} names no action of '{dfm_name}'",
                    element.pos
                ));
            }
        }
    }
    for child in &element.children {
        dfm_events(child, dfms, problems);
    }
}

#[test]
fn every_sample_flow_is_well_formed_and_consistent_with_the_dfm_files() {
    let dfms = dfms();
    let mut used = BTreeSet::new();
    for flow in FLOWS {
        let path = root_dir().join("scxml").join(format!("{flow}.scxml"));
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|err| panic!("{}: {err}", path.display()));
        let header = text.split("<scxml").next().unwrap_or_default();
        assert!(
            header.contains("<!--") && header.contains(flow),
            "{flow}: no header comment naming the flow"
        );

        let root =
            parse(&text).unwrap_or_else(|err| panic!("{flow}: {}: {}", err.pos, err.message));
        assert_eq!(root.name, "scxml", "{flow}");
        assert_eq!(
            root.attr("xmlns").map(|attr| attr.value.as_str()),
            Some(SCXML_NS),
            "{flow}"
        );
        assert_eq!(
            root.attr("name").map(|attr| attr.value.as_str()),
            Some(*flow),
            "{flow}"
        );

        let mut problems = Vec::new();
        check(&root, &BTreeMap::new(), &dfms, &mut used, &mut problems);
        dfm_events(&root, &dfms, &mut problems);

        let mut state_ids = Vec::new();
        ids(&root, &mut state_ids);
        let unique: BTreeSet<&String> = state_ids.iter().collect();
        assert_eq!(
            unique.len(),
            state_ids.len(),
            "{flow}: duplicate state ids in {state_ids:?}"
        );
        let mut refs = Vec::new();
        references(&root, &mut refs);
        for (id, at) in refs {
            if !unique.contains(&id) {
                problems.push(format!("{at}: no state '{id}'"));
            }
        }
        assert!(problems.is_empty(), "{flow}:\n{}", problems.join("\n"));
    }
    // Every DFM the flows rely on is exercised by at least one flow.
    for needed in [
        "gsgBasedServices:request-access",
        "gsgNotification:subscribe",
        "gsgNotification:publish",
        "gsgStorage:update",
        "yahoo_placefinder:query_location",
    ] {
        assert!(used.contains(needed), "no flow uses {needed}: {used:?}");
    }
}

#[test]
fn the_consistency_check_catches_mistakes() {
    let dfms = dfms();
    let text = r#"<scxml xmlns="http://www.w3.org/2005/07/scxml"
        xmlns:storage="http://www.genesyslab.com/modules/dfm/gsgStorage/v1"
        xmlns:queue="http://www.genesyslab.com/modules/queue">
      <state id="a"><onentry>
        <storage:explode id="'x'"/>
        <storage:read key="'k'"/>
        <queue:teleport/>
        <nonsense/>
      </onentry></state>
    </scxml>"#;
    let root = parse(text).unwrap();
    let mut problems = Vec::new();
    check(
        &root,
        &BTreeMap::new(),
        &dfms,
        &mut BTreeSet::new(),
        &mut problems,
    );
    let joined = problems.join("\n");
    assert!(joined.contains("declares no action 'explode'"), "{joined}");
    assert!(joined.contains("declares no attribute 'key'"), "{joined}");
    assert!(
        joined.contains("required attribute 'id' is missing"),
        "{joined}"
    );
    assert!(joined.contains("'teleport'"), "{joined}");
    assert!(
        joined.contains("<nonsense> at 8:9: not an SCXML element"),
        "{joined}"
    );
}

#[test]
fn every_sample_flow_passes_gms_validate_in_the_ors_dialect() {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_gms"));
    command.args(["validate", "--dialect", "ors"]);
    for flow in FLOWS {
        command.arg(root_dir().join("scxml").join(format!("{flow}.scxml")));
    }
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
