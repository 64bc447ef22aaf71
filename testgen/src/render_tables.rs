//! Writes table-driven cases (cells of 5 and 7) as Rust: one `#[test]` per scenario, holding
//! its messages, which are interchangeable, the model's table, and the number of combinations;
//! each calls the harness's `check_all`, which walks every combination.

use crate::render::{local_literal, message_literal};
use crate::tables::TableCase;
use crate::{acceptor, learner, proposer, COMMAND};
use colony_model::deliveries::COPIES_MAX;
use colony_model::paxos::{Ballot, Msg, ShowValue};

/// The text of `generated-tests/tests/learner_n{n}.rs`.
pub fn learner_file(n: u8, tables: &[learner::Table]) -> String {
    let mut out = header(
        &format!("The learner of node 1 in a cell of {n}: every scenario's votes"),
        "After each step the node must report the value the model's `Chosen` says was first\n//! chosen",
        "learner::{check_all, m2b}",
    );
    for table in tables {
        out += &scenario_comment("Votes", table);
        out += "//   votes heard (a bit per vote above)  the value chosen, by the model; after any other set: none\n";
        let rows: Vec<String> = table
            .rows
            .iter()
            .map(|&(set, v)| {
                format!(
                    "({set:#010b}, {v}), // {}: Chosen({})",
                    senders(&table.messages, set),
                    ShowValue(v)
                )
            })
            .collect();
        out += &test(n, table, "", &rows);
    }
    out + "}\n"
}

/// The text of `generated-tests/tests/proposer_n{n}.rs` (ballot 1) or `proposer_n{n}_b{b}.rs`.
pub fn proposer_file(n: u8, b: Ballot, tables: &[proposer::Table]) -> String {
    let copies_max = proposer::copies_max(n, b);
    // Ballot 1 keeps the harness's original entry point; ballot 2 names its ballot and how many
    // copies of a promise the walk delivers.
    let (function, arguments) = if b == 1 {
        ("check_all", String::new())
    } else {
        ("check_all_in", format!("{b}, {copies_max}, "))
    };
    let (sets, combinations) = if n == 3 {
        (
            "set of promises the model can have in flight\n//! at once",
            "losing, duplicating and reordering them, nothing\n//! folded",
        )
    } else if copies_max < COPIES_MAX {
        (
            "multiset of promises the model can have in\n//! flight at once",
            "losing and reordering them, none duplicated (with\n//! duplicates there are over \
             2.9 billion), up to swapping messages that differ only in their\n//! sender (the \
             spec treats acceptors alike)",
        )
    } else {
        (
            "multiset of promises the model can have in\n//! flight at once",
            FOLDED,
        )
    };
    let mut out = header_calling(
        function,
        &format!("The proposer of ballot {b} in a cell of {n}: every {sets}"),
        combinations,
        "After each step the node must propose, once and at once, a value the model's `Phase2a` allows",
        &format!("proposer::{{{function}, m1b}}"),
    );
    for table in tables {
        out += &scenario_comment("Promises", table);
        out += &format!("//   promises heard                       values Phase2a({b}, v) allows, by the model; after any other set: none\n");
        let rows: Vec<String> = table
            .rows
            .iter()
            .map(|(set, values)| {
                let literals: Vec<String> = values.iter().map(u8::to_string).collect();
                let shown: Vec<String> = values.iter().map(|&v| ShowValue(v).to_string()).collect();
                format!(
                    "({set:#010b}, &[{}]), // {}: p -> 2a(b={b}, v in {{{}}})   Spec: Phase2a({b}, v)   impl: Proposer::on_promise",
                    literals.join(", "),
                    senders(&table.messages, *set),
                    shown.join(", ")
                )
            })
            .collect();
        out += &test_calling(function, &format!("{n}, {arguments}"), table, "", &rows);
    }
    out + "}\n"
}

/// The text of `generated-tests/tests/acceptor_n{n}.rs`.
pub fn acceptor_file(n: u8, scenarios: &[(acceptor::Scenario, Vec<acceptor::Table>)]) -> String {
    let mut out = header(
        &format!(
            "Acceptor a{} in a cell of {n}: every prior state the model reaches and both rounds' messages",
            acceptor::ACCEPTOR
        ),
        "After each step the node must persist and send exactly what the model's `Phase1b` or\n//! `Phase2b` does",
        "acceptor::{check_all, m1a, m1b, m2a, m2b}",
    );
    for (_, tables) in scenarios {
        for table in tables {
            let prior = local_literal(table.prior);
            out += &scenario_comment("Messages", &table.case);
            out += "//   from (maxBal, maxVBal, maxVal), this message gives, by the model\n";
            let rows: Vec<String> = table.case.rows.iter().map(transition_row).collect();
            out += &test(n, &table.case, &format!(" {prior},"), &rows);
        }
    }
    out + "}\n"
}

