//! A fast path for the simple expressions charts use most (`n + 1`, `x == 'a'`, `In('s1')`,
//! `_event.data.count > 2`, `!done && tries < 3`): parsed once into a tiny tree and evaluated
//! directly on the boa context, without compiling and instantiating a script each time.
//!
//! Exactness comes from two rules. (1) Only a small grammar is accepted, decided when the text is
//! first seen: literals (decimal numbers without leading zeros, strings without escapes, `true`,
//! `false`, `null`), identifiers, `.name` member access, calls of an identifier, unary `!` and `-`,
//! and the binary operators `* / % + - < <= > >= == != === !== && ||` with JavaScript precedence and
//! left associativity; anything else goes to boa's compiler. (2) Every operation is boa's own:
//! identifier resolution on the global object (`HasProperty` then `Get`, a `ReferenceError` when
//! unresolvable), `ToObject` + `[[Get]]` for members, `JsValue::add`, `lt`, `equals`,
//! `strict_equals`, `to_boolean`, and `Call` with an undefined `this`. Once evaluation starts it
//! never falls back, so no side effect (a getter, a called function) runs twice.

use boa_engine::{Context, JsError, JsNativeError, JsResult, JsString, JsValue};

/// A parsed simple expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Simple {
    /// A number literal.
    Number(f64),
    /// A string literal.
    String(String),
    /// `true` / `false`.
    Bool(bool),
    /// `null`.
    Null,
    /// An identifier resolved on the global object.
    Ident(String),
    /// `object.name`.
    Member(Box<Simple>, String),
    /// `name(args)`.
    Call(String, Vec<Simple>),
    /// `!operand`.
    Not(Box<Simple>),
    /// `-operand`.
    Neg(Box<Simple>),
    /// A binary operator.
    Binary(BinaryOp, Box<Simple>, Box<Simple>),
    /// `left && right` (short-circuit).
    And(Box<Simple>, Box<Simple>),
    /// `left || right` (short-circuit).
    Or(Box<Simple>, Box<Simple>),
}

/// The binary operators of the fast path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    /// `*`.
    Mul,
    /// `/`.
    Div,
    /// `%`.
    Rem,
    /// `+`.
    Add,
    /// `-`.
    Sub,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
    /// `==`.
    Eq,
    /// `!=`.
    Ne,
    /// `===`.
    StrictEq,
    /// `!==`.
    StrictNe,
}

/// An operator of one precedence level.
#[derive(Debug, Clone, Copy)]
enum Op {
    Binary(BinaryOp),
    And,
    Or,
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Number(f64),
    String(String),
    Ident(String),
    Punct(&'static str),
}

/// Words that are not plain identifiers in JavaScript (keywords, and names with special meaning).
const RESERVED: &[&str] = &[
    "break",
    "case",
    "catch",
    "class",
    "const",
    "continue",
    "debugger",
    "default",
    "delete",
    "do",
    "else",
    "export",
    "extends",
    "finally",
    "for",
    "function",
    "if",
    "import",
    "in",
    "instanceof",
    "new",
    "return",
    "super",
    "switch",
    "this",
    "throw",
    "try",
    "typeof",
    "var",
    "void",
    "while",
    "with",
    "yield",
    "let",
    "static",
    "enum",
    "await",
    "implements",
    "package",
    "protected",
    "interface",
    "private",
    "public",
    "arguments",
    "eval",
    "async",
    "of",
];

/// Punctuators, longest first so `===` wins over `==` and `=`.
const PUNCTUATORS: &[&str] = &[
    "===", "!==", "==", "!=", "<=", ">=", "&&", "||", "<", ">", "+", "-", "*", "/", "%", "!", "(",
    ")", ".", ",",
];

fn tokenize(text: &str) -> Option<Vec<Token>> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut idx = 0;
    while idx < bytes.len() {
        let byte = bytes[idx];
        if byte == b' ' || byte == b'\t' || byte == b'\n' || byte == b'\r' {
            idx += 1;
            continue;
        }
        if byte.is_ascii_digit() {
            let start = idx;
            while idx < bytes.len() && bytes[idx].is_ascii_digit() {
                idx += 1;
            }
            // Legacy octal and other forms (`012`, `0x1`) are left to the compiler.
            if bytes[start] == b'0' && idx - start > 1 {
                return None;
            }
            if idx < bytes.len() && bytes[idx] == b'.' {
                idx += 1;
                let fraction = idx;
                while idx < bytes.len() && bytes[idx].is_ascii_digit() {
                    idx += 1;
                }
                if idx == fraction {
                    return None;
                }
            }
            if idx < bytes.len()
                && (bytes[idx].is_ascii_alphabetic() || bytes[idx] == b'_' || bytes[idx] == b'$')
            {
                return None;
            }
            tokens.push(Token::Number(text[start..idx].parse().ok()?));
            continue;
        }
        if byte == b'\'' || byte == b'"' {
            let end = text[idx + 1..].find(byte as char)? + idx + 1;
            let content = &text[idx + 1..end];
            if content.contains(['\\', '\n', '\r', '\u{2028}', '\u{2029}']) {
                return None;
            }
            tokens.push(Token::String(content.to_string()));
            idx = end + 1;
            continue;
        }
        if byte.is_ascii_alphabetic() || byte == b'_' || byte == b'$' {
            let start = idx;
            while idx < bytes.len()
                && (bytes[idx].is_ascii_alphanumeric() || bytes[idx] == b'_' || bytes[idx] == b'$')
            {
                idx += 1;
            }
            tokens.push(Token::Ident(text[start..idx].to_string()));
            continue;
        }
        let punct = PUNCTUATORS
            .iter()
            .find(|punct| text[idx..].starts_with(**punct))?;
        tokens.push(Token::Punct(punct));
        idx += punct.len();
    }
    Some(tokens)
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
}

