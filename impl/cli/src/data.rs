//! The client commands: keys, transactions, cells and the cluster.

use crate::output::{self, print, type_name};
use crate::{ConnArgs, Failure, Format};
use colony_client::single;
use colony_core::cell::{Key, Operation, OperationResult, Transaction, Value};
use serde_json::json;
use std::io::Read;
use std::path::Path;

fn key(text: &str) -> Key {
    Key(text.as_bytes().to_vec())
}

fn usage(e: impl ToString) -> Failure {
    Failure::Usage(e.to_string())
}

/// `colony put KEY VALUE`.
pub async fn put(conn: &ConnArgs, cell: &str, k: &str, value: &str) -> Result<(), Failure> {
    let value = colony_txn_syntax::parse_value(value).map_err(usage)?;
    let write = single(Operation::Write { key: key(k), value });
    run_quiet(conn, cell, write).await
}

/// `colony del KEY`.
pub async fn del(conn: &ConnArgs, cell: &str, k: &str) -> Result<(), Failure> {
    run_quiet(conn, cell, single(Operation::Delete { key: key(k) })).await
}

/// Runs a transaction whose results say nothing beyond success, and prints OK.
async fn run_quiet(conn: &ConnArgs, cell: &str, transaction: Transaction) -> Result<(), Failure> {
    let client = conn.client().await?;
    client.transact(cell, transaction).await?;
    match conn.write_out {
        Format::Table => println!("OK"),
        Format::Json => println!("{}", json!({"ok": true})),
    }
    Ok(())
}

/// `colony get KEY`.
pub async fn get(conn: &ConnArgs, cell: &str, k: &str) -> Result<(), Failure> {
    let client = conn.client().await?;
    let value = client.get(cell, k.as_bytes()).await?;
    let f = conn.write_out;
    print(
        f,
        &["KEY", "VALUE", "TYPE"],
        vec![vec![
            json!(k),
            output::value(value.as_ref(), f),
            type_name(value.as_ref()),
        ]],
    );
    Ok(())
}

/// `colony incr KEY [AMOUNT]`.
pub async fn incr(conn: &ConnArgs, cell: &str, k: &str, amount: &str) -> Result<(), Failure> {
    let amount = match colony_txn_syntax::parse_value(amount).map_err(usage)? {
        Value::Integer(amount) => amount,
        _ => return Err(usage(format!("the amount {amount:?} is not an integer"))),
    };
    let client = conn.client().await?;
    let results = client
        .transact(
            cell,
            single(Operation::Increment {
                key: key(k),
                amount,
            }),
        )
        .await?;
    let f = conn.write_out;
    let value = match results.into_iter().next() {
        Some(OperationResult::Incremented(value)) => Value::Integer(value),
        other => return Err(Failure::Failed(format!("an increment answered {other:?}"))),
    };
    print(
        f,
        &["KEY", "VALUE"],
        vec![vec![json!(k), output::value(Some(&value), f)]],
    );
    Ok(())
}

/// `colony txn [FILE]`.
pub async fn txn(conn: &ConnArgs, cell: &str, file: Option<&Path>) -> Result<(), Failure> {
    let text = match file {
        Some(path) if path != Path::new("-") => {
            std::fs::read_to_string(path).map_err(|e| usage(format!("{}: {e}", path.display())))?
        }
        _ => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| usage(format!("standard input: {e}")))?;
            text
        }
    };
    let transaction = colony_txn_syntax::parse_transaction(&text).map_err(usage)?;
    let client = conn.client().await?;
    let results = client.transact(cell, transaction.clone()).await?;
    let f = conn.write_out;
    let rows = transaction
        .operations
        .iter()
        .zip(&results)
        .enumerate()
        .map(|(i, (operation, result))| {
            let (name, k) = match operation {
                Operation::Read { key } => ("get", key),
                Operation::Write { key, .. } => ("put", key),
                Operation::Delete { key } => ("del", key),
                Operation::Increment { key, .. } => ("incr", key),
            };
            let shown = match result {
                OperationResult::Read(value) => output::value(value.as_ref(), f),
                OperationResult::Incremented(value) => {
                    output::value(Some(&Value::Integer(value.clone())), f)
                }
                OperationResult::Written | OperationResult::Deleted => json!("OK"),
            };
            vec![
                json!(i),
                json!(name),
                json!(String::from_utf8_lossy(&k.0)),
                shown,
            ]
        })
        .collect();
    print(f, &["#", "OPERATION", "KEY", "RESULT"], rows);
    Ok(())
}

