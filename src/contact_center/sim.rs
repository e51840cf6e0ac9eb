//! The contact-center simulator: agents in groups, a queue of submits, outbound calls with steerable outcomes,
//! all on an injected clock.
//!
//! Routing follows the usual ACD rule: the waiting submit with the highest priority (then the oldest) gets the
//! agent of its targets that has been ready longest. A selected agent is busy for `handle_time` (or until
//! released) and then ready again, so repeated flows keep finding agents.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::Serialize;

use super::types::{
    CallOutcome, CallRequest, CcError, CcEvent, InteractionId, RequestId, Statistic, SubmitFailure,
    SubmitRequest, Target, TargetKind,
};
use super::{ContactCenter, EventSink};
use crate::clock::Clock;

/// One agent of the simulated contact center.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentOptions {
    /// Agent id (the `.A` target name).
    pub id: String,
    /// Agent groups (the `.GA` / `.Q` target names) the agent belongs to.
    pub groups: Vec<String>,
    /// Ready at start.
    pub ready: bool,
}

/// How the simulator behaves until steered otherwise.
#[derive(Debug, Clone, PartialEq)]
pub struct SimOptions {
    /// The agents.
    pub agents: Vec<AgentOptions>,
    /// Estimated wait time reported when no agent of a target is ready.
    pub ewt: Duration,
    /// Per-target estimated wait times, overriding `ewt`.
    pub ewt_by_target: BTreeMap<String, Duration>,
    /// Time from `createcall` to its outcome.
    pub ring_time: Duration,
    /// Outcome of outbound calls when no outcome was queued with [`Simulator::push_call_outcome`].
    pub call_outcome: CallOutcome,
    /// How long a selected agent stays busy; `None` keeps the agent busy until [`Simulator::release_agent`].
    pub handle_time: Option<Duration>,
    /// How long a treatment plays.
    pub treatment_time: Duration,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            agents: Vec::new(),
            ewt: Duration::from_secs(60),
            ewt_by_target: BTreeMap::new(),
            ring_time: Duration::from_secs(5),
            call_outcome: CallOutcome::Answered,
            handle_time: Some(Duration::from_secs(120)),
            treatment_time: Duration::ZERO,
        }
    }
}

/// One agent in a [`SimSnapshot`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgentSnapshot {
    /// Agent id.
    pub id: String,
    /// Groups.
    pub groups: Vec<String>,
    /// `ready`, `not-ready` or `busy`.
    pub state: &'static str,
}

/// The simulator's state as an internal route would show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SimSnapshot {
    /// Agents in configuration order.
    pub agents: Vec<AgentSnapshot>,
    /// Submits waiting for an agent.
    pub waiting: usize,
    /// Outbound outcomes queued for the next calls.
    pub queued_outcomes: Vec<&'static str>,
    /// Default estimated wait time, in seconds.
    pub ewt_secs: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AgentState {
    Ready { since: Duration },
    NotReady,
    Busy,
}

#[derive(Debug)]
struct Agent {
    id: String,
    groups: Vec<String>,
    state: AgentState,
}

impl Agent {
    fn serves(&self, target: &Target) -> bool {
        match target.kind {
            TargetKind::Agent => self.id == target.name,
            TargetKind::AgentGroup | TargetKind::Queue => self.groups.contains(&target.name),
        }
    }
}

#[derive(Debug)]
struct Pending {
    id: RequestId,
    request: SubmitRequest,
    deadline: Option<Duration>,
}

#[derive(Debug)]
enum TimerKind {
    CallResult {
        request: RequestId,
        interaction: InteractionId,
        outcome: CallOutcome,
    },
    Accepted {
        request: RequestId,
        interaction: InteractionId,
    },
    Treatment {
        request: RequestId,
        interaction: InteractionId,
    },
    AgentFree {
        agent: String,
    },
}

#[derive(Debug)]
struct Timer {
    at: Duration,
    seq: u64,
    kind: TimerKind,
}