fn transition_row(&(from, m, outcome): &(acceptor::Local, Msg, acceptor::Outcome)) -> String {
    let (literal, shown) = match outcome {
        Some((to, sent)) => (
            format!("Some(({}, {}))", local_literal(to), message_literal(sent)),
            format!("-> {sent}, now {}", local_literal(to)),
        ),
        None => ("None".to_string(), "nothing (not enabled)".to_string()),
    };
    let (action, handler) = match m {
        Msg::M1a { .. } => ("Phase1b", "Acceptor::on_prepare"),
        _ => ("Phase2b", "Acceptor::on_accept"),
    };
    format!(
        "({}, {}, {literal}), // {} <- {m} {shown}   Spec: {action}(a{})   impl: {handler}",
        local_literal(from),
        message_literal(m),
        local_literal(from),
        acceptor::ACCEPTOR
    )
}

fn header(what: &str, expectation: &str, imports: &str) -> String {
    header_calling("check_all", what, FOLDED, expectation, imports)
}

/// How the combinations of most table-driven files are folded.
const FOLDED: &str = "losing, duplicating and\n//! reordering them, up to swapping messages that \
                      differ only in their sender (the spec treats\n//! acceptors alike)";

/// [`header`] for a file whose tests call the harness's `function` and walk every combination
/// of `combinations`.
fn header_calling(
    function: &str,
    what: &str,
    combinations: &str,
    expectation: &str,
    imports: &str,
) -> String {
    let mut out = format!("// Generated by `{COMMAND}`. Do not edit by hand.\n");
    out += &format!(
        "//! {what}, and every combination of {combinations}. \
         Each test walks every such combination through a real node with `{function}`.\n//! \
         {expectation}; the table in each test is the model's, never the implementation's.\n\n"
    );
    out += "#[rustfmt::skip]\nmod cases {\n";
    out += &format!("use colony_generated_tests::{imports};\n");
    out += "use colony_generated_tests::walk::Scenario;\n";
    out
}

fn scenario_comment<R>(kind: &str, table: &TableCase<R>) -> String {
    let messages: Vec<String> = table.messages.iter().map(Msg::to_string).collect();
    let mut out = format!("\n// {kind} that may arrive: {}\n", messages.join(", "));
    let groups = crate::tables::interchangeable(table, sender);
    if !groups.is_empty() {
        out += &format!("// Interchangeable: {}\n", groups.join("; "));
    }
    out + &format!("// {} combinations\n", table.combinations)
}

/// Names the sender of a message, or the message itself when it names none.
fn sender(m: &Msg) -> String {
    match *m {
        Msg::M1b { acc, .. } | Msg::M2b { acc, .. } => format!("a{acc}"),
        other => other.to_string(),
    }
}

/// The messages of `set` (a bit per message), by [`sender`]: `{a1, a2}`.
fn senders(messages: &[Msg], set: u8) -> String {
    let names: Vec<String> = messages
        .iter()
        .enumerate()
        .filter(|&(i, _)| set & (1 << i) != 0)
        .map(|(_, m)| sender(m))
        .collect();
    format!("{{{}}}", names.join(", "))
}

/// The test: the scenario, then the harness call with `extra` arguments and the table's rows.
fn test<R>(n: u8, table: &TableCase<R>, extra: &str, rows: &[String]) -> String {
    test_calling("check_all", &format!("{n}, "), table, extra, rows)
}

/// [`test`], calling the harness's `function` with `before` (the cell size and any arguments
/// after it) ahead of the scenario.
fn test_calling<R>(
    function: &str,
    before: &str,
    table: &TableCase<R>,
    extra: &str,
    rows: &[String],
) -> String {
    let messages: Vec<String> = table.messages.iter().map(|&m| message_literal(m)).collect();
    let classes: Vec<String> = table.classes.iter().map(u8::to_string).collect();
    let mut out = format!("#[test] fn {}() {{\n", table.name);
    out += &format!(
        "    let scenario = Scenario {{ prefix: \"{}\", messages: &[{}], classes: &[{}] }};\n",
        table.name,
        messages.join(", "),
        classes.join(", ")
    );
    out += &format!("    {function}({before}&scenario,{extra} &[\n");
    for row in rows {
        out += &format!("        {row}\n");
    }
    out += &format!("    ], {});\n}}\n", table.combinations);
    out
}
