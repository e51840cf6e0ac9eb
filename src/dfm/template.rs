//! `${name}` templates of DFM files: request URLs (`/geocode?lat=${lat}`) and JSON bodies.

/// A text with `${name}` places, split once at load time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

/// One piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// Text copied as written.
    Literal(String),
    /// `${name}`: the value of attribute `name`.
    Var(String),
}

/// A `${` without its `}` or with an empty name, at a byte offset of the template text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    /// Byte offset of the offending `${`.
    pub offset: usize,
    /// A sentence describing the problem.
    pub message: String,
}

impl Template {
    /// Splits `text` into literals and `${name}` places.
    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        let mut parts = Vec::new();
        let mut rest = text;
        let mut consumed = 0;
        while let Some(start) = rest.find("${") {
            if start > 0 {
                parts.push(Part::Literal(rest[..start].to_string()));
            }
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else {
                return Err(TemplateError {
                    offset: consumed + start,
                    message: "'${' is not closed by '}'".to_string(),
                });
            };
            let name = after[..end].trim();
            if name.is_empty() {
                return Err(TemplateError {
                    offset: consumed + start,
                    message: "'${}' names no attribute".to_string(),
                });
            }
            parts.push(Part::Var(name.to_string()));
            let used = start + 2 + end + 1;
            consumed += used;
            rest = &rest[used..];
        }
        if !rest.is_empty() {
            parts.push(Part::Literal(rest.to_string()));
        }
        Ok(Template { parts })
    }

    /// The pieces in order.
    pub fn parts(&self) -> &[Part] {
        &self.parts
    }

    /// The names of the `${name}` places, in order, possibly repeated.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|part| match part {
            Part::Var(name) => Some(name.as_str()),
            Part::Literal(_) => None,
        })
    }

    /// Whether the template names `name`.
    pub fn mentions(&self, name: &str) -> bool {
        self.names().any(|candidate| candidate == name)
    }

    /// Fills every place with `value(name)`, copying literals as written.
    pub fn expand(&self, mut value: impl FnMut(&str) -> String) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Literal(text) => out.push_str(text),
                Part::Var(name) => out.push_str(&value(name)),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_literals_and_places() {
        let template = Template::parse("/geocode?appid=${appid}&location=${lat}+${long}").unwrap();
        assert_eq!(
            template.names().collect::<Vec<_>>(),
            ["appid", "lat", "long"]
        );
        let text = template.expand(|name| name.to_uppercase());
        assert_eq!(text, "/geocode?appid=APPID&location=LAT+LONG");
    }

    #[test]
    fn text_without_places_is_one_literal() {
        let template = Template::parse("/genesys/1/storage/").unwrap();
        assert_eq!(template.parts().len(), 1);
        assert_eq!(Template::parse("").unwrap().parts().len(), 0);
        assert_eq!(Template::parse("a $ b {c}").unwrap().names().count(), 0);
    }

    #[test]
    fn unclosed_and_empty_places_are_errors() {
        assert_eq!(Template::parse("/a/${b").unwrap_err().offset, 3);
        assert_eq!(Template::parse("x${ }").unwrap_err().offset, 1);
    }
}
