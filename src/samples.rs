//! The sample option file, flows and DFM files compiled into the binary, so `gms serve` with no option file works
//! from any working directory: a relative `scxml/...` or `dfm/...` path that is not found on disk falls back to
//! the built-in copy of the file with that path (a file on disk always wins, so a flow author's edits apply).

/// `samples/gms.ini`: the options `gms serve` uses when given no file.
pub const OPTIONS: &str = include_str!("../samples/gms.ini");

/// Every built-in file, by its path relative to the repository root.
const FILES: &[(&str, &str)] = &[
    (
        "scxml/request-inbound-immediate.scxml",
        include_str!("../scxml/request-inbound-immediate.scxml"),
    ),
    (
        "scxml/request-inbound-delay.scxml",
        include_str!("../scxml/request-inbound-delay.scxml"),
    ),
    (
        "scxml/request-inbound-poll.scxml",
        include_str!("../scxml/request-inbound-poll.scxml"),
    ),
    (
        "scxml/request-inbound-delay-location.scxml",
        include_str!("../scxml/request-inbound-delay-location.scxml"),
    ),
    (
        "scxml/request-outbound-immediate.scxml",
        include_str!("../scxml/request-outbound-immediate.scxml"),
    ),
    (
        "scxml/request-outbound-delay.scxml",
        include_str!("../scxml/request-outbound-delay.scxml"),
    ),
    (
        "scxml/request-outbound-poll.scxml",
        include_str!("../scxml/request-outbound-poll.scxml"),
    ),
    (
        "scxml/request-chat-poll.scxml",
        include_str!("../scxml/request-chat-poll.scxml"),
    ),
    (
        "dfm/cfg_GSG_storage.txt",
        include_str!("../dfm/cfg_GSG_storage.txt"),
    ),
    (
        "dfm/cfg_GSG_notification.txt",
        include_str!("../dfm/cfg_GSG_notification.txt"),
    ),
    (
        "dfm/cfg_GSG_base_services.txt",
        include_str!("../dfm/cfg_GSG_base_services.txt"),
    ),
    (
        "dfm/cfg_GSG_geocoding.txt",
        include_str!("../dfm/cfg_GSG_geocoding.txt"),
    ),
];

/// The built-in copy of the file at `relative` (`scxml/request-inbound-immediate.scxml`, `./dfm/...`), if any.
pub fn file(relative: &str) -> Option<&'static str> {
    let relative = relative.trim_start_matches("./");
    FILES
        .iter()
        .find(|(path, _)| *path == relative)
        .map(|(_, text)| *text)
}

/// The paths of every built-in file.
pub fn paths() -> impl Iterator<Item = &'static str> {
    FILES.iter().map(|(path, _)| *path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_flow_and_dfm_file_of_the_repository_is_built_in() {
        for dir in ["scxml", "dfm"] {
            let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
            for entry in std::fs::read_dir(root.join(dir)).unwrap() {
                let name = entry.unwrap().file_name().into_string().unwrap();
                if name.ends_with(".scxml") || name.starts_with("cfg_GSG_") {
                    let path = format!("{dir}/{name}");
                    assert!(file(&path).is_some(), "{path} is not built in");
                }
            }
        }
        assert_eq!(
            file("./scxml/request-chat-poll.scxml").map(str::is_empty),
            Some(false)
        );
        assert_eq!(file("scxml/nope.scxml"), None);
        assert_eq!(paths().count(), FILES.len());
    }
}
