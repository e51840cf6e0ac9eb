//! The contact-center simulator on virtual time: routing to ready agents, priorities, timeouts, EWT and
//! statistics, outbound call outcomes, inbound calls, and the run-time controls.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use gms::clock::ManualClock;
use gms::contact_center::{
    AgentOptions, CallOutcome, CallRequest, CcError, CcEvent, ContactCenter, InteractionId,
    RequestId, SimOptions, Simulator, Statistic, SubmitFailure, SubmitRequest, Target,
};

struct Fixture {
    sim: Simulator,
    clock: Arc<ManualClock>,
    events: Receiver<CcEvent>,
}

impl Fixture {
    fn new(options: SimOptions) -> Self {
        let clock = Arc::new(ManualClock::default());
        let (sender, events) = channel();
        let sim = Simulator::new(options, clock.clone(), Arc::new(sender));
        Fixture { sim, clock, events }
    }

    /// Moves virtual time forward and lets the simulator do what came due.
    fn advance(&self, secs: u64) {
        self.clock.advance(Duration::from_secs(secs));
        self.sim.tick();
    }

    fn drain(&self) -> Vec<CcEvent> {
        self.events.try_iter().collect()
    }
}

fn agent(id: &str, groups: &[&str], ready: bool) -> AgentOptions {
    AgentOptions {
        id: id.into(),
        groups: groups.iter().map(|group| group.to_string()).collect(),
        ready,
    }
}

fn submit(targets: &[&str], priority: i32, timeout_secs: Option<u64>) -> SubmitRequest {
    SubmitRequest {
        interaction: None,
        targets: targets.iter().map(|target| Target::parse(target)).collect(),
        priority,
        timeout: timeout_secs.map(Duration::from_secs),
    }
}

fn selected(request: RequestId, agent: &str, target: &str) -> CcEvent {
    CcEvent::TargetSelected {
        request,
        interaction: None,
        agent: agent.into(),
        target: target.into(),
    }
}

#[test]
fn targets_parse_the_ors_notation() {
    let target = Target::parse("Sales@StatServer.GA");
    assert_eq!(
        (target.name.as_str(), target.kind),
        ("Sales", gms::contact_center::TargetKind::AgentGroup)
    );
    assert_eq!(
        Target::parse("ann.A").kind,
        gms::contact_center::TargetKind::Agent
    );
    assert_eq!(
        Target::parse("Queue1").kind,
        gms::contact_center::TargetKind::Queue
    );
}

#[test]
fn a_ready_agent_is_selected_at_once() {
    let fixture = Fixture::new(SimOptions {
        agents: vec![agent("ann", &["Sales"], true)],
        ..SimOptions::default()
    });
    let request = fixture
        .sim
        .submit(submit(&["Sales@StatServer.GA"], 0, None))
        .unwrap();
    assert_eq!(fixture.drain(), [selected(request, "ann", "Sales")]);
    assert_eq!(fixture.sim.snapshot().agents[0].state, "busy");
}

#[test]
fn a_submit_waits_until_an_agent_is_made_ready() {
    let fixture = Fixture::new(SimOptions {
        agents: vec![agent("ann", &["Sales"], false)],
        ewt: Duration::from_secs(90),
        ..SimOptions::default()
    });
    let sales = Target::group("Sales");
    assert_eq!(fixture.sim.estimated_wait(&sales), Duration::from_secs(90));
    assert_eq!(
        fixture.sim.statistic(&sales, Statistic::AgentsReady),
        Some(0.0)
    );
    let request = fixture.sim.submit(submit(&["Sales"], 0, None)).unwrap();
    assert_eq!(
        fixture.sim.statistic(&sales, Statistic::CallsInQueue),
        Some(1.0)
    );
    fixture.advance(30);
    assert!(fixture.drain().is_empty());
    fixture.sim.set_agent_ready("ann").unwrap();
    assert_eq!(
        fixture.drain(),
        [
            CcEvent::AgentState {
                agent: "ann".into(),
                ready: true
            },
            selected(request, "ann", "Sales")
        ]
    );
    assert_eq!(
        fixture.sim.statistic(&sales, Statistic::CallsInQueue),
        Some(0.0)
    );
}

