//! Logging set-up with tracing, including the masking of `XXX_*` and `MMM_*` request parameters.
//!
//! GMS's rule for sensitive data: a parameter whose name starts with `XXX` never appears in a log (neither name
//! nor value), and one whose name starts with `MMM` appears with the value `MMM`. Every request log line goes
//! through [`mask_params`].
//!
//! Text logs escape control characters (CR, LF, ESC...) in every field they print ([`escape_controls`]), so a
//! value sent by a client cannot forge a log line or a terminal sequence; JSON logs escape them as JSON does.

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Human-readable text.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// Installs the process-wide tracing subscriber, reading the filter from `RUST_LOG` (default `info`), writing text.
pub fn init() {
    init_with(Format::Text);
}

/// Installs the process-wide tracing subscriber with the given format. A second call is harmless.
pub fn init_with(format: Format) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colours only on a terminal: a log file or a pipe gets plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi);
    // A second call (tests that start several servers) is harmless, so the error is ignored.
    let _ = match format {
        Format::Text => {
            use tracing_subscriber::field::MakeExt;
            let fields = tracing_subscriber::fmt::format::debug_fn(|writer, field, value| {
                let raw = format!("{value:?}");
                let text = escape_controls(&raw);
                if field.name() == "message" {
                    write!(writer, "{text}")
                } else {
                    write!(writer, "{field}={text}")
                }
            })
            .delimited(" ");
            builder.fmt_fields(fields).try_init()
        }
        Format::Json => builder.json().try_init(),
    };
}

/// `text` with every control character written as an escape (`\n`, `\r`, `\t`, `\u{1b}`...), so it stays on
/// one line and sends nothing to a terminal.
pub fn escape_controls(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            escaped.extend(c.escape_default());
        } else {
            escaped.push(c);
        }
    }
    std::borrow::Cow::Owned(escaped)
}

/// Renders parameters for a log line as `name=value&...`, dropping `XXX*` parameters and masking `MMM*` values.
pub fn mask_params<I, K, V>(params: I) -> String
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    let mut line = String::new();
    for (name, value) in params {
        let name = name.as_ref();
        if name.starts_with("XXX") {
            continue;
        }
        if !line.is_empty() {
            line.push('&');
        }
        line.push_str(name);
        line.push('=');
        if name.starts_with("MMM") {
            line.push_str("MMM");
        } else {
            line.push_str(value.as_ref());
        }
    }
    line
}

#[cfg(test)]
mod tests {
    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(super::escape_controls("plain"), "plain");
        assert_eq!(
            super::escape_controls("x\n2026 ERROR forged\r\u{1b}[31m\t"),
            "x\\n2026 ERROR forged\\r\\u{1b}[31m\\t"
        );
    }

    #[test]
    fn filters_and_masks() {
        let line = super::mask_params([
            ("a", "1"),
            ("XXX_secret", "s3"),
            ("MMM_card", "4111"),
            ("b", "2"),
        ]);
        assert_eq!(line, "a=1&MMM_card=MMM&b=2");
    }
}
