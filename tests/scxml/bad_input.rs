//! Broken documents and their positioned errors; deep nesting and very large documents.

use gms::scxml::{self, NoHost, Session, SessionOptions};

const NS: &str = r#"xmlns="http://www.w3.org/2005/07/scxml""#;

/// Parses `doc` and returns its errors as `line:column: sentence` lines.
fn errors(doc: &str) -> Vec<String> {
    match scxml::parse_str(doc) {
        Ok(_) => Vec::new(),
        Err(errors) => errors
            .0
            .iter()
            .map(|error| format!("{}: {}", error.pos, error.message))
            .collect(),
    }
}

#[test]
fn broken_documents_get_positioned_errors() {
    let cases: &[(&str, &[&str])] = &[
        ("", &["1:1: the document has no root element."]),
        ("hello", &["1:1: text appears outside the root element."]),
        (
            "<a></b>",
            &[
                "1:4: the document is not well-formed XML: ill-formed document: expected `</a>`, but `</b>` was found.",
            ],
        ),
        (
            "<scxml xmlns=\"http://www.w3.org/2005/07/scxml\">\n  <state id=\"a\">\n",
            &["3:1: the document ends before `<state>` is closed."],
        ),
        (
            "<scxml/>",
            &[
                "1:1: the root element must be <scxml> in namespace http://www.w3.org/2005/07/scxml, not <scxml>.",
                "1:1: <scxml> must hold at least one <state>, <parallel> or <final>.",
            ],
        ),
        (
            &format!(
                "<scxml {NS}>\n<state id=\"a\">\n  <transition target=\"nowhere\"/>\n</state>\n</scxml>"
            ),
            &["3:3: the target \"nowhere\" is not the id of any state."],
        ),
        (
            &format!("<scxml {NS}><state id=\"a\"/>\n<final id=\"a\"/></scxml>"),
            &["2:1: the id \"a\" is used by another state."],
        ),
        (
            &format!("<scxml {NS}><stat id=\"a\"/><state/></scxml>"),
            &["1:48: <stat> is not allowed inside <scxml>."],
        ),
        (
            &format!(
                "<scxml {NS}><state id=\"a\" initial=\"b\"><state id=\"c\"/></state><state id=\"b\"/></scxml>"
            ),
            &["1:48: the initial state \"b\" is not a descendant of \"a\"."],
        ),
        (
            &format!("<scxml {NS} datamodel=\"xpath\"><state/></scxml>"),
            &["1:1: the datamodel \"xpath\" is not supported (use \"ecmascript\" or \"null\")."],
        ),
        (
            &format!(
                "<scxml {NS}><state><transition type=\"sideways\" target=\"x\"/></state><final id=\"x\"/></scxml>"
            ),
            &[
                "1:55: `type` of <transition> must be \"internal\" or \"external\", not \"sideways\".",
            ],
        ),
        (
            &format!(
                "<scxml {NS}><state><onentry><send delay=\"soon\"/></onentry></state></scxml>"
            ),
            &["1:64: `delay=\"soon\"` is not a CSS2 duration such as \"2s\" or \"500ms\"."],
        ),
        (
            &format!(
                "<scxml {NS}><state><onentry><script src=\"file:does-not-exist.js\"/></onentry></state></scxml>"
            ),
            &[
                "1:64: `src=\"file:does-not-exist.js\"` cannot be loaded: No such file or directory (os error 2).",
            ],
        ),
        (
            &format!("<scxml {NS}><state><onentry><bogus/></onentry></state></scxml>"),
            &["1:64: <bogus> is not executable content."],
        ),
        (
            &format!("<scxml {NS}><state><history id=\"h\"/><state id=\"x\"/></state></scxml>"),
            &["1:55: a <history> must hold exactly one <transition> (its default)."],
        ),
        (
            &format!("<scxml {NS}><state><onentry><x:y/></onentry></state></scxml>"),
            &["1:64: the namespace prefix `x` of `<x:y>` is not declared."],
        ),
        (
            &format!(
                "<scxml {NS}><state><onentry><log expr=\"&bogus;\"/></onentry></state></scxml>"
            ),
            &["1:64: bad attribute value in `<log>`: at 1..6: unrecognized entity `bogus`."],
        ),
    ];
    for (doc, expected) in cases {
        assert_eq!(errors(doc), *expected, "for document {doc:?}");
    }
}

