//! Access codes: DTMF digits a caller keys in so GMS can match the call to a service. The first two digits are
//! the node's `server/node_id`, so a code also tells which node issued it; the rest are random.

/// The code length when neither the request nor the section gives `access_code_length`.
pub const DEFAULT_LENGTH: u32 = 6;
/// Shortest and longest accepted lengths (two digits are the node id).
pub const LENGTH_RANGE: (u64, u64) = (3, 12);

/// A fresh code of `length` digits starting with the two digits of `node_id`.
pub fn generate(node_id: u8, length: u32) -> String {
    let mut code = format!("{node_id:02}");
    while code.len() < length as usize {
        code.push(char::from(b'0' + fastrand::u8(0..10)));
    }
    code
}

#[cfg(test)]
mod tests {
    #[test]
    fn codes_embed_the_node_id() {
        let code = super::generate(7, 6);
        assert_eq!(code.len(), 6);
        assert!(code.starts_with("07"));
        assert!(code.chars().all(|c| c.is_ascii_digit()));
        assert_eq!(super::generate(42, 3).len(), 3);
    }
}