#[derive(Debug)]
struct State {
    agents: Vec<Agent>,
    pending: Vec<Pending>,
    timers: Vec<Timer>,
    outcomes: VecDeque<CallOutcome>,
    interactions: Vec<InteractionId>,
    ewt: Duration,
    ewt_by_target: BTreeMap<String, Duration>,
    next_id: u64,
    options: SimOptions,
}

/// A simulated contact center; cheap to share behind an `Arc`.
pub struct Simulator {
    state: Mutex<State>,
    clock: Arc<dyn Clock>,
    sink: Arc<dyn EventSink>,
}

impl Simulator {
    /// A simulator in the state `options` describe, on `clock`, reporting to `sink`.
    pub fn new(options: SimOptions, clock: Arc<dyn Clock>, sink: Arc<dyn EventSink>) -> Self {
        let now = clock.now();
        let agents = options
            .agents
            .iter()
            .map(|agent| Agent {
                id: agent.id.clone(),
                groups: agent.groups.clone(),
                state: if agent.ready {
                    AgentState::Ready { since: now }
                } else {
                    AgentState::NotReady
                },
            })
            .collect();
        Simulator {
            state: Mutex::new(State {
                agents,
                pending: Vec::new(),
                timers: Vec::new(),
                outcomes: VecDeque::new(),
                interactions: Vec::new(),
                ewt: options.ewt,
                ewt_by_target: options.ewt_by_target.clone(),
                next_id: 1,
                options,
            }),
            clock,
            sink,
        }
    }

    /// Control: agent `id` is ready now (it may be selected at once).
    pub fn set_agent_ready(&self, id: &str) -> Result<(), CcError> {
        self.with_state(|state, now, events| {
            let agent = state.agent_mut(id)?;
            if !matches!(agent.state, AgentState::Ready { .. }) {
                agent.state = AgentState::Ready { since: now };
                events.push(CcEvent::AgentState {
                    agent: id.to_string(),
                    ready: true,
                });
            }
            Ok(())
        })
    }

    /// Control: agent `id` is not ready now (a busy agent stays busy, then becomes not ready).
    pub fn set_agent_not_ready(&self, id: &str) -> Result<(), CcError> {
        self.with_state(|state, _now, events| {
            let agent = state.agent_mut(id)?;
            if matches!(agent.state, AgentState::Ready { .. }) {
                events.push(CcEvent::AgentState {
                    agent: id.to_string(),
                    ready: false,
                });
            }
            agent.state = AgentState::NotReady;
            state.timers.retain(
                |timer| !matches!(&timer.kind, TimerKind::AgentFree { agent } if agent == id),
            );
            Ok(())
        })
    }

    /// Control: a busy agent finished its call and is ready again.
    pub fn release_agent(&self, id: &str) -> Result<(), CcError> {
        self.set_agent_ready(id)
    }

    /// Control: adds an agent (or replaces the groups and readiness of a known one).
    pub fn add_agent(&self, options: AgentOptions) {
        let _ = self.with_state(|state, now, events| {
            let agent_state = if options.ready {
                AgentState::Ready { since: now }
            } else {
                AgentState::NotReady
            };
            match state.agents.iter_mut().find(|agent| agent.id == options.id) {
                Some(agent) => {
                    agent.groups = options.groups.clone();
                    agent.state = agent_state;
                }
                None => state.agents.push(Agent {
                    id: options.id.clone(),
                    groups: options.groups.clone(),
                    state: agent_state,
                }),
            }
            events.push(CcEvent::AgentState {
                agent: options.id.clone(),
                ready: options.ready,
            });
            Ok(())
        });
    }

    /// Control: sets the estimated wait time of `target` (a group or queue name), or the default one when
    /// `target` is `None`.
    pub fn set_ewt(&self, target: Option<&str>, ewt: Duration) {
        let mut state = self.lock();
        match target {
            Some(name) => {
                state.ewt_by_target.insert(name.to_string(), ewt);
            }
            None => state.ewt = ewt,
        }
    }