/// `colony cell create NAME`.
pub async fn cell_create(conn: &ConnArgs, name: &str, replicas: usize) -> Result<(), Failure> {
    let client = conn.client().await?;
    let created = client.create_cell(name, replicas).await?;
    let record = created.record;
    print(
        conn.write_out,
        &["NAME", "ID", "MEMBERS", "CREATED"],
        vec![vec![
            json!(record.name),
            json!(record.cell.0.to_string()),
            json!(members(&record.members)),
            json!(if created.existed { "existed" } else { "now" }),
        ]],
    );
    Ok(())
}

/// `colony cell list`.
pub async fn cell_list(conn: &ConnArgs) -> Result<(), Failure> {
    let client = conn.client().await?;
    let rows = client
        .list_cells()
        .await?
        .into_iter()
        .map(|r| {
            vec![
                json!(r.name),
                json!(r.cell.0.to_string()),
                json!(members(&r.members)),
            ]
        })
        .collect();
    print(conn.write_out, &["NAME", "ID", "MEMBERS"], rows);
    Ok(())
}

/// `colony cell status NAME`.
pub async fn cell_status(conn: &ConnArgs, name: &str) -> Result<(), Failure> {
    let client = conn.client().await?;
    let (_, statuses) = client.cell_status(name).await?;
    let rows = statuses
        .into_iter()
        .map(|(node, status)| {
            let (applied, active, state) = match status {
                Ok(Some(s)) => (
                    json!(s.applied.0),
                    json!(s.active),
                    json!(s
                        .corrupt
                        .map_or("ok".to_string(), |r| format!("corrupt: {r}"))),
                ),
                Ok(None) => (json!(null), json!(null), json!("not created here")),
                Err(e) => (json!(null), json!(null), json!(format!("unreachable: {e}"))),
            };
            vec![json!(node.0), applied, active, state]
        })
        .collect();
    print(
        conn.write_out,
        &["NODE", "APPLIED", "ACTIVE", "STATE"],
        rows,
    );
    Ok(())
}

/// `colony cluster status`.
pub async fn cluster_status(conn: &ConnArgs) -> Result<(), Failure> {
    let client = conn.client().await?;
    let addresses = client.nodes();
    let rows = client
        .cluster_status()
        .await
        .into_iter()
        .map(|(node, status)| {
            let addr = addresses.get(&node).cloned().unwrap_or_default();
            match status {
                Ok(s) => vec![
                    json!(node.0),
                    json!(addr),
                    json!("up"),
                    json!(s.version),
                    json!(s.cells),
                    json!(s.active),
                    json!(members(&s.peers_up)),
                    json!(format!("{:.1}s", s.uptime_ms as f64 / 1000.0)),
                ],
                Err(e) => vec![
                    json!(node.0),
                    json!(addr),
                    json!(format!("unreachable: {e}")),
                    json!(null),
                    json!(null),
                    json!(null),
                    json!(null),
                    json!(null),
                ],
            }
        })
        .collect();
    print(
        conn.write_out,
        &[
            "NODE", "ADDRESS", "STATE", "VERSION", "CELLS", "ACTIVE", "PEERS UP", "UPTIME",
        ],
        rows,
    );
    Ok(())
}

fn members(nodes: &[colony_core::group::NodeId]) -> String {
    nodes
        .iter()
        .map(|n| n.0.to_string())
        .collect::<Vec<_>>()
        .join(",")
}
