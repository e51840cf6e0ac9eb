//! Where everything of a chart goes: each state's box, bottom-up (a compound state's children laid out as a graph
//! of their own by [`layered`], a child compound state being one node of its computed size; a parallel state's
//! regions in a row), then top-down to absolute positions, and each transition's route.
//!
//! A transition is laid out in the graph of the innermost state holding both its source and its target (their
//! least common proper ancestor), between the children of that state on the way to them. When the real source or
//! target lies deeper, a straight segment joins that child's border to the real box's border.

use crate::scxml::model::{Model, StateId, StateKind, TransitionId};

use super::geom::{Cubic, Pt, Rect};
use super::layered::{self, Graph};
use super::text::{self, LABEL_FONT, LINE, NAME_FONT};

/// Space around the whole drawing.
pub const MARGIN: f64 = 16.0;
/// Inner padding of a box.
const PAD: f64 = 12.0;
/// Height of a box's name line.
const TITLE: f64 = 18.0;
/// Gap between the regions of a parallel state (the dashed divider runs in its middle).
const REGION_GAP: f64 = 24.0;
/// Diameter of a history marker.
pub const HISTORY: f64 = 24.0;
/// Diameter of an initial marker.
pub const INITIAL: f64 = 12.0;
/// Narrowest box of a state.
const MIN_WIDTH: f64 = 64.0;

/// One drawn edge of a transition (a transition with several targets has one per target).
#[derive(Debug, Clone)]
pub struct Route {
    /// The transition.
    pub transition: TransitionId,
    /// The path, from the source's border (or the initial marker) to the target's border.
    pub path: Vec<Cubic>,
    /// The label's middle (on the first edge of a labelled transition only).
    pub label: Option<Pt>,
}

/// The whole chart placed.
#[derive(Debug, Clone, Default)]
pub struct Arranged {
    /// Width of the chart's drawing (margins included).
    pub width: f64,
    /// Height of the chart's drawing (margins included).
    pub height: f64,
    /// Each state's box, by state index.
    pub boxes: Vec<Rect>,
    /// Each state's name as shown (empty for a state without an id of its own).
    pub names: Vec<String>,
    /// Each state's lines inside its box: its targetless transitions, with their indices.
    pub lines: Vec<Vec<(TransitionId, String)>>,
    /// Dashed dividers between the regions of parallel states: (the parallel state, top end, bottom end).
    pub dividers: Vec<(StateId, Pt, Pt)>,
    /// Initial markers: (the compound state, the marker's centre).
    pub initials: Vec<(StateId, Pt)>,
    /// The transitions that have targets, one entry per edge.
    pub routes: Vec<Route>,
}

/// What a container state's layout puts where, in its content frame.
#[derive(Debug, Clone, Default)]
struct Inner {
    /// Where the content frame starts inside the box.
    origin: Pt,
    /// Each child's rectangle in the content frame, in the order of `State::children`.
    children: Vec<Rect>,
    /// The initial marker's centre in the content frame.
    initial: Option<Pt>,
    /// Edges laid out here, in the content frame.
    edges: Vec<(EdgeReq, layered::EdgeRoute)>,
}

/// One edge to lay out in a container's graph.
#[derive(Debug, Clone, Copy)]
struct EdgeReq {
    transition: TransitionId,
    /// The real target.
    target: StateId,
    /// The child of the container on the way to the source; `None` for the initial marker.
    from_child: Option<usize>,
    /// The child of the container on the way to the target.
    to_child: usize,
    /// Whether this edge carries the transition's label.
    labelled: bool,
}

/// The name shown for `state`: its id, or the chart's name for the root; nothing for generated ids.
fn shown_name(model: &Model, state: StateId) -> String {
    let node = &model.states[state];
    if node.kind == StateKind::Root {
        return model
            .name
            .as_deref()
            .map_or_else(|| "scxml".to_string(), str::to_string);
    }
    if node.id.starts_with("__") {
        String::new()
    } else {
        node.id.clone()
    }
}

/// True when `transition` is the initial transition of its source.
pub fn is_initial(model: &Model, transition: TransitionId) -> bool {
    model.states[model.transitions[transition].source].initial == Some(transition)
}

