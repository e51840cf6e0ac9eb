//! Bayeux channel names: validation, kinds (meta, service, broadcast) and wildcard matching (`*`, `**`).

/// What a channel is used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `/meta/...`: protocol operations.
    Meta,
    /// `/service/...`: client-to-server messages, never broadcast.
    Service,
    /// Any other channel: delivered to its subscribers.
    Broadcast,
}

/// The kind of a channel name.
pub fn kind(channel: &str) -> Kind {
    if channel == "/meta" || channel.starts_with("/meta/") {
        Kind::Meta
    } else if channel == "/service" || channel.starts_with("/service/") {
        Kind::Service
    } else {
        Kind::Broadcast
    }
}

/// Whether `name` is a valid channel or subscription pattern: `/seg/seg`, where only the last segment may be
/// `*` or `**` and no segment is empty.
pub fn is_valid(name: &str) -> bool {
    let Some(rest) = name.strip_prefix('/') else {
        return false;
    };
    let segments: Vec<&str> = rest.split('/').collect();
    let last = segments.len() - 1;
    segments.iter().enumerate().all(|(index, segment)| {
        if segment.is_empty() {
            return false;
        }
        if segment.contains('*') {
            return index == last && (*segment == "*" || *segment == "**");
        }
        segment
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_!~()$@.:".contains(c))
    })
}

/// Whether `name` contains a wildcard segment.
pub fn is_wildcard(name: &str) -> bool {
    name.ends_with("/*") || name.ends_with("/**")
}

/// The subscription patterns that match `channel`: the channel itself, `parent/*`, and `ancestor/**` for every
/// ancestor. A publish looks each up instead of testing every subscription.
pub fn matching_patterns(channel: &str) -> Vec<String> {
    let mut patterns = vec![channel.to_string()];
    let segments: Vec<&str> = channel.trim_start_matches('/').split('/').collect();
    for depth in (0..segments.len()).rev() {
        let prefix: String = segments[..depth].iter().map(|s| format!("/{s}")).collect();
        if depth == segments.len() - 1 {
            patterns.push(format!("{prefix}/*"));
        }
        patterns.push(format!("{prefix}/**"));
    }
    patterns
}

/// Whether a subscription `pattern` matches `channel`.
pub fn matches(pattern: &str, channel: &str) -> bool {
    matching_patterns(channel).iter().any(|p| p == pattern)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_names() {
        assert!(is_valid("/_genesys"));
        assert!(is_valid("/a/b/*"));
        assert!(is_valid("/a/**"));
        assert!(!is_valid("a/b"));
        assert!(!is_valid("/a//b"));
        assert!(!is_valid("/a/*/b"));
        assert!(!is_valid("/a/b*"));
        assert!(!is_valid("/"));
    }

    #[test]
    fn wildcards_match_as_bayeux_says() {
        assert!(matches("/a/*", "/a/b"));
        assert!(!matches("/a/*", "/a/b/c"));
        assert!(matches("/a/**", "/a/b/c"));
        assert!(matches("/**", "/a"));
        assert!(!matches("/a/*", "/a"));
        assert!(matches("/a/b", "/a/b"));
        assert_eq!(kind("/meta/connect"), Kind::Meta);
        assert_eq!(kind("/service/x"), Kind::Service);
        assert_eq!(kind("/_genesys"), Kind::Broadcast);
    }
}
