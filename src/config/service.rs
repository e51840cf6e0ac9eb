//! `service.NAME` sections: one per service exposed at `/genesys/1/service/NAME`. Changes take effect immediately.
//!
//! Both the 8.1 spellings (`type`, `service`, `ors`, `resource_group`, ...) and the 8.5 ones with a leading
//! underscore (`_type`, `_service`, ...) are accepted. Every option of the section overrides the request parameter
//! of the same name (`provide_code` overrides `_provide_code`), except `_booking_expiration_timeout`, where the
//! request wins, as the option's description says.

use std::collections::BTreeMap;
use std::time::Duration;

use super::raw::{Location, RawSection};
use super::value::{self, Diagnostic};

/// Typed `service.NAME` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceConfig {
    /// NAME, the part after `service.`.
    pub name: String,
    /// `type`: `builtin`, `ors`, or another kind registered by a module.
    pub kind: String,
    /// `service`: the builtin's name, or the URL of the SCXML application.
    pub service: String,
    /// `ors`: the ORS address overriding the ORS connections.
    pub ors: Option<String>,
    /// `ttl`, seconds (how long the service and its data live).
    pub ttl: Option<Duration>,
    /// `resource_group`.
    pub resource_group: Option<String>,
    /// `provide_code`.
    pub provide_code: Option<bool>,
    /// `access_code_length` (3..=12 digits, the first two are the node id).
    pub access_code_length: Option<u32>,
    /// `delete_match`.
    pub delete_match: Option<bool>,
    /// `_booking_expiration_timeout`, 5..=1800 seconds.
    pub booking_expiration_timeout: Option<Duration>,
    /// Every option as request parameters: `_NAME = value` for each option `NAME` or `_NAME`, in the spelling
    /// a request uses. Applied over the request's own parameters.
    pub overrides: BTreeMap<String, String>,
    /// Where the section starts.
    pub location: Location,
}

/// Inclusive bounds of `_booking_expiration_timeout` (seconds).
pub const BOOKING_TIMEOUT_RANGE: (u64, u64) = (5, 1800);

impl ServiceConfig {
    /// Types one `service.NAME` section.
    pub fn from_raw(section: &RawSection, errors: &mut Vec<Diagnostic>) -> Option<ServiceConfig> {
        let name = section.name.strip_prefix("service.")?.to_string();
        let before = errors.len();
        let mandatory = |option: &str, errors: &mut Vec<Diagnostic>| match section
            .get_any(&[option, &format!("_{option}")])
        {
            Some(found) if !found.value.is_empty() => Some(found.value.clone()),
            _ => {
                errors.push(Diagnostic {
                    location: section.location.clone(),
                    message: format!(
                        "option `{option}` is mandatory in section `{}`",
                        section.name
                    ),
                });
                None
            }
        };
        let kind = mandatory("type", errors);
        let service = mandatory("service", errors);
        let get = |option: &str| section.get_any(&[option, &format!("_{option}")]);
        let mut ttl = None;
        if let Some(option) = get("ttl") {
            match value::seconds(option, 1, 31_536_000) {
                Ok(v) => ttl = Some(v),
                Err(diagnostic) => errors.push(diagnostic),
            }
        }
        let mut provide_code = None;
        if let Some(option) = get("provide_code") {
            match value::boolean(option) {
                Ok(v) => provide_code = Some(v),
                Err(diagnostic) => errors.push(diagnostic),
            }
        }
        let mut delete_match = None;
        if let Some(option) = get("delete_match") {
            match value::boolean(option) {
                Ok(v) => delete_match = Some(v),
                Err(diagnostic) => errors.push(diagnostic),
            }
        }
        let mut access_code_length = None;
        if let Some(option) = get("access_code_length") {
            match value::integer(option, 3u32, 12) {
                Ok(v) => access_code_length = Some(v),
                Err(diagnostic) => errors.push(diagnostic),
            }
        }
        let mut booking_expiration_timeout = None;
        if let Some(option) = get("booking_expiration_timeout") {
            let (min, max) = BOOKING_TIMEOUT_RANGE;
            match value::seconds(option, min, max) {
                Ok(v) => booking_expiration_timeout = Some(v),
                Err(diagnostic) => errors.push(diagnostic),
            }
        }
        let resource_group = get("resource_group")
            .map(|option| option.value.clone())
            .filter(|v| !v.is_empty());
        let ors = get("ors")
            .map(|option| option.value.clone())
            .filter(|v| !v.is_empty());
        let overrides = section
            .options
            .iter()
            .filter(|option| !option.name.starts_with('#'))
            .map(|option| {
                (
                    format!("_{}", option.name.trim_start_matches('_')),
                    option.value.clone(),
                )
            })
            .filter(|(name, _)| {
                !matches!(
                    name.as_str(),
                    "_type" | "_service" | "_ors" | "_booking_expiration_timeout"
                )
            })
            .collect();
        if errors.len() > before {
            return None;
        }
        Some(ServiceConfig {
            name,
            kind: kind?,
            service: service?,
            ors,
            ttl,
            resource_group,
            provide_code,
            access_code_length,
            delete_match,
            booking_expiration_timeout,
            overrides,
            location: section.location.clone(),
        })
    }
}
