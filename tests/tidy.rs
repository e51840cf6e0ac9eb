//! Repository hygiene: every Rust file states what it owns, and the module seams of ARCHITECTURE.md hold.

use std::fs;
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("readable directory") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path);
        }
    }
}

fn sources(roots: &[&str]) -> Vec<PathBuf> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for root in roots {
        let dir = manifest.join(root);
        if dir.is_dir() {
            rust_files(&dir, &mut files);
        }
    }
    files.sort();
    files
}

#[test]
fn every_rust_file_starts_with_a_module_doc() {
    let missing: Vec<String> = sources(&["src", "tests", "benches", "fuzz/fuzz_targets"])
        .into_iter()
        .filter(|path| {
            let text = fs::read_to_string(path).expect("readable file");
            !text.trim_start().starts_with("//!")
        })
        .map(|path| path.display().to_string())
        .collect();
    assert!(
        missing.is_empty(),
        "files without a leading `//!` doc: {missing:#?}"
    );
}

#[test]
fn scxml_engine_stays_independent() {
    // The engine is the API boundary: no async runtime, HTTP, store or GMS configuration inside it.
    let forbidden = [
        "tokio",
        "axum",
        "reqwest",
        "crate::store",
        "crate::config",
        "crate::http",
        "crate::ors",
        "crate::services",
        "crate::notify",
    ];
    let mut offences = Vec::new();
    for path in sources(&["src/scxml"]) {
        let text = fs::read_to_string(&path).expect("readable file");
        for (idx, line) in text.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") {
                continue;
            }
            for name in forbidden {
                if code.contains(&format!("use {name}")) || code.contains(&format!("{name}::")) {
                    offences.push(format!("{}:{}: {}", path.display(), idx + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        offences.is_empty(),
        "src/scxml must not depend on: {offences:#?}"
    );
}

#[test]
fn only_http_and_cli_know_axum() {
    let mut offences = Vec::new();
    for path in sources(&["src"]) {
        let rel = path.to_string_lossy();
        if rel.contains("/src/http/") || rel.contains("/src/cli/") || rel.ends_with("/src/app.rs") {
            continue;
        }
        let text = fs::read_to_string(&path).expect("readable file");
        for (idx, line) in text.lines().enumerate() {
            if line.contains("axum::") || line.trim_start().starts_with("use axum") {
                offences.push(format!("{}:{}", path.display(), idx + 1));
            }
        }
    }
    assert!(
        offences.is_empty(),
        "axum outside src/http, src/cli and src/app.rs: {offences:#?}"
    );
}

/// The module path of a file under `src/` (`src/ors/modules/mod.rs` → `ors::modules`).
fn module_path(path: &Path) -> String {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let rel = path.strip_prefix(&manifest).unwrap_or(path);
    let mut parts: Vec<String> = rel
        .iter()
        .map(|part| part.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    if parts.last().is_some_and(|last| last == "mod") {
        parts.pop();
    }
    parts.join("::")
}

/// The files of `src/ors` and the files each names (`crate::ors::...`, `super::...`, a `mod.rs`'s own children).
fn ors_imports() -> (
    std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
    Vec<String>,
) {
    let files = sources(&["src/ors"]);
    let modules: std::collections::BTreeSet<String> =
        files.iter().map(|p| module_path(p)).collect();
    let mut graph = std::collections::BTreeMap::new();
    let mut offences = Vec::new();
    let ident = |text: &str| -> String {
        text.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
            .collect::<String>()
            .trim_end_matches(':')
            .to_string()
    };
    for path in &files {
        let me = module_path(path);
        if me == "ors" {
            // The layer's own mod.rs only declares the files and re-exports their items.
            continue;
        }
        let is_dir_module = path.ends_with("mod.rs");
        let parent = if is_dir_module {
            me.clone()
        } else {
            me.rsplit_once("::")
                .map_or(String::new(), |(parent, _)| parent.to_string())
        };
        let text = fs::read_to_string(path).expect("readable file");
        let mut names = std::collections::BTreeSet::new();
        for (idx, line) in text.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("#[cfg(test)]") {
                // Unit tests (at the end of a file) are not part of the structure.
                break;
            }
            if code.starts_with("//") {
                continue;
            }
            let mut targets = Vec::new();
            for (at, _) in code.match_indices("crate::ors::") {
                let rest = &code[at + "crate::ors::".len()..];
                if rest.starts_with('{') || rest.starts_with(|c: char| c.is_ascii_uppercase()) {
                    offences.push(format!("{}:{}: {}", path.display(), idx + 1, code));
                    continue;
                }
                targets.push(format!("ors::{}", ident(rest)));
            }
            for (at, _) in code.match_indices("super::") {
                let rest = &code[at + "super::".len()..];
                let base = parent.rsplit_once("::").map_or("", |(base, _)| base);
                let base = if is_dir_module {
                    base.to_string()
                } else {
                    parent.clone()
                };
                targets.push(format!("{base}::{}", ident(rest)));
            }
            if is_dir_module {
                // A folder's mod.rs names its own files by their bare name (`queue::Queue`).
                for child in modules
                    .iter()
                    .filter_map(|m| m.strip_prefix(&format!("{me}::")))
                {
                    let needle = format!("{child}::");
                    let named = code.match_indices(&needle).any(|(at, _)| {
                        !code[..at]
                            .ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':')
                    });
                    if named && !child.contains("::") {
                        targets.push(format!("{me}::{child}"));
                    }
                }
            }
            for target in targets {
                // The longest module path the reference starts with.
                let mut candidate = target.as_str();
                loop {
                    if modules.contains(candidate) {
                        if candidate != me {
                            names.insert(candidate.to_string());
                        }
                        break;
                    }
                    match candidate.rsplit_once("::") {
                        Some((shorter, _)) => candidate = shorter,
                        None => break,
                    }
                }
            }
        }
        graph.insert(me, names);
    }
    (graph, offences)
}

#[test]
fn ors_files_import_each_other_without_a_circle() {
    let (graph, offences) = ors_imports();
    assert!(
        offences.is_empty(),
        "inside src/ors, import by module path (crate::ors::runtime::Ors), not through the re-exports of \
         src/ors/mod.rs: {offences:#?}"
    );
    assert!(graph.len() > 10, "src/ors was not read: {graph:#?}");
    // Depth-first search; a file met again on the current path closes a circle.
    fn visit(
        node: &str,
        graph: &std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut std::collections::BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|seen| seen == node) {
            let mut circle = path[start..].to_vec();
            circle.push(node.to_string());
            return Some(circle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(circle) = visit(next, graph, path, done) {
                return Some(circle);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = std::collections::BTreeSet::new();
    for node in graph.keys() {
        if let Some(circle) = visit(node, &graph, &mut Vec::new(), &mut done) {
            panic!(
                "files of src/ors import each other in a circle: {}",
                circle.join(" → ")
            );
        }
    }
}

#[test]
fn the_circle_check_sees_a_circle() {
    // The check above must be able to fail: the graph it builds has the edges the code has.
    let (graph, _) = ors_imports();
    let edges = |from: &str| graph.get(from).cloned().unwrap_or_default();
    assert!(edges("ors::runtime").contains("ors::worker"), "{graph:#?}");
    assert!(edges("ors::worker").contains("ors::exchange"), "{graph:#?}");
    assert!(
        edges("ors::modules").contains("ors::modules::queue"),
        "{graph:#?}"
    );
    assert!(
        edges("ors::modules::queue").contains("ors::modules::contact"),
        "{graph:#?}"
    );
    assert!(
        edges("ors::exchange")
            .iter()
            .all(|to| to == "ors::documents"),
        "{graph:#?}"
    );
}

#[test]
fn shared_leaves_import_nothing_of_the_crate() {
    // Every layer may use these, the engine included, so they may use none of them.
    let mut offences = Vec::new();
    for leaf in ["src/clock.rs", "src/sync.rs", "src/media.rs", "src/xml.rs"] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(leaf);
        let text = fs::read_to_string(&path).expect("readable file");
        for (idx, line) in text.lines().enumerate() {
            let code = line.trim_start();
            if !code.starts_with("//")
                && (code.contains("crate::") || code.contains("super::super"))
            {
                offences.push(format!("{leaf}:{}: {}", idx + 1, line.trim()));
            }
        }
    }
    assert!(
        offences.is_empty(),
        "shared leaves import the crate: {offences:#?}"
    );
}
