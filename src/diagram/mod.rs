//! State diagrams of charts: [`render`] draws a [`Model`] as SVG, with given states and transitions marked
//! ([`Marks`]: active states highlighted, missed states and transitions in red), for `gms diagram` and for pages
//! that show a running session or a coverage report.
//!
//! # What is drawn
//! Compound states are nested boxes with their name on top; a parallel state's regions sit side by side with a
//! dashed divider between them; an initial transition starts at a filled dot, a history state is a circle marked
//! `H` (`H*` when deep), a final state has a double border. Transitions with targets are arrows labelled
//! `event [cond]` (long conditions wrapped and cut, the full text in the group's `<title>`); eventless ones are
//! dashed, `type="internal"` ones end in an open arrowhead; targetless ones are listed inside their state as
//! `event [cond] /`. A legend at the bottom says so.
//!
//! Every state is a group `<g class="state KIND" data-state="ID">` (nested as the states are) and every
//! transition a group `<g class="transition ..." data-source data-targets data-event data-index>` (`data-index`
//! is its index in [`Model::transitions`]), so a page can find and restyle them; the look lives in one
//! `<style>` block keyed on classes, and marks are the classes `active` and `missed`.
//!
//! # Layout
//! Positions come from `layout-rs` (crate `layout`), a layered (Sugiyama) layout in the manner of Graphviz's
//! `dot`: ranks by network simplex, crossings reduced by weighted medians, coordinates by Brandes–Köpf, edges as
//! Bézier curves through dummy nodes, and labels as nodes of their own so that they get room between ranks. It
//! was chosen over `rust-sugiyama` (node coordinates only, no edge routes and no labels, and petgraph with it)
//! and over Graphviz bindings (a C library to install): it is pure Rust with no dependency of its own and
//! returns routes and label places too. It has no nested subgraphs, so nesting is done here ([`arrange`]):
//! each compound state's children are laid out as their own graph, bottom-up, a child compound state being one
//! node of its computed size; a transition lives in the graph of the innermost state holding both its ends, and
//! a straight segment joins that graph's route to a source or target nested deeper. `layout-rs` checks its
//! invariants with assertions; should one fail, that one graph is drawn in a row with straight edges instead
//! ([`layered::lay_out`]), so no chart makes `render` fail.

mod arrange;
mod geom;
mod layered;
mod svg;
mod text;

use std::collections::BTreeSet;

use crate::scxml::model::{Model, StateId, TransitionId};

/// What to mark on a diagram, by index in [`Model::states`] and [`Model::transitions`]. Indices a chart does not
/// have are ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Marks {
    /// States drawn highlighted (class `active`): a session's configuration.
    pub active: BTreeSet<StateId>,
    /// States drawn in red (class `missed`): never entered.
    pub missed_states: BTreeSet<StateId>,
    /// Transitions drawn in red (class `missed`): never taken.
    pub missed_transitions: BTreeSet<TransitionId>,
}

impl Marks {
    /// Marks the states of `model` with the given ids as active (ids the chart does not have are ignored).
    pub fn with_active_ids<'a>(model: &Model, ids: impl IntoIterator<Item = &'a str>) -> Self {
        Marks {
            active: ids
                .into_iter()
                .filter_map(|id| model.find_state(id))
                .collect(),
            ..Marks::default()
        }
    }
}

/// The SVG document of `model`'s state diagram, with `marks`.
pub fn render(model: &Model, marks: &Marks) -> String {
    svg::write(model, &arrange::arrange(model), marks)
}
