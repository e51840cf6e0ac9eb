//! Resource groups (access numbers and the like) with RANDOM, LOCAL and CLUSTER allocation.
//!
//! - RANDOM picks any resource; nothing is reserved.
//! - LOCAL books the resource in the store pool `local:{node_id}:{group}`: reserved on this node until released
//!   or until the booking expires.
//! - CLUSTER books it in the pool `cluster:{group}`, shared by every node that uses the same store (on one node it
//!   behaves as LOCAL; with the Redis backend it is cluster-wide).
//!
//! When a LOCAL or CLUSTER group is exhausted the group's `_backup_resource` is returned, unreserved. Alarms are
//! structured log events with an `alarm` field and counters: 2000 (a resource configured twice, in one group or in
//! several) each time a configuration is applied, 2001 (no more resources) each time a group runs out.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::config::{AllocationStrategy, GmsConfig, ResourceGroup};
use crate::store::{self, Candidates, Store, WriteOp};

/// Resource allocation errors.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Every resource is booked and the group has no backup resource (alarm 2001).
    #[error("no more resources in group `{0}`")]
    Exhausted(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] store::Error),
}

/// One allocated resource.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Allocation {
    /// The resource value (an access number).
    pub value: String,
    /// The group it came from.
    pub group: String,
    /// The store pool holding the booking (`None`: nothing to release, as for RANDOM or a backup resource).
    pub pool: Option<String>,
    /// Whether this is the group's `_backup_resource`.
    pub backup: bool,
}

/// Alarm counters since start.
#[derive(Debug, Default)]
pub struct Alarms {
    /// Alarm 2000: resources configured more than once.
    pub duplicate_resource: AtomicU64,
    /// Alarm 2001: no more resources.
    pub no_more_resources: AtomicU64,
}

/// Allocates and releases resources of the configured groups.
#[derive(Debug)]
pub struct Resources {
    store: Arc<dyn Store>,
    alarms: Alarms,
    /// The duplicates alarm 2000 was last raised for, so a reload that changes nothing raises nothing.
    reported: std::sync::Mutex<Vec<(String, Vec<String>)>>,
}

/// The store pool of a booking group.
pub fn pool_name(group: &ResourceGroup, node_id: u8) -> Option<String> {
    match group.strategy {
        AllocationStrategy::Random => None,
        AllocationStrategy::Local => Some(format!("local:{node_id:02}:{}", group.name)),
        AllocationStrategy::Cluster => Some(format!("cluster:{}", group.name)),
    }
}

