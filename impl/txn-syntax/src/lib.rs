//! The syntax of the transactions `colony txn` takes, parsed into the core's
//! [`Transaction`]: a text form for people and a JSON form for programs.
//!
//! [`parse_transaction`] reads either; input whose first non-blank character is `{` is JSON.
//! Both are checked against the core's bounds ([`Transaction::validate`]) before they are
//! returned, so a transaction this crate accepts is one a cell accepts.
//!
//! # The text form
//!
//! One clause a line. Blank lines and lines whose first non-blank character is `#` are ignored;
//! a `#` later in a line is part of a word. Words are separated by whitespace.
//!
//! | clause | meaning |
//! | --- | --- |
//! | `if KEY exists` | the key holds some value |
//! | `if KEY absent` | the key holds no value |
//! | `if KEY = VALUE` | the key holds exactly this value, of this type |
//! | `then` | optional, once, between the conditions and the operations |
//! | `put KEY VALUE` | sets the key |
//! | `get KEY` | reads the key |
//! | `del KEY` | removes the key |
//! | `incr KEY [AMOUNT]` | adds the integer AMOUNT (1 if none is given; it may be negative) |
//!
//! The conditions all come before the operations: they are checked against the state before
//! the transaction, and writing them first says so. A transaction of conditions alone is
//! allowed (it only checks); one with no clause at all is refused.
//!
//! A KEY is a bare word, or a double-quoted string for a key with spaces or quotes in it, and
//! stands for the bytes of its text whatever they look like: keys have no types, so the key
//! `100` is three bytes and the key `0xff` four. A VALUE (and the value `colony put` takes, through [`parse_value`]) is:
//!
//! - an integer, an optional sign and decimal digits of any length: `100`, `-7`;
//! - `true` or `false`, a boolean;
//! - `0x` and an even number of hexadecimal digits, the bytes they spell: `0xff00`, so that bytes
//!   that are not text can be written (and [`format_value`] prints them so);
//! - a double-quoted string, the bytes of its text, with the escapes `\"`, `\\`, `\n` and `\t`:
//!   `"100"` is three bytes, not an integer, and `""` is no bytes;
//! - any other word, the bytes of the word: `hello`.
//!
//! Every mistake is reported with its line, the line's text and what was expected there:
//!
//! ```text
//! line 3: "frob alice": unknown clause "frob"; expected if, then, put, get, del or incr
//! ```
//!
//! Examples:
//!
//! ```text
//! # Move 10 from alice to bob if alice still holds 100.
//! if alice = 100
//! then
//! put alice 90
//! incr bob 10
//! get alice
//! ```
//!
//! ```text
//! # Claim a name once: the first to write it wins, the others find it taken.
//! if "user:ada lovelace" absent
//! put "user:ada lovelace" "claimed by node 3"
//! put "user:ada lovelace/active" true
//! ```
//!
//! # The JSON form
//!
//! An object with the conditions under `"if"` and the operations under `"then"`, either of which
//! may be left out:
//!
//! ```json
//! {
//!   "if": [{"equals": {"key": "alice", "value": 100}}],
//!   "then": [
//!     {"put": {"key": "alice", "value": 90}},
//!     {"incr": {"key": "bob", "amount": 10}},
//!     {"get": "alice"}
//!   ]
//! }
//! ```
//!
//! The conditions are `{"exists": KEY}`, `{"absent": KEY}` and
//! `{"equals": {"key": KEY, "value": VALUE}}`; the operations `{"put": {"key": KEY, "value":
//! VALUE}}`, `{"get": KEY}`, `{"del": KEY}` and `{"incr": {"key": KEY, "amount": AMOUNT}}`, the
//! amount optional (1). A KEY is a string. A VALUE is a string (its bytes), a boolean, or an
//! integer: a JSON number without fraction or exponent within 64 bits, or, for any size,
//! `{"int": "123456789012345678901234567890"}` (a JSON reader holds numbers in 64 bits, so a
//! larger one would lose digits). An AMOUNT is such an integer. A fraction is refused, as is a
//! field the form does not have; errors name the place as a path such as `$.then[1].put.value`.
//!
//! # In Rust
//!
//! ```
//! use colony_core::cell::{Condition, Key, Operation, Value};
//! use colony_txn_syntax::parse_transaction;
//!
//! let transaction = parse_transaction("if alice = 100\nput alice 90\n").expect("parses");
//! assert_eq!(
//!     transaction.conditions,
//!     [Condition::Equals { key: Key::from("alice"), value: Value::from(100) }]
//! );
//! assert_eq!(
//!     transaction.operations,
//!     [Operation::Write { key: Key::from("alice"), value: Value::from(90) }]
//! );
//! ```

