//! README.md's commands for flow authors, run as written: every command of the `sh` blocks under "For flow authors"
//! runs in the repository root with this build's binary and exits 0, and `w3c --json` reports every mandatory test
//! passed. `cargo run --release --` stands for the binary, the placeholder `CHART.scxml` for a small chart of
//! tests/charts, and globs are expanded here as the shell would. What each command prints is checked in
//! tests/scxml/cli.rs and tests/flows/gms_run.rs; this file keeps the README's own lines working.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What README writes for "this build's binary".
const CARGO_RUN: &str = "cargo run --release --";
/// README's placeholder for a chart, and the chart that stands in for it (it settles at once, with no event).
const CHART: (&str, &str) = ("CHART.scxml", "tests/charts/done_state.scxml");
/// The section whose `sh` blocks are run.
const SECTION: &str = "## For flow authors";
/// The longest one command may take before it is killed (the slowest, the W3C suite, takes about a second).
const TIMEOUT: Duration = Duration::from_secs(120);

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The commands of the `sh` blocks of [`SECTION`]: continuation lines joined, comments dropped.
fn readme_commands() -> Vec<String> {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md reads");
    let section: Vec<&str> = readme
        .lines()
        .skip_while(|line| line.trim_end() != SECTION)
        .skip(1)
        .take_while(|line| !line.starts_with("## "))
        .collect();
    assert!(!section.is_empty(), "README.md has no section `{SECTION}`");
    let mut commands = Vec::new();
    let mut in_sh = false;
    let mut pending = String::new();
    for line in section {
        let fence = line.trim_start();
        if fence.starts_with("```") {
            in_sh = !in_sh && fence == "```sh";
            continue;
        }
        if !in_sh {
            continue;
        }
        let code = strip_comment(line).trim();
        match code.strip_suffix('\\') {
            Some(head) => {
                pending.push_str(head.trim_end());
                pending.push(' ');
            }
            None => {
                pending.push_str(code);
                if !pending.trim().is_empty() {
                    commands.push(pending.trim().to_string());
                }
                pending.clear();
            }
        }
    }
    commands
}

/// `line` up to a `#` that starts a shell comment (at the start of a word, outside quotes).
fn strip_comment(line: &str) -> &str {
    let mut quote = None;
    let mut previous = ' ';
    for (at, ch) in line.char_indices() {
        match (quote, ch) {
            (Some(open), _) if ch == open => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(ch),
            (None, '#') if previous.is_whitespace() => return &line[..at],
            (None, _) => {}
        }
        previous = ch;
    }
    line
}

/// The words of a simple command as sh splits them: white space separates, quotes group and are removed.
fn words(command: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut quote = None;
    for ch in command.chars() {
        match (quote, ch) {
            (Some(open), _) if ch == open => quote = None,
            (Some(_), _) => word.get_or_insert_default().push(ch),
            (None, '\'' | '"') => {
                quote = Some(ch);
                word.get_or_insert_default();
            }
            (None, _) if ch.is_whitespace() => words.extend(word.take()),
            (None, _) => word.get_or_insert_default().push(ch),
        }
    }
    words.extend(word);
    words
}

/// Whether `name` matches a glob of `*` (any run of characters) and literal characters.
fn matches(glob: &str, name: &str) -> bool {
    match glob.split_once('*') {
        None => glob == name,
        Some((head, tail)) => {
            let Some(rest) = name.strip_prefix(head) else {
                return false;
            };
            (0..=rest.len())
                .filter(|&at| rest.is_char_boundary(at))
                .any(|at| matches(tail, &rest[at..]))
        }
    }
}

/// The files a word names, as sh expands it in the repository root: a `*` in its last component lists the matching
/// names of that folder in byte order. A word without `*` stands for itself.
fn expand(word: &str) -> Vec<String> {
    if !word.contains('*') {
        return vec![word.to_string()];
    }
    let (dir, glob) = word.rsplit_once('/').unwrap_or(("", word));
    assert!(
        !dir.contains('*'),
        "{word}: only the last component may hold a `*`"
    );
    let mut names: Vec<String> = std::fs::read_dir(root().join(dir))
        .unwrap_or_else(|error| panic!("{word}: {error}"))
        .map(|entry| entry.expect("directory entry").file_name())
        .filter_map(|name| name.into_string().ok())
        .filter(|name| !name.starts_with('.') && matches(glob, name))
        .collect();
    names.sort();
    assert!(!names.is_empty(), "{word} matches no file");
    names
        .into_iter()
        .map(|name| match dir {
            "" => name,
            dir => format!("{dir}/{name}"),
        })
        .collect()
}