/// Nesting beyond this goes to the compiler (keeps the recursive parser and evaluator shallow).
const MAX_NESTING: usize = 32;

impl Parser {
    fn peek_punct(&self) -> Option<&'static str> {
        match self.tokens.get(self.pos) {
            Some(Token::Punct(punct)) => Some(punct),
            _ => None,
        }
    }

    fn eat(&mut self, punct: &str) -> bool {
        if self.peek_punct() == Some(punct) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn binary(&mut self, level: usize) -> Option<Simple> {
        use BinaryOp::*;
        const LEVELS: &[&[(&str, Op)]] = &[
            &[("||", Op::Or)],
            &[("&&", Op::And)],
            &[
                ("===", Op::Binary(StrictEq)),
                ("!==", Op::Binary(StrictNe)),
                ("==", Op::Binary(Eq)),
                ("!=", Op::Binary(Ne)),
            ],
            &[
                ("<=", Op::Binary(Le)),
                (">=", Op::Binary(Ge)),
                ("<", Op::Binary(Lt)),
                (">", Op::Binary(Gt)),
            ],
            &[("+", Op::Binary(Add)), ("-", Op::Binary(Sub))],
            &[
                ("*", Op::Binary(Mul)),
                ("/", Op::Binary(Div)),
                ("%", Op::Binary(Rem)),
            ],
        ];
        if level == LEVELS.len() {
            return self.unary();
        }
        let mut left = self.binary(level + 1)?;
        'operators: loop {
            for (punct, op) in LEVELS[level] {
                if self.eat(punct) {
                    let right = Box::new(self.binary(level + 1)?);
                    left = match op {
                        Op::Binary(op) => Simple::Binary(*op, Box::new(left), right),
                        Op::And => Simple::And(Box::new(left), right),
                        Op::Or => Simple::Or(Box::new(left), right),
                    };
                    continue 'operators;
                }
            }
            return Some(left);
        }
    }

    fn unary(&mut self) -> Option<Simple> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return None;
        }
        let result = if self.eat("!") {
            Some(Simple::Not(Box::new(self.unary()?)))
        } else if self.eat("-") {
            Some(Simple::Neg(Box::new(self.unary()?)))
        } else {
            self.member()
        };
        self.depth -= 1;
        result
    }

    fn member(&mut self) -> Option<Simple> {
        let mut expr = self.primary()?;
        while self.eat(".") {
            match self.tokens.get(self.pos) {
                Some(Token::Ident(name)) => {
                    expr = Simple::Member(Box::new(expr), name.clone());
                    self.pos += 1;
                }
                _ => return None,
            }
        }
        // Calls on members (`a.b()`) pass `a` as `this`: left to the compiler.
        if self.peek_punct() == Some("(") {
            return None;
        }
        Some(expr)
    }

    fn primary(&mut self) -> Option<Simple> {
        let token = self.tokens.get(self.pos)?.clone();
        self.pos += 1;
        match token {
            Token::Number(number) => Some(Simple::Number(number)),
            Token::String(text) => Some(Simple::String(text)),
            Token::Ident(name) => match name.as_str() {
                "true" => Some(Simple::Bool(true)),
                "false" => Some(Simple::Bool(false)),
                "null" => Some(Simple::Null),
                _ if RESERVED.contains(&name.as_str()) => None,
                _ if self.eat("(") => {
                    let mut args = Vec::new();
                    if !self.eat(")") {
                        loop {
                            args.push(self.binary(0)?);
                            if self.eat(")") {
                                break;
                            }
                            if !self.eat(",") {
                                return None;
                            }
                        }
                    }
                    Some(Simple::Call(name, args))
                }
                _ => Some(Simple::Ident(name)),
            },
            Token::Punct("(") => {
                self.depth += 1;
                if self.depth > MAX_NESTING {
                    return None;
                }
                let inner = self.binary(0)?;
                self.depth -= 1;
                self.eat(")").then_some(inner)
            }
            Token::Punct(_) => None,
        }
    }
}

