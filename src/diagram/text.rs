//! The words of a diagram: transition labels (`event [cond]`, wrapped and shortened), how much room a text takes
//! in the diagram's monospace fonts, and XML escaping.
//!
//! Text is drawn in a monospace font so that its width is known without font metrics: every character advances
//! 0.6 em (DejaVu Sans Mono, Liberation Mono and Courier all do).

use crate::scxml::model::Transition;

/// Font size of state names.
pub const NAME_FONT: f64 = 13.0;
/// Font size of transition labels and of the lines inside boxes.
pub const LABEL_FONT: f64 = 11.0;
/// Line height of labels and lines inside boxes.
pub const LINE: f64 = 14.0;
/// Advance of one character, in em.
const ADVANCE: f64 = 0.6;
/// The longest line of a label, in characters; longer conditions wrap, and are cut after [`MAX_COND_LINES`].
const WRAP: usize = 34;
/// The most lines a condition takes in a label.
const MAX_COND_LINES: usize = 2;

/// Width of `text` drawn at `font` pixels.
pub fn width(text: &str, font: f64) -> f64 {
    text.chars().count() as f64 * font * ADVANCE
}

/// Room a (possibly multi-line) label takes: widest line by the number of lines, with a little margin.
pub fn label_size(label: &str) -> (f64, f64) {
    let lines = label.lines().count().max(1) as f64;
    let widest = label
        .lines()
        .map(|line| width(line, LABEL_FONT))
        .fold(0.0, f64::max);
    (widest + 6.0, lines * LINE + 2.0)
}

/// The full text of a transition's label: `event [cond]`, events separated by spaces; empty when it has neither.
pub fn full_label(transition: &Transition) -> String {
    let events = transition.events.join(" ");
    match &transition.cond {
        Some(cond) => {
            let cond = collapse(&cond.text);
            if events.is_empty() {
                format!("[{cond}]")
            } else {
                format!("{events} [{cond}]")
            }
        }
        None => events,
    }
}

/// The label as drawn, one line per element: events on the first line, the condition on the same line when
/// everything fits in [`WRAP`] characters, else wrapped below it and cut with `…` after [`MAX_COND_LINES`] lines.
pub fn label_lines(transition: &Transition) -> Vec<String> {
    let events = shorten(&transition.events.join(" "), WRAP);
    let Some(cond) = &transition.cond else {
        return if events.is_empty() {
            Vec::new()
        } else {
            vec![events]
        };
    };
    let cond = format!("[{}]", collapse(&cond.text));
    let one_line = if events.is_empty() {
        cond.clone()
    } else {
        format!("{events} {cond}")
    };
    if one_line.chars().count() <= WRAP {
        return vec![one_line];
    }
    let mut lines = Vec::new();
    if !events.is_empty() {
        lines.push(events);
    }
    lines.extend(wrap(&cond, WRAP, MAX_COND_LINES));
    lines
}

/// Whitespace runs (newlines of a long condition) as one space.
fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `text` cut to `max` characters, the last one `…` when cut.
pub fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// `text` in lines of at most `max` characters, broken after spaces, commas and operators where it can be, at
/// most `lines` lines (the last one cut with `…`).
fn wrap(text: &str, max: usize, lines: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut start = 0;
    while start < chars.len() && out.len() < lines {
        let rest = chars.len() - start;
        if rest <= max {
            out.push(chars[start..].iter().collect::<String>().trim().to_string());
            start = chars.len();
            break;
        }
        let window = &chars[start..start + max];
        let cut = window
            .iter()
            .rposition(|ch| matches!(ch, ' ' | ',' | '(' | '&' | '|'))
            .filter(|&at| at > max / 3)
            .map_or(max, |at| at + 1);
        out.push(
            chars[start..start + cut]
                .iter()
                .collect::<String>()
                .trim()
                .to_string(),
        );
        start += cut;
    }
    if start < chars.len() {
        if let Some(last) = out.last_mut() {
            let mut cut: String = last.chars().take(max.saturating_sub(1)).collect();
            cut.push('…');
            *last = cut;
        }
    }
    out
}

/// `text` escaped for XML text and attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 forbids (control characters a chart could hold in a condition) are dropped.
            ch if (ch as u32) < 0x20 && !matches!(ch, '\t' | '\n' | '\r') => {}
            ch => out.push(ch),
        }
    }
    out
}
