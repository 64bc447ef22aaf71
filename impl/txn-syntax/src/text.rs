//! The text form: words, clauses and the order of the clauses.

use crate::value::{integer, value_of};
use crate::{Parsed, Site, SyntaxError};
use colony_core::cell::{Condition, Key, Operation};
use num_bigint::BigInt;

/// One word of a line: its text, with a quoted word's quotes removed and escapes read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Word {
    /// The text.
    pub(crate) text: String,
    /// Whether the word was quoted: a quoted `"100"` is bytes where a bare `100` is an integer,
    /// and a quoted `"put"` is no keyword.
    pub(crate) quoted: bool,
}

const UNTERMINATED: &str = "an unterminated quote: a quoted string ends with \" on the same line";

/// Splits a line into words at whitespace, reading double-quoted strings (which may hold
/// whitespace) as one word each.
pub(crate) fn tokenize(line: &str) -> Result<Vec<Word>, String> {
    let mut words = Vec::new();
    let mut chars = line.chars().peekable();
    while let Some(&first) = chars.peek() {
        if first.is_whitespace() {
            chars.next();
            continue;
        }
        let mut text = String::new();
        if first == '"' {
            chars.next();
            loop {
                match chars.next() {
                    None => return Err(UNTERMINATED.into()),
                    Some('"') => break,
                    Some('\\') => text.push(match chars.next() {
                        Some('"') => '"',
                        Some('\\') => '\\',
                        Some('n') => '\n',
                        Some('t') => '\t',
                        Some(other) => {
                            return Err(format!(
                                "an unknown escape \\{other}; the escapes are \\\", \\\\, \\n \
                                 and \\t"
                            ))
                        }
                        None => return Err(UNTERMINATED.into()),
                    }),
                    Some(c) => text.push(c),
                }
            }
            // Text glued to a closing quote is more likely a mistake in the quoting than a
            // second word.
            if chars.peek().is_some_and(|c| !c.is_whitespace()) {
                return Err(format!(
                    "a space or the end of the line must follow the quoted string \"{text}\""
                ));
            }
            words.push(Word { text, quoted: true });
        } else {
            while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                text.push(c);
            }
            // A quote inside a bare word would leave it unclear where a quoted string was meant
            // to start; quoting the whole word says it.
            if text.contains('"') {
                return Err(format!(
                    "a quote inside the word {text}; quote the whole word instead"
                ));
            }
            words.push(Word {
                text,
                quoted: false,
            });
        }
    }
    Ok(words)
}

/// One line's clause.
enum Clause {
    Then,
    Condition(Condition),
    Operation(Operation),
}

/// How far through the transaction the parser is: the conditions come first, then `then` at
/// most once, then the operations.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stage {
    Conditions,
    Then,
    Operations,
}

/// Parses the text form, line by line.
pub(crate) fn parse(input: &str) -> Result<Parsed, SyntaxError> {
    let mut parsed = Parsed::default();
    let mut stage = Stage::Conditions;
    for (index, line) in input.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let site = Site::line(index + 1, line);
        let clause = tokenize(line)
            .and_then(|words| clause(&words))
            .map_err(|reason| site.error(reason))?;
        match (clause, stage) {
            (Clause::Then, Stage::Conditions) => stage = Stage::Then,
            (Clause::Then, Stage::Then) => {
                return Err(
                    site.error("then appears once, between the conditions and the operations")
                )
            }
            (Clause::Then, Stage::Operations) => {
                return Err(site.error("then comes before the operations, not after one"))
            }
            (Clause::Condition(condition), Stage::Conditions) => {
                parsed.push_condition(condition, site)
            }
            (Clause::Condition(_), Stage::Then | Stage::Operations) => {
                return Err(site.error(
                    "conditions come first: an if clause cannot follow then or an operation",
                ))
            }
            (Clause::Operation(operation), _) => {
                stage = Stage::Operations;
                parsed.push_operation(operation, site);
            }
        }
    }
    Ok(parsed)
}

