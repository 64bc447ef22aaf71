//! The server's metrics, and the endpoint that serves them in Prometheus's text format.
//!
//! The counters are atomics that the node loop and the connection tasks update and the
//! endpoint reads; nothing waits on anything to be measured. The text format is a few lines
//! per metric (<https://prometheus.io/docs/instrumenting/exposition_formats/>), written here
//! rather than through a metrics crate because the server has a dozen metrics and a crate's
//! registry, labels and global state would be more code to read than this file.

use colony_node::storage::{Recovered, Storage, StorageError, Write};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The upper bounds of the latency histograms' buckets, in seconds: 50 µs to 10 s.
const BUCKETS_SECONDS: [f64; 16] = [
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
    1.0, 2.5, 10.0,
];

/// A latency histogram with fixed buckets.
#[derive(Debug, Default)]
pub struct Histogram {
    buckets: [AtomicU64; BUCKETS_SECONDS.len()],
    count: AtomicU64,
    sum_ns: AtomicU64,
}

impl Histogram {
    /// Counts one observation.
    pub fn observe(&self, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        if let Some(i) = BUCKETS_SECONDS.iter().position(|b| seconds <= *b) {
            self.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_ns
            .fetch_add(elapsed.as_nanos() as u64, Ordering::Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        let mut cumulative = 0;
        for (bound, bucket) in BUCKETS_SECONDS.iter().zip(&self.buckets) {
            cumulative += bucket.load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {cumulative}");
        }
        let count = self.count.load(Ordering::Relaxed);
        let sum = self.sum_ns.load(Ordering::Relaxed) as f64 / 1e9;
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let _ = writeln!(out, "{name}_sum {sum}\n{name}_count {count}");
    }
}

/// Every metric of one server.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Cells hosted.
    pub cells: AtomicU64,
    /// Cells with a replica in memory.
    pub cells_active: AtomicU64,
    /// Cells ticked.
    pub cells_ticking: AtomicU64,
    /// Cells that refuse to serve here because their durable state is damaged.
    pub cells_corrupt: AtomicU64,
    /// Client transactions received.
    pub requests: AtomicU64,
    /// Client requests waiting for their reply.
    pub pending: AtomicU64,
    /// Batches of writes handed to the log.
    pub batches: AtomicU64,
    /// Writes handed to the log.
    pub writes: AtomicU64,
    /// `fdatasync` calls.
    pub fsyncs: AtomicU64,
    /// Snapshots taken.
    pub snapshots_taken: AtomicU64,
    /// Snapshots installed from peers.
    pub snapshots_installed: AtomicU64,
    /// Frames queued to peers.
    pub frames_sent: AtomicU64,
    /// Frames dropped because a peer's outbox was full.
    pub frames_dropped: AtomicU64,
    /// Frames received from peers.
    pub frames_received: AtomicU64,
    /// Connections refused (bad certificate, another version, a bad handshake).
    pub connections_refused: AtomicU64,
    /// How long each `fdatasync` took.
    pub fsync_seconds: Histogram,
    /// How long each round's flush (appends, syncs, sends) took.
    pub flush_seconds: Histogram,
    /// How long each client transaction took, from its arrival to its reply.
    pub request_seconds: Histogram,
}

impl Metrics {
    /// Adds to a counter.
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// Sets a gauge (or a counter the host keeps itself).
    pub fn set(gauge: &AtomicU64, value: u64) {
        gauge.store(value, Ordering::Relaxed);
    }

