//! What the sample flows need from a contact center, behind one trait, and the simulator that stands in for a
//! real one.
//!
//! The GMS callback flows route calls and chats with ORS modules: `queue:submit` (find an agent, learn when one is
//! ready), `ixn:createcall` / `ixn:accept` (outbound and inbound calls), `dialog:*` (treatments while waiting) and
//! `statistic` (agents ready, estimated wait time). [`ContactCenter`] is that surface; the ORS layer maps the
//! module elements onto it and turns the [`CcEvent`]s it reports into the module events flows wait for. A bridge to
//! a real T-Server/URS plugs in behind the same trait.
//!
//! The default implementation, [`Simulator`], is configured from plain typed options ([`SimOptions`]) and steered
//! at run time (agent ready now, set the EWT, next outbound outcome, an inbound call arrives) through methods that
//! an internal HTTP route can call. It is synchronous: time comes from an injected [`crate::clock::Clock`], and whoever
//! drives it calls [`ContactCenter::tick`] at [`ContactCenter::next_deadline`]. Tests use a
//! [`crate::clock::ManualClock`].
//!
//! # How the ORS modules map onto the trait
//!
//! | flow | call | completion event (`_event.data`) |
//! |---|---|---|
//! | `<queue:submit interactionid priority timeout>` + `<queue:target name>` | [`ContactCenter::submit`] with [`Target::parse`] of each name | [`CcEvent::TargetSelected`] → `queue.submit.done` (`requestid`, `targetselected` and `agent` = the agent, `target` = the target it was found in, `interactionid`); [`CcEvent::SubmitFailed`] → `error.queue.submit` (`requestid`, `error`) |
//! | `<queue:cancel requestid>` | [`ContactCenter::cancel`] | `error.queue.submit` (`error` = `cancelled`) |
//! | `<ixn:createcall from to udata>` | [`ContactCenter::create_call`] | [`CcEvent::CallResult`] → `voice.createcall.done` when answered, else `error.voice.createcall` (`requestid`, `interactionid`, `error` = `busy`, `no-answer`, `failed`) |
//! | `<ixn:accept interactionid>` | [`ContactCenter::accept`] | [`CcEvent::Accepted`] → `interaction.accept.done` |
//! | `<dialog:playsound>` and other `dialog:*` | [`ContactCenter::treatment`] | [`CcEvent::TreatmentDone`] → `dialog.<element>.done` |
//! | `_genesys.statistic.sData(object, name)` | [`ContactCenter::statistic`] with [`Statistic::parse`] | — (`null` when `None`) |
//! | a call to a booked access number | — | [`CcEvent::InteractionAdded`] → `interaction.added` (`interactionid`, `ani`, `dnis`, `udata`) to the session that match-interaction finds |
//! | a chat forwarded to a GMS service | — | [`CcEvent::ChatForwarded`] → `interaction.added` (`interactionid`, `media` = `chat`, `udata`) to that service's session |
//!
//! The `requestid` location of a module element receives the [`RequestId`] as text (`req-7`).
//!
//! # Layout
//! - [`types`]: targets, requests, outcomes, statistics, events, errors.
//! - [`sim`]: the [`Simulator`].

pub mod sim;
pub mod types;

use std::time::Duration;

pub use sim::{AgentOptions, AgentSnapshot, SimOptions, SimSnapshot, Simulator};
pub use types::{
    CallOutcome, CallRequest, CcError, CcEvent, InteractionId, RequestId, Statistic, SubmitFailure,
    SubmitRequest, Target, TargetKind,
};

/// The contact-center operations the sample flows use. Operations that take time answer with a [`RequestId`] at
/// once and report their end later as a [`CcEvent`] through the implementation's [`EventSink`].
pub trait ContactCenter: Send + Sync {
    /// `queue:submit`: reserve an agent from `request.targets`; ends with [`CcEvent::TargetSelected`] or
    /// [`CcEvent::SubmitFailed`].
    fn submit(&self, request: SubmitRequest) -> Result<RequestId, CcError>;

    /// Withdraws a pending submit; it ends with [`CcEvent::SubmitFailed`] (`Cancelled`).
    fn cancel(&self, request: RequestId) -> Result<(), CcError>;

    /// `ixn:createcall`: dials a number; ends with [`CcEvent::CallResult`].
    fn create_call(&self, request: CallRequest) -> Result<RequestId, CcError>;

    /// `ixn:accept`: answers an inbound call; ends with [`CcEvent::Accepted`].
    fn accept(&self, interaction: &InteractionId) -> Result<RequestId, CcError>;

    /// `dialog:*`: plays a treatment on an interaction; ends with [`CcEvent::TreatmentDone`].
    fn treatment(&self, interaction: &InteractionId) -> Result<RequestId, CcError>;

    /// A customer's chat for the GMS service `service` enters the contact center, whose chat workflow forwards it
    /// to that service's flow ([`CcEvent::ChatForwarded`] → `interaction.added`); answers the interaction's id.
    fn forward_chat(
        &self,
        _service: &str,
        _udata: std::collections::BTreeMap<String, String>,
    ) -> Result<InteractionId, CcError> {
        Err(CcError::Invalid(
            "this contact center takes no chats forwarded to a service".to_string(),
        ))
    }

    /// `_genesys.statistic.sData(object, name)`; `None` when the statistic is not available for the object.
    fn statistic(&self, object: &Target, statistic: Statistic) -> Option<f64>;

    /// The estimated time until an agent of `target` is ready (zero when one is ready now).
    fn estimated_wait(&self, target: &Target) -> Duration;

    /// When [`ContactCenter::tick`] next has work, as a time since the Unix epoch on the implementation's clock
    /// ([`crate::clock::Clock::now`]); `None` when nothing is timed.
    fn next_deadline(&self) -> Option<Duration> {
        None
    }

    /// Does whatever has come due by now (timeouts, call outcomes, agents finishing calls).
    fn tick(&self) {}
}

/// Where a contact center delivers its events.
pub trait EventSink: Send + Sync {
    /// Delivers one event; called without any lock of the contact center held.
    fn emit(&self, event: CcEvent);
}

impl EventSink for std::sync::mpsc::Sender<CcEvent> {
    fn emit(&self, event: CcEvent) {
        // A receiver that went away no longer wants events.
        let _ = self.send(event);
    }
}

impl EventSink for tokio::sync::mpsc::UnboundedSender<CcEvent> {
    fn emit(&self, event: CcEvent) {
        let _ = self.send(event);
    }
}

/// Adapts a closure into an [`EventSink`].
pub struct FnSink<F>(pub F);

impl<F: Fn(CcEvent) + Send + Sync> EventSink for FnSink<F> {
    fn emit(&self, event: CcEvent) {
        (self.0)(event)
    }
}