    /// Control: the next outbound call ends with `outcome` (queued: each call takes the oldest queued outcome).
    pub fn push_call_outcome(&self, outcome: CallOutcome) {
        self.lock().outcomes.push_back(outcome);
    }

    /// Control: a call from `ani` arrives at `dnis` (the caller dialed an access number).
    pub fn place_call(
        &self,
        ani: &str,
        dnis: &str,
        udata: BTreeMap<String, String>,
    ) -> InteractionId {
        let mut interaction = InteractionId(String::new());
        let _ = self.with_state(|state, _now, events| {
            interaction = state.new_interaction();
            events.push(CcEvent::InteractionAdded {
                interaction: interaction.clone(),
                ani: ani.to_string(),
                dnis: dnis.to_string(),
                udata,
            });
            Ok(())
        });
        interaction
    }

    /// Control: a customer started a chat for the GMS service `service`; the chat workflow forwards it there.
    pub fn forward_chat(&self, service: &str, udata: BTreeMap<String, String>) -> InteractionId {
        let mut interaction = InteractionId(String::new());
        let _ = self.with_state(|state, _now, events| {
            interaction = state.new_interaction();
            events.push(CcEvent::ChatForwarded {
                interaction: interaction.clone(),
                service: service.to_string(),
                udata,
            });
            Ok(())
        });
        interaction
    }

