//! Fuzz target: any bytes given to the option-file reader (as lossy UTF-8) give sections or a `file:line` syntax
//! error, never a panic; whatever reads is typed into a `GmsConfig` (or `file:line` diagnostics), and a typed
//! configuration also feeds the sections other modules type from it: `push` / `push.provider.*`
//! (`notify::PushConfig`), `[ors]` / `[dfm]` (`ors::config::OrsSection`) and `[contact_center]`
//! (`ors::node::sim_options`).
//!
//! Run with `cargo fuzz run config_parse` from the repository root (seed it as `fuzz/README.md` says).

#![no_main]

use std::path::Path;

use gms::config::{GmsConfig, RawConfig};
use gms::notify::PushConfig;
use gms::notify::config::{ChannelKind, DeliveryType};
use gms::ors::config::OrsSection;
use libfuzzer_sys::fuzz_target;

const FILE: &str = "fuzz.ini";

/// Every line of `diagnostics` starts with `fuzz.ini:LINE: ` where LINE is a line of `text` (or 1 for an empty file).
fn assert_positioned(text: &str, diagnostics: &str) {
    let lines = text.lines().count().max(1);
    for diagnostic in diagnostics.lines() {
        let line = diagnostic
            .strip_prefix("fuzz.ini:")
            .and_then(|rest| rest.split_once(": "))
            .and_then(|(line, _)| line.parse::<usize>().ok());
        assert!(
            line.is_some_and(|line| (1..=lines).contains(&line)),
            "diagnostic without a `file:line` of the file: {diagnostic:?}"
        );
    }
}

/// Every section and option read points at the line it was read from.
fn assert_located(text: &str, raw: &RawConfig) {
    let lines: Vec<&str> = text.lines().collect();
    let line_of = |line: usize| lines.get(line.wrapping_sub(1)).copied().unwrap_or_default();
    for section in &raw.sections {
        let header = line_of(section.location.line);
        assert!(
            header.contains('[') && header.contains(section.name.as_str()),
            "section `{}` at {} points at {header:?}",
            section.name,
            section.location
        );
        for option in &section.options {
            let line = line_of(option.location.line);
            assert!(
                line.contains(option.name.as_str()) && line.contains(option.value.as_str()),
                "option `{}` at {} points at {line:?}",
                option.name,
                option.location
            );
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let raw = match RawConfig::parse(Path::new(FILE), &text) {
        Ok(raw) => raw,
        Err(error) => {
            assert_positioned(&text, &error.to_string());
            return;
        }
    };
    assert_located(&text, &raw);
    // The `push` sections are typed from the raw file even when the rest of it is rejected.
    let push = PushConfig::from_raw(&raw);
    let config = match GmsConfig::from_raw(raw) {
        Ok(config) => config,
        Err(error) => {
            assert_positioned(&text, &error.to_string());
            return;
        }
    };
    for warning in &config.warnings {
        assert_positioned(&text, &warning.to_string());
    }
    assert_eq!(push, PushConfig::from_raw(config.raw()));
    for provider in push.providers.keys() {
        for kind in [
            DeliveryType::Android,
            DeliveryType::Ios,
            DeliveryType::Httpcb,
            DeliveryType::Orscb,
            DeliveryType::Comet,
        ] {
            for channel in [ChannelKind::Production, ChannelKind::Debug] {
                let _ = push.channel(provider, kind, channel);
            }
        }
        for tag in ["", "a", "a.b", "event"] {
            let _ = push.format_for(provider, tag);
        }
    }
    let ors = OrsSection::from_config(&config);
    for warning in &ors.warnings {
        assert_positioned(&text, warning);
    }
    let (_, warnings) = gms::ors::node::sim_options(&config);
    for warning in &warnings {
        assert_positioned(&text, warning);
    }
});
