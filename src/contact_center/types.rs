//! The vocabulary shared by the contact-center trait and its implementations: targets, requests, outcomes and
//! the events a contact center reports.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

/// Identifies one asynchronous request (a submit, a call creation, an accept, a treatment); flows correlate the
/// completion event with it (`requestid`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RequestId(pub u64);

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "req-{}", self.0)
    }
}

/// Identifies an interaction (a voice call or a chat) in the contact center.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InteractionId(pub String);

impl fmt::Display for InteractionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a routing target names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetKind {
    /// `.A`: one agent.
    Agent,
    /// `.GA`: an agent group.
    AgentGroup,
    /// `.Q` / `.ACDQ` or no suffix: a queue, served here like an agent group of the same name.
    Queue,
}

/// A routing target as ORS writes it: `name[@statserver][.A|.GA|.Q]`, e.g. `Sales@StatServer.GA`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The agent, group or queue name.
    pub name: String,
    /// What the name denotes.
    pub kind: TargetKind,
}

impl Target {
    /// Parses the ORS target notation; the Stat Server part is dropped.
    pub fn parse(text: &str) -> Target {
        let text = text.trim();
        let (body, kind) = match text.rsplit_once('.') {
            Some((body, "A")) => (body, TargetKind::Agent),
            Some((body, "GA")) => (body, TargetKind::AgentGroup),
            Some((body, "Q" | "ACDQ")) => (body, TargetKind::Queue),
            _ => (text, TargetKind::Queue),
        };
        let name = body.split_once('@').map_or(body, |(name, _)| name);
        Target {
            name: name.to_string(),
            kind,
        }
    }

    /// A group (or queue) target.
    pub fn group(name: &str) -> Target {
        Target {
            name: name.to_string(),
            kind: TargetKind::AgentGroup,
        }
    }
}

/// `<queue:submit>`: find an agent among `targets` for an interaction.
#[derive(Debug, Clone, PartialEq)]
pub struct SubmitRequest {
    /// The interaction to route, if there is one yet (delay flows submit a virtual request before the call).
    pub interaction: Option<InteractionId>,
    /// Acceptable targets, any of which may be selected.
    pub targets: Vec<Target>,
    /// Higher is served first; equal priorities are served in arrival order.
    pub priority: i32,
    /// How long to wait for an agent; `None` waits until cancelled.
    pub timeout: Option<Duration>,
}

/// `<ixn:createcall>`: an outbound call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRequest {
    /// Calling number (`from`).
    pub from: String,
    /// Number to dial (`to`).
    pub to: String,
    /// User data attached to the call (`udata`).
    pub udata: BTreeMap<String, String>,
}

/// How an outbound call ends its dialing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallOutcome {
    /// The called party answered.
    Answered,
    /// The line was busy.
    Busy,
    /// Nobody answered in time.
    NoAnswer,
    /// The call could not be placed.
    Failed,
}

impl CallOutcome {
    /// The name used in options and run-time controls: `answered`, `busy`, `no-answer`, `failed`.
    pub fn as_str(&self) -> &'static str {
        match self {
            CallOutcome::Answered => "answered",
            CallOutcome::Busy => "busy",
            CallOutcome::NoAnswer => "no-answer",
            CallOutcome::Failed => "failed",
        }
    }

    /// Parses the names of [`CallOutcome::as_str`].
    pub fn parse(text: &str) -> Option<CallOutcome> {
        match text.trim().to_ascii_lowercase().as_str() {
            "answered" | "answer" => Some(CallOutcome::Answered),
            "busy" => Some(CallOutcome::Busy),
            "no-answer" | "noanswer" | "no_answer" => Some(CallOutcome::NoAnswer),
            "failed" | "fail" => Some(CallOutcome::Failed),
            _ => None,
        }
    }
}

