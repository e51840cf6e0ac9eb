//! Leaving and entering states (W3C Appendix D: `exitStates`, `enterStates`, `computeEntrySet`,
//! `addDescendantStatesToEnter`, `addAncestorStatesToEnter`, `isInFinalState`).

use std::collections::HashMap;
use std::sync::Arc;

use crate::scxml::event::{Event, EventKind};
use crate::scxml::host::{Host, TraceRecord};
use crate::scxml::interp::Session;
use crate::scxml::model::{Binding, Block, Model, StateId, StateKind, TransitionId};

/// What `computeEntrySet` produces; the session keeps one between microsteps to reuse its buffers.
#[derive(Default)]
pub(super) struct EntrySet {
    /// `statesToEnter` (unordered here; sorted into entry order before use).
    states: Vec<StateId>,
    /// `marks[s]` is true when `s` is in `states` (a buffer kept by the session between steps).
    marks: Vec<bool>,
    /// `statesForDefaultEntry`.
    default_entry: Vec<StateId>,
    /// `defaultHistoryContent`: parent state → the history default transition's content.
    history_content: HashMap<StateId, Block>,
}

impl EntrySet {
    fn add(&mut self, state: StateId) {
        if !self.marks[state] {
            self.marks[state] = true;
            self.states.push(state);
        }
    }

    /// True when `state` or one of its descendants is to be entered.
    fn holds_within(&self, model: &Model, state: StateId) -> bool {
        self.marks[state..model.states[state].end]
            .iter()
            .any(|&marked| marked)
    }
}

impl Session {
    /// `exitStates(enabledTransitions)`: records history, then exits the exit set in reverse
    /// document order, running `onexit` and cancelling invokes.
    pub(super) fn exit_states(&mut self, enabled: &[TransitionId], host: &mut dyn Host) {
        let model = self.model.clone();
        let mut states_to_exit = self.compute_exit_set(enabled);
        self.states_to_invoke
            .retain(|state| !states_to_exit.contains(state));
        // Exit order: reverse document order (descendants before ancestors).
        states_to_exit.reverse();
        for &state in &states_to_exit {
            for &child in &model.states[state].children {
                let kind = model.states[child].kind;
                if !matches!(kind, StateKind::HistoryShallow | StateKind::HistoryDeep) {
                    continue;
                }
                let end = model.states[state].end;
                let recorded: Vec<StateId> = if kind == StateKind::HistoryDeep {
                    (state + 1..end)
                        .filter(|&s| self.configuration[s] && model.is_atomic(s))
                        .collect()
                } else {
                    model.states[state]
                        .children
                        .iter()
                        .copied()
                        .filter(|&s| self.configuration[s])
                        .collect()
                };
                self.history.insert(child, recorded);
            }
        }
        for &state in &states_to_exit {
            for block in &model.states[state].onexit {
                self.execute_block(block, host);
            }
            self.cancel_invokes_of(state, host);
            self.configuration[state] = false;
            if model.uses_in {
                self.datamodel.set_active(&model.states[state].id, false);
            }
            self.trace(host, || {
                TraceRecord::Exit(model.state_id(state).to_string())
            });
        }
    }

    /// `enterStates(enabledTransitions)`: enters the entry set in document order, running `onentry`,
    /// initial and history-default content, and raising `done.state.*` events.
    pub(super) fn enter_states(&mut self, enabled: &[TransitionId], host: &mut dyn Host) {
        let model = self.model.clone();
        let mut entry = std::mem::take(&mut self.entry_scratch);
        entry.marks.resize(model.states.len(), false);
        self.compute_entry_set(enabled, &mut entry);
        entry.states.sort_unstable();
        for &state in &entry.states {
            entry.marks[state] = false;
        }
        self.enter_entry_set(&entry, host);
        entry.states.clear();
        entry.default_entry.clear();
        entry.history_content.clear();
        self.entry_scratch = entry;
    }

    fn enter_entry_set(&mut self, entry: &EntrySet, host: &mut dyn Host) {
        let model = self.model.clone();
        for &state in &entry.states {
            self.configuration[state] = true;
            if model.uses_in {
                self.datamodel.set_active(&model.states[state].id, true);
            }
            if let Some(count) = self.entry_counts.get_mut(state) {
                *count += 1;
            }
            if !model.states[state].invokes.is_empty() {
                self.states_to_invoke.push(state);
            }
            self.trace(host, || {
                TraceRecord::Enter(model.state_id(state).to_string())
            });
            if model.binding == Binding::Late && !self.data_initialized[state] {
                self.init_data(state, host);
            }
            for block in &model.states[state].onentry {
                self.execute_block(block, host);
            }
            if entry.default_entry.contains(&state)
                && let Some(initial) = model.states[state].initial
            {
                self.execute_block(&model.transitions[initial].body, host);
            }
            if !entry.history_content.is_empty()
                && let Some(content) = entry.history_content.get(&state)
            {
                self.execute_block(content, host);
            }
            if model.states[state].kind != StateKind::Final {
                continue;
            }
            let Some(parent) = model.states[state].parent else {
                continue;
            };
            if parent == Model::ROOT {
                self.running = false;
                continue;
            }
            let data = self.done_data(state, host);
            let event = Event::new(
                format!("done.state.{}", model.state_id(parent)),
                EventKind::Platform,
            )
            .with_data(data);
            self.internal.push_back(event);
            if let Some(grandparent) = model.states[parent].parent
                && model.states[grandparent].kind == StateKind::Parallel
                && model.states[grandparent]
                    .children
                    .iter()
                    .filter(|&&child| !model.is_history(child))
                    .all(|&child| self.is_in_final_state(child))
            {
                let event = Event::new(
                    format!("done.state.{}", model.state_id(grandparent)),
                    EventKind::Platform,
                );
                self.internal.push_back(event);
            }
        }
    }

