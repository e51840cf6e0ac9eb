//! `type=builtin` services: request-interaction, match-interaction and request-access (and their pre-8.1.000.30
//! names a2c-basic, a2c-match and a2c-reserve-accessinfo), and request-chat, the basic chat service: an instance
//! that keeps the app's business data for its TTL and on which the app creates its chat whenever it wants
//! (answer: `_id` and `_chatIxnAPI-CREATE-URL`).
//!
//! Choices where the reference is silent: `_expiration_time` is the number of seconds left on the access number's
//! booking; `delete_match` defaults to true; a phone number given to match-interaction must equal (digits only)
//! the one the service was created with, when it was created with one.

use std::time::Duration;

use async_trait::async_trait;

use super::{
    AccessInfo, Error, Reply, Result, ServiceCall, ServiceCore, ServiceKind, ServiceRecord,
    access_code,
};
use crate::storage;

/// The `builtin` kind.
#[derive(Debug, Default)]
pub struct Builtin;

#[async_trait]
impl ServiceKind for Builtin {
    async fn create(&self, core: &ServiceCore, call: ServiceCall) -> Result<Reply> {
        match call.service.service.as_str() {
            "request-interaction" | "a2c-basic" => request_interaction(core, call).await,
            "match-interaction" | "a2c-match" => match_interaction(core, call).await,
            "request-access" | "a2c-reserve-accessinfo" => request_access(core, call).await,
            "request-chat" => request_chat(core, call).await,
            other => Err(Error::UnknownBuiltin {
                service: call.service.name.clone(),
                builtin: other.to_string(),
            }),
        }
    }

    fn saves_records(&self) -> bool {
        true
    }
}

fn access_reply(id: &str, access: &AccessInfo, now_ms: u64) -> Reply {
    let mut reply = Reply::new();
    reply.insert("_id".into(), id.into());
    access.add_to(&mut reply, now_ms);
    reply
}

/// Allocates an access number (and a code when asked) from the group the parameters name, attaches it to
/// `record` and saves the record, replacing `previous` access info. Without a code the booking and the record
/// are one durable commit.
async fn attach_access(
    core: &ServiceCore,
    call: &ServiceCall,
    mut record: ServiceRecord,
    previous: Option<AccessInfo>,
) -> Result<AccessInfo> {
    let params = &call.params;
    let group_name = params.require("_resource_group")?;
    let group = call
        .config
        .resources
        .groups
        .get(group_name)
        .ok_or_else(|| Error::InvalidParameter {
            name: "_resource_group".into(),
            problem: format!(
                "names `{group_name}`, which is not a group of resource list `{}`",
                call.config.resources.list_name
            ),
        })?;
    let (min, max) = crate::config::service::BOOKING_TIMEOUT_RANGE;
    let booking = params
        .integer("_booking_expiration_timeout", min, max)?
        .map(Duration::from_secs)
        .unwrap_or(group.booking_expiration);
    let provide_code = params.flag("_provide_code")?.unwrap_or(false);
    let (len_min, len_max) = access_code::LENGTH_RANGE;
    let code_length = params
        .integer("_access_code_length", len_min, len_max)?
        .map(|n| n as u32)
        .unwrap_or(access_code::DEFAULT_LENGTH);
    let node_id = call.config.server.node_id;
    let now = core.clock.now_ms();
    let booking_expires_ms = now + booking.as_millis() as u64;
    let holder = record.id.clone();
    if !provide_code {
        let template = record;
        let allocation = core
            .resources
            .allocate_then(group, node_id, &holder, booking, move |allocation| {
                let mut record = template;
                record.access = Some(AccessInfo {
                    allocation: allocation.clone(),
                    code: None,
                    booking_expires_ms,
                });
                ServiceCore::record_ops(&record, previous.as_ref(), now)
            })
            .await?;
        return Ok(AccessInfo {
            allocation,
            code: None,
            booking_expires_ms,
        });
    }
    let allocation = core
        .resources
        .allocate(group, node_id, &holder, booking)
        .await?;
    let mut code = None;
    for _ in 0..32 {
        let candidate = access_code::generate(node_id, code_length);
        if core
            .reserve_code(
                &allocation.value,
                &candidate,
                &holder,
                call.ttl.max(booking),
            )
            .await?
        {
            code = Some(candidate);
            break;
        }
    }
    let Some(code) = code else {
        core.resources.release(&allocation, &holder).await?;
        return Err(Error::Exhausted(format!(
            "no free access code of {code_length} digits for access number `{}`",
            allocation.value
        )));
    };
    let access = AccessInfo {
        allocation,
        code: Some(code),
        booking_expires_ms,
    };
    record.access = Some(access.clone());
    if let Err(error) = core.save_replacing(&record, previous.as_ref()).await {
        core.resources.release(&access.allocation, &holder).await?;
        return Err(error);
    }
    Ok(access)
}

