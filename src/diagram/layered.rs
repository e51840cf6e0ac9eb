//! One flat graph laid out in layers, top to bottom, by `layout-rs`: boxes of given sizes, edges with optional
//! multi-line labels; out come the box positions, each edge's route as cubic Bézier segments and its label's
//! middle, all in one frame whose top-left corner is (0, 0).
//!
//! `layout-rs` hands its result to a drawing backend rather than returning it, so [`Collector`] is a backend that
//! keeps what it is given: each edge's path (tagged with the edge's index through the arrow's `properties`) and
//! each label's text and place. A label is a node of its own in `layout-rs` (a "connector" the edge passes
//! through), so the label is matched back to its edge as the label of that text nearest to the edge's path.

use std::panic::{AssertUnwindSafe, catch_unwind};

use ::layout::core::base::Orientation;
use ::layout::core::format::{ClipHandle, RenderBackend};
use ::layout::core::geometry::{Point, Position};
use ::layout::core::style::{LineStyleKind, StyleAttr};
use ::layout::std_shapes::shapes::{Arrow, Element, LineEndKind, ShapeKind};
use ::layout::topo::layout::VisualGraph;

use super::geom::{Cubic, Pt, Rect};

/// Font size `layout-rs` is told labels have: its width estimate (this many pixels per character, plus 20) must
/// cover the label as drawn (11px monospace, about 6.7px per character).
const LABEL_FONT: usize = 7;
/// Room left around each box (the sum of both sides), so that edges and labels pass between boxes.
const HALO: f64 = 36.0;

/// A graph to lay out.
#[derive(Debug, Default)]
pub struct Graph {
    /// Box sizes (width, height).
    pub nodes: Vec<(f64, f64)>,
    /// Edges (from, to, label); an empty label takes no room.
    pub edges: Vec<(usize, usize, String)>,
}

/// A laid-out edge.
#[derive(Debug, Clone, Default)]
pub struct EdgeRoute {
    /// The route from the source box's border to the target box's border.
    pub path: Vec<Cubic>,
    /// The label's middle, when the edge has a label.
    pub label: Option<Pt>,
}

/// A laid-out graph.
#[derive(Debug, Clone, Default)]
pub struct Layout {
    /// Box rectangles, in the order of [`Graph::nodes`].
    pub nodes: Vec<Rect>,
    /// Edge routes, in the order of [`Graph::edges`].
    pub edges: Vec<EdgeRoute>,
    /// Width of everything drawn.
    pub width: f64,
    /// Height of everything drawn.
    pub height: f64,
}

/// Lays `graph` out in layers. Should `layout-rs` reject the graph (it checks its own invariants with
/// assertions), the boxes are put in a row with straight edges instead, so a drawing is always made.
pub fn lay_out(graph: &Graph) -> Layout {
    if graph.nodes.is_empty() {
        return Layout::default();
    }
    let raw = catch_unwind(AssertUnwindSafe(|| layered(graph))).unwrap_or_else(|_| in_a_row(graph));
    normalised(raw, graph)
}

/// What `layout-rs` drew: paths by edge index, labels with their middles.
#[derive(Default)]
struct Collector {
    arrows: Vec<(usize, Vec<Cubic>)>,
    labels: Vec<(Pt, String)>,
}

impl RenderBackend for Collector {
    fn draw_rect(
        &mut self,
        _: Point,
        _: Point,
        _: &StyleAttr,
        _: Option<String>,
        _: Option<ClipHandle>,
    ) {
    }

    fn draw_line(&mut self, _: Point, _: Point, _: &StyleAttr, _: Option<String>) {}

    fn draw_circle(&mut self, _: Point, _: Point, _: &StyleAttr, _: Option<String>) {}

    fn draw_text(&mut self, xy: Point, text: &str, _: &StyleAttr) {
        if !text.is_empty() {
            self.labels.push((Pt::new(xy.x, xy.y), text.to_string()));
        }
    }

    fn draw_arrow(
        &mut self,
        path: &[(Point, Point)],
        _dashed: bool,
        head: (bool, bool),
        _look: &StyleAttr,
        properties: Option<String>,
        _text: &str,
    ) {
        let Some(index) = properties.and_then(|text| text.parse::<usize>().ok()) else {
            return;
        };
        let mut cubics = cubics_of(path);
        // An edge reversed to break a cycle is drawn with its head at the start: turn it back.
        if head.0 && !head.1 {
            cubics = cubics.iter().rev().map(Cubic::reversed).collect();
        }
        self.arrows.push((index, cubics));
    }

    fn create_clip(&mut self, _: Point, _: Point, _: usize) -> ClipHandle {
        0
    }
}

/// `layout-rs` paths are `[(start, exit control), (entry control, point), ...]`, drawn as `M C S S...`: each
/// `S` reflects the previous entry control about its point.
fn cubics_of(path: &[(Point, Point)]) -> Vec<Cubic> {
    let pt = |p: Point| Pt::new(p.x, p.y);
    let mut out = Vec::new();
    if path.len() < 2 {
        return out;
    }
    out.push(Cubic {
        from: pt(path[0].0),
        c1: pt(path[0].1),
        c2: pt(path[1].0),
        to: pt(path[1].1),
    });
    for window in path.windows(2).skip(1) {
        let (prev_control, prev_point) = (pt(window[0].0), pt(window[0].1));
        out.push(Cubic {
            from: prev_point,
            c1: prev_point.add(prev_point.sub(prev_control)),
            c2: pt(window[1].0),
            to: pt(window[1].1),
        });
    }
    out
}