    /// The metrics in Prometheus's text format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let scalar = |out: &mut String, name: &str, kind: &str, help: &str, v: &AtomicU64| {
            let value = v.load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        };
        for (name, kind, help, value) in [
            ("colony_cells", "gauge", "Cells hosted.", &self.cells),
            (
                "colony_cells_active",
                "gauge",
                "Cells with a replica in memory.",
                &self.cells_active,
            ),
            (
                "colony_cells_ticking",
                "gauge",
                "Cells ticked (active and not quiescent).",
                &self.cells_ticking,
            ),
            (
                "colony_cells_corrupt",
                "gauge",
                "Cells refusing to serve here because their durable state is damaged.",
                &self.cells_corrupt,
            ),
            (
                "colony_requests_total",
                "counter",
                "Client transactions received.",
                &self.requests,
            ),
            (
                "colony_requests_pending",
                "gauge",
                "Client transactions waiting for their reply.",
                &self.pending,
            ),
            (
                "colony_batches_total",
                "counter",
                "Batches of writes handed to the log.",
                &self.batches,
            ),
            (
                "colony_writes_total",
                "counter",
                "Writes handed to the log.",
                &self.writes,
            ),
            (
                "colony_fsyncs_total",
                "counter",
                "fdatasync calls on the log.",
                &self.fsyncs,
            ),
            (
                "colony_snapshots_taken_total",
                "counter",
                "Snapshots of cells taken.",
                &self.snapshots_taken,
            ),
            (
                "colony_snapshots_installed_total",
                "counter",
                "Snapshots installed from peers.",
                &self.snapshots_installed,
            ),
            (
                "colony_peer_frames_sent_total",
                "counter",
                "Frames queued to peers.",
                &self.frames_sent,
            ),
            (
                "colony_peer_frames_dropped_total",
                "counter",
                "Frames dropped because a peer's outbox was full.",
                &self.frames_dropped,
            ),
            (
                "colony_peer_frames_received_total",
                "counter",
                "Frames received from peers.",
                &self.frames_received,
            ),
            (
                "colony_connections_refused_total",
                "counter",
                "Connections refused at the handshake.",
                &self.connections_refused,
            ),
        ] {
            scalar(&mut out, name, kind, help, value);
        }
        self.fsync_seconds.render(
            &mut out,
            "colony_fsync_seconds",
            "Time of each fdatasync of the log.",
        );
        self.flush_seconds.render(
            &mut out,
            "colony_flush_seconds",
            "Time of each round's appends, syncs and sends.",
        );
        self.request_seconds.render(
            &mut out,
            "colony_request_seconds",
            "Time from a client transaction's arrival to its reply.",
        );
        out
    }
}

/// A storage that counts its syncs and times them.
#[derive(Debug)]
pub struct MeteredStorage<S> {
    inner: S,
    metrics: Arc<Metrics>,
}

impl<S> MeteredStorage<S> {
    /// Wraps `inner`.
    pub fn new(inner: S, metrics: Arc<Metrics>) -> Self {
        MeteredStorage { inner, metrics }
    }
}

impl<S: Storage> Storage for MeteredStorage<S> {
    fn append(&mut self, batch: &[Write]) -> Result<(), StorageError> {
        self.inner.append(batch)
    }

    fn sync(&mut self) -> Result<(), StorageError> {
        let started = Instant::now();
        let result = self.inner.sync();
        self.metrics.fsync_seconds.observe(started.elapsed());
        Metrics::add(&self.metrics.fsyncs, 1);
        result
    }

    fn recover(&mut self) -> Result<Recovered, StorageError> {
        self.inner.recover()
    }
}

/// The longest HTTP request head the endpoint reads.
const HTTP_HEAD_BYTES_MAX: usize = 8192;

/// Serves `GET /metrics` on `listener` until the task is dropped. Anything else gets a 404;
/// a request head longer than [`HTTP_HEAD_BYTES_MAX`] is cut off.
pub async fn serve(mut listener: Box<dyn colony_net::Listener>, metrics: Arc<Metrics>) {
    loop {
        let Ok((mut stream, _)) = listener.accept().await else {
            // Out of file descriptors, say: wait rather than spin.
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let metrics = metrics.clone();
        tokio::spawn(async move {
            let mut head = Vec::new();
            let mut buffer = [0u8; 1024];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < HTTP_HEAD_BYTES_MAX {
                match tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buffer)).await {
                    Ok(Ok(n)) if n > 0 => head.extend_from_slice(&buffer[..n]),
                    _ => return,
                }
            }
            let (status, body) = if head.starts_with(b"GET /metrics ") {
                ("200 OK", metrics.render())
            } else {
                ("404 Not Found", "GET /metrics\n".to_string())
            };
            let response = format!(
                "HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(response.as_bytes()).await;
        });
    }
}
