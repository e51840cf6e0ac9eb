//! The contact-center simulator on virtual time: routing to ready agents, priorities, timeouts, EWT and
//! statistics, outbound call outcomes, inbound calls, and the run-time controls.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use gms::contact_center::{
    AgentOptions, CallOutcome, CallRequest, CcError, CcEvent, ContactCenter, InteractionId,
    ManualClock, RequestId, SimOptions, Simulator, Statistic, SubmitFailure, SubmitRequest, Target,
};

struct Fixture {
    sim: Simulator,
    clock: Arc<ManualClock>,
    events: Receiver<CcEvent>,
}

impl Fixture {
    fn new(options: SimOptions) -> Self {
        let clock = Arc::new(ManualClock::new());
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
    assert!(matches!(
        fixture.sim.submit(submit(&[], 0, None)),
        Err(CcError::Invalid(_))
    ));
}