    /// `computeEntrySet(transitions, statesToEnter, statesForDefaultEntry, defaultHistoryContent)`.
    fn compute_entry_set(&self, transitions: &[TransitionId], entry: &mut EntrySet) {
        let model = Arc::clone(&self.model);
        for &transition in transitions {
            let transition_ref = &model.transitions[transition];
            let targets = &transition_ref.targets;
            for &target in targets {
                self.add_descendant_states_to_enter(target, entry);
            }
            let ancestor = self.get_transition_domain(transition);
            if transition_ref.has_history_target {
                for state in self.get_effective_target_states(targets.iter().copied()) {
                    self.add_ancestor_states_to_enter(state, ancestor, entry);
                }
            } else {
                for &state in targets {
                    self.add_ancestor_states_to_enter(state, ancestor, entry);
                }
            }
        }
    }

    /// `addDescendantStatesToEnter(state, ...)`.
    fn add_descendant_states_to_enter(&self, state: StateId, entry: &mut EntrySet) {
        let model = &*self.model;
        if model.is_history(state) {
            let parent = model.states[state].parent;
            let targets: Vec<StateId> = match self.history.get(&state) {
                Some(recorded) => recorded.clone(),
                None => {
                    let Some(&transition) = model.states[state].transitions.first() else {
                        return;
                    };
                    if let Some(parent) = parent {
                        entry
                            .history_content
                            .insert(parent, Arc::clone(&model.transitions[transition].body));
                    }
                    model.transitions[transition].targets.clone()
                }
            };
            for &target in &targets {
                self.add_descendant_states_to_enter(target, entry);
            }
            for &target in &targets {
                self.add_ancestor_states_to_enter(target, parent, entry);
            }
            return;
        }
        entry.add(state);
        if model.is_compound(state) {
            if !entry.default_entry.contains(&state) {
                entry.default_entry.push(state);
            }
            let Some(initial) = model.states[state].initial else {
                return;
            };
            let initial = &model.transitions[initial];
            for &target in &initial.targets {
                self.add_descendant_states_to_enter(target, entry);
            }
            if initial.has_history_target {
                for target in self.get_effective_target_states(initial.targets.iter().copied()) {
                    self.add_ancestor_states_to_enter(target, Some(state), entry);
                }
            } else {
                for &target in &initial.targets {
                    self.add_ancestor_states_to_enter(target, Some(state), entry);
                }
            }
        } else if model.states[state].kind == StateKind::Parallel {
            for &child in &model.states[state].children {
                if model.is_history(child) {
                    continue;
                }
                if !entry.holds_within(model, child) {
                    self.add_descendant_states_to_enter(child, entry);
                }
            }
        }
    }

    /// `addAncestorStatesToEnter(state, ancestor, ...)`.
    fn add_ancestor_states_to_enter(
        &self,
        state: StateId,
        ancestor: Option<StateId>,
        entry: &mut EntrySet,
    ) {
        let model = &*self.model;
        let mut cursor = model.states[state].parent;
        while let Some(anc) = cursor {
            if Some(anc) == ancestor {
                break;
            }
            cursor = model.states[anc].parent;
            entry.add(anc);
            if model.states[anc].kind == StateKind::Parallel {
                for &child in &model.states[anc].children {
                    if model.is_history(child) {
                        continue;
                    }
                    if !entry.holds_within(model, child) {
                        self.add_descendant_states_to_enter(child, entry);
                    }
                }
            }
        }
    }

    /// `isInFinalState(s)`.
    pub(super) fn is_in_final_state(&self, state: StateId) -> bool {
        let model = &self.model;
        match model.states[state].kind {
            StateKind::Compound | StateKind::Root => {
                model.states[state].children.iter().any(|&child| {
                    model.states[child].kind == StateKind::Final && self.configuration[child]
                })
            }
            StateKind::Parallel => model.states[state]
                .children
                .iter()
                .filter(|&&child| !model.is_history(child))
                .all(|&child| self.is_in_final_state(child)),
            _ => false,
        }
    }
}