impl Resources {
    /// Resources over `store`.
    pub fn new(store: Arc<dyn Store>) -> Resources {
        Resources {
            store,
            alarms: Alarms::default(),
            reported: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// The alarm counters.
    pub fn alarms(&self) -> &Alarms {
        &self.alarms
    }

    /// Raises alarm 2000 for every duplicated resource of a configuration being applied, once: a reload that keeps
    /// a duplicate does not raise it again.
    pub fn check_config(&self, config: &GmsConfig) {
        let current: Vec<(String, Vec<String>)> = config
            .resources
            .duplicates
            .iter()
            .map(|duplicate| (duplicate.value.clone(), duplicate.groups.clone()))
            .collect();
        let previous = std::mem::replace(&mut *crate::sync::lock(&self.reported), current);
        for duplicate in &config.resources.duplicates {
            // Raised once per problem: a reload that keeps it does not raise it again.
            if previous
                .iter()
                .any(|(value, groups)| *value == duplicate.value && *groups == duplicate.groups)
            {
                continue;
            }
            self.alarms
                .duplicate_resource
                .fetch_add(1, Ordering::Relaxed);
            tracing::error!(
                alarm = 2000,
                resource = %duplicate.value,
                groups = %duplicate.groups.join(","),
                location = %duplicate.location,
                "resources configuration alarm: resource configured more than once"
            );
        }
    }

    /// Allocates one resource of `group` for `holder`, booked for `booking` (LOCAL and CLUSTER).
    pub async fn allocate(
        &self,
        group: &ResourceGroup,
        node_id: u8,
        holder: &str,
        booking: Duration,
    ) -> Result<Allocation, Error> {
        self.allocate_then(group, node_id, holder, booking, |_| Vec::new())
            .await
    }

    /// Allocates like [`Resources::allocate`] and writes what `then` returns for the allocation in the same
    /// durable step as the booking.
    pub async fn allocate_then<F>(
        &self,
        group: &ResourceGroup,
        node_id: u8,
        holder: &str,
        booking: Duration,
        then: F,
    ) -> Result<Allocation, Error>
    where
        F: FnOnce(&Allocation) -> Vec<WriteOp> + Send + 'static,
    {
        let pool = pool_name(group, node_id);
        // `then` runs inside the booking when one is made, or here for RANDOM groups and backup resources.
        let then = Arc::new(Mutex::new(Some(then)));
        let run_then = |then: &Mutex<Option<F>>, allocation: &Allocation| {
            then.lock()
                .ok()
                .and_then(|mut slot| slot.take())
                .map(|then| then(allocation))
                .unwrap_or_default()
        };
        let unreserved = |value: String, backup: bool| Allocation {
            value,
            group: group.name.clone(),
            pool: None,
            backup,
        };
        let allocation = match &pool {
            None => {
                if group.resources.is_empty() {
                    None
                } else {
                    let value = group.resources[fastrand::usize(..group.resources.len())].clone();
                    Some(unreserved(value, false))
                }
            }
            Some(pool) => {
                // Start at a random place so bookings spread over the group rather than piling on the first entry.
                let candidates = Candidates::new(group.resources.clone(), fastrand::usize(..));
                let (group_name, pool_name) = (group.name.clone(), pool.clone());
                let inner = then.clone();
                let booked = self
                    .store
                    .book_then(
                        pool,
                        &candidates,
                        holder,
                        booking,
                        Box::new(move |resource: &str| {
                            let allocation = Allocation {
                                value: resource.to_string(),
                                group: group_name,
                                pool: Some(pool_name),
                                backup: false,
                            };
                            run_then(&inner, &allocation)
                        }),
                    )
                    .await?;
                if let Some(value) = booked {
                    return Ok(Allocation {
                        value,
                        group: group.name.clone(),
                        pool: Some(pool.clone()),
                        backup: false,
                    });
                }
                None
            }
        };
        let allocation = match allocation {
            Some(allocation) => allocation,
            None => self.exhausted(group).await?,
        };
        self.store.write_batch(run_then(&then, &allocation)).await?;
        Ok(allocation)
    }

    /// Raises alarm 2001 and falls back to the backup resource, if any.
    async fn exhausted(&self, group: &ResourceGroup) -> Result<Allocation, Error> {
        self.alarms
            .no_more_resources
            .fetch_add(1, Ordering::Relaxed);
        tracing::error!(alarm = 2001, group = %group.name, "no more resources alarm");
        match &group.backup_resource {
            Some(backup) => Ok(Allocation {
                value: backup.clone(),
                group: group.name.clone(),
                pool: None,
                backup: true,
            }),
            None => Err(Error::Exhausted(group.name.clone())),
        }
    }

    /// Returns a booked resource to its group. Releasing twice, or an unreserved resource, does nothing.
    pub async fn release(&self, allocation: &Allocation, holder: &str) -> Result<bool, Error> {
        match &allocation.pool {
            Some(pool) => Ok(self.store.release(pool, &allocation.value, holder).await?),
            None => Ok(false),
        }
    }

    /// How many resources of each booking group are reserved now, by group name.
    pub async fn in_use(&self, config: &GmsConfig) -> Result<Vec<(String, usize)>, Error> {
        let mut counts = Vec::new();
        for group in config.resources.groups.values() {
            if let Some(pool) = pool_name(group, config.server.node_id) {
                counts.push((group.name.clone(), self.store.count_booked(&pool).await?));
            }
        }
        Ok(counts)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;
    use std::sync::atomic::Ordering;

    use crate::config::{GmsConfig, RawConfig};

    fn config(groups: &str) -> GmsConfig {
        let text = format!("[server]\nnode_id = 01\n{groups}");
        GmsConfig::from_raw(RawConfig::parse(Path::new("t.ini"), &text).unwrap()).unwrap()
    }

    #[test]
    fn alarm_2000_is_raised_once_per_duplicate_not_per_reload() {
        let dir = tempfile::tempdir().unwrap();
        let store =
            crate::store::Embedded::open(dir.path(), Arc::new(crate::clock::ManualClock::new(0)))
                .unwrap();
        let resources = super::Resources::new(Arc::new(store));
        let raised = || {
            resources
                .alarms()
                .duplicate_resource
                .load(Ordering::Relaxed)
        };
        let one = config("[A]\nd1 = 1\n[B]\nx = 1\n");
        resources.check_config(&one);
        assert_eq!(raised(), 1);
        resources.check_config(&one);
        resources.check_config(&config("[A]\nd1 = 1\n[B]\nx = 1\n"));
        assert_eq!(
            raised(),
            1,
            "a reload that keeps the duplicate raises nothing"
        );
        resources.check_config(&config("[A]\nd1 = 1\nd2 = 2\n[B]\nx = 1\ny = 2\n"));
        assert_eq!(raised(), 2, "a new duplicate raises once");
        resources.check_config(&config("[A]\nd1 = 1\n"));
        resources.check_config(&one);
        assert_eq!(raised(), 3, "a duplicate that comes back is raised again");
    }
}
