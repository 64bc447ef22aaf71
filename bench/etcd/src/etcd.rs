//! The target that drives etcd: each partition is a key prefix (`bench-7/key-12`) in etcd's
//! one key space, which a single raft group serves whatever the prefixes; each operation is one
//! `Put`, answered once the leader has it on a quorum's disk.

use colony_load::{Op, OpFuture, Target};
use etcd_client::{Client, KvClient};

/// Writes to etcd's leader, one gRPC connection per load client.
pub struct EtcdTarget {
    kvs: Vec<KvClient>,
    prefixes: Vec<String>,
}

impl EtcdTarget {
    /// Connects `clients` clients to `url` (the leader's, so that no write is forwarded
    /// between members: etcd's best case, and what Colony's client does by following leader
    /// hints). Partition `i` is the prefix `prefixes[i]`.
    pub async fn connect(
        url: &str,
        clients: usize,
        prefixes: Vec<String>,
    ) -> Result<EtcdTarget, String> {
        let mut kvs = Vec::with_capacity(clients);
        for _ in 0..clients {
            let client = Client::connect([url], Some(crate::clusters::etcd_options()))
                .await
                .map_err(|e| format!("connecting to etcd at {url}: {e}"))?;
            kvs.push(client.kv_client());
        }
        Ok(EtcdTarget { kvs, prefixes })
    }
}

impl Target for EtcdTarget {
    fn put(&self, op: Op) -> OpFuture<'_> {
        Box::pin(async move {
            let (Some(kv), Some(prefix)) =
                (self.kvs.get(op.client), self.prefixes.get(op.partition))
            else {
                return Err(format!(
                    "client {} or partition {} is beyond the target's {} clients and {} prefixes",
                    op.client,
                    op.partition,
                    self.kvs.len(),
                    self.prefixes.len()
                ));
            };
            // A clone of a client is a handle on the same connection.
            let mut kv = kv.clone();
            kv.put(format!("{prefix}/{}", op.key), op.value, None)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        })
    }
}
