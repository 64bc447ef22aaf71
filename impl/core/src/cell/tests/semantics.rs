//! What conditions and operations do: each condition passing and failing, each operation,
//! all or nothing, reads after writes, big integers.

use super::*;

fn condition_cases() -> Vec<Case> {
    vec![
        committed(
            "exists holds",
            vec![("a", int(1))],
            tx(vec![exists("a")], vec![read("a")]),
            vec![Read(Some(int(1)))],
            vec![("a", int(1))],
        ),
        aborted(
            "exists fails",
            vec![],
            tx(vec![exists("a")], vec![write("b", int(1))]),
            r#"condition 0 failed: key "a" is absent"#,
        ),
        committed(
            "absent holds",
            vec![],
            tx(vec![absent("a")], vec![write("a", true.into())]),
            vec![Written],
            vec![("a", Value::Boolean(true))],
        ),
        aborted(
            "absent fails",
            vec![("a", int(1))],
            tx(vec![absent("a")], vec![delete("a")]),
            r#"condition 0 failed: key "a" is present, holding 1"#,
        ),
        committed(
            "equals holds",
            vec![("a", "x".into())],
            tx(vec![equals("a", "x".into())], vec![write("a", "y".into())]),
            vec![Written],
            vec![("a", "y".into())],
        ),
        aborted(
            "equals fails on another value",
            vec![("a", int(1))],
            tx(vec![equals("a", int(2))], vec![write("a", int(3))]),
            r#"condition 0 failed: key "a" holds 1, not 2"#,
        ),
        aborted(
            "equals compares types",
            vec![("a", int(1))],
            tx(vec![equals("a", "1".into())], vec![]),
            r#"condition 0 failed: key "a" holds 1, not "1""#,
        ),
        aborted(
            "equals compares booleans",
            vec![("a", true.into())],
            tx(vec![equals("a", false.into())], vec![]),
            r#"condition 0 failed: key "a" holds true, not false"#,
        ),
        aborted(
            "equals fails on an absent key",
            vec![],
            tx(vec![equals("a", int(0))], vec![]),
            r#"condition 0 failed: key "a" is absent"#,
        ),
        aborted(
            "the first failing condition is reported",
            vec![("a", int(1))],
            tx(
                vec![exists("a"), absent("a"), exists("z")],
                vec![write("a", int(2))],
            ),
            r#"condition 1 failed: key "a" is present, holding 1"#,
        ),
        aborted(
            "conditions see the state before the operations",
            vec![],
            tx(vec![exists("a")], vec![write("a", int(1))]),
            r#"condition 0 failed: key "a" is absent"#,
        ),
        aborted(
            "unprintable keys print in hexadecimal",
            vec![],
            tx(
                vec![Condition::Exists {
                    key: Key(vec![0, 255]),
                }],
                vec![],
            ),
            "condition 0 failed: key 0x00ff is absent",
        ),
    ]
}

fn operation_cases() -> Vec<Case> {
    vec![
        committed(
            "empty transaction",
            vec![("a", int(1))],
            tx(vec![], vec![]),
            vec![],
            vec![("a", int(1))],
        ),
        committed(
            "read present and absent",
            vec![("a", "x".into())],
            tx(vec![], vec![read("a"), read("b")]),
            vec![Read(Some("x".into())), Read(None)],
            vec![("a", "x".into())],
        ),
        committed(
            "write creates and overwrites",
            vec![("a", int(1))],
            tx(
                vec![],
                vec![write("a", "x".into()), write("b", false.into())],
            ),
            vec![Written, Written],
            vec![("a", "x".into()), ("b", false.into())],
        ),
        committed(
            "delete present and absent",
            vec![("a", int(1)), ("b", int(2))],
            tx(vec![], vec![delete("a"), delete("z")]),
            vec![Deleted, Deleted],
            vec![("b", int(2))],
        ),
        committed(
            "increment of an absent key starts at 0",
            vec![],
            tx(vec![], vec![increment("a", 5)]),
            vec![Incremented(5.into())],
            vec![("a", int(5))],
        ),
        committed(
            "increment by a negative amount",
            vec![("a", int(3))],
            tx(vec![], vec![increment("a", -10)]),
            vec![Incremented((-7).into())],
            vec![("a", int(-7))],
        ),
        aborted(
            "increment of bytes fails and undoes earlier operations",
            vec![("a", "x".into())],
            tx(
                vec![],
                vec![write("b", int(1)), increment("a", 1), write("c", int(1))],
            ),
            r#"operation 1 failed: cannot increment key "a": it holds "x", not an integer"#,
        ),
        aborted(
            "increment of a boolean fails",
            vec![("a", true.into())],
            tx(vec![], vec![increment("a", 1)]),
            r#"operation 0 failed: cannot increment key "a": it holds true, not an integer"#,
        ),
        aborted(
            "a failing condition undoes everything",
            vec![("a", int(1))],
            tx(
                vec![exists("a"), exists("b")],
                vec![delete("a"), write("c", int(1))],
            ),
            r#"condition 1 failed: key "b" is absent"#,
        ),
        committed(
            "read after write sees the write",
            vec![("a", int(1))],
            tx(vec![], vec![write("a", int(2)), read("a")]),
            vec![Written, Read(Some(int(2)))],
            vec![("a", int(2))],
        ),
        committed(
            "read after delete sees nothing",
            vec![("a", int(1))],
            tx(
                vec![],
                vec![delete("a"), read("a"), write("a", int(9)), read("a")],
            ),
            vec![Deleted, Read(None), Written, Read(Some(int(9)))],
            vec![("a", int(9))],
        ),
        committed(
            "increments see earlier increments",
            vec![],
            tx(
                vec![],
                vec![increment("a", 1), increment("a", 2), read("a")],
            ),
            vec![
                Incremented(1.into()),
                Incremented(3.into()),
                Read(Some(int(3))),
            ],
            vec![("a", int(3))],
        ),
        aborted(
            "increment after a write of bytes fails",
            vec![],
            tx(vec![], vec![write("a", "1".into()), increment("a", 1)]),
            r#"operation 1 failed: cannot increment key "a": it holds "1", not an integer"#,
        ),
        committed(
            "increment past u64",
            vec![("a", int(u64::MAX))],
            tx(vec![], vec![increment("a", 1)]),
            vec![Incremented(big("18446744073709551616"))],
            vec![("a", int(big("18446744073709551616")))],
        ),
        committed(
            "increment below i64",
            vec![("a", int(i64::MIN))],
            tx(vec![], vec![increment("a", -1)]),
            vec![Incremented(big("-9223372036854775809"))],
            vec![("a", int(big("-9223372036854775809")))],
        ),
        committed(
            "increment of big integers back to 0",
            vec![("a", int(big("340282366920938463463374607431768211456")))],
            tx(
                vec![],
                vec![increment(
                    "a",
                    big("-340282366920938463463374607431768211456"),
                )],
            ),
            vec![Incremented(0.into())],
            vec![("a", int(0))],
        ),
    ]
}

#[test]
fn conditions() {
    condition_cases().into_iter().for_each(check);
}

#[test]
fn operations() {
    operation_cases().into_iter().for_each(check);
}