/// Lays the whole chart out.
pub fn arrange(model: &Model) -> Arranged {
    let count = model.states.len();
    let names: Vec<String> = (0..count).map(|state| shown_name(model, state)).collect();
    let mut lines: Vec<Vec<(TransitionId, String)>> = vec![Vec::new(); count];
    let mut edges_of: Vec<Vec<EdgeReq>> = vec![Vec::new(); count];
    for (index, transition) in model.transitions.iter().enumerate() {
        if transition.targets.is_empty() {
            let label = text::full_label(transition);
            let line = if label.is_empty() {
                "/".to_string()
            } else {
                format!("{} /", text::shorten(&label, 40))
            };
            lines[transition.source].push((index, line));
            continue;
        }
        let initial = is_initial(model, index);
        for (nth, &target) in transition.targets.iter().enumerate() {
            let container = if initial {
                Some(transition.source)
            } else {
                common_container(model, transition.source, target)
            };
            let Some(container) = container else {
                continue;
            };
            let Some(to_child) = child_toward(model, container, target) else {
                continue;
            };
            let from_child = if initial {
                None
            } else {
                match child_toward(model, container, transition.source) {
                    Some(child) => Some(child),
                    None => continue,
                }
            };
            edges_of[container].push(EdgeReq {
                transition: index,
                target,
                from_child,
                to_child,
                labelled: nth == 0,
            });
        }
    }

    // Bottom-up: descendants have larger indices than their ancestors.
    let mut sizes = vec![(0.0, 0.0); count];
    let mut inners: Vec<Inner> = vec![Inner::default(); count];
    let mut dividers_local: Vec<Vec<(Pt, Pt)>> = vec![Vec::new(); count];
    for state in (0..count).rev() {
        let node = &model.states[state];
        let name_width = text::width(&names[state], NAME_FONT);
        let lines_width = lines[state]
            .iter()
            .map(|(_, line)| text::width(line, LABEL_FONT))
            .fold(0.0, f64::max);
        let header = PAD / 2.0 + TITLE + lines[state].len() as f64 * LINE + PAD / 2.0;
        let text_width = name_width.max(lines_width) + 2.0 * PAD;
        match node.kind {
            StateKind::Atomic | StateKind::Final => {
                sizes[state] = (text_width.max(MIN_WIDTH), header + PAD / 2.0);
            }
            StateKind::HistoryShallow | StateKind::HistoryDeep => {
                let label = if names[state].is_empty() { 0.0 } else { LINE };
                sizes[state] = (
                    HISTORY.max(text::width(&names[state], LABEL_FONT)),
                    HISTORY + label,
                );
            }
            StateKind::Parallel => {
                let mut x = 0.0;
                let mut height: f64 = 0.0;
                let mut children = Vec::new();
                for (nth, &child) in node.children.iter().enumerate() {
                    if nth > 0 {
                        x += REGION_GAP;
                    }
                    let (w, h) = sizes[child];
                    children.push(Rect::new(x, 0.0, w, h));
                    x += w;
                    height = height.max(h);
                }
                for pair in children.windows(2) {
                    let mid = (pair[0].x + pair[0].w + pair[1].x) / 2.0;
                    dividers_local[state].push((Pt::new(mid, 0.0), Pt::new(mid, height)));
                }
                let inner = framed(text_width, header, (x, height), children);
                sizes[state] = inner.0;
                inners[state] = inner.1;
                inners[state].edges = edges_of[state]
                    .iter()
                    .map(|req| (*req, layered::EdgeRoute::default()))
                    .collect();
            }
            StateKind::Compound | StateKind::Root => {
                let mut graph = Graph {
                    nodes: node.children.iter().map(|&child| sizes[child]).collect(),
                    edges: Vec::new(),
                };
                let marker = node.initial.map(|_| {
                    graph.nodes.push((INITIAL, INITIAL));
                    graph.nodes.len() - 1
                });
                for req in &edges_of[state] {
                    let from = match (req.from_child, marker) {
                        (Some(child), _) => child,
                        (None, Some(marker)) => marker,
                        (None, None) => continue,
                    };
                    let label = if req.labelled {
                        text::label_lines(&model.transitions[req.transition]).join("\n")
                    } else {
                        String::new()
                    };
                    graph.edges.push((from, req.to_child, label));
                }
                let laid = layered::lay_out(&graph);
                let children = laid.nodes[..node.children.len()].to_vec();
                let (size, mut inner) =
                    framed(text_width, header, (laid.width, laid.height), children);
                inner.initial = marker
                    .and_then(|marker| laid.nodes.get(marker))
                    .map(Rect::center);
                inner.edges = edges_of[state]
                    .iter()
                    .filter(|req| req.from_child.is_some() || marker.is_some())
                    .copied()
                    .zip(laid.edges)
                    .collect();
                sizes[state] = size;
                inners[state] = inner;
            }
        }
    }

    // Top-down: absolute boxes.
    let mut boxes = vec![Rect::default(); count];
    boxes[0] = Rect::new(MARGIN, MARGIN, sizes[0].0, sizes[0].1);
    let mut dividers = Vec::new();
    let mut initials = Vec::new();
    for state in 0..count {
        let inner = &inners[state];
        let origin = Pt::new(boxes[state].x, boxes[state].y).add(inner.origin);
        for (&child, rect) in model.states[state].children.iter().zip(&inner.children) {
            boxes[child] = rect.moved(origin);
        }
        for (from, to) in &dividers_local[state] {
            dividers.push((state, from.add(origin), to.add(origin)));
        }
        if let Some(marker) = inner.initial {
            initials.push((state, marker.add(origin)));
        }
    }

    let mut routes = Vec::new();
    for state in 0..count {
        let inner = &inners[state];
        let origin = Pt::new(boxes[state].x, boxes[state].y).add(inner.origin);
        let marker = inner.initial.map(|marker| marker.add(origin));
        for (req, laid) in &inner.edges {
            let transition = &model.transitions[req.transition];
            let source_box = boxes[transition.source];
            let target_box = boxes[req.target];
            let mut path: Vec<Cubic> = laid.path.iter().map(|cubic| cubic.moved(origin)).collect();
            let mut label = laid.label.map(|middle| middle.add(origin));
            if path.is_empty() {
                // Regions of a parallel state, or an edge the layout left out: a straight line between borders.
                let from = match (req.from_child, marker) {
                    (None, Some(marker)) => marker,
                    _ => source_box.border_toward(target_box.center()),
                };
                let to = target_box.border_toward(from);
                let line = Cubic::line(from, to);
                if req.labelled && !text::label_lines(transition).is_empty() {
                    label = Some(line.middle());
                }
                path.push(line);
            } else {
                let children = &model.states[state].children;
                if let Some(child) = req.from_child
                    && let Some(first) = path.first()
                    && children.get(child) != Some(&transition.source)
                {
                    let start = first.from;
                    path.insert(0, Cubic::line(source_box.border_toward(start), start));
                }
                if let Some(last) = path.last()
                    && children.get(req.to_child) != Some(&req.target)
                {
                    let end = last.to;
                    path.push(Cubic::line(end, target_box.border_toward(end)));
                }
            }
            routes.push(Route {
                transition: req.transition,
                path,
                label: if req.labelled { label } else { None },
            });
        }
    }
    Arranged {
        width: sizes[0].0 + 2.0 * MARGIN,
        height: sizes[0].1 + 2.0 * MARGIN,
        boxes,
        names,
        lines,
        dividers,
        initials,
        routes,
    }
}

/// A container's size and content frame: the header on top, the content centred below it.
fn framed(
    text_width: f64,
    header: f64,
    content: (f64, f64),
    children: Vec<Rect>,
) -> ((f64, f64), Inner) {
    let width = (content.0 + 2.0 * PAD).max(text_width).max(MIN_WIDTH);
    let height = header + content.1 + PAD;
    let inner = Inner {
        origin: Pt::new((width - content.0) / 2.0, header),
        children,
        initial: None,
        edges: Vec::new(),
    };
    ((width, height), inner)
}

/// The innermost state that properly contains both `a` and `b`.
fn common_container(model: &Model, a: StateId, b: StateId) -> Option<StateId> {
    let mut cursor = model.states[a].parent;
    while let Some(candidate) = cursor {
        if model.is_descendant(b, candidate) {
            return Some(candidate);
        }
        cursor = model.states[candidate].parent;
    }
    None
}

/// The position, among `container`'s children, of the child that is or holds `state`.
fn child_toward(model: &Model, container: StateId, state: StateId) -> Option<usize> {
    let children = &model.states[container].children;
    children
        .iter()
        .position(|&child| child == state || model.is_descendant(state, child))
}
