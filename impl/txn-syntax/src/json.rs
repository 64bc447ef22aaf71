//! The JSON form, read by walking a `serde_json::Value` by hand: every mistake can then be
//! named by its path in the document, which derived deserializers do not report.

use crate::value::integer;
use crate::{Parsed, Site, SyntaxError};
use colony_core::cell::{Condition, Key, Operation, Value};
use num_bigint::BigInt;
use serde_json::{Map, Value as Json};

const CONDITIONS: &str = "exists, absent or equals";
const OPERATIONS: &str = "put, get, del or incr";
const BIG: &str = "{\"int\": \"DIGITS\"}";

/// A place in the document, as a path from its root `$`.
struct Path(String);

impl Path {
    fn field(&self, name: &str) -> Path {
        Path(format!("{}.{name}", self.0))
    }

    fn index(&self, index: usize) -> Path {
        Path(format!("{}[{index}]", self.0))
    }

    fn site(&self) -> Site {
        Site::path(self.0.clone())
    }

    fn error(&self, reason: impl std::fmt::Display) -> SyntaxError {
        self.site().error(reason)
    }
}

/// Parses the JSON form.
pub(crate) fn parse(input: &str) -> Result<Parsed, SyntaxError> {
    let document: Json = serde_json::from_str(input).map_err(|error| SyntaxError {
        line: Some(error.line()),
        message: format!("the JSON does not parse: {error}"),
    })?;
    let root = Path("$".into());
    let fields = record(&document, &root, &["if", "then"])?;
    let mut parsed = Parsed::default();
    for (path, item) in list(fields, &root, "if")? {
        parsed.push_condition(condition(item, &path)?, path.site());
    }
    for (path, item) in list(fields, &root, "then")? {
        parsed.push_operation(operation(item, &path)?, path.site());
    }
    Ok(parsed)
}

/// The items of the array under `name`, each with its path; none when the field is absent.
fn list<'a>(
    fields: &'a Map<String, Json>,
    root: &Path,
    name: &str,
) -> Result<Vec<(Path, &'a Json)>, SyntaxError> {
    let path = root.field(name);
    match fields.get(name) {
        None => Ok(Vec::new()),
        Some(Json::Array(items)) => Ok(items
            .iter()
            .enumerate()
            .map(|(index, item)| (path.index(index), item))
            .collect()),
        Some(other) => Err(path.error(format!("expected an array, found {}", kind(other)))),
    }
}

fn condition(item: &Json, path: &Path) -> Result<Condition, SyntaxError> {
    let (name, body) = one_field(item, path, "a condition", CONDITIONS)?;
    let path = path.field(name);
    match name {
        "exists" => Ok(Condition::Exists {
            key: key(body, &path)?,
        }),
        "absent" => Ok(Condition::Absent {
            key: key(body, &path)?,
        }),
        "equals" => {
            let (key, value) = key_and_value(body, &path)?;
            Ok(Condition::Equals { key, value })
        }
        _ => Err(path.error(format!("an unknown condition; expected {CONDITIONS}"))),
    }
}

fn operation(item: &Json, path: &Path) -> Result<Operation, SyntaxError> {
    let (name, body) = one_field(item, path, "an operation", OPERATIONS)?;
    let path = path.field(name);
    match name {
        "put" => {
            let (key, value) = key_and_value(body, &path)?;
            Ok(Operation::Write { key, value })
        }
        "get" => Ok(Operation::Read {
            key: key(body, &path)?,
        }),
        "del" => Ok(Operation::Delete {
            key: key(body, &path)?,
        }),
        "incr" => {
            let fields = record(body, &path, &["key", "amount"])?;
            let amount = match fields.get("amount") {
                Some(amount) => amount_of(amount, &path.field("amount"))?,
                None => BigInt::from(1),
            };
            Ok(Operation::Increment {
                key: key(required(fields, &path, "key")?, &path.field("key"))?,
                amount,
            })
        }
        _ => Err(path.error(format!("an unknown operation; expected {OPERATIONS}"))),
    }
}

