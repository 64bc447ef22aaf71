//! Printing results: the same rows as a table for people or as JSON for programs.

use crate::Format;
use colony_core::cell::Value;
use comfy_table::{presets::ASCII_FULL, ContentArrangement, Table};
use serde_json::{json, Map, Value as Json};

/// Prints `rows` under `headers`: as a table, or as a JSON array of objects keyed by the
/// headers in lower case with `_` for spaces.
pub fn print(format: Format, headers: &[&str], rows: Vec<Vec<Json>>) {
    match format {
        Format::Table => {
            let mut table = Table::new();
            table
                .load_preset(ASCII_FULL)
                .set_content_arrangement(ContentArrangement::Disabled)
                .set_header(headers.to_vec());
            for row in rows {
                table.add_row(row.iter().map(cell_text).collect::<Vec<_>>());
            }
            println!("{table}");
        }
        Format::Json => {
            let objects: Vec<Json> = rows
                .into_iter()
                .map(|row| {
                    let mut object = Map::new();
                    for (header, value) in headers.iter().zip(row) {
                        object.insert(header.to_lowercase().replace(' ', "_"), value);
                    }
                    Json::Object(object)
                })
                .collect();
            // Serializing a tree of JSON values cannot fail.
            println!(
                "{}",
                serde_json::to_string_pretty(&objects).unwrap_or_default()
            );
        }
    }
}

fn cell_text(value: &Json) -> String {
    match value {
        Json::String(s) => s.clone(),
        Json::Null => String::new(),
        other => other.to_string(),
    }
}

/// A value as a table cell shows it (the syntax `colony put` reads) or as JSON holds it
/// (integers as numbers when they fit 64 bits and as strings of digits when not, text as a
/// string, other bytes as `0x` and hex).
pub fn value(value: Option<&Value>, format: Format) -> Json {
    let Some(value) = value else {
        return Json::Null;
    };
    match (format, value) {
        (Format::Table, _) => Json::String(colony_txn_syntax::format_value(value)),
        (Format::Json, Value::Integer(i)) => match i64::try_from(i) {
            Ok(small) => json!(small),
            Err(_) => json!(i.to_string()),
        },
        (Format::Json, Value::Boolean(b)) => json!(b),
        (Format::Json, Value::Bytes(bytes)) => match std::str::from_utf8(bytes) {
            Ok(text) => json!(text),
            Err(_) => json!(colony_txn_syntax::format_value(value)),
        },
    }
}

/// The name of a value's type.
pub fn type_name(value: Option<&Value>) -> Json {
    json!(match value {
        None => "absent",
        Some(Value::Bytes(_)) => "bytes",
        Some(Value::Integer(_)) => "integer",
        Some(Value::Boolean(_)) => "boolean",
    })
}
