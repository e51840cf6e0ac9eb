//! Option files end to end: the sample file wires every builtin service and a resource group, the seed's resource
//! list example loads unchanged, and `gms serve` refuses a bad file with `file:line` and a sentence.

use std::path::Path;
use std::process::Command;

use gms::config::{AllocationStrategy, GmsConfig};

#[test]
fn sample_options_wire_every_builtin_service() {
    let config =
        GmsConfig::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/gms.ini")).unwrap();
    assert!(config.warnings.is_empty(), "{:?}", config.warnings);
    assert_eq!(config.server.node_id, 1);
    for (name, builtin) in [
        ("request-interaction", "request-interaction"),
        ("match-interaction", "match-interaction"),
        ("request-access", "request-access"),
        ("request-chat", "request-chat"),
    ] {
        let service = config.service(name).unwrap();
        assert_eq!(service.kind, "builtin");
        assert_eq!(service.service, builtin);
    }
    let group = &config.resources.groups["Dnis_Pool"];
    assert_eq!(group.strategy, AllocationStrategy::Local);
    assert_eq!(group.resources.len(), 3);
    // Application sections of other areas are not resource groups.
    let groups: Vec<&String> = config.resources.groups.keys().collect();
    assert_eq!(groups, ["Dnis_Pool"]);
    // The push section is left raw for the notification module to type.
    let push = config.raw().section("push").unwrap();
    let line =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/gms.ini"))
            .unwrap()
            .lines()
            .position(|line| line.starts_with("pushEnabled"))
            .unwrap()
            + 1;
    assert!(
        push.get("pushEnabled")
            .unwrap()
            .location
            .to_string()
            .ends_with(&format!("gms.ini:{line}"))
    );
}

#[test]
fn seed_resource_list_example_loads_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("seed.ini");
    std::fs::write(
        &path,
        "[server]\nnode_id = 42\n\n[Dnis_Pool]\n_allocation_strategy = LOCAL\n_booking_expiration_timeout = 20\ndnis1 = 1-888-call-me1\ndnis2 = 1-888-call-me2\ndnis3 = 1-888-call-me3\n",
    )
    .unwrap();
    let config = GmsConfig::load(&path).unwrap();
    let group = &config.resources.groups["Dnis_Pool"];
    assert_eq!(group.booking_expiration.as_secs(), 20);
    assert_eq!(
        *group.resources,
        ["1-888-call-me1", "1-888-call-me2", "1-888-call-me3"]
    );
    assert_eq!(config.resources.list_name, "GMS_Resources");
}

#[test]
fn serve_refuses_a_bad_file_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.ini");
    std::fs::write(
        &path,
        "[server]\nnode_id = 01\nweb_port = eighty\n[service.x]\ntype = builtin\n\
         [service.y]\ntype = builtin\nservice = request-interactoin\n",
    )
    .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_gms"))
        .args(["serve", "--data-dir"])
        .arg(dir.path().join("data"))
        .arg("--config")
        .arg(&path)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("bad.ini:3: option `web_port` must be an integer, found `eighty`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("bad.ini:4: option `service` is mandatory in section `service.x`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("bad.ini:6: service `y` names builtin `request-interactoin`"),
        "{stderr}"
    );
    let missing = Command::new(env!("CARGO_BIN_EXE_gms"))
        .args(["serve", "--config", "/nonexistent/gms.ini"])
        .output()
        .unwrap();
    assert!(!missing.status.success());
    assert!(
        String::from_utf8_lossy(&missing.stderr)
            .contains("cannot read option file /nonexistent/gms.ini")
    );
}

#[test]
fn a_byte_order_mark_opens_the_file_and_nothing_else() {
    let path = std::path::Path::new("bom.ini");
    for text in [
        "\u{feff}[server]\nnode_id = 07\n",
        "\u{feff} [server]\nnode_id = 07\n",
        "\u{feff}\n[server]\nnode_id = 07\n",
    ] {
        let raw = gms::config::RawConfig::parse(path, text).unwrap();
        let config = gms::config::GmsConfig::from_raw(raw).unwrap();
        assert_eq!(config.server.node_id, 7, "{text:?}");
    }
}