/// Statistics a flow can read (`_genesys.statistic.sData(object, name)`), by their URS names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Statistic {
    /// `StatAgentsAvailable` (also `StatAgentsReady`): agents ready in the object.
    AgentsReady,
    /// `StatAgentsLoggedIn` (also `StatAgentsTotal`): agents logged in.
    AgentsLoggedIn,
    /// `StatExpectedWaitingTime` (also `ExpectedWaitTime`): seconds.
    ExpectedWaitTime,
    /// `StatCallsInQueue` (also `RStatCallsInQueue`): waiting requests for the object.
    CallsInQueue,
}

impl Statistic {
    /// Parses a statistic name; `None` for names the contact center does not know.
    pub fn parse(name: &str) -> Option<Statistic> {
        match name.trim() {
            "StatAgentsAvailable" | "StatAgentsReady" | "AgentsReady" => {
                Some(Statistic::AgentsReady)
            }
            "StatAgentsLoggedIn" | "StatAgentsTotal" | "AgentsLoggedIn" => {
                Some(Statistic::AgentsLoggedIn)
            }
            "StatExpectedWaitingTime" | "ExpectedWaitTime" | "EWT" => {
                Some(Statistic::ExpectedWaitTime)
            }
            "StatCallsInQueue" | "RStatCallsInQueue" | "CallsInQueue" => {
                Some(Statistic::CallsInQueue)
            }
            _ => None,
        }
    }
}

/// Why a submit ended without a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubmitFailure {
    /// Its timeout passed.
    Timeout,
    /// It was cancelled.
    Cancelled,
}

/// What the contact center reports, in the order things happen. The ORS layer turns each into the module event a
/// flow waits for (noted on each variant).
#[derive(Debug, Clone, PartialEq)]
pub enum CcEvent {
    /// An agent was found and reserved for a submit → `queue.submit.done` (`targetselected` = `agent`).
    TargetSelected {
        /// The submit.
        request: RequestId,
        /// The interaction submitted, if any.
        interaction: Option<InteractionId>,
        /// The agent reserved.
        agent: String,
        /// The target (as given) the agent was found in.
        target: String,
    },
    /// A submit ended without an agent → `error.queue.submit`.
    SubmitFailed {
        /// The submit.
        request: RequestId,
        /// Why.
        reason: SubmitFailure,
    },
    /// An outbound call finished dialing → `voice.createcall.done` when answered, else `error.voice.createcall`.
    CallResult {
        /// The `createcall` request.
        request: RequestId,
        /// The call.
        interaction: InteractionId,
        /// How dialing ended.
        outcome: CallOutcome,
    },
    /// A call arrived at a number → `interaction.added`.
    InteractionAdded {
        /// The new call.
        interaction: InteractionId,
        /// Calling number (ANI).
        ani: String,
        /// Dialed number (DNIS).
        dnis: String,
        /// Attached data.
        udata: BTreeMap<String, String>,
    },
    /// A chat interaction that the Chat Server endpoint's workflow forwards to the GMS service `service` for
    /// routing → `interaction.added` (`media` = `chat`) to that service's session.
    ChatForwarded {
        /// The new chat.
        interaction: InteractionId,
        /// The service (ORS session) id the chat is forwarded to.
        service: String,
        /// Attached data (the chat's parameters).
        udata: BTreeMap<String, String>,
    },
    /// `ixn:accept` completed → `interaction.accept.done`.
    Accepted {
        /// The accept request.
        request: RequestId,
        /// The call.
        interaction: InteractionId,
    },
    /// A treatment (`dialog:*`) completed → `dialog.<name>.done`.
    TreatmentDone {
        /// The treatment request.
        request: RequestId,
        /// The call.
        interaction: InteractionId,
    },
    /// An agent became ready or not ready (for statistic subscribers).
    AgentState {
        /// The agent.
        agent: String,
        /// Ready now.
        ready: bool,
    },
}

/// Why the contact center refused a request outright.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CcError {
    /// The interaction is not known.
    #[error("no interaction '{0}'")]
    UnknownInteraction(String),
    /// The agent is not known.
    #[error("no agent '{0}'")]
    UnknownAgent(String),
    /// The request is not pending.
    #[error("no pending request '{0}'")]
    UnknownRequest(RequestId),
    /// A request had nothing to work on (no target, no number).
    #[error("{0}")]
    Invalid(String),
}