#[test]
fn higher_priority_then_older_submits_are_served_first() {
    let fixture = Fixture::new(SimOptions {
        agents: vec![
            agent("ann", &["Sales"], false),
            agent("bob", &["Sales"], false),
        ],
        ..SimOptions::default()
    });
    let first = fixture.sim.submit(submit(&["Sales"], 0, None)).unwrap();
    let second = fixture.sim.submit(submit(&["Sales"], 0, None)).unwrap();
    let urgent = fixture.sim.submit(submit(&["Sales"], 5, None)).unwrap();
    fixture.sim.set_agent_ready("bob").unwrap();
    fixture.sim.set_agent_ready("ann").unwrap();
    let picks: Vec<CcEvent> = fixture
        .drain()
        .into_iter()
        .filter(|event| matches!(event, CcEvent::TargetSelected { .. }))
        .collect();
    assert_eq!(
        picks,
        [
            selected(urgent, "bob", "Sales"),
            selected(first, "ann", "Sales")
        ]
    );
    assert_eq!(fixture.sim.snapshot().waiting, 1);
    let _ = second;
}

#[test]
fn the_agent_ready_longest_is_chosen() {
    let fixture = Fixture::new(SimOptions {
        agents: vec![
            agent("ann", &["Sales"], false),
            agent("bob", &["Sales"], true),
        ],
        ..SimOptions::default()
    });
    fixture.advance(10);
    fixture.sim.set_agent_ready("ann").unwrap();
    fixture.drain();
    let request = fixture.sim.submit(submit(&["Sales"], 0, None)).unwrap();
    assert_eq!(fixture.drain(), [selected(request, "bob", "Sales")]);
}

#[test]
fn a_submit_times_out_and_a_cancelled_one_ends() {
    let fixture = Fixture::new(SimOptions {
        agents: vec![agent("ann", &["Sales"], false)],
        ..SimOptions::default()
    });
    let timed = fixture.sim.submit(submit(&["Sales"], 0, Some(20))).unwrap();
    let open = fixture.sim.submit(submit(&["Sales"], 0, None)).unwrap();
    assert_eq!(fixture.sim.next_deadline(), Some(Duration::from_secs(20)));
    fixture.advance(19);
    assert!(fixture.drain().is_empty());
    fixture.advance(1);
    assert_eq!(
        fixture.drain(),
        [CcEvent::SubmitFailed {
            request: timed,
            reason: SubmitFailure::Timeout
        }]
    );
    fixture.sim.cancel(open).unwrap();
    assert_eq!(
        fixture.drain(),
        [CcEvent::SubmitFailed {
            request: open,
            reason: SubmitFailure::Cancelled
        }]
    );
    assert_eq!(fixture.sim.cancel(open), Err(CcError::UnknownRequest(open)));
    assert_eq!(fixture.sim.next_deadline(), None);
}

#[test]
fn a_selected_agent_is_busy_for_the_handle_time() {
    let fixture = Fixture::new(SimOptions {
        agents: vec![agent("ann", &["Sales"], true)],
        handle_time: Some(Duration::from_secs(100)),
        ..SimOptions::default()
    });
    let first = fixture.sim.submit(submit(&["Sales"], 0, None)).unwrap();
    let second = fixture.sim.submit(submit(&["ann.A"], 0, None)).unwrap();
    assert_eq!(fixture.drain(), [selected(first, "ann", "Sales")]);
    fixture.advance(99);
    assert!(fixture.drain().is_empty());
    fixture.advance(1);
    assert_eq!(
        fixture.drain(),
        [
            CcEvent::AgentState {
                agent: "ann".into(),
                ready: true
            },
            selected(second, "ann", "ann")
        ]
    );
}

#[test]
fn an_agent_without_handle_time_stays_busy_until_released() {
    let fixture = Fixture::new(SimOptions {
        agents: vec![agent("ann", &["Sales"], true)],
        handle_time: None,
        ..SimOptions::default()
    });
    fixture.sim.submit(submit(&["Sales"], 0, None)).unwrap();
    fixture.advance(10_000);
    assert_eq!(fixture.sim.snapshot().agents[0].state, "busy");
    fixture.sim.release_agent("ann").unwrap();
    assert_eq!(fixture.sim.snapshot().agents[0].state, "ready");
    assert_eq!(
        fixture.sim.release_agent("nobody"),
        Err(CcError::UnknownAgent("nobody".into()))
    );
}

