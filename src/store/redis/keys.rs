//! How the store's logical keys become Redis keys, so that everything one operation touches lands in one hash
//! slot of a Redis Cluster.
//!
//! A logical key with at least two `:` is split at its last `:` into a parent `P` (ending with `:`) and a leaf `L`
//! (no `:`); its Redis key is `k:{P}L`, and it is also listed, as member `L`, in the index `i:{P}` (a sorted set
//! read by prefix scans). Siblings and their index share the hash tag `{P}`, hence one slot. Other keys are
//! `k:` + the key. Counters use `c:` the same way; a booking pool `POOL` keeps `b:{POOL}z`, `b:{POOL}r`, `b:{POOL}h`.
//!
//! The mapping is injective: a key of the split form always holds `:}` right after its parent and no `:` after
//! it, which tells `P` and `L` apart; a key without a split has fewer than two `:` after `k:`, which no split key
//! has (its parent alone holds two).

/// The type prefix of plain values.
const DATA: &str = "k:";
/// The type prefix of counters.
const COUNTER: &str = "c:";

/// A logical key's parent (up to and including its last `:`) and leaf, when it has at least two `:`.
pub fn split(key: &str) -> Option<(&str, &str)> {
    if key.bytes().filter(|byte| *byte == b':').count() < 2 {
        return None;
    }
    let last = key.rfind(':')?;
    Some((&key[..=last], &key[last + 1..]))
}

fn mapped(kind: &str, key: &str) -> String {
    match split(key) {
        Some((parent, leaf)) => format!("{kind}{{{parent}}}{leaf}"),
        None => format!("{kind}{key}"),
    }
}

/// The Redis key of a value.
pub fn data(key: &str) -> String {
    mapped(DATA, key)
}

/// The Redis key of a counter.
pub fn counter(key: &str) -> String {
    mapped(COUNTER, key)
}

/// The index of the keys directly under `parent` (which ends with `:` and holds at least two `:`).
pub fn index(parent: &str) -> String {
    format!("i:{{{parent}}}")
}

/// The prefix of the Redis keys of the values directly under `parent`.
pub fn children(parent: &str) -> String {
    format!("{DATA}{{{parent}}}")
}

/// The three keys of booking pool `pool`: deadlines by resource, holder by resource, resource by holder.
pub fn pool(pool: &str) -> [String; 3] {
    [
        format!("b:{{{pool}}}z"),
        format!("b:{{{pool}}}r"),
        format!("b:{{{pool}}}h"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_with_two_colons_share_a_tag_with_their_siblings_and_index() {
        assert_eq!(data("match:555:abc"), "k:{match:555:}abc");
        assert_eq!(index("match:555:"), "i:{match:555:}");
        assert_eq!(children("match:555:"), "k:{match:555:}");
        assert_eq!(data("service:abc"), "k:service:abc");
        assert_eq!(data("plain"), "k:plain");
        assert_eq!(counter("n"), "c:n");
        assert_eq!(counter("a:b:c"), "c:{a:b:}c");
        assert_eq!(split("chat:s:e:0001"), Some(("chat:s:e:", "0001")));
        assert_eq!(split("a:b"), None);
    }

    #[test]
    fn distinct_keys_stay_distinct() {
        let keys = [
            "a:b:c", "a:b:}c", "{a:b:}c", "a:b", "a:{b:}c", "a::", "a:b:", ":a:", "}a:b:c",
            "a}:b:c",
        ];
        let mut seen = std::collections::HashSet::new();
        for key in keys {
            assert!(seen.insert(data(key)), "{key} collides");
        }
    }

    #[test]
    fn slot_is_shared_within_a_family() {
        use redis::cluster_routing::Slot;
        assert_eq!(
            Slot::for_key(data("chat:s1:e:0001")),
            Slot::for_key(index("chat:s1:e:"))
        );
        assert_eq!(
            Slot::for_key(data("chat:s1:e:0001")),
            Slot::for_key(data("chat:s1:e:0002"))
        );
        let [z, r, h] = pool("cluster:Dnis");
        assert_eq!(Slot::for_key(&z), Slot::for_key(&r));
        assert_eq!(Slot::for_key(&z), Slot::for_key(&h));
    }
}