/// Parses `text` when it is a simple expression (see the module doc); `None` sends it to boa.
pub fn parse(text: &str) -> Option<Simple> {
    let tokens = tokenize(text)?;
    // Long operator chains nest deeply; the compiler takes them.
    if tokens.len() > 64 {
        return None;
    }
    let mut parser = Parser {
        tokens,
        pos: 0,
        depth: 0,
    };
    let expr = parser.binary(0)?;
    (parser.pos == parser.tokens.len()).then_some(expr)
}

/// Parses `text` when it is a plain identifier (a simple `<assign>` location).
pub fn parse_location(text: &str) -> Option<String> {
    match parse(text)? {
        Simple::Ident(name) => Some(name),
        _ => None,
    }
}

fn resolve(name: &str, context: &mut Context) -> JsResult<JsValue> {
    let global = context.global_object();
    let key = JsString::from(name);
    if !global.has_property(key.clone(), context)? {
        return Err(JsNativeError::reference()
            .with_message(format!("{name} is not defined"))
            .into());
    }
    global.get(key, context)
}

/// Evaluates a simple expression with JavaScript semantics.
pub fn eval(expr: &Simple, context: &mut Context) -> JsResult<JsValue> {
    Ok(match expr {
        Simple::Number(number) => JsValue::from(*number),
        Simple::String(text) => JsValue::from(JsString::from(text.as_str())),
        Simple::Bool(flag) => JsValue::from(*flag),
        Simple::Null => JsValue::null(),
        Simple::Ident(name) => resolve(name, context)?,
        Simple::Member(object, name) => {
            let base = eval(object, context)?;
            if base.is_null_or_undefined() {
                let kind = if base.is_null() { "null" } else { "undefined" };
                return Err(JsNativeError::typ()
                    .with_message(format!("cannot read property '{name}' of {kind}"))
                    .into());
            }
            let object = base.to_object(context)?;
            object.get(JsString::from(name.as_str()), context)?
        }
        Simple::Call(name, args) => {
            let function = resolve(name, context)?;
            let mut values = Vec::with_capacity(args.len());
            for arg in args {
                values.push(eval(arg, context)?);
            }
            match function.as_callable() {
                Some(function) => function.call(&JsValue::undefined(), &values, context)?,
                None => {
                    return Err(JsNativeError::typ()
                        .with_message(format!("{name} is not a function"))
                        .into());
                }
            }
        }
        Simple::Not(operand) => JsValue::from(!eval(operand, context)?.to_boolean()),
        Simple::Neg(operand) => eval(operand, context)?.neg(context)?,
        Simple::And(left, right) => {
            let left = eval(left, context)?;
            if left.to_boolean() {
                eval(right, context)?
            } else {
                left
            }
        }
        Simple::Or(left, right) => {
            let left = eval(left, context)?;
            if left.to_boolean() {
                left
            } else {
                eval(right, context)?
            }
        }
        Simple::Binary(op, left, right) => {
            let left = eval(left, context)?;
            let right = eval(right, context)?;
            binary(*op, &left, &right, context)?
        }
    })
}

