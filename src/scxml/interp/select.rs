//! Transition selection and the sets it depends on (W3C Appendix D: `selectTransitions`,
//! `selectEventlessTransitions`, `removeConflictingTransitions`, `computeExitSet`,
//! `getTransitionDomain`, `findLCCA`, `getEffectiveTargetStates`).

use crate::scxml::event::Event;
use crate::scxml::host::Host;
use crate::scxml::interp::Session;
use crate::scxml::model::{Model, StateId, TransitionId};

impl Session {
    /// `selectEventlessTransitions()`: for each active atomic state in document order, the first
    /// eventless transition whose condition holds, searching the state then its ancestors.
    pub(super) fn select_eventless_transitions(
        &mut self,
        host: &mut dyn Host,
    ) -> Vec<TransitionId> {
        self.select(None, host)
    }

    /// `selectTransitions(event)`: as above, for transitions whose descriptors match `event`.
    pub(super) fn select_transitions(
        &mut self,
        event: &Event,
        host: &mut dyn Host,
    ) -> Vec<TransitionId> {
        self.select(Some(event), host)
    }

    fn select(&mut self, event: Option<&Event>, host: &mut dyn Host) -> Vec<TransitionId> {
        let model = self.model.clone();
        let mut enabled: Vec<TransitionId> = Vec::new();
        for state in 0..self.configuration.len() {
            if !self.configuration[state] || !model.is_atomic(state) {
                continue;
            }
            let mut cursor = Some(state);
            'ancestors: while let Some(current) = cursor {
                for &transition in &model.states[current].transitions {
                    let candidate = &model.transitions[transition];
                    let matches = match event {
                        None => candidate.events.is_empty(),
                        Some(event) => {
                            !candidate.events.is_empty() && event.matches(&candidate.events)
                        }
                    };
                    if matches && self.condition_holds(transition, host) {
                        if !enabled.contains(&transition) {
                            enabled.push(transition);
                        }
                        break 'ancestors;
                    }
                }
                cursor = model.states[current].parent;
            }
        }
        if enabled.len() > 1 {
            self.remove_conflicting_transitions(enabled)
        } else {
            enabled
        }
    }

    fn condition_holds(&mut self, transition: TransitionId, _host: &mut dyn Host) -> bool {
        let model = self.model.clone();
        let Some(cond) = &model.transitions[transition].cond else {
            return true;
        };
        self.at("transition", model.transitions[transition].pos);
        match self.datamodel.eval_bool(cond) {
            Ok(value) => value,
            Err(message) => {
                self.raise_error("error.execution", &message, None);
                false
            }
        }
    }

    /// `removeConflictingTransitions(enabledTransitions)`: when two transitions exit a common state,
    /// the one whose source is a descendant of the other's wins; otherwise the earlier one in
    /// document order wins.
    ///
    /// An exit set is "the active states strictly inside the transition domain", i.e. the active
    /// states of one index range (states are in document order), so two exit sets intersect exactly
    /// when the inner of the two (nested or disjoint) ranges holds an active state.
    pub(super) fn remove_conflicting_transitions(
        &self,
        enabled: Vec<TransitionId>,
    ) -> Vec<TransitionId> {
        let mut filtered: Vec<(TransitionId, Option<(StateId, StateId)>)> =
            Vec::with_capacity(enabled.len());
        for t1 in enabled {
            let range1 = self.exit_range(t1);
            let mut t1_preempted = false;
            let mut to_remove = Vec::new();
            for (idx, (t2, range2)) in filtered.iter().enumerate() {
                if self.exit_sets_intersect(range1, *range2) {
                    let source1 = self.model.transitions[t1].source;
                    let source2 = self.model.transitions[*t2].source;
                    if self.model.is_descendant(source1, source2) {
                        to_remove.push(idx);
                    } else {
                        t1_preempted = true;
                        break;
                    }
                }
            }
            if !t1_preempted {
                for idx in to_remove.into_iter().rev() {
                    filtered.remove(idx);
                }
                filtered.push((t1, range1));
            }
        }
        filtered
            .into_iter()
            .map(|(transition, _)| transition)
            .collect()
    }

    /// The index range whose active states form `computeExitSet([transition])`.
    fn exit_range(&self, transition: TransitionId) -> Option<(StateId, StateId)> {
        if self.model.transitions[transition].targets.is_empty() {
            return None;
        }
        self.get_transition_domain(transition)
            .map(|domain| (domain + 1, self.model.states[domain].end))
    }

    fn exit_sets_intersect(
        &self,
        first: Option<(StateId, StateId)>,
        second: Option<(StateId, StateId)>,
    ) -> bool {
        let (Some((start1, end1)), Some((start2, end2))) = (first, second) else {
            return false;
        };
        let (start, end) = (start1.max(start2), end1.min(end2));
        (start..end).any(|state| self.configuration[state])
    }

    /// `computeExitSet(transitions)`: the active states that are descendants of each transition's
    /// domain, in document order.
    pub(super) fn compute_exit_set(&self, transitions: &[TransitionId]) -> Vec<StateId> {
        let mut ranges: Vec<(StateId, StateId)> = transitions
            .iter()
            .filter_map(|&transition| self.exit_range(transition))
            .collect();
        ranges.sort_unstable();
        let mut exit = Vec::new();
        let mut covered_until = 0;
        for (start, end) in ranges {
            // Ranges are nested or disjoint: a range starting inside the previous one is inside it.
            if start < covered_until {
                continue;
            }
            covered_until = end;
            exit.extend((start..end).filter(|&state| self.configuration[state]));
        }
        exit
    }

    /// `getTransitionDomain(t)`: the compound state (or root) whose descendants the transition
    /// exits and enters. Precomputed by the model unless a target is a history state.
    pub(super) fn get_transition_domain(&self, transition: TransitionId) -> Option<StateId> {
        let model = &self.model;
        let transition = &model.transitions[transition];
        if !transition.has_history_target {
            return transition.domain;
        }
        let targets = self.get_effective_target_states(transition.targets.iter().copied());
        if targets.is_empty() {
            return None;
        }
        let source = transition.source;
        if transition.internal
            && model.is_compound(source)
            && targets
                .iter()
                .all(|&target| model.is_descendant(target, source))
        {
            return Some(source);
        }
        Some(self.find_lcca(source, &targets))
    }

    /// `findLCCA(stateList)`: the least compound ancestor (or the root) of `first` that holds every
    /// state of `rest`.
    pub(super) fn find_lcca(&self, first: StateId, rest: &[StateId]) -> StateId {
        let model = &self.model;
        let mut cursor = model.states[first].parent;
        while let Some(ancestor) = cursor {
            if model.is_compound(ancestor)
                && rest
                    .iter()
                    .all(|&state| model.is_descendant(state, ancestor))
            {
                return ancestor;
            }
            cursor = model.states[ancestor].parent;
        }
        Model::ROOT
    }

    /// `getEffectiveTargetStates(transition)`: targets with history states replaced by their
    /// recorded (or default) configuration.
    pub(super) fn get_effective_target_states(
        &self,
        targets: impl Iterator<Item = StateId>,
    ) -> Vec<StateId> {
        let mut out: Vec<StateId> = Vec::new();
        for target in targets {
            if self.model.is_history(target) {
                match self.history.get(&target) {
                    Some(recorded) => {
                        for &state in recorded {
                            if !out.contains(&state) {
                                out.push(state);
                            }
                        }
                    }
                    None => {
                        let defaults = self.model.states[target]
                            .transitions
                            .first()
                            .map(|&transition| self.model.transitions[transition].targets.clone())
                            .unwrap_or_default();
                        for state in self.get_effective_target_states(defaults.into_iter()) {
                            if !out.contains(&state) {
                                out.push(state);
                            }
                        }
                    }
                }
            } else if !out.contains(&target) {
                out.push(target);
            }
        }
        out
    }
}
