//! The SVG text of an arranged chart: state groups nested as the states are, then one group per transition, then
//! the legend. Groups carry the ids a page needs to find and restyle them (`data-state`, `data-source`,
//! `data-targets`, `data-event`, `data-index`); the look is in one `<style>` block keyed on classes, so marks are
//! classes (`active`, `missed`) a page can also set itself.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::scxml::model::{Model, StateKind, TransitionId};

use super::Marks;
use super::arrange::{self, Arranged, HISTORY, INITIAL, MARGIN};
use super::geom::{Cubic, Pt};
use super::text::{self, LABEL_FONT, LINE, esc};

/// The look, by class.
const STYLE: &str = "
text { font-family: 'DejaVu Sans Mono', 'Liberation Mono', Menlo, Consolas, monospace; }
.state > rect.box { fill: #ffffff; stroke: #37474f; stroke-width: 1.2; }
.state.compound > rect.box, .state.parallel > rect.box { fill: #f3f6fa; }
.state.root > rect.box { fill: #ffffff; stroke: #90a4ae; }
.state.final > rect.inner { fill: none; stroke: #37474f; stroke-width: 1.2; }
.state.history > circle { fill: #ffffff; stroke: #37474f; stroke-width: 1.2; }
.state.active > rect.box, .state.active > circle { fill: #fff3c4; stroke: #e09a00; stroke-width: 3; }
.state.missed > rect.box, .state.missed > circle { fill: #fdecec; stroke: #d32f2f; stroke-width: 2; }
.state.missed > text { fill: #d32f2f; }
text.name { font-size: 13px; font-weight: bold; fill: #263238; }
text.mark { font-size: 11px; font-weight: bold; fill: #263238; }
text.line, text.legend { font-size: 11px; fill: #37474f; }
circle.initial { fill: #263238; }
line.divider { stroke: #78909c; stroke-width: 1.2; stroke-dasharray: 6 4; }
.transition > path { fill: none; stroke: #546e7a; stroke-width: 1.3; }
.transition.eventless > path { stroke-dasharray: 6 4; }
.transition > text { font-size: 11px; fill: #1a3a8a; }
.transition > text.label { paint-order: stroke; stroke: #ffffff; stroke-width: 3px; stroke-linejoin: round; }
.transition.targetless > text { fill: #37474f; }
.transition.missed > path { stroke: #d32f2f; stroke-width: 2; }
.transition.missed > text { fill: #d32f2f; }
";

/// Arrowheads: filled for external transitions, open for `type="internal"`, each also in red for missed ones.
const MARKERS: &str = r##"<marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="10" markerHeight="10" markerUnits="userSpaceOnUse" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#546e7a"/></marker>
<marker id="arrow-open" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="11" markerHeight="11" markerUnits="userSpaceOnUse" orient="auto"><path d="M0,0 L10,5 L0,10" fill="none" stroke="#546e7a" stroke-width="1.5"/></marker>
<marker id="arrow-missed" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="10" markerHeight="10" markerUnits="userSpaceOnUse" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#d32f2f"/></marker>
<marker id="arrow-open-missed" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="11" markerHeight="11" markerUnits="userSpaceOnUse" orient="auto"><path d="M0,0 L10,5 L0,10" fill="none" stroke="#d32f2f" stroke-width="1.5"/></marker>
"##;

/// Height of the legend's rows.
const LEGEND_ROW: f64 = 22.0;

/// Writes the SVG document of `model` as `arranged` places it, with `marks`.
pub fn write(model: &Model, arranged: &Arranged, marks: &Marks) -> String {
    let mut body = String::new();
    states(&mut body, model, arranged, marks);
    transitions(&mut body, model, arranged, marks);
    let (legend, legend_width, legend_height) =
        legend(marks, arranged.width.max(640.0) - 2.0 * MARGIN);
    let width = arranged.width.max(legend_width + 2.0 * MARGIN).ceil();
    let height = (arranged.height + legend_height + MARGIN / 2.0).ceil();
    let mut out = String::with_capacity(body.len() + 4096);
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" class="scxml-diagram">"#
    );
    let _ = writeln!(out, "<title>{}</title>", esc(&arranged.names[0]));
    let _ = writeln!(out, "<style>{STYLE}</style>");
    let _ = writeln!(out, "<defs>\n{MARKERS}</defs>");
    let _ = writeln!(
        out,
        r##"<rect class="background" width="{width}" height="{height}" fill="#ffffff"/>"##
    );
    out.push_str(&body);
    let _ = writeln!(
        out,
        r#"<g class="legend" transform="translate({MARGIN} {})">"#,
        num(arranged.height)
    );
    out.push_str(&legend);
    out.push_str("</g>\n</svg>\n");
    out
}

/// A coordinate, to one decimal.
fn num(value: f64) -> String {
    let rounded = (value * 10.0).round() / 10.0;
    if rounded == rounded.trunc() {
        format!("{}", rounded as i64)
    } else {
        format!("{rounded:.1}")
    }
}

fn kind_class(kind: StateKind) -> &'static str {
    match kind {
        StateKind::Root => "root",
        StateKind::Atomic => "atomic",
        StateKind::Compound => "compound",
        StateKind::Parallel => "parallel",
        StateKind::Final => "final",
        StateKind::HistoryShallow | StateKind::HistoryDeep => "history",
    }
}

/// The state groups, nested as the states are (states come in document order, so a group stays open while the
/// states that follow are its descendants).
fn states(out: &mut String, model: &Model, arranged: &Arranged, marks: &Marks) {
    let mut open: Vec<usize> = Vec::new();
    for (index, node) in model.states.iter().enumerate() {
        while let Some(&top) = open.last() {
            if model.is_descendant(index, top) {
                break;
            }
            open.pop();
            out.push_str("</g>\n");
        }
        let mut class = format!("state {}", kind_class(node.kind));
        if marks.active.contains(&index) {
            class.push_str(" active");
        }
        if marks.missed_states.contains(&index) {
            class.push_str(" missed");
        }
        let _ = writeln!(out, r#"<g class="{class}" data-state="{}">"#, esc(&node.id));
        let rect = arranged.boxes[index];
        let name = &arranged.names[index];
        match node.kind {
            StateKind::HistoryShallow | StateKind::HistoryDeep => {
                let center = Pt::new(rect.x + rect.w / 2.0, rect.y + HISTORY / 2.0);
                let mark = if node.kind == StateKind::HistoryDeep {
                    "H*"
                } else {
                    "H"
                };
                let _ = writeln!(
                    out,
                    r#"<circle cx="{}" cy="{}" r="{}"/>"#,
                    num(center.x),
                    num(center.y),
                    num(HISTORY / 2.0)
                );
                let _ = writeln!(
                    out,
                    r#"<text class="mark" x="{}" y="{}" text-anchor="middle">{mark}</text>"#,
                    num(center.x),
                    num(center.y + 4.0)
                );
                if !name.is_empty() {
                    let _ = writeln!(
                        out,
                        r#"<text class="line" x="{}" y="{}" text-anchor="middle">{}</text>"#,
                        num(center.x),
                        num(rect.y + HISTORY + 11.0),
                        esc(name)
                    );
                }
            }
            _ => {
                let rounded = if node.kind == StateKind::Root {
                    4.0
                } else {
                    10.0
                };
                let _ = writeln!(
                    out,
                    r#"<rect class="box" x="{}" y="{}" width="{}" height="{}" rx="{rounded}"/>"#,
                    num(rect.x),
                    num(rect.y),
                    num(rect.w),
                    num(rect.h)
                );
                if node.kind == StateKind::Final {
                    let _ = writeln!(
                        out,
                        r#"<rect class="inner" x="{}" y="{}" width="{}" height="{}" rx="7"/>"#,
                        num(rect.x + 3.5),
                        num(rect.y + 3.5),
                        num(rect.w - 7.0),
                        num(rect.h - 7.0)
                    );
                }
                let container = matches!(
                    node.kind,
                    StateKind::Root | StateKind::Compound | StateKind::Parallel
                );
                if !name.is_empty() {
                    let (x, anchor) = if container {
                        (rect.x + 12.0, "start")
                    } else {
                        (rect.x + rect.w / 2.0, "middle")
                    };
                    let _ = writeln!(
                        out,
                        r#"<text class="name" x="{}" y="{}" text-anchor="{anchor}">{}</text>"#,
                        num(x),
                        num(rect.y + 20.0),
                        esc(name)
                    );
                }
            }
        }
        for (from, to) in arranged
            .dividers
            .iter()
            .filter(|(state, _, _)| *state == index)
            .map(|(_, from, to)| (from, to))
        {
            let _ = writeln!(
                out,
                r#"<line class="divider" x1="{}" y1="{}" x2="{}" y2="{}"/>"#,
                num(from.x),
                num(from.y),
                num(to.x),
                num(to.y)
            );
        }
        for (_, center) in arranged
            .initials
            .iter()
            .filter(|(state, _)| *state == index)
        {
            let _ = writeln!(
                out,
                r#"<circle class="initial" cx="{}" cy="{}" r="{}"/>"#,
                num(center.x),
                num(center.y),
                num(INITIAL / 2.0)
            );
        }
        open.push(index);
    }
    for _ in open {
        out.push_str("</g>\n");
    }
}

/// One group per transition, in document order: its edges and label, or, for a targetless one, its line inside
/// its state's box.
fn transitions(out: &mut String, model: &Model, arranged: &Arranged, marks: &Marks) {
    let mut routes: BTreeMap<TransitionId, Vec<&arrange::Route>> = BTreeMap::new();
    for route in &arranged.routes {
        routes.entry(route.transition).or_default().push(route);
    }
    let mut lines: BTreeMap<TransitionId, (usize, usize, &str)> = BTreeMap::new();
    for (state, state_lines) in arranged.lines.iter().enumerate() {
        for (nth, (transition, line)) in state_lines.iter().enumerate() {
            lines.insert(*transition, (state, nth, line));
        }
    }
    out.push_str("<g class=\"transitions\">\n");
    for (index, transition) in model.transitions.iter().enumerate() {
        let initial = arrange::is_initial(model, index);
        let mut class = String::from("transition");
        if initial {
            class.push_str(" initial");
        } else if transition.events.is_empty() {
            class.push_str(" eventless");
        }
        if transition.internal {
            class.push_str(" internal");
        }
        if transition.targets.is_empty() {
            class.push_str(" targetless");
        }
        let missed = marks.missed_transitions.contains(&index);
        if missed {
            class.push_str(" missed");
        }
        let targets: Vec<&str> = transition
            .targets
            .iter()
            .map(|&target| model.state_id(target))
            .collect();
        let _ = writeln!(
            out,
            r#"<g class="{class}" data-source="{}" data-targets="{}" data-event="{}" data-index="{index}">"#,
            esc(model.state_id(transition.source)),
            esc(&targets.join(" ")),
            esc(&transition.events.join(" "))
        );
        let full = text::full_label(transition);
        if !full.is_empty() {
            let _ = writeln!(out, "<title>{}</title>", esc(&full));
        }
        if let Some((state, nth, line)) = lines.get(&index) {
            let rect = arranged.boxes[*state];
            let _ = writeln!(
                out,
                r#"<text class="line" x="{}" y="{}">{}</text>"#,
                num(rect.x + 12.0),
                num(rect.y + 6.0 + 18.0 + *nth as f64 * LINE + 10.5),
                esc(line)
            );
        }
        let marker = match (transition.internal, missed) {
            (false, false) => "arrow",
            (true, false) => "arrow-open",
            (false, true) => "arrow-missed",
            (true, true) => "arrow-open-missed",
        };
        for route in routes.get(&index).map(Vec::as_slice).unwrap_or_default() {
            let _ = writeln!(
                out,
                r#"<path d="{}" marker-end="url(#{marker})"/>"#,
                path_data(&route.path)
            );
            if let Some(middle) = route.label {
                label(out, middle, &text::label_lines(transition));
            }
        }
        out.push_str("</g>\n");
    }
    out.push_str("</g>\n");
}

/// The `d` of a path of cubic segments (straight ones as lines).
fn path_data(path: &[Cubic]) -> String {
    let mut data = String::new();
    let mut at: Option<Pt> = None;
    for cubic in path {
        if at.is_none_or(|at| at.distance(cubic.from) > 0.5) {
            let _ = write!(data, "M{},{} ", num(cubic.from.x), num(cubic.from.y));
        }
        if cubic.c1 == cubic.from && cubic.c2 == cubic.to {
            let _ = write!(data, "L{},{} ", num(cubic.to.x), num(cubic.to.y));
        } else {
            let _ = write!(
                data,
                "C{},{} {},{} {},{} ",
                num(cubic.c1.x),
                num(cubic.c1.y),
                num(cubic.c2.x),
                num(cubic.c2.y),
                num(cubic.to.x),
                num(cubic.to.y)
            );
        }
        at = Some(cubic.to);
    }
    data.trim_end().to_string()
}

/// A label centred on `middle`, one `tspan` per line.
fn label(out: &mut String, middle: Pt, lines: &[String]) {
    if lines.is_empty() {
        return;
    }
    let first = middle.y - (lines.len() as f64 - 1.0) * LINE / 2.0 + LABEL_FONT * 0.35;
    let _ = write!(out, r#"<text class="label" text-anchor="middle">"#);
    for (nth, line) in lines.iter().enumerate() {
        let _ = write!(
            out,
            r#"<tspan x="{}" y="{}">{}</tspan>"#,
            num(middle.x),
            num(first + nth as f64 * LINE),
            esc(line)
        );
    }
    out.push_str("</text>\n");
}

/// The legend's items, wrapped into rows no wider than `max_width`; returns the SVG, its width and its height.
fn legend(marks: &Marks, max_width: f64) -> (String, f64, f64) {
    type Sample = fn(&mut String, f64, f64);
    let mut items: Vec<(Sample, &str)> = vec![
        (
            |out, x, y| arrow_sample(out, x, y, "", "arrow"),
            "event [cond]: transition",
        ),
        (
            |out, x, y| arrow_sample(out, x, y, " stroke-dasharray=\"6 4\"", "arrow"),
            "eventless",
        ),
        (
            |out, x, y| arrow_sample(out, x, y, "", "arrow-open"),
            "type=\"internal\"",
        ),
        (
            |out, x, y| {
                let _ = write!(
                    out,
                    r##"<circle cx="{}" cy="{y}" r="5" fill="#263238"/>"##,
                    num(x + 18.0)
                );
            },
            "initial",
        ),
        (
            |out, x, y| {
                let _ = write!(
                    out,
                    r##"<circle cx="{}" cy="{y}" r="9" fill="#fff" stroke="#37474f"/><text class="mark" x="{}" y="{}" text-anchor="middle">H</text>"##,
                    num(x + 18.0),
                    num(x + 18.0),
                    num(y + 4.0)
                );
            },
            "history (H*: deep)",
        ),
        (
            |out, x, y| {
                let _ = write!(
                    out,
                    r##"<rect x="{}" y="{}" width="30" height="16" rx="5" fill="#fff" stroke="#37474f"/><rect x="{}" y="{}" width="24" height="10" rx="3" fill="none" stroke="#37474f"/>"##,
                    num(x + 3.0),
                    num(y - 8.0),
                    num(x + 6.0),
                    num(y - 5.0)
                );
            },
            "final",
        ),
        (
            |out, x, y| {
                let _ = write!(
                    out,
                    r#"<text class="legend" x="{}" y="{}">e /</text>"#,
                    num(x + 4.0),
                    num(y + 4.0)
                );
            },
            "targetless transition, in its state",
        ),
    ];
    if !marks.active.is_empty() {
        items.push((
            |out, x, y| {
                let _ = write!(
                    out,
                    r##"<rect x="{}" y="{}" width="30" height="16" rx="5" fill="#fff3c4" stroke="#e09a00" stroke-width="3"/>"##,
                    num(x + 3.0),
                    num(y - 8.0)
                );
            },
            "active",
        ));
    }
    if !marks.missed_states.is_empty() || !marks.missed_transitions.is_empty() {
        items.push((
            |out, x, y| {
                let _ = write!(
                    out,
                    r##"<rect x="{}" y="{}" width="30" height="16" rx="5" fill="#fdecec" stroke="#d32f2f" stroke-width="2"/>"##,
                    num(x + 3.0),
                    num(y - 8.0)
                );
            },
            "missed",
        ));
    }
    let mut out = String::new();
    let (mut x, mut row) = (0.0, 0usize);
    let mut widest: f64 = 0.0;
    for (sample, caption) in items {
        let item_width = 40.0 + text::width(caption, LABEL_FONT) + 24.0;
        if x > 0.0 && x + item_width > max_width {
            x = 0.0;
            row += 1;
        }
        let y = row as f64 * LEGEND_ROW + LEGEND_ROW / 2.0;
        sample(&mut out, x, y);
        let _ = writeln!(
            out,
            r#"<text class="legend" x="{}" y="{}">{}</text>"#,
            num(x + 40.0),
            num(y + 4.0),
            esc(caption)
        );
        x += item_width;
        widest = widest.max(x);
    }
    (out, widest, (row + 1) as f64 * LEGEND_ROW)
}

/// A short horizontal arrow for the legend.
fn arrow_sample(out: &mut String, x: f64, y: f64, dash: &str, marker: &str) {
    let _ = write!(
        out,
        r##"<path d="M{},{y} L{},{y}" stroke="#546e7a" stroke-width="1.3" fill="none"{dash} marker-end="url(#{marker})"/>"##,
        num(x),
        num(x + 34.0)
    );
}
