//! The target that drives a Colony cluster: each partition is a cell, and each operation is
//! one `put` through [`colony_client::Client`], under its exactly-once session and with its
//! retries, so that an operation done is a write the cell's majority has made durable.
//!
//! It lives behind the `colony` feature so that the load generator itself depends on nothing
//! it drives; `colony bench` and the side-by-side bench against etcd share it, so that both
//! measure the same thing.

use crate::{bar_on_stderr, ClearOnDrop, Op, OpFuture, Progress, Target};
use colony_client::{Client, ClientError};
use colony_core::cell::Value;
use futures_util::stream::{self, StreamExt, TryStreamExt};
use std::collections::BTreeSet;
use std::sync::Arc;

/// How many cells [`ensure_cells`] creates at once: enough to overlap the round trips of
/// creation, few enough that the directory cell's log is not flooded.
const CREATING_AT_ONCE: usize = 8;

/// Writes through a Colony client to the cells named for the workload's partitions.
pub struct ColonyTarget {
    client: Arc<Client>,
    cells: Vec<String>,
}

impl ColonyTarget {
    /// A target whose partition `i` is the cell `cells[i]`; the cells must exist (see
    /// [`ensure_cells`]). One client serves every load client: it pools a session and a
    /// connection per concurrent call.
    pub fn new(client: Arc<Client>, cells: Vec<String>) -> ColonyTarget {
        ColonyTarget { client, cells }
    }
}

impl Target for ColonyTarget {
    fn put(&self, op: Op) -> OpFuture<'_> {
        Box::pin(async move {
            let Some(cell) = self.cells.get(op.partition) else {
                return Err(format!(
                    "partition {} has no cell: the target has {}",
                    op.partition,
                    self.cells.len()
                ));
            };
            self.client
                .put(cell, op.key.as_bytes(), Value::Bytes(op.value))
                .await
                .map_err(|e| e.to_string())
        })
    }
}

/// Creates those of the cells named `names` that the directory does not list, each on
/// `replicas` nodes, and returns how many it created. A thousand cells take seconds to create,
/// so `progress` may ask for a bar.
pub async fn ensure_cells(
    client: &Client,
    names: &[String],
    replicas: usize,
    progress: &Progress,
) -> Result<usize, ClientError> {
    let listed: BTreeSet<String> = client
        .list_cells()
        .await?
        .into_iter()
        .map(|record| record.name)
        .collect();
    let missing: Vec<&String> = names.iter().filter(|n| !listed.contains(*n)).collect();
    let count = missing.len();
    let bar = ClearOnDrop(bar_on_stderr(progress, count as u64));
    let created = stream::iter(missing)
        .map(|name| async {
            client.create_cell(name, replicas).await?;
            if let Some(bar) = &bar.0 {
                bar.inc(1);
                bar.set_message(format!("{} of {count} cells created", bar.position()));
            }
            Ok::<(), ClientError>(())
        })
        .buffer_unordered(CREATING_AT_ONCE)
        .try_collect::<Vec<()>>()
        .await;
    drop(bar);
    created.map(|_| count)
}
