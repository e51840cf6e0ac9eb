//! The `resources` section and the resource list it names (`resources_list_name`, default `GMS_Resources`):
//! one group per Annex section with `_allocation_strategy`, `_booking_expiration_time`, `_backup_resource`,
//! and entries = every key not starting with `#` or `_`. Changes take effect immediately.
//!
//! In an option file the list's sections sit next to the Application's: every section that is not an
//! Application section (`gms`, `push`, `push.*`, `resources`, `server`, `chat`, `log`, `service.*`) is a group,
//! and so is `[LIST.group]` where `LIST` is the list name, for files that keep several lists apart.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use super::raw::{Location, RawConfig, RawSection};
use super::value::{self, Diagnostic};

/// How a group hands out its resources (`_allocation_strategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum AllocationStrategy {
    /// Any resource, picked at random; nothing is reserved.
    Random,
    /// Reserved on this node until released or expired.
    Local,
    /// Reserved across the cluster until released or expired (the same as `Local` on one node).
    Cluster,
}

/// One resource group of the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceGroup {
    /// The section name.
    pub name: String,
    /// `_allocation_strategy` (default RANDOM; an unknown value falls back to RANDOM with a warning).
    pub strategy: AllocationStrategy,
    /// `_booking_expiration_time` (also spelled `_booking_expiration_timeout`), seconds, default 30.
    pub booking_expiration: Duration,
    /// `_backup_resource`: returned when every regular resource is booked.
    pub backup_resource: Option<String>,
    /// The entries' values, in file order, without duplicates (shared, so bookings never copy the list).
    pub resources: Arc<[String]>,
    /// Where the group's section starts.
    pub location: Location,
}

/// A value configured more than once (alarm 2000).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuplicateResource {
    /// The resource value.
    pub value: String,
    /// Every group holding it (the same group twice when duplicated inside one group).
    pub groups: Vec<String>,
    /// Where the repeated entry was read.
    pub location: Location,
}

/// Typed `resources` section with its list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourcesSection {
    /// `resources_list_name` (default `GMS_Resources`).
    pub list_name: String,
    /// Groups by name.
    pub groups: BTreeMap<String, Arc<ResourceGroup>>,
    /// Values configured more than once, in one group or in several.
    pub duplicates: Vec<DuplicateResource>,
}

/// Section names that belong to the Application object, not to the resource list.
pub fn is_application_section(name: &str) -> bool {
    matches!(
        name,
        "gms"
            | "push"
            | "resources"
            | "server"
            | "chat"
            | "log"
            | "ors"
            | "dfm"
            | "contact_center"
            | "geo"
            | "store"
    ) || name.starts_with("service.")
        || name.starts_with("push.")
}

impl ResourcesSection {
    /// Types the `resources` section and every group of its list.
    pub fn from_raw(
        raw: &RawConfig,
        errors: &mut Vec<Diagnostic>,
        warnings: &mut Vec<Diagnostic>,
    ) -> ResourcesSection {
        let list_name = raw
            .section("resources")
            .and_then(|section| section.value("resources_list_name"))
            .filter(|name| !name.is_empty())
            .unwrap_or("GMS_Resources")
            .to_string();
        let qualified = format!("{list_name}.");
        let mut groups = BTreeMap::new();
        let mut seen: BTreeMap<String, String> = BTreeMap::new();
        let mut duplicates = Vec::new();
        for section in &raw.sections {
            let name = match section.name.strip_prefix(&qualified) {
                Some(group) => group,
                None if is_application_section(&section.name) => continue,
                None => section.name.as_str(),
            };
            let group = typed_group(name, section, errors, warnings);
            let mut resources = Vec::new();
            for option in &section.options {
                if option.name.starts_with('#') || option.name.starts_with('_') {
                    continue;
                }
                if option.value.is_empty() {
                    warnings.push(Diagnostic::at(
                        option,
                        format!(
                            "resource `{}` of group `{name}` has no value and is ignored",
                            option.name
                        ),
                    ));
                    continue;
                }
                if let Some(first_group) = seen.get(&option.value) {
                    duplicates.push(DuplicateResource {
                        value: option.value.clone(),
                        groups: vec![first_group.clone(), name.to_string()],
                        location: option.location.clone(),
                    });
                    // Kept in its first group only: one number in two pools would be booked twice at once.
                    warnings.push(Diagnostic::at(
                        option,
                        format!(
                            "resource `{}` is configured in group `{first_group}` and again in group `{name}` \
                             (alarm 2000); only group `{first_group}` uses it",
                            option.value
                        ),
                    ));
                    continue;
                } else {
                    seen.insert(option.value.clone(), name.to_string());
                }
                resources.push(option.value.clone());
            }
            groups.insert(
                name.to_string(),
                Arc::new(ResourceGroup {
                    resources: resources.into(),
                    ..group
                }),
            );
        }
        ResourcesSection {
            list_name,
            groups,
            duplicates,
        }
    }
}

fn typed_group(
    name: &str,
    section: &RawSection,
    errors: &mut Vec<Diagnostic>,
    warnings: &mut Vec<Diagnostic>,
) -> ResourceGroup {
    let mut strategy = AllocationStrategy::Random;
    if let Some(option) = section.get("_allocation_strategy") {
        match option.value.to_ascii_uppercase().as_str() {
            "RANDOM" => strategy = AllocationStrategy::Random,
            "LOCAL" => strategy = AllocationStrategy::Local,
            "CLUSTER" => strategy = AllocationStrategy::Cluster,
            _ => warnings.push(Diagnostic::at(
                option,
                format!(
                    "unknown `_allocation_strategy` `{}` in group `{name}` (RANDOM, LOCAL or CLUSTER); using RANDOM",
                    option.value
                ),
            )),
        }
    }
    let mut booking_expiration = Duration::from_secs(30);
    if let Some(option) =
        section.get_any(&["_booking_expiration_time", "_booking_expiration_timeout"])
    {
        match value::seconds(option, 1, 86_400) {
            Ok(duration) => booking_expiration = duration,
            Err(diagnostic) => errors.push(diagnostic),
        }
    }
    let backup_resource = section
        .value("_backup_resource")
        .filter(|value| !value.is_empty())
        .map(str::to_string);
    ResourceGroup {
        name: name.to_string(),
        strategy,
        booking_expiration,
        backup_resource,
        resources: Arc::from(Vec::new()),
        location: section.location.clone(),
    }
}