fn layered(graph: &Graph) -> Layout {
    let mut visual = VisualGraph::new(Orientation::TopToBottom);
    let handles: Vec<_> = graph
        .nodes
        .iter()
        .map(|&(width, height)| {
            let mut element = Element::create(
                ShapeKind::Box(String::new()),
                StyleAttr::simple(),
                Orientation::TopToBottom,
                Point::new(width, height),
            );
            element.pos = Position::new(
                Point::zero(),
                Point::new(width, height),
                Point::zero(),
                Point::splat(HALO),
            );
            visual.add_node(element)
        })
        .collect();
    let mut look = StyleAttr::simple();
    look.font_size = LABEL_FONT;
    for (index, (from, to, label)) in graph.edges.iter().enumerate() {
        let arrow = Arrow::with_properties(
            LineEndKind::None,
            LineEndKind::Arrow,
            LineStyleKind::Normal,
            label,
            &look,
            index.to_string(),
            &None,
            &None,
        );
        visual.add_edge(arrow, handles[*from], handles[*to]);
    }
    let mut collector = Collector::default();
    visual.do_it(false, false, false, &mut collector);

    let nodes = handles
        .iter()
        .map(|&handle| {
            let (top_left, bottom_right) = visual.pos(handle).bbox(false);
            Rect::new(
                top_left.x,
                top_left.y,
                bottom_right.x - top_left.x,
                bottom_right.y - top_left.y,
            )
        })
        .collect();
    let mut edges = vec![EdgeRoute::default(); graph.edges.len()];
    for (index, path) in std::mem::take(&mut collector.arrows) {
        if let Some(edge) = edges.get_mut(index) {
            edge.path = path;
        }
    }
    attach_labels(graph, &mut edges, collector.labels);
    Layout {
        nodes,
        edges,
        width: 0.0,
        height: 0.0,
    }
}

/// Gives each labelled edge the unused label of its text nearest to one of its route's points.
fn attach_labels(graph: &Graph, edges: &mut [EdgeRoute], labels: Vec<(Pt, String)>) {
    let mut labels: Vec<Option<(Pt, String)>> = labels.into_iter().map(Some).collect();
    for (edge, (_, _, text)) in edges.iter_mut().zip(&graph.edges) {
        if text.is_empty() {
            continue;
        }
        let points: Vec<Pt> = edge
            .path
            .iter()
            .flat_map(|cubic| [cubic.from, cubic.to])
            .collect();
        let best = labels
            .iter()
            .enumerate()
            .filter_map(|(at, label)| {
                let (middle, label_text) = label.as_ref()?;
                (label_text == text).then(|| {
                    let distance = points
                        .iter()
                        .map(|point| point.distance(*middle))
                        .fold(f64::INFINITY, f64::min);
                    (at, distance)
                })
            })
            .min_by(|a, b| a.1.total_cmp(&b.1));
        if let Some((at, _)) = best {
            edge.label = labels[at].take().map(|(middle, _)| middle);
        }
    }
}

/// The fallback: boxes left to right, straight edges between their borders, labels at the middles.
fn in_a_row(graph: &Graph) -> Layout {
    let mut x = 0.0;
    let nodes: Vec<Rect> = graph
        .nodes
        .iter()
        .map(|&(width, height)| {
            let rect = Rect::new(x, 0.0, width, height);
            x += width + HALO;
            rect
        })
        .collect();
    let edges = graph
        .edges
        .iter()
        .map(|(from, to, label)| {
            let path = vec![Cubic::line(
                nodes[*from].border_toward(nodes[*to].center()),
                nodes[*to].border_toward(nodes[*from].center()),
            )];
            let label = (!label.is_empty()).then(|| path[0].middle());
            EdgeRoute { path, label }
        })
        .collect();
    Layout {
        nodes,
        edges,
        width: 0.0,
        height: 0.0,
    }
}

/// Moves everything so that the drawing's top-left corner is (0, 0) and records its size.
fn normalised(mut raw: Layout, graph: &Graph) -> Layout {
    let mut bounds: Option<Rect> = None;
    let mut grow = |rect: Rect| {
        bounds = Some(match bounds {
            Some(bounds) => bounds.union(rect),
            None => rect,
        });
    };
    for rect in &raw.nodes {
        grow(*rect);
    }
    for (edge, (_, _, text)) in raw.edges.iter().zip(&graph.edges) {
        for cubic in &edge.path {
            for point in [cubic.from, cubic.c1, cubic.c2, cubic.to] {
                grow(Rect::new(point.x, point.y, 0.0, 0.0));
            }
        }
        if let Some(middle) = edge.label {
            let (width, height) = super::text::label_size(text);
            grow(Rect::new(
                middle.x - width / 2.0,
                middle.y - height / 2.0,
                width,
                height,
            ));
        }
    }
    let Some(bounds) = bounds else {
        return raw;
    };
    let shift = Pt::new(-bounds.x, -bounds.y);
    for rect in &mut raw.nodes {
        *rect = rect.moved(shift);
    }
    for edge in &mut raw.edges {
        for cubic in &mut edge.path {
            *cubic = cubic.moved(shift);
        }
        edge.label = edge.label.map(|middle| middle.add(shift));
    }
    raw.width = bounds.w;
    raw.height = bounds.h;
    raw
}