/// The clause a line's words make.
fn clause(words: &[Word]) -> Result<Clause, String> {
    let Some((first, rest)) = words.split_first() else {
        return Err("an empty clause".into());
    };
    // A quoted first word is never a keyword, so that no key or value can be mistaken for one.
    let keyword = if first.quoted {
        ""
    } else {
        first.text.as_str()
    };
    match keyword {
        "if" => condition(rest).map(Clause::Condition),
        "then" if rest.is_empty() => Ok(Clause::Then),
        "then" => Err(format!(
            "then stands alone on its line, not before {}",
            count(rest)
        )),
        "put" => match rest {
            [key, value] => Ok(Clause::Operation(Operation::Write {
                key: key_of(key),
                value: value_of(value)?,
            })),
            _ => Err(usage("put", "a key and a value", "put KEY VALUE", rest, 2)),
        },
        "get" => match rest {
            [key] => Ok(Clause::Operation(Operation::Read { key: key_of(key) })),
            _ => Err(usage("get", "one key", "get KEY", rest, 1)),
        },
        "del" => match rest {
            [key] => Ok(Clause::Operation(Operation::Delete { key: key_of(key) })),
            _ => Err(usage("del", "one key", "del KEY", rest, 1)),
        },
        "incr" => {
            let (key, amount) = match rest {
                [key] => (key, BigInt::from(1)),
                [key, amount] => (key, amount_of(amount)?),
                _ => {
                    return Err(usage(
                        "incr",
                        "a key and an optional integer amount",
                        "incr KEY [AMOUNT]",
                        rest,
                        2,
                    ))
                }
            };
            Ok(Clause::Operation(Operation::Increment {
                key: key_of(key),
                amount,
            }))
        }
        _ => Err(format!(
            "unknown clause {:?}; expected if, then, put, get, del or incr",
            first.text
        )),
    }
}

fn condition(rest: &[Word]) -> Result<Condition, String> {
    const FORMS: &str = "if KEY exists, if KEY absent or if KEY = VALUE";
    let [key, test, tail @ ..] = rest else {
        return Err(usage("if", "a key and a test", FORMS, rest, 3));
    };
    let test_word = if test.quoted { "" } else { test.text.as_str() };
    match (test_word, tail) {
        ("exists", []) => Ok(Condition::Exists { key: key_of(key) }),
        ("absent", []) => Ok(Condition::Absent { key: key_of(key) }),
        ("=", [value]) => Ok(Condition::Equals {
            key: key_of(key),
            value: value_of(value)?,
        }),
        ("exists" | "absent", _) => Err(format!(
            "if KEY {test_word} takes nothing after it, not {}",
            count(tail)
        )),
        ("=", _) => Err(format!(
            "if KEY = takes one value, not {}; quote a value that holds spaces",
            count(tail)
        )),
        _ => Err(format!("unknown test {:?}; expected {FORMS}", test.text)),
    }
}

/// A key is its word's bytes, whatever the word: keys have no types to tell apart.
fn key_of(word: &Word) -> Key {
    Key(word.text.as_bytes().to_vec())
}

fn amount_of(word: &Word) -> Result<BigInt, String> {
    let amount = if word.quoted {
        None
    } else {
        integer(&word.text)
    };
    amount.ok_or_else(|| {
        format!(
            "the amount {:?} is not an integer; incr adds an integer (an optional sign and \
             decimal digits), 1 when none is given",
            word.text
        )
    })
}

/// What a clause takes, for a clause given too few or too many words (`most` is how many it
/// takes at most after its keyword).
fn usage(keyword: &str, takes: &str, form: &str, rest: &[Word], most: usize) -> String {
    // Too many words is most often a key or value with a space in it that was not quoted.
    let hint = if rest.len() > most {
        "; quote a word that holds spaces"
    } else {
        ""
    };
    format!(
        "{keyword} takes {takes} ({form}), not {}{hint}",
        count(rest)
    )
}

fn count(words: &[Word]) -> String {
    match words.len() {
        0 => "nothing".to_owned(),
        1 => "1 word".to_owned(),
        count => format!("{count} words"),
    }
}