#![deny(missing_docs)]

mod json;
mod text;
mod value;

use colony_core::cell::{Condition, Operation, Place, Transaction, TransactionError};

pub use value::{format_value, parse_value};

/// Why an input is not a transaction: the whole message, naming where the mistake is (a line
/// of the text form, a path in the JSON form) and what was expected there.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SyntaxError {
    /// The line of the input the mistake is on, counting from 1, when it is on one: always in
    /// the text form, and for JSON that does not parse.
    pub line: Option<usize>,
    /// The whole message, as `Display` shows it, the line number included when there is one.
    pub message: String,
}

impl SyntaxError {
    /// An error about the transaction as a whole, which no one place is to blame for.
    fn whole(message: String) -> Self {
        SyntaxError {
            line: None,
            message,
        }
    }
}

/// Parses a transaction in the text form or, when its first non-blank character is `{`, the
/// JSON form (both described in the [crate] documentation), and checks it against the core's
/// bounds.
pub fn parse_transaction(input: &str) -> Result<Transaction, SyntaxError> {
    let parsed = if input.trim_start().starts_with('{') {
        json::parse(input)?
    } else {
        text::parse(input)?
    };
    parsed.finish()
}

/// The longest piece of input an error message quotes, in characters: a line holding a value
/// near the bound of 64 KiB would otherwise bury the message.
const EXCERPT_CHARS_MAX: usize = 60;

/// Where in the input a clause or a word came from, as an error message names it.
#[derive(Clone, Debug)]
struct Site {
    line: Option<usize>,
    label: String,
}

impl Site {
    /// A line of the text form, named by its number and (the start of) its text.
    fn line(number: usize, text: &str) -> Self {
        Site {
            line: Some(number),
            label: format!("line {number}: {:?}", excerpt(text)),
        }
    }

    /// A word given on its own, as to [`parse_value`], named by (the start of) its text.
    fn word(text: &str) -> Self {
        Site {
            line: None,
            label: format!("{:?}", excerpt(text)),
        }
    }

    /// A place in the JSON form, named by its path.
    fn path(path: String) -> Self {
        Site {
            line: None,
            label: path,
        }
    }

    /// The error saying what is wrong here.
    fn error(&self, reason: impl std::fmt::Display) -> SyntaxError {
        SyntaxError {
            line: self.line,
            message: format!("{}: {reason}", self.label),
        }
    }
}

/// The start of `text`, cut to [`EXCERPT_CHARS_MAX`] characters with an ellipsis.
fn excerpt(text: &str) -> String {
    match text.char_indices().nth(EXCERPT_CHARS_MAX) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

/// A transaction as parsed, with where each of its clauses came from, so that an error of the
/// core's check can name the clause's place in the input rather than its index.
#[derive(Debug, Default)]
struct Parsed {
    transaction: Transaction,
    condition_sites: Vec<Site>,
    operation_sites: Vec<Site>,
}

impl Parsed {
    fn push_condition(&mut self, condition: Condition, site: Site) {
        self.transaction.conditions.push(condition);
        self.condition_sites.push(site);
    }

    fn push_operation(&mut self, operation: Operation, site: Site) {
        self.transaction.operations.push(operation);
        self.operation_sites.push(site);
    }

    /// The transaction, once it is known to hold a clause and to be within the core's bounds.
    fn finish(self) -> Result<Transaction, SyntaxError> {
        let transaction = &self.transaction;
        if transaction.conditions.is_empty() && transaction.operations.is_empty() {
            return Err(SyntaxError::whole(
                "the transaction is empty: it needs at least one condition or operation".into(),
            ));
        }
        match transaction.validate() {
            Ok(()) => Ok(self.transaction),
            Err(error) => Err(match self.site_of(&error) {
                Some(site) => site.error(&error),
                None => SyntaxError::whole(format!("the transaction is refused: {error}")),
            }),
        }
    }

    /// The place of the clause the core's error is about, when it is about one.
    fn site_of(&self, error: &TransactionError) -> Option<&Site> {
        match error {
            TransactionError::KeyTooLong { place, .. }
            | TransactionError::ValueTooLarge { place, .. } => match *place {
                Place::Condition(index) => self.condition_sites.get(index),
                Place::Operation(index) => self.operation_sites.get(index),
            },
            _ => None,
        }
    }
}