#[test]
fn ewt_and_statistics_follow_the_controls() {
    let fixture = Fixture::new(SimOptions {
        agents: vec![
            agent("ann", &["Sales"], false),
            agent("bob", &["Sales", "Support"], true),
        ],
        ..SimOptions::default()
    });
    let sales = Target::parse("Sales@StatServer.GA");
    let support = Target::group("Support");
    assert_eq!(fixture.sim.estimated_wait(&sales), Duration::ZERO);
    assert_eq!(
        fixture.sim.statistic(&sales, Statistic::AgentsReady),
        Some(1.0)
    );
    assert_eq!(
        fixture.sim.statistic(&sales, Statistic::AgentsLoggedIn),
        Some(2.0)
    );
    assert_eq!(
        fixture
            .sim
            .statistic(&Target::group("Nobody"), Statistic::AgentsReady),
        None
    );
    fixture.sim.set_agent_not_ready("bob").unwrap();
    fixture.sim.set_ewt(None, Duration::from_secs(45));
    fixture
        .sim
        .set_ewt(Some("Support"), Duration::from_secs(300));
    assert_eq!(fixture.sim.estimated_wait(&sales), Duration::from_secs(45));
    assert_eq!(
        fixture.sim.statistic(&support, Statistic::ExpectedWaitTime),
        Some(300.0)
    );
    assert_eq!(
        Statistic::parse("StatAgentsAvailable"),
        Some(Statistic::AgentsReady)
    );
    assert_eq!(
        Statistic::parse("StatExpectedWaitingTime"),
        Some(Statistic::ExpectedWaitTime)
    );
    assert_eq!(Statistic::parse("Nonsense"), None);
}

