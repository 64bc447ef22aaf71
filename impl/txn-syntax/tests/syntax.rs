//! The syntax of `colony txn`, by tables: inputs and the transactions they make, inputs and the
//! errors they get, values and their printed forms.

use colony_core::cell::{
    Condition, Key, Operation, Transaction, Value, KEY_BYTES_MAX, OPERATIONS_MAX, VALUE_BYTES_MAX,
};
use colony_txn_syntax::{format_value, parse_transaction, parse_value};
use num_bigint::BigInt;

const BIG: &str = "123456789012345678901234567890";

fn key(text: &str) -> Key {
    Key::from(text)
}

fn bytes(text: &str) -> Value {
    Value::from(text)
}

fn int(integer: i64) -> Value {
    Value::from(integer)
}

fn big(digits: &str) -> BigInt {
    digits.parse().expect("the test's digits are an integer")
}

fn exists(name: &str) -> Condition {
    Condition::Exists { key: key(name) }
}

fn absent(name: &str) -> Condition {
    Condition::Absent { key: key(name) }
}

fn equals(name: &str, value: Value) -> Condition {
    Condition::Equals {
        key: key(name),
        value,
    }
}

fn put(name: &str, value: Value) -> Operation {
    Operation::Write {
        key: key(name),
        value,
    }
}

fn get(name: &str) -> Operation {
    Operation::Read { key: key(name) }
}

fn del(name: &str) -> Operation {
    Operation::Delete { key: key(name) }
}

fn incr(name: &str, amount: i64) -> Operation {
    Operation::Increment {
        key: key(name),
        amount: BigInt::from(amount),
    }
}

fn txn(conditions: Vec<Condition>, operations: Vec<Operation>) -> Transaction {
    Transaction {
        conditions,
        operations,
    }
}

fn parses(input: &str) -> Transaction {
    parse_transaction(input).unwrap_or_else(|error| panic!("{input:?} does not parse: {error}"))
}

fn refused(input: &str) -> String {
    match parse_transaction(input) {
        Ok(transaction) => panic!("{input:?} parses, to {transaction:?}"),
        Err(error) => error.to_string(),
    }
}

#[test]
fn inputs_make_transactions() {
    let rows: Vec<(&str, Transaction)> = vec![
        (
            "# Move 10 from alice to bob if alice still holds 100.\n\
             if alice = 100\nthen\nput alice 90\nincr bob 10\nget alice\n",
            txn(
                vec![equals("alice", int(100))],
                vec![put("alice", int(90)), incr("bob", 10), get("alice")],
            ),
        ),
        ("get a", txn(vec![], vec![get("a")])),
        ("del a", txn(vec![], vec![del("a")])),
        ("then\nget a", txn(vec![], vec![get("a")])),
        (
            "if a exists\nif b absent",
            txn(vec![exists("a"), absent("b")], vec![]),
        ),
        (
            "\n  # indented comment\n\n\tput   a\t1  \r\n\r\nget a\r\n",
            txn(vec![], vec![put("a", int(1)), get("a")]),
        ),
        // The value rule: integers of any size and sign, booleans, hexadecimal, quoted and bare
        // bytes.
        (
            "put n 100\nput s \"100\"\nput t true\nput f false\nput w hello\nput e \"\"",
            txn(
                vec![],
                vec![
                    put("n", int(100)),
                    put("s", bytes("100")),
                    put("t", Value::Boolean(true)),
                    put("f", Value::Boolean(false)),
                    put("w", bytes("hello")),
                    put("e", bytes("")),
                ],
            ),
        ),
        (
            "put neg -7\nput plus +7\nput zeros 007\nput sign -\nput dec 1.5\nput under 1_000",
            txn(
                vec![],
                vec![
                    put("neg", int(-7)),
                    put("plus", int(7)),
                    put("zeros", int(7)),
                    put("sign", bytes("-")),
                    put("dec", bytes("1.5")),
                    put("under", bytes("1_000")),
                ],
            ),
        ),
        (
            "put h 0xff00\nput H 0xFF\nput t \"0xff\"",
            txn(
                vec![],
                vec![
                    put("h", Value::Bytes(vec![0xff, 0x00])),
                    put("H", Value::Bytes(vec![0xff])),
                    put("t", bytes("0xff")),
                ],
            ),
        ),
        (
            "put big 123456789012345678901234567890\nincr big -123456789012345678901234567890",
            txn(
                vec![],
                vec![
                    put("big", Value::Integer(big(BIG))),
                    Operation::Increment {
                        key: key("big"),
                        amount: -big(BIG),
                    },
                ],
            ),
        ),
        (
            "incr a\nincr b -5\nincr c +0",
            txn(vec![], vec![incr("a", 1), incr("b", -5), incr("c", 0)]),
        ),
        // Quoted keys and values, with spaces and escapes; a quoted keyword is a key, a bare
        // keyword after the first word is a word.
        (
            "if \"a b\" = \"x y\"\nput \"a b\" \"say \\\"hi\\\"\\n\\tback\\\\slash\"",
            txn(
                vec![equals("a b", bytes("x y"))],
                vec![put("a b", bytes("say \"hi\"\n\tback\\slash"))],
            ),
        ),
        (
            "put \"put\" get\nget \"\"\nput k #not-a-comment\nput 100 200",
            txn(
                vec![],
                vec![
                    put("put", bytes("get")),
                    get(""),
                    put("k", bytes("#not-a-comment")),
                    put("100", int(200)),
                ],
            ),
        ),
        (
            "put café naïve\nput b back\\slash",
            txn(
                vec![],
                vec![put("café", bytes("naïve")), put("b", bytes("back\\slash"))],
            ),
        ),
        // The JSON form.
        (r#"{"then": [{"get": "a"}]}"#, txn(vec![], vec![get("a")])),
        (
            r#"  {"if": [{"exists": "a"}]}"#,
            txn(vec![exists("a")], vec![]),
        ),
        (
            r#"{"then": [{"incr": {"key": "a"}}, {"incr": {"key": "b", "amount": -3}}]}"#,
            txn(vec![], vec![incr("a", 1), incr("b", -3)]),
        ),
        (
            r#"{"then": [{"put": {"key": "a", "value": 18446744073709551615}},
                         {"put": {"key": "b", "value": -9223372036854775808}},
                         {"put": {"key": "c", "value": {"int": "-123456789012345678901234567890"}}},
                         {"put": {"key": "d", "value": "100"}},
                         {"put": {"key": "e", "value": false}}]}"#,
            txn(
                vec![],
                vec![
                    put("a", Value::Integer(BigInt::from(u64::MAX))),
                    put("b", int(i64::MIN)),
                    put("c", Value::Integer(-big(BIG))),
                    put("d", bytes("100")),
                    put("e", Value::Boolean(false)),
                ],
            ),
        ),
    ];
    for (input, expected) in rows {
        assert_eq!(parses(input), expected, "{input:?}");
    }
}

