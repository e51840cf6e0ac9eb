//! Media types: the one reading of a `Content-Type` header that every receiver of request bodies shares.

/// The essence of a `Content-Type` value (`type/subtype`, lower case, parameters and spaces dropped):
/// `"Application/JSON; charset=utf-8"` → `"application/json"`. Empty for an empty value.
pub fn essence(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// `application/x-www-form-urlencoded`.
pub const FORM: &str = "application/x-www-form-urlencoded";

/// `application/json`.
pub const JSON: &str = "application/json";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_and_case_do_not_count() {
        assert_eq!(essence("Application/JSON; charset=utf-8"), JSON);
        assert_eq!(essence(" application/x-www-form-urlencoded "), FORM);
        assert_eq!(essence(""), "");
    }
}