#[test]
fn outbound_calls_end_with_the_steered_outcomes_after_ringing() {
    let fixture = Fixture::new(SimOptions {
        ring_time: Duration::from_secs(8),
        call_outcome: CallOutcome::Answered,
        ..SimOptions::default()
    });
    fixture.sim.push_call_outcome(CallOutcome::Busy);
    fixture
        .sim
        .push_call_outcome(CallOutcome::parse("no-answer").unwrap());
    assert_eq!(
        fixture.sim.snapshot().queued_outcomes,
        ["busy", "no-answer"]
    );
    let call = |to: &str| CallRequest {
        from: "8000".into(),
        to: to.into(),
        udata: BTreeMap::new(),
    };
    let busy = fixture.sim.create_call(call("5551001")).unwrap();
    let silent = fixture.sim.create_call(call("5551002")).unwrap();
    let answered = fixture.sim.create_call(call("5551003")).unwrap();
    assert_eq!(
        fixture.sim.create_call(call(" ")),
        Err(CcError::Invalid("a call needs a number to dial".into()))
    );
    fixture.advance(7);
    assert!(fixture.drain().is_empty());
    fixture.advance(1);
    let outcomes: Vec<(RequestId, CallOutcome)> = fixture
        .drain()
        .into_iter()
        .map(|event| match event {
            CcEvent::CallResult {
                request, outcome, ..
            } => (request, outcome),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(
        outcomes,
        [
            (busy, CallOutcome::Busy),
            (silent, CallOutcome::NoAnswer),
            (answered, CallOutcome::Answered)
        ]
    );
}

#[test]
fn an_inbound_call_is_reported_accepted_treated_and_routed() {
    let fixture = Fixture::new(SimOptions {
        agents: vec![agent("ann", &["Sales"], false)],
        ..SimOptions::default()
    });
    let udata = BTreeMap::from([("_access_code".to_string(), "1234".to_string())]);
    let call = fixture
        .sim
        .place_call("5551234", "8005550100", udata.clone());
    assert_eq!(
        fixture.drain(),
        [CcEvent::InteractionAdded {
            interaction: call.clone(),
            ani: "5551234".into(),
            dnis: "8005550100".into(),
            udata
        }]
    );
    let accept = fixture.sim.accept(&call).unwrap();
    let music = fixture.sim.treatment(&call).unwrap();
    assert_eq!(
        fixture.drain(),
        [
            CcEvent::Accepted {
                request: accept,
                interaction: call.clone()
            },
            CcEvent::TreatmentDone {
                request: music,
                interaction: call.clone()
            }
        ]
    );
    assert_eq!(
        fixture.sim.accept(&InteractionId("call-404".into())),
        Err(CcError::UnknownInteraction("call-404".into()))
    );
    let request = fixture
        .sim
        .submit(SubmitRequest {
            interaction: Some(call.clone()),
            ..submit(&["Sales"], 0, None)
        })
        .unwrap();
    fixture.sim.add_agent(agent("ann", &["Sales"], true));
    let routed = fixture.drain();
    assert_eq!(
        routed.last(),
        Some(&CcEvent::TargetSelected {
            request,
            interaction: Some(call),
            agent: "ann".into(),
            target: "Sales".into()
        })
    );
}

#[test]
fn a_submit_without_targets_is_refused() {
    let fixture = Fixture::new(SimOptions::default());
    // The ORS layer holds the contact center as a trait object.
    let shared: Arc<dyn ContactCenter> = Arc::new(Simulator::new(
        SimOptions::default(),
        Arc::new(ManualClock::default()),
        Arc::new(gms::contact_center::FnSink(|_event: CcEvent| {})),
    ));
    assert_eq!(shared.next_deadline(), None);
    assert!(matches!(
        fixture.sim.submit(submit(&[], 0, None)),
        Err(CcError::Invalid(_))
    ));
}

/// A small deterministic generator, so a failing run can be replayed from its seed.
struct XorShift(u64);

impl XorShift {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

#[test]
fn random_operation_sequences_keep_the_invariants() {
    let agents = ["ann", "bob", "cid", "dee"];
    let groups = ["Sales", "Support"];
    for seed in 1..=40u64 {
        let mut rng = XorShift(0x9e37_79b9_7f4a_7c15 ^ seed);
        let fixture = Fixture::new(SimOptions {
            agents: agents
                .iter()
                .enumerate()
                .map(|(idx, id)| agent(id, &[groups[idx % 2]], idx % 3 == 0))
                .collect(),
            handle_time: if seed % 2 == 0 {
                Some(Duration::from_secs(30))
            } else {
                None
            },
            ..SimOptions::default()
        });
        let mut submits: Vec<(RequestId, bool)> = Vec::new();
        let mut calls: Vec<RequestId> = Vec::new();
        let mut events: Vec<CcEvent> = Vec::new();
        for _ in 0..200 {
            match rng.below(8) {
                0 | 1 => {
                    let target = groups[rng.below(2) as usize];
                    let timeout = (rng.below(3) > 0).then(|| 1 + rng.below(60));
                    let request = fixture
                        .sim
                        .submit(submit(&[target], rng.below(3) as i32, timeout))
                        .unwrap();
                    submits.push((request, timeout.is_some()));
                }
                2 => {
                    if let Some((request, _)) =
                        submits.get(rng.below(submits.len() as u64 + 1) as usize)
                    {
                        // Cancelling a finished submit is an error, never a second outcome.
                        let _ = fixture.sim.cancel(*request);
                    }
                }
                3 => fixture
                    .sim
                    .set_agent_ready(agents[rng.below(4) as usize])
                    .unwrap(),
                4 => fixture
                    .sim
                    .set_agent_not_ready(agents[rng.below(4) as usize])
                    .unwrap(),
                5 => {
                    if rng.below(2) == 0 {
                        fixture.sim.push_call_outcome(CallOutcome::Busy);
                    }
                    let request = fixture
                        .sim
                        .create_call(CallRequest {
                            from: "1".into(),
                            to: "2".into(),
                            udata: BTreeMap::new(),
                        })
                        .unwrap();
                    calls.push(request);
                }
                _ => fixture.advance(rng.below(20)),
            }
            events.extend(fixture.drain());
        }
        // Long enough for every timeout, ring and handle time to pass.
        fixture.advance(10_000);
        events.extend(fixture.drain());

        let mut busy: BTreeMap<String, bool> = BTreeMap::new();
        let mut ends: BTreeMap<RequestId, usize> = BTreeMap::new();
        let mut call_results: BTreeMap<RequestId, usize> = BTreeMap::new();
        for event in &events {
            match event {
                CcEvent::TargetSelected { request, agent, .. } => {
                    assert!(
                        !busy.get(agent).copied().unwrap_or(false),
                        "seed {seed}: {agent} selected twice"
                    );
                    busy.insert(agent.clone(), true);
                    *ends.entry(*request).or_default() += 1;
                }
                CcEvent::SubmitFailed { request, .. } => *ends.entry(*request).or_default() += 1,
                CcEvent::AgentState { agent, ready } => {
                    if *ready {
                        busy.insert(agent.clone(), false);
                    }
                }
                CcEvent::CallResult { request, .. } => {
                    *call_results.entry(*request).or_default() += 1
                }
                other => panic!("seed {seed}: unexpected {other:?}"),
            }
        }
        for (request, timed) in &submits {
            let n_ends = ends.get(request).copied().unwrap_or(0);
            assert!(n_ends <= 1, "seed {seed}: {request} ended {n_ends} times");
            if *timed {
                assert_eq!(n_ends, 1, "seed {seed}: timed submit {request} never ended");
            }
        }
        for request in &calls {
            assert_eq!(
                call_results.get(request),
                Some(&1),
                "seed {seed}: call {request}"
            );
        }
        // Only submits without a timeout may still wait; nothing timed is left.
        assert_eq!(fixture.sim.next_deadline(), None, "seed {seed}");
    }
}