async fn request_chat(core: &ServiceCore, call: ServiceCall) -> Result<Reply> {
    let id = storage::new_id();
    let record = ServiceRecord::of_call(id.clone(), &call, core.clock.now_ms());
    core.save(&record).await?;
    let mut reply = Reply::new();
    reply.insert("_id".into(), id.clone().into());
    reply.insert(
        "_chatIxnAPI-CREATE-URL".into(),
        crate::chat::api_path(&id).into(),
    );
    Ok(reply)
}

/// `request-interaction`: books an access number (and code) for a new instance. `_phone_number` is optional, as
/// in GMS: without it, a match goes by the number and code alone.
async fn request_interaction(core: &ServiceCore, call: ServiceCall) -> Result<Reply> {
    let id = storage::new_id();
    let now = core.clock.now_ms();
    let record = ServiceRecord::of_call(id.clone(), &call, now);
    let access = attach_access(core, &call, record, None).await?;
    Ok(access_reply(&id, &access, now))
}

async fn request_access(core: &ServiceCore, call: ServiceCall) -> Result<Reply> {
    let target = call.params.require("_id")?.to_string();
    let mut record = core.load(&target).await?;
    // A service holds one access number at a time: a new request replaces the previous one. Within one pool the
    // store releases the old booking in the same step as it books the new one.
    let previous = record.access.take();
    if let Some(phone) = call.params.get("_phone_number") {
        record.phone_number = Some(phone.to_string());
    }
    let now = core.clock.now_ms();
    match attach_access(core, &call, record.clone(), previous.clone()).await {
        Ok(access) => {
            if let Some(previous) = &previous
                && previous.allocation.pool != access.allocation.pool
            {
                core.resources
                    .release(&previous.allocation, &target)
                    .await?;
            }
            Ok(access_reply(&target, &access, now))
        }
        Err(error) => {
            if let Some(previous) = &previous {
                core.resources
                    .release(&previous.allocation, &target)
                    .await?;
                core.save_replacing(&record, Some(previous)).await?;
            }
            Err(error)
        }
    }
}

fn digits(text: &str) -> String {
    text.chars().filter(char::is_ascii_digit).collect()
}

async fn match_interaction(core: &ServiceCore, call: ServiceCall) -> Result<Reply> {
    let number = call.params.require("_access_number")?.to_string();
    let phone = call.params.get("_phone_number").map(digits);
    let code = call.params.get("_access_code").map(str::to_string);
    let delete_match = call.params.flag("_delete_match")?.unwrap_or(true);
    let now = core.clock.now_ms();
    let found = core.holding(&number).await?.into_iter().find(|record| {
        let Some(access) = &record.access else {
            return false;
        };
        // A booking that has lapsed matches nothing: the number may be another service's by now.
        if access.allocation.pool.is_some() && access.booking_expires_ms <= now {
            return false;
        }
        let code_ok = code
            .as_ref()
            .is_none_or(|code| access.code.as_ref() == Some(code));
        let phone_ok = match (&phone, &record.phone_number) {
            (Some(wanted), Some(held)) => *wanted == digits(held),
            _ => true,
        };
        code_ok && phone_ok
    });
    let Some(mut record) = found else {
        return Err(Error::NoMatch(number));
    };
    if let Some(access) = &record.access {
        core.resources
            .release(&access.allocation, &record.id)
            .await?;
    }
    // The answer always names the instance's user data (clients read `_data_id`): an instance created without
    // any gets an empty data set now, living as long as the instance.
    let data_id = match &record.data_id {
        Some(data_id) => data_id.clone(),
        None => {
            let left = record
                .expires_ms
                .saturating_sub(core.clock.now_ms())
                .div_ceil(1000)
                .max(1);
            let data_id = core
                .storage
                .create(
                    storage::DataSet::default(),
                    std::time::Duration::from_secs(left),
                    call.config.gms.storage_max_keys,
                )
                .await?;
            record.data_id = Some(data_id.clone());
            if !delete_match {
                core.save(&record).await?;
            }
            data_id
        }
    };
    if delete_match {
        let previous = record.access.take();
        core.save_replacing(&record, previous.as_ref()).await?;
    }
    let mut reply = Reply::new();
    reply.insert("_id".into(), record.id.clone().into());
    reply.insert("_data_id".into(), data_id.into());
    Ok(reply)
}