    /// The state as an internal route would show it.
    pub fn snapshot(&self) -> SimSnapshot {
        let state = self.lock();
        SimSnapshot {
            agents: state
                .agents
                .iter()
                .map(|agent| AgentSnapshot {
                    id: agent.id.clone(),
                    groups: agent.groups.clone(),
                    state: match agent.state {
                        AgentState::Ready { .. } => "ready",
                        AgentState::NotReady => "not-ready",
                        AgentState::Busy => "busy",
                    },
                })
                .collect(),
            waiting: state.pending.len(),
            queued_outcomes: state.outcomes.iter().map(CallOutcome::as_str).collect(),
            ewt_secs: state.ewt.as_secs_f64(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        crate::sync::lock(&self.state)
    }

    /// Runs `change` on the state at the current time, then everything that is due, and emits the resulting
    /// events after the lock is released.
    fn with_state<T>(
        &self,
        change: impl FnOnce(&mut State, Duration, &mut Vec<CcEvent>) -> Result<T, CcError>,
    ) -> Result<T, CcError> {
        let now = self.clock.now();
        let mut events = Vec::new();
        let result = {
            let mut state = self.lock();
            state.run_due(now, &mut events);
            let result = change(&mut state, now, &mut events);
            state.run_due(now, &mut events);
            result
        };
        for event in events {
            self.sink.emit(event);
        }
        result
    }
}

impl State {
    fn agent_mut(&mut self, id: &str) -> Result<&mut Agent, CcError> {
        self.agents
            .iter_mut()
            .find(|agent| agent.id == id)
            .ok_or_else(|| CcError::UnknownAgent(id.to_string()))
    }

    fn new_request(&mut self) -> RequestId {
        let id = RequestId(self.next_id);
        self.next_id += 1;
        id
    }

    fn new_interaction(&mut self) -> InteractionId {
        let id = InteractionId(format!("call-{}", self.next_id));
        self.next_id += 1;
        self.interactions.push(id.clone());
        id
    }

    fn schedule(&mut self, at: Duration, kind: TimerKind) {
        let seq = self.next_id;
        self.next_id += 1;
        self.timers.push(Timer { at, seq, kind });
    }

    fn next_deadline(&self) -> Option<Duration> {
        let timers = self.timers.iter().map(|timer| timer.at);
        let deadlines = self.pending.iter().filter_map(|pending| pending.deadline);
        timers.chain(deadlines).min()
    }

    /// Fires, in time order, every timer and submit timeout due by `now`, routing waiting submits after each
    /// step so an agent freed at some instant is offered before a timeout at that same instant.
    fn run_due(&mut self, now: Duration, events: &mut Vec<CcEvent>) {
        // Each round removes at least one timer or pending submit, so the loop ends.
        while let Some(at) = self.next_deadline().filter(|at| *at <= now) {
            let due_timer = self
                .timers
                .iter()
                .enumerate()
                .filter(|(_, timer)| timer.at == at)
                .min_by_key(|(_, timer)| timer.seq)
                .map(|(idx, _)| idx);
            if let Some(idx) = due_timer {
                let timer = self.timers.swap_remove(idx);
                self.fire(timer, events);
            } else if let Some(idx) = self
                .pending
                .iter()
                .position(|pending| pending.deadline == Some(at))
            {
                let pending = self.pending.remove(idx);
                events.push(CcEvent::SubmitFailed {
                    request: pending.id,
                    reason: SubmitFailure::Timeout,
                });
            }
            self.route(at, events);
        }
        self.route(now, events);
    }

    fn fire(&mut self, timer: Timer, events: &mut Vec<CcEvent>) {
        match timer.kind {
            TimerKind::CallResult {
                request,
                interaction,
                outcome,
            } => events.push(CcEvent::CallResult {
                request,
                interaction,
                outcome,
            }),
            TimerKind::Accepted {
                request,
                interaction,
            } => events.push(CcEvent::Accepted {
                request,
                interaction,
            }),
            TimerKind::Treatment {
                request,
                interaction,
            } => events.push(CcEvent::TreatmentDone {
                request,
                interaction,
            }),
            TimerKind::AgentFree { agent } => {
                if let Some(found) = self
                    .agents
                    .iter_mut()
                    .find(|candidate| candidate.id == agent)
                    && found.state == AgentState::Busy
                {
                    found.state = AgentState::Ready { since: timer.at };
                    events.push(CcEvent::AgentState { agent, ready: true });
                }
            }
        }
    }

    /// Gives ready agents to waiting submits: highest priority first, then oldest; the agent ready longest wins.
    fn route(&mut self, now: Duration, events: &mut Vec<CcEvent>) {
        let mut order: Vec<usize> = (0..self.pending.len()).collect();
        // Pending submits are kept in arrival order, so a stable sort keeps the oldest first within a priority.
        order.sort_by_key(|idx| std::cmp::Reverse(self.pending[*idx].request.priority));
        let mut served = Vec::new();
        for idx in order {
            let pending = &self.pending[idx];
            let choice = pending.request.targets.iter().find_map(|target| {
                self.agents
                    .iter()
                    .enumerate()
                    .filter(|(_, agent)| agent.serves(target))
                    .filter_map(|(agent_idx, agent)| match agent.state {
                        AgentState::Ready { since } => Some((since, agent_idx)),
                        _ => None,
                    })
                    .min()
                    .map(|(_, agent_idx)| (agent_idx, target.name.clone()))
            });
            if let Some((agent_idx, target)) = choice {
                let agent = &mut self.agents[agent_idx];
                agent.state = AgentState::Busy;
                events.push(CcEvent::TargetSelected {
                    request: pending.id,
                    interaction: pending.request.interaction.clone(),
                    agent: agent.id.clone(),
                    target,
                });
                served.push((idx, agent.id.clone()));
            }
        }
        let now_free = served
            .iter()
            .map(|(_, agent)| agent.clone())
            .collect::<Vec<_>>();
        served.sort_by_key(|(idx, _)| std::cmp::Reverse(*idx));
        for (idx, _) in served {
            self.pending.remove(idx);
        }
        if let Some(handle_time) = self.options.handle_time {
            for agent in now_free {
                self.schedule(now + handle_time, TimerKind::AgentFree { agent });
            }
        }
    }
}

impl ContactCenter for Simulator {
    fn forward_chat(
        &self,
        service: &str,
        udata: BTreeMap<String, String>,
    ) -> Result<InteractionId, CcError> {
        Ok(Simulator::forward_chat(self, service, udata))
    }

    fn submit(&self, request: SubmitRequest) -> Result<RequestId, CcError> {
        if request.targets.is_empty() {
            return Err(CcError::Invalid(
                "a submit needs at least one target".to_string(),
            ));
        }
        self.with_state(|state, now, _events| {
            let id = state.new_request();
            let deadline = request.timeout.map(|timeout| now + timeout);
            state.pending.push(Pending {
                id,
                request,
                deadline,
            });
            Ok(id)
        })
    }

    fn cancel(&self, request: RequestId) -> Result<(), CcError> {
        self.with_state(|state, _now, events| {
            let idx = state
                .pending
                .iter()
                .position(|pending| pending.id == request)
                .ok_or(CcError::UnknownRequest(request))?;
            state.pending.remove(idx);
            events.push(CcEvent::SubmitFailed {
                request,
                reason: SubmitFailure::Cancelled,
            });
            Ok(())
        })
    }

    fn create_call(&self, request: CallRequest) -> Result<RequestId, CcError> {
        if request.to.trim().is_empty() {
            return Err(CcError::Invalid(
                "a call needs a number to dial".to_string(),
            ));
        }
        self.with_state(|state, now, _events| {
            let id = state.new_request();
            let interaction = state.new_interaction();
            let outcome = state
                .outcomes
                .pop_front()
                .unwrap_or(state.options.call_outcome);
            let at = now + state.options.ring_time;
            state.schedule(
                at,
                TimerKind::CallResult {
                    request: id,
                    interaction,
                    outcome,
                },
            );
            Ok(id)
        })
    }

    fn accept(&self, interaction: &InteractionId) -> Result<RequestId, CcError> {
        self.with_state(|state, now, _events| {
            if !state.interactions.contains(interaction) {
                return Err(CcError::UnknownInteraction(interaction.0.clone()));
            }
            let id = state.new_request();
            state.schedule(
                now,
                TimerKind::Accepted {
                    request: id,
                    interaction: interaction.clone(),
                },
            );
            Ok(id)
        })
    }

    fn treatment(&self, interaction: &InteractionId) -> Result<RequestId, CcError> {
        self.with_state(|state, now, _events| {
            let id = state.new_request();
            let at = now + state.options.treatment_time;
            state.schedule(
                at,
                TimerKind::Treatment {
                    request: id,
                    interaction: interaction.clone(),
                },
            );
            Ok(id)
        })
    }

    fn statistic(&self, object: &Target, statistic: Statistic) -> Option<f64> {
        let state = self.lock();
        let serving = || state.agents.iter().filter(|agent| agent.serves(object));
        if serving().next().is_none() && statistic != Statistic::CallsInQueue {
            return None;
        }
        let value = match statistic {
            Statistic::AgentsReady => serving()
                .filter(|agent| matches!(agent.state, AgentState::Ready { .. }))
                .count() as f64,
            Statistic::AgentsLoggedIn => serving().count() as f64,
            Statistic::ExpectedWaitTime => state.ewt_for(object).as_secs_f64(),
            Statistic::CallsInQueue => state
                .pending
                .iter()
                .filter(|pending| {
                    pending
                        .request
                        .targets
                        .iter()
                        .any(|target| target.name == object.name)
                })
                .count() as f64,
        };
        Some(value)
    }

    fn estimated_wait(&self, target: &Target) -> Duration {
        self.lock().ewt_for(target)
    }

    fn next_deadline(&self) -> Option<Duration> {
        self.lock().next_deadline()
    }

    fn tick(&self) {
        let _ = self.with_state(|_state, _now, _events| Ok(()));
    }
}

impl State {
    fn ewt_for(&self, target: &Target) -> Duration {
        let ready_now = self
            .agents
            .iter()
            .any(|agent| agent.serves(target) && matches!(agent.state, AgentState::Ready { .. }));
        if ready_now {
            return Duration::ZERO;
        }
        self.ewt_by_target
            .get(&target.name)
            .copied()
            .unwrap_or(self.ewt)
    }
}