#[test]
fn file_errors_name_the_file() {
    let dir = std::env::temp_dir().join(format!("gms-bad-input-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("broken.scxml");
    std::fs::write(
        &path,
        format!("<scxml {NS}>\n<state id=\"a\"><transition target=\"b\"/></state></scxml>"),
    )
    .unwrap();
    let errors = scxml::parse_file(&path).unwrap_err();
    assert_eq!(
        errors.to_string(),
        format!(
            "{}:2:15: the target \"b\" is not the id of any state.",
            path.display()
        )
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn ten_thousand_levels_of_nesting_are_rejected_without_overflow() {
    let depth = 10_000;
    let mut doc = format!("<scxml {NS}>");
    for level in 0..depth {
        doc.push_str(&format!("<state id=\"s{level}\">"));
    }
    for _ in 0..depth {
        doc.push_str("</state>");
    }
    doc.push_str("</scxml>");
    let errors = errors(&doc);
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].ends_with("elements nest deeper than 200 levels."),
        "{errors:?}"
    );

    // Foreign elements nest just as deep inside executable content.
    let mut doc = format!("<scxml {NS} xmlns:x=\"urn:x\"><state><onentry>");
    doc.push_str(&"<x:a>".repeat(depth));
    doc.push_str(&"</x:a>".repeat(depth));
    doc.push_str("</onentry></state></scxml>");
    let nested = self::errors(&doc);
    assert_eq!(nested.len(), 1);
    assert!(
        nested[0].ends_with("elements nest deeper than 200 levels."),
        "{nested:?}"
    );
}

#[test]
fn a_ten_megabyte_document_parses_and_runs() {
    // One long line on purpose: positions must not be recomputed from the line start each time.
    let mut doc = format!("<scxml {NS} datamodel=\"null\"><state id=\"s0\">");
    let mut n_states = 0;
    while doc.len() < 10 * 1024 * 1024 {
        doc.push_str(&format!(
            "<state id=\"s{n_states}x\"><onentry><log label=\"entered\"/></onentry><transition event=\"e{n_states}\" target=\"s{n_states}x\"/></state>"
        ));
        n_states += 1;
    }
    doc.push_str("</state></scxml>");
    let model = scxml::parse_str(&doc).expect("valid");
    assert_eq!(model.states.len(), n_states + 2);
    let mut session = Session::new(model, SessionOptions::default());
    session.start(&mut NoHost);
    assert_eq!(session.atomic_configuration(), vec!["s0x"]);

    // An error at the very end of the long line still gets its column.
    let broken = doc.replace("</state></scxml>", "</state><oops/></scxml>");
    let errors = errors(&broken);
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].contains("<oops> is not allowed inside <scxml>."),
        "{errors:?}"
    );
}

#[test]
fn garbage_never_panics() {
    // A few shapes the fuzzer found interesting; `fuzz/` runs the same entry point on random input.
    let inputs = [
        "<",
        "<?xml",
        "<!--",
        "<![CDATA[",
        "<scxml",
        "<scxml xmlns=\"http://www.w3.org/2005/07/scxml\"><",
        "&#0;",
        "<a b='&#xFFFFFFFF;'/>",
        "<a>&#x110000;</a>",
        "\u{feff}<a/>",
        "<a:b xmlns:a=''/>",
    ];
    for input in inputs {
        let _ = scxml::parse_str(input);
    }
}

/// A small deterministic generator (xorshift), so the mutations are the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self, bound: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % bound.max(1) as u64) as usize
    }
}

#[test]
fn mutated_conformance_documents_never_panic() {
    use gms::scxml::datamodel::ecmascript::{EcmaScriptRuntime, ScriptLimits};
    let limits = ScriptLimits {
        loop_iterations: 10_000,
        recursion: 100,
    };
    let options = SessionOptions {
        max_microsteps: 1_000,
        script_limits: limits,
        ecmascript: Some(EcmaScriptRuntime::new(limits, None)),
        ..SessionOptions::default()
    };
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/w3c");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "scxml"))
        .collect();
    files.sort();
    let pieces = [
        "<",
        ">",
        "\"",
        "/>",
        "</state>",
        "<state id=\"x\">",
        "&",
        "]]>",
        "target=\"x\"",
        "\u{0}",
    ];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut n_parsed = 0;
    for path in files {
        let original = std::fs::read_to_string(&path).unwrap();
        for _ in 0..8 {
            let mut text = original.clone();
            let at = rng.next(text.len());
            let at = (0..=at)
                .rev()
                .find(|&idx| text.is_char_boundary(idx))
                .unwrap_or(0);
            match rng.next(3) {
                0 => text.truncate(at),
                1 => text.insert_str(at, pieces[rng.next(pieces.len())]),
                _ => {
                    let end = (at + 1 + rng.next(40)).min(text.len());
                    let end = (end..=text.len())
                        .find(|&idx| text.is_char_boundary(idx))
                        .unwrap_or(text.len());
                    text.replace_range(at..end, "");
                }
            }
            let source = gms::scxml::parse::Source {
                name: path.display().to_string(),
                file: Some(path.clone()),
                dialect: gms::scxml::parse::Dialect::W3c,
            };
            let Ok(model) = gms::scxml::parse::parse_source(&text, &source) else {
                continue;
            };
            n_parsed += 1;
            let mut session = Session::new(model, options.clone());
            session.start(&mut NoHost);
            session.feed(gms::scxml::Event::external("t1"), &mut NoHost);
            if let Some(due) = session.next_timer() {
                session.advance(due, &mut NoHost);
            }
        }
    }
    assert!(
        n_parsed > 100,
        "mutations should leave many documents valid, got {n_parsed}"
    );
}
