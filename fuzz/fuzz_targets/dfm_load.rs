//! Fuzz target: any bytes given to the DFM loader give a DFM or a positioned error, never a panic; whatever loads
//! also builds a request for each of its actions without panicking.
//!
//! Positions are checked too: an error's line and column lie inside the text, and every element and attribute of
//! the XML stage points at where it is written (`<name` for an element, `name =` for an attribute).
//!
//! Run with `cargo fuzz run dfm_load` from the repository root (seed it as `fuzz/README.md` says).

#![no_main]

use gms::dfm::xml::{self, Pos, XmlElement};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// The text from `pos` to the end, or `None` when `pos` is outside `text`.
fn at(text: &str, pos: Pos) -> Option<&str> {
    let line = usize::try_from(pos.line).ok()?.checked_sub(1)?;
    let column = usize::try_from(pos.column).ok()?.checked_sub(1)?;
    let line_start = if line == 0 {
        0
    } else {
        text.match_indices('\n').nth(line - 1)?.0 + 1
    };
    let rest = &text[line_start..];
    let line_len = rest.find('\n').unwrap_or(rest.len());
    if column == rest[..line_len].chars().count() {
        return Some(&rest[line_len..]);
    }
    rest[..line_len]
        .char_indices()
        .nth(column)
        .map(|(byte, _)| &rest[byte..])
}

fn check_positions(text: &str, element: &XmlElement) {
    let found = at(text, element.pos);
    assert!(
        found.is_some_and(|rest| rest
            .strip_prefix('<')
            .is_some_and(|rest| rest.starts_with(&element.name))),
        "element <{}> at {} points at {found:?}",
        element.name,
        element.pos
    );
    for attr in &element.attrs {
        let found = at(text, attr.pos);
        assert!(
            found.is_some_and(|rest| rest
                .strip_prefix(attr.name.as_str())
                .is_some_and(|rest| rest.trim_start().starts_with('='))),
            "attribute '{}' of <{}> at {} points at {found:?}",
            attr.name,
            element.name,
            attr.pos
        );
    }
    for child in &element.children {
        check_positions(text, child);
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(root) = xml::parse(text) {
        check_positions(text, &root);
    }
    match gms::dfm::load_str(text, "fuzz.txt") {
        Ok(dfm) => {
            for (name, action) in &dfm.actions {
                let transport = dfm
                    .transport_of(action)
                    .expect("the loader checks transports");
                assert!(
                    dfm.connection_of(transport).is_some(),
                    "the loader checks connections"
                );
                let _ = gms::dfm::build_request(&dfm, name, &Default::default());
                for value in [
                    Value::from("a/b?c=d&e=${f} é"),
                    Value::from(-1.5),
                    Value::from(true),
                ] {
                    let values = action
                        .attributes
                        .iter()
                        .map(|attribute| (attribute.name.clone(), value.clone()))
                        .collect();
                    let _ = gms::dfm::build_request(&dfm, name, &values);
                }
            }
        }
        Err(err) => {
            let pos = err.pos.expect("a load error from text has a position");
            assert!(
                at(text, pos).is_some(),
                "error position {pos} is outside the text: {err}"
            );
        }
    }
});
