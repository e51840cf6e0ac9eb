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