fn binary(
    op: BinaryOp,
    left: &JsValue,
    right: &JsValue,
    context: &mut Context,
) -> JsResult<JsValue> {
    Ok(match op {
        BinaryOp::Mul => left.mul(right, context)?,
        BinaryOp::Div => left.div(right, context)?,
        BinaryOp::Rem => left.rem(right, context)?,
        BinaryOp::Add => left.add(right, context)?,
        BinaryOp::Sub => left.sub(right, context)?,
        BinaryOp::Lt => JsValue::from(left.lt(right, context)?),
        BinaryOp::Le => JsValue::from(left.le(right, context)?),
        BinaryOp::Gt => JsValue::from(left.gt(right, context)?),
        BinaryOp::Ge => JsValue::from(left.ge(right, context)?),
        BinaryOp::Eq => JsValue::from(left.equals(right, context)?),
        BinaryOp::Ne => JsValue::from(!left.equals(right, context)?),
        BinaryOp::StrictEq => JsValue::from(left.strict_equals(right)),
        BinaryOp::StrictNe => JsValue::from(!left.strict_equals(right)),
    })
}

/// `location = value` in strict mode for an identifier location: a `ReferenceError` when the name
/// does not resolve (checked before the value is evaluated, as the reference is), a `TypeError`
/// when the property is read-only.
pub fn assign(location: &str, value: &Simple, context: &mut Context) -> JsResult<()> {
    let global = context.global_object();
    let key = JsString::from(location);
    let resolvable = global.has_property(key.clone(), context)?;
    let value = eval(value, context)?;
    if !resolvable {
        return Err(JsError::from(
            JsNativeError::reference().with_message(format!("{location} is not defined")),
        ));
    }
    global.set(key, value, true, context)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use boa_engine::{Context, JsValue, Source};

    use super::{assign, eval, parse};

    fn context() -> Context {
        let mut context = Context::default();
        context
            .eval(Source::from_bytes(
                "var n = 5, s = 'abc', t = '10', o = {a: {b: 2}, 'x': true}, z = null, u, arr = [1, 2]; \
                 var calls = 0; function f(x) { calls++; return x * 2; } \
                 Object.defineProperty(globalThis, 'g', { get: function () { calls++; return 7; } }); \
                 Object.defineProperty(globalThis, 'ro', { value: 1, writable: false });",
            ))
            .unwrap();
        context
    }

    /// `Object.is` for primitives; objects (from two contexts) by their string form; errors by kind.
    fn same(
        left: &Result<JsValue, String>,
        left_context: &mut Context,
        right: &Result<JsValue, String>,
        right_context: &mut Context,
    ) -> bool {
        match (left, right) {
            (Ok(left), Ok(right)) => match (
                left.as_number(),
                right.as_number(),
                left.as_object(),
                right.as_object(),
            ) {
                (Some(a), Some(b), _, _) => {
                    (a.is_nan() && b.is_nan()) || a.to_bits() == b.to_bits()
                }
                (_, _, Some(_), Some(_)) => {
                    left.to_string(left_context).unwrap() == right.to_string(right_context).unwrap()
                }
                _ => left.strict_equals(right),
            },
            (Err(left), Err(right)) => left == right,
            _ => false,
        }
    }

    fn error_name(error: boa_engine::JsError) -> String {
        error
            .to_string()
            .split(':')
            .next()
            .unwrap_or_default()
            .to_string()
    }

    #[test]
    fn the_fast_path_gives_exactly_the_javascript_answer() {
        let expressions = [
            "1",
            "0",
            "1.5",
            "'a'",
            "\"b\"",
            "true",
            "false",
            "null",
            "undefined",
            "NaN",
            "Infinity",
            "n",
            "s",
            "n + 1",
            "n - 1",
            "n * 2",
            "n / 2",
            "n % 3",
            "n / 0",
            "-n / 0",
            "0 / 0",
            "-0",
            "s + n",
            "n + s",
            "t * 2",
            "t + 2",
            "t - 2",
            "n < 10",
            "n <= 5",
            "n > 5",
            "n >= 6",
            "s < 'abd'",
            "t < 9",
            "t == 10",
            "t === 10",
            "t != '10'",
            "t !== '10'",
            "z == null",
            "u == null",
            "z === undefined",
            "u === undefined",
            "z == 0",
            "!n",
            "!z",
            "!!s",
            "n && s",
            "z && s",
            "z || s",
            "n || s",
            "u || z",
            "o.a.b",
            "o.a.b + 1",
            "o.x",
            "o.missing",
            "o.missing.deeper",
            "z.a",
            "u.a",
            "s.length",
            "arr.length",
            "missing",
            "missing + 1",
            "f(3)",
            "f(n) + 1",
            "f(s)",
            "n(1)",
            "g",
            "g + g",
            "(n + 1) * 2",
            "n + 1 * 2",
            "(n)",
            "1 + 2 + 's'",
            "'s' + 1 + 2",
            "n == 5 && s == 'abc' || z",
            "-s",
            "-t",
            "- -n",
            "o + ''",
            "arr + 1",
            "arr == '1,2'",
            "f",
            "typeof n",
            "n ? 1 : 2",
            "012",
            "0x10",
            "1e3",
            "n = 1",
            "a.b()",
            "f(1,)",
            "'a\\'b'",
            "// comment",
        ];
        for text in expressions {
            let Some(simple) = parse(text) else { continue };
            let mut fast_context = context();
            let fast = eval(&simple, &mut fast_context).map_err(error_name);
            let mut boa_context = context();
            let boa = boa_context
                .eval(Source::from_bytes(&format!("(\n{text}\n)")))
                .map_err(error_name);
            assert!(
                same(&fast, &mut fast_context, &boa, &mut boa_context),
                "{text}: fast {fast:?}, boa {boa:?}"
            );
            // Side effects (function calls, getters) happen as often in both.
            let calls = |context: &mut Context| {
                context
                    .eval(Source::from_bytes("calls"))
                    .unwrap()
                    .as_number()
            };
            assert_eq!(calls(&mut fast_context), calls(&mut boa_context), "{text}");
        }
    }

    #[test]
    fn only_the_simple_grammar_is_taken() {
        for text in [
            "n + 1",
            "In('s1')",
            "_event.data.x == 'y'",
            "!(a || b) && c",
        ] {
            assert!(parse(text).is_some(), "{text}");
        }
        let rejected = [
            "typeof n",
            "n ? 1 : 2",
            "012",
            "0x10",
            "1e3",
            "n = 1",
            "a.b()",
            "f(1,)",
            "'a\\'b'",
            "// comment",
            "a[0]",
            "new Date()",
            "function () {}",
            "x => x",
            "`t`",
            "1.",
            ".5",
            "this",
            "eval('1')",
            "a instanceof b",
        ];
        for text in rejected {
            assert!(parse(text).is_none(), "{text}");
        }
        let chain = vec!["n"; 100].join(" + ");
        assert!(parse(&chain).is_none(), "long chains go to the compiler");
    }

    #[test]
    fn assignment_is_strict() {
        let mut context = context();
        assign("n", &parse("n + 1").unwrap(), &mut context).unwrap();
        assert_eq!(
            context.eval(Source::from_bytes("n")).unwrap().as_number(),
            Some(6.0)
        );
        let undeclared = assign("nope", &parse("1").unwrap(), &mut context).unwrap_err();
        assert!(
            undeclared.to_string().starts_with("ReferenceError"),
            "{undeclared}"
        );
        let readonly = assign("ro", &parse("2").unwrap(), &mut context).unwrap_err();
        assert!(readonly.to_string().starts_with("TypeError"), "{readonly}");
    }
}