/// The arguments of the binary for one README command.
fn arguments(command: &str) -> Vec<String> {
    let rest = command
        .strip_prefix(CARGO_RUN)
        .unwrap_or_else(|| panic!("README command does not start with `{CARGO_RUN}`: {command}"));
    words(rest)
        .iter()
        .map(|word| {
            if word == CHART.0 {
                CHART.1
            } else {
                word.as_str()
            }
        })
        .flat_map(expand)
        .collect()
}

/// What a finished command left.
struct Finished {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs the binary with `args` in the repository root, killed after [`TIMEOUT`].
fn run(args: &[String]) -> Finished {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gms"))
        .args(args)
        .current_dir(root())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("gms starts");
    // Readers on threads, so that a command printing more than a pipe holds does not block.
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_string(&mut text);
            }
            text
        })
    };
    let stdout = drain(child.stdout.take().map(|pipe| Box::new(pipe) as _));
    let stderr = drain(child.stderr.take().map(|pipe| Box::new(pipe) as _));
    let started = Instant::now();
    let code = loop {
        if let Some(status) = child.try_wait().expect("gms can be waited for") {
            break status.code();
        }
        if started.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Finished {
        code,
        stdout: stdout.join().expect("stdout reader"),
        stderr: stderr.join().expect("stderr reader"),
    }
}

#[test]
fn readme_commands_for_flow_authors_run_as_written() {
    let commands = readme_commands();
    let subcommands: Vec<String> = commands
        .iter()
        .filter_map(|command| arguments(command).into_iter().next())
        .collect();
    for documented in ["validate", "run", "w3c", "test", "diagram"] {
        assert!(
            subcommands.iter().any(|name| name == documented),
            "README's `{SECTION}` no longer shows `{documented}`: {commands:#?}"
        );
    }
    let mut failures = Vec::new();
    for command in &commands {
        let args = arguments(command);
        let finished = run(&args);
        let shown = format!("`{command}` ran as `gms {}`", args.join(" "));
        match finished.code {
            Some(0) => {}
            Some(code) => failures.push(format!(
                "{shown}: exit {code}\n{}{}",
                finished.stdout, finished.stderr
            )),
            None => failures.push(format!("{shown}: killed after {TIMEOUT:?} or by a signal")),
        }
        if args.first().is_some_and(|name| name == "w3c") && args.iter().any(|arg| arg == "--json")
        {
            let summary: Option<serde_json::Value> = finished
                .stdout
                .lines()
                .last()
                .and_then(|line| serde_json::from_str(line).ok());
            let mandatory = summary.as_ref().map(|summary| &summary["mandatory"]);
            let all_pass = mandatory.is_some_and(|mandatory| {
                mandatory["total"].as_u64().is_some_and(|total| total > 0)
                    && mandatory["pass"] == mandatory["total"]
            });
            if !all_pass {
                failures.push(format!(
                    "{shown}: the mandatory tests do not all pass: {mandatory:?}"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn commands_are_read_as_the_shell_reads_them() {
    assert_eq!(
        strip_comment("gms validate a.scxml   # exit 1 on 'any'"),
        "gms validate a.scxml   "
    );
    assert_eq!(strip_comment("echo 'a # b'#c"), "echo 'a # b'#c");
    assert_eq!(
        words("run x.scxml --param 'a=b c'  --param \"d=e\""),
        ["run", "x.scxml", "--param", "a=b c", "--param", "d=e"]
    );
    assert!(matches("*.scxml", "a.scxml") && matches("req*-delay*", "request-inbound-delay.scxml"));
    assert!(!matches("*.scxml", "README.md") && !matches("a*", "ba"));
    let flows = expand("scxml/*.scxml");
    assert!(flows.len() > 1 && flows.is_sorted(), "{flows:?}");
    assert!(
        flows
            .iter()
            .all(|flow| flow.starts_with("scxml/") && flow.ends_with(".scxml"))
    );
}
