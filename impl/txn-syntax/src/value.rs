//! Values as words: the rule that reads one ([`parse_value`]) and its inverse for display
//! ([`format_value`]).

use crate::text::{tokenize, Word};
use crate::{Site, SyntaxError};
use colony_core::cell::Value;
use num_bigint::BigInt;
use std::fmt::Write as _;

/// Parses one value by the rule of the text form: an integer (an optional sign and decimal
/// digits), `true` or `false`, `0x` and hexadecimal digits for bytes, a double-quoted string for
/// the bytes of its text, or any other word for the bytes of the word (see the [crate]
/// documentation).
///
/// `word` is a single word, as a shell passes one argument to `colony put`: a value with spaces
/// in it must be quoted, here as in a transaction, so that the two read a value alike.
pub fn parse_value(word: &str) -> Result<Value, SyntaxError> {
    let site = Site::word(word);
    let words = tokenize(word).map_err(|reason| site.error(reason))?;
    match words.as_slice() {
        [word] => value_of(word).map_err(|reason| site.error(reason)),
        [] => Err(site.error("no value; write \"\" for no bytes")),
        _ => Err(site.error(format!(
            "a value is one word, not {}; quote a value that holds spaces",
            words.len()
        ))),
    }
}

/// Formats a value so that [`parse_value`] reads it back as the same value: an integer in
/// decimal, a boolean as `true` or `false`, bytes as their text when that is a word read back as
/// itself, as a quoted string when they are text of other printable characters, and otherwise
/// (not UTF-8, or holding control characters other than newline and tab) as `0x` and hexadecimal.
pub fn format_value(value: &Value) -> String {
    match value {
        Value::Integer(integer) => integer.to_string(),
        Value::Boolean(boolean) => boolean.to_string(),
        Value::Bytes(bytes) => format_bytes(bytes),
    }
}

fn format_bytes(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) if reads_back_bare(text) => text.to_owned(),
        // Other control characters would reach the terminal raw inside the quotes, and the
        // quoted form has no escape for them; hexadecimal shows every byte.
        Ok(text)
            if !text
                .chars()
                .any(|c| c.is_control() && c != '\n' && c != '\t') =>
        {
            quote(text)
        }
        _ => hex(bytes),
    }
}

/// Whether `text` written bare reads back as the bytes of itself, and not as an integer, a
/// boolean, hexadecimal, several words or an error.
fn reads_back_bare(text: &str) -> bool {
    !text.chars().any(|c| c.is_whitespace() || c.is_control())
        && matches!(parse_value(text), Ok(Value::Bytes(bytes)) if bytes == text.as_bytes())
}

fn quote(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    for c in text.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            '\n' => quoted.push_str("\\n"),
            '\t' => quoted.push_str("\\t"),
            _ => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

fn hex(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(2 + 2 * bytes.len());
    text.push_str("0x");
    for byte in bytes {
        // Writing to a String cannot fail.
        let _ = write!(text, "{byte:02x}");
    }
    text
}

/// The value a word of the text form stands for, or why it stands for none.
pub(crate) fn value_of(word: &Word) -> Result<Value, String> {
    if word.quoted {
        return Ok(Value::Bytes(word.text.as_bytes().to_vec()));
    }
    if let Some(integer) = integer(&word.text) {
        return Ok(Value::Integer(integer));
    }
    match word.text.as_str() {
        "true" => Ok(Value::Boolean(true)),
        "false" => Ok(Value::Boolean(false)),
        text => match text.strip_prefix("0x") {
            Some(digits) => unhex(digits).map(Value::Bytes).ok_or_else(|| {
                format!(
                    "{text:?} is not hexadecimal bytes, which take an even number of hex \
                     digits after 0x; quote it for the text itself"
                )
            }),
            None => Ok(Value::Bytes(text.as_bytes().to_vec())),
        },
    }
}

/// The integer `text` spells: an optional `+` or `-` and one or more decimal digits, nothing
/// else. It checks the digits itself because `BigInt`'s parser also takes underscores, which
/// would make `1_000` an integer here and the bytes `1_000` nowhere.
pub(crate) fn integer(text: &str) -> Option<BigInt> {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// The bytes an even, nonzero number of hexadecimal digits spell.
fn unhex(digits: &str) -> Option<Vec<u8>> {
    // Checked digit by digit first: `from_str_radix` would also take a sign, so `0x+f` would
    // spell a byte.
    if digits.is_empty()
        || digits.len() % 2 != 0
        || !digits.bytes().all(|byte| byte.is_ascii_hexdigit())
    {
        return None;
    }
    (0..digits.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(&digits[at..at + 2], 16).ok())
        .collect()
}