/// The single field of an object such as `{"get": "k"}`, which names what the object is.
fn one_field<'a>(
    item: &'a Json,
    path: &Path,
    what: &str,
    names: &str,
) -> Result<(&'a str, &'a Json), SyntaxError> {
    let shape = format!("{what} is an object of one field, {names}");
    let Json::Object(fields) = item else {
        return Err(path.error(format!("{shape}; found {}", kind(item))));
    };
    let mut entries = fields.iter();
    match (entries.next(), entries.next()) {
        (Some((name, body)), None) => Ok((name, body)),
        _ => Err(path.error(format!("{shape}; found {} fields", fields.len()))),
    }
}

/// The fields of an object that may hold only the fields `allowed`.
fn record<'a>(
    item: &'a Json,
    path: &Path,
    allowed: &[&str],
) -> Result<&'a Map<String, Json>, SyntaxError> {
    let names = allowed.join(" and ");
    let Json::Object(fields) = item else {
        return Err(path.error(format!(
            "expected an object of the fields {names}, found {}",
            kind(item)
        )));
    };
    // A misspelt field would otherwise be ignored and its default taken, silently.
    match fields.keys().find(|name| !allowed.contains(&name.as_str())) {
        Some(unknown) => {
            Err(path.error(format!("unknown field {unknown:?}; the fields are {names}")))
        }
        None => Ok(fields),
    }
}

fn required<'a>(
    fields: &'a Map<String, Json>,
    path: &Path,
    name: &str,
) -> Result<&'a Json, SyntaxError> {
    fields
        .get(name)
        .ok_or_else(|| path.error(format!("missing field {name:?}")))
}

fn key_and_value(body: &Json, path: &Path) -> Result<(Key, Value), SyntaxError> {
    let fields = record(body, path, &["key", "value"])?;
    let key = key(required(fields, path, "key")?, &path.field("key"))?;
    let value = value(required(fields, path, "value")?, &path.field("value"))?;
    Ok((key, value))
}

fn key(item: &Json, path: &Path) -> Result<Key, SyntaxError> {
    match item {
        Json::String(text) => Ok(Key(text.as_bytes().to_vec())),
        other => Err(path.error(format!("a key is a string, not {}", kind(other)))),
    }
}

fn value(item: &Json, path: &Path) -> Result<Value, SyntaxError> {
    match item {
        Json::String(text) => Ok(Value::Bytes(text.as_bytes().to_vec())),
        Json::Bool(boolean) => Ok(Value::Boolean(*boolean)),
        Json::Number(_) | Json::Object(_) => amount_of(item, path).map(Value::Integer),
        other => Err(path.error(format!(
            "a value is a string, a boolean, an integer or {BIG}, not {}",
            kind(other)
        ))),
    }
}

/// An integer: a JSON number without fraction or exponent, or the big-integer form
/// `{"int": "DIGITS"}`.
fn amount_of(item: &Json, path: &Path) -> Result<BigInt, SyntaxError> {
    match item {
        Json::Number(number) => {
            // Read from the number's text, so that integers come out exact whether or not
            // serde_json holds numbers as text (its `arbitrary_precision` feature).
            let text = number.to_string();
            match integer(&text) {
                Some(integer) => Ok(integer),
                None if number.as_f64().is_some_and(|float| float.fract() != 0.0) => Err(path
                    .error(format!(
                        "{text} has a fraction; there are no fractions, only integers"
                    ))),
                None => Err(path.error(format!(
                    "{text} is not read as an exact integer: a JSON integer is written in \
                     digits, without fraction or exponent, within 64 bits; write a larger one \
                     as {BIG}"
                ))),
            }
        }
        Json::Object(_) => {
            let fields = record(item, path, &["int"])?;
            let digits = required(fields, path, "int")?;
            let path = path.field("int");
            match digits {
                Json::String(text) => integer(text).ok_or_else(|| {
                    path.error(format!(
                        "{text:?} is not an integer: an optional sign and decimal digits"
                    ))
                }),
                other => Err(path.error(format!(
                    "the digits of {BIG} are a string, not {}",
                    kind(other)
                ))),
            }
        }
        other => Err(path.error(format!(
            "an integer is a number or {BIG}, not {}",
            kind(other)
        ))),
    }
}

/// What kind of JSON value `item` is, for error messages.
fn kind(item: &Json) -> &'static str {
    match item {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}