#[test]
fn mistakes_are_named() {
    let rows: &[(&str, &str)] = &[
        (
            "# Two lines before it.\nget alice\nfrob alice",
            "line 3: \"frob alice\": unknown clause \"frob\"; expected if, then, put, get, del or incr",
        ),
        ("\"put\" a 1", "unknown clause \"put\""),
        (
            "get a\nif a exists",
            "line 2: \"if a exists\": conditions come first",
        ),
        ("if a exists\nthen\nif b exists", "line 3: \"if b exists\": conditions come first"),
        ("then\nthen\nget a", "line 2: \"then\": then appears once"),
        ("get a\nthen", "then comes before the operations"),
        ("then now", "then stands alone on its line, not before 1 word"),
        ("", "the transaction is empty"),
        ("# only a comment\n\n   \n", "the transaction is empty"),
        ("then", "the transaction is empty"),
        ("put a \"unterminated", "line 1: \"put a \\\"unterminated\": an unterminated quote"),
        ("put a \"ends in an escape\\", "an unterminated quote"),
        ("put a \"x\\q\"", "an unknown escape \\q"),
        ("put a \"x\"y", "a space or the end of the line must follow the quoted string"),
        ("put a b\"c\"", "a quote inside the word b\"c\""),
        // Wrong arity says what the clause takes.
        ("put a", "put takes a key and a value (put KEY VALUE), not 1 word"),
        ("put a hello world", "not 3 words; quote a word that holds spaces"),
        ("get", "get takes one key (get KEY), not nothing"),
        ("del a b", "del takes one key (del KEY), not 2 words"),
        ("incr a 1 2", "incr takes a key and an optional integer amount (incr KEY [AMOUNT])"),
        ("incr a x", "the amount \"x\" is not an integer"),
        ("incr a \"5\"", "the amount \"5\" is not an integer"),
        ("incr a 1.5", "the amount \"1.5\" is not an integer"),
        ("if a", "if takes a key and a test (if KEY exists, if KEY absent or if KEY = VALUE)"),
        ("if a == 1", "unknown test \"==\""),
        ("if a \"exists\"", "unknown test \"exists\""),
        ("if a = 1 2", "if KEY = takes one value, not 2 words"),
        ("if a =", "if KEY = takes one value, not nothing"),
        ("if a exists now", "if KEY exists takes nothing after it, not 1 word"),
        ("put a 0xabc", "\"0xabc\" is not hexadecimal bytes"),
        ("put a 0x", "\"0x\" is not hexadecimal bytes"),
        ("put a 0x+f", "is not hexadecimal bytes"),
        // The JSON form names the place by its path.
        ("{\"then\": [", "the JSON does not parse"),
        ("{}", "the transaction is empty"),
        ("{\"if\": [], \"then\": []}", "the transaction is empty"),
        (r#"{"else": []}"#, "$: unknown field \"else\"; the fields are if and then"),
        (r#"{"then": {"get": "a"}}"#, "$.then: expected an array, found an object"),
        (
            r#"{"then": [{"get": "a"}, {"frob": "a"}]}"#,
            "$.then[1].frob: an unknown operation; expected put, get, del or incr",
        ),
        (
            r#"{"if": [{"present": "a"}]}"#,
            "$.if[0].present: an unknown condition; expected exists, absent or equals",
        ),
        (r#"{"then": [{"get": "a", "del": "b"}]}"#, "$.then[0]: an operation is an object of one field, put, get, del or incr; found 2 fields"),
        (r#"{"then": ["get a"]}"#, "an operation is an object of one field, put, get, del or incr; found a string"),
        (
            r#"{"then": [{"put": {"key": "a", "vaule": 1}}]}"#,
            "$.then[0].put: unknown field \"vaule\"; the fields are key and value",
        ),
        (r#"{"then": [{"put": {"key": "a"}}]}"#, "$.then[0].put: missing field \"value\""),
        (r#"{"then": [{"incr": {"amount": 1}}]}"#, "$.then[0].incr: missing field \"key\""),
        (r#"{"then": [{"get": 5}]}"#, "$.then[0].get: a key is a string, not a number"),
        (
            r#"{"then": [{"put": {"key": "a", "value": 1.5}}]}"#,
            "$.then[0].put.value: 1.5 has a fraction",
        ),
        (
            r#"{"if": [{"equals": {"key": "a", "value": 1e3}}]}"#,
            "$.if[0].equals.value: 1000.0 is not read as an exact integer",
        ),
        (
            r#"{"then": [{"put": {"key": "a", "value": 123456789012345678901234567890}}]}"#,
            "within 64 bits; write a larger one as {\"int\": \"DIGITS\"}",
        ),
        (
            r#"{"then": [{"put": {"key": "a", "value": null}}]}"#,
            "a value is a string, a boolean, an integer or {\"int\": \"DIGITS\"}, not null",
        ),
        (
            r#"{"then": [{"incr": {"key": "a", "amount": "5"}}]}"#,
            "$.then[0].incr.amount: an integer is a number or {\"int\": \"DIGITS\"}, not a string",
        ),
        (
            r#"{"then": [{"incr": {"key": "a", "amount": {"int": "12x"}}}]}"#,
            "$.then[0].incr.amount.int: \"12x\" is not an integer",
        ),
        (
            r#"{"then": [{"incr": {"key": "a", "amount": {"int": 12}}}]}"#,
            "the digits of {\"int\": \"DIGITS\"} are a string, not a number",
        ),
        (
            r#"{"then": [{"put": {"key": "a", "value": {"integer": "1"}}}]}"#,
            "$.then[0].put.value: unknown field \"integer\"; the fields are int",
        ),
    ];
    for (input, expected) in rows {
        let message = refused(input);
        assert!(
            message.contains(expected),
            "{input:?} gives {message:?}, which does not say {expected:?}"
        );
    }
}

#[test]
fn an_error_carries_its_line() {
    let error = parse_transaction("get a\n\nfrob").expect_err("frob is no clause");
    assert_eq!(error.line, Some(3));
    let error = parse_transaction("{\n\"then\": [\n").expect_err("the JSON is cut short");
    assert_eq!(error.line, Some(3));
    let error = parse_transaction("{\"then\": 1}").expect_err("then is no array");
    assert_eq!(error.line, None);
}

#[test]
fn a_word_is_one_value() {
    let rows: &[(&str, Value)] = &[
        ("100", int(100)),
        ("\"100\"", bytes("100")),
        ("\"hello world\"", bytes("hello world")),
        (" padded ", bytes("padded")),
        ("true", Value::Boolean(true)),
        ("0x00ff", Value::Bytes(vec![0, 0xff])),
        ("\"\"", bytes("")),
    ];
    for (word, expected) in rows {
        assert_eq!(parse_value(word).as_ref(), Ok(expected), "{word:?}");
    }
    let errors: &[(&str, &str)] = &[
        ("", "\"\": no value; write \"\" for no bytes"),
        (
            "hello world",
            "a value is one word, not 2; quote a value that holds spaces",
        ),
        ("\"open", "an unterminated quote"),
        ("0x1", "is not hexadecimal bytes"),
    ];
    for (word, expected) in errors {
        let message = parse_value(word).expect_err(word).to_string();
        assert!(
            message.contains(expected),
            "{word:?} gives {message:?}, not {expected:?}"
        );
    }
}

#[test]
fn values_print_as_they_are_read() {
    let rows: &[(Value, &str)] = &[
        (int(-42), "-42"),
        (Value::Integer(big(BIG)), BIG),
        (Value::Boolean(true), "true"),
        (bytes("hello"), "hello"),
        (bytes("100"), "\"100\""),
        (bytes("-7"), "\"-7\""),
        (bytes("false"), "\"false\""),
        (bytes("0xff"), "\"0xff\""),
        (bytes(""), "\"\""),
        (bytes("two words"), "\"two words\""),
        (bytes("say \"hi\""), "\"say \\\"hi\\\"\""),
        (bytes("line\nbreak\ttab"), "\"line\\nbreak\\ttab\""),
        (bytes("back\\slash"), "back\\slash"),
        (bytes("\"quoted\""), "\"\\\"quoted\\\"\""),
        (bytes("bell\u{7}"), "0x62656c6c07"),
        (Value::Bytes(vec![0xff, 0x00, 0x80]), "0xff0080"),
    ];
    for (value, expected) in rows {
        let printed = format_value(value);
        assert_eq!(printed, *expected, "{value:?}");
        assert_eq!(parse_value(&printed).as_ref(), Ok(value), "{printed:?}");
    }
}

#[test]
fn json_reads_as_text_does() {
    let rows: &[(&str, &str)] = &[
        (
            "if alice = 100\nthen\nput alice 90\nincr bob 10\nget alice",
            r#"{"if": [{"equals": {"key": "alice", "value": 100}}],
                "then": [{"put": {"key": "alice", "value": 90}},
                         {"incr": {"key": "bob", "amount": 10}},
                         {"get": "alice"}]}"#,
        ),
        (
            "if a exists\nif b absent\nif c = \"text\"\nif d = true\ndel a\nincr b\nput \"e f\" -1",
            r#"{"if": [{"exists": "a"}, {"absent": "b"},
                       {"equals": {"key": "c", "value": "text"}},
                       {"equals": {"key": "d", "value": true}}],
                "then": [{"del": "a"}, {"incr": {"key": "b"}},
                         {"put": {"key": "e f", "value": -1}}]}"#,
        ),
        (
            "incr n 123456789012345678901234567890\nput m -123456789012345678901234567890",
            r#"{"then": [{"incr": {"key": "n", "amount": {"int": "123456789012345678901234567890"}}},
                         {"put": {"key": "m", "value": {"int": "-123456789012345678901234567890"}}}]}"#,
        ),
    ];
    for (text, json) in rows {
        assert_eq!(parses(text), parses(json), "{text:?}");
    }
}

#[test]
fn the_bounds_are_the_cores() {
    let largest = "v".repeat(VALUE_BYTES_MAX);
    assert_eq!(
        parses(&format!("put k {largest}")),
        txn(vec![], vec![put("k", bytes(&largest))])
    );

    let oversized = "v".repeat(VALUE_BYTES_MAX + 1);
    let message = refused(&format!("get a\nput k \"{oversized}\""));
    assert!(message.starts_with("line 2: "), "{message}");
    assert!(message.contains("VALUE_BYTES_MAX"), "{message}");
    // The line is quoted cut short, so that the message stays readable.
    assert!(message.len() < 300, "{message}");
    let message = refused(&format!(
        r#"{{"then": [{{"put": {{"key": "k", "value": "{oversized}"}}}}]}}"#
    ));
    assert!(message.starts_with("$.then[0]: "), "{message}");
    assert!(message.contains("VALUE_BYTES_MAX"), "{message}");

    let long_key = "k".repeat(KEY_BYTES_MAX + 1);
    let message = refused(&format!("if a exists\nif {long_key} absent"));
    assert!(message.starts_with("line 2: "), "{message}");
    assert!(message.contains("KEY_BYTES_MAX"), "{message}");

    let message = refused(&"get a\n".repeat(OPERATIONS_MAX + 1));
    assert!(message.contains("OPERATIONS_MAX"), "{message}");
}
