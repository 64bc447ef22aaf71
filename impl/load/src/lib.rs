//! A closed-loop load generator, independent of what it drives.
//!
//! A [`Workload`] says how many clients write, for how long (or how many operations in all),
//! how large each value is, and over how many partitions and keys. [`run`] starts that many
//! clients as tokio tasks; each sends one operation to the [`Target`], waits for its answer,
//! records how long it took, and sends the next (a closed loop: the load is set by the number
//! of clients and the target's latency, never by a rate the target cannot keep up with). It
//! returns a [`Report`]: operations done, errors, throughput and latency percentiles.
//!
//! A partition is what the target makes of it: a Colony cell (the `colony` feature's
//! [`colony::ColonyTarget`]), a key prefix in a single key space, a table. The same workload
//! drives every target the same way, so that two systems can be compared on it.
//!
//! Latencies are recorded per client in an [`hdrhistogram::Histogram`] of microseconds (three
//! significant digits, up to an hour) and merged at the end, so that the clients share nothing
//! on the hot path but a few atomic counters. A failed operation is counted, and the first
//! [`ERRORS_KEPT`] are kept with their text; its latency is not recorded, since a fast refusal
//! would flatter the percentiles.

#![deny(missing_docs)]

#[cfg(feature = "colony")]
pub mod colony;

use hdrhistogram::Histogram;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rand::rngs::SmallRng;
use rand::{Rng, RngCore, SeedableRng};
use std::future::Future;
use std::io::IsTerminal;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::task::JoinSet;
// Tokio's clock rather than the standard one, so that tests with paused time measure exact
// latencies; outside tests the two are the same clock.
use tokio::time::Instant;

/// How many failed operations a [`Report`] keeps with their text. The rest are counted only:
/// when a target fails, it usually fails the same way many times, and the first few say why.
pub const ERRORS_KEPT: usize = 10;

/// The highest latency a histogram holds, in microseconds: one hour. A longer one is recorded
/// as an hour, which no target's timeout comes near.
const LATENCY_MAX_US: u64 = 3_600_000_000;

/// The significant digits of recorded latencies: three, so that a percentile is within 0.1% of
/// the latency measured.
const LATENCY_DIGITS: u8 = 3;

/// How often the progress bar is redrawn.
const PROGRESS_EVERY: Duration = Duration::from_millis(100);

/// One operation the load generator asks of a target: write `value` to `key` in `partition`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Op {
    /// The client sending it, from 0 to [`Workload::clients`] - 1; a target may keep one
    /// connection per client.
    pub client: usize,
    /// The client's count of operations before this one, so that each operation of a client
    /// is told apart.
    pub seq: u64,
    /// The partition it goes to, from 0 to [`Workload::partitions`] - 1.
    pub partition: usize,
    /// The key within the partition: `key-` and its number, from 0 to [`Workload::keys`] - 1.
    pub key: String,
    /// The value, [`Workload::value_bytes`] random bytes (drawn once per client).
    pub value: Vec<u8>,
}

/// What a target's operation returns: done, or why not, in words a report can show.
pub type OpFuture<'a> = Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;

/// A system under load. The runner calls [`Target::put`] from many tasks at once, so a target
/// is shared (`Sync`) and owns what it uses (`'static`).
///
/// The future is boxed, so that the trait needs no macro and can be used as `dyn Target`:
/// one allocation per operation is nothing beside a network round trip.
pub trait Target: Send + Sync + 'static {
    /// Writes `op.value` to `op.key` in `op.partition`, and completes once the target says the
    /// write is done (for a replicated store, once it is durable on a quorum).
    fn put(&self, op: Op) -> OpFuture<'_>;
}

/// When a run ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// Clients start no operation after this long; those under way are waited for.
    After(Duration),
    /// After this many operations in all, successful or not, shared among the clients.
    Ops(u64),
}

/// What the clients do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Workload {
    /// How many clients run at once, each with one operation outstanding.
    pub clients: usize,
    /// When the run ends.
    pub stop: Stop,
    /// The length of every value written.
    pub value_bytes: usize,
    /// How many distinct keys each partition has; each operation draws one uniformly.
    pub keys: u64,
    /// How many partitions there are; each operation draws one uniformly.
    pub partitions: usize,
    /// The seed of the clients' draws, so that two runs (or two targets) see the same sequence
    /// of partitions and keys.
    pub seed: u64,
}

impl Default for Workload {
    /// One client for ten seconds, 100-byte values, 1,000 keys in one partition.
    fn default() -> Workload {
        Workload {
            clients: 1,
            stop: Stop::After(Duration::from_secs(10)),
            value_bytes: 100,
            keys: 1000,
            partitions: 1,
            seed: 0,
        }
    }
}

impl Workload {
    /// Says what is wrong with a workload that cannot run.
    pub fn check(&self) -> Result<(), WorkloadError> {
        let invalid = |why: &str| Err(WorkloadError::Invalid(why.to_string()));
        if self.clients == 0 {
            return invalid("a workload needs at least one client");
        }
        if self.partitions == 0 {
            return invalid("a workload needs at least one partition");
        }
        if self.keys == 0 {
            return invalid("a workload needs at least one key");
        }
        match self.stop {
            Stop::After(d) if d.is_zero() => invalid("a workload's duration must be above 0"),
            Stop::Ops(0) => invalid("a workload's count of operations must be above 0"),
            _ => Ok(()),
        }
    }
}

/// Why a run could not give a report.
#[derive(Debug, thiserror::Error)]
pub enum WorkloadError {
    /// The workload cannot run; nothing was sent.
    #[error("{0}")]
    Invalid(String),
    /// A client task ended without finishing (the target panicked), or the histograms could
    /// not be made or merged; the measurements are incomplete, so none are given.
    #[error("the run broke off: {0}")]
    Broken(String),
}

/// Whether the runner draws a progress bar.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Progress {
    /// Nothing is drawn: for tests, scripts, and callers that draw their own.
    Hidden,
    /// A bar on standard error with this label, when standard error is a terminal (nothing is
    /// drawn into a log file or a pipe).
    Bar(String),
}

/// A failed operation, kept with the target's words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FailedOp {
    /// The client that sent it.
    pub client: usize,
    /// The partition it went to.
    pub partition: usize,
    /// Its key.
    pub key: String,
    /// When it failed, since the start of the run.
    pub after: Duration,
    /// What the target said.
    pub error: String,
}

impl std::fmt::Display for FailedOp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "client {}, partition {}, {} at {:.3} s: {}",
            self.client,
            self.partition,
            self.key,
            self.after.as_secs_f64(),
            self.error
        )
    }
}

/// What a run measured.
#[derive(Clone, Debug)]
pub struct Report {
    /// Operations that succeeded.
    pub ops: u64,
    /// Operations that failed.
    pub errors: u64,
    /// From the start of the run until its last operation completed.
    pub elapsed: Duration,
    /// Successful operations per second of `elapsed`.
    pub ops_per_s: f64,
    /// The median latency of a successful operation.
    pub p50: Duration,
    /// The 99th percentile.
    pub p99: Duration,
    /// The 99.9th percentile.
    pub p999: Duration,
    /// The highest latency.
    pub max: Duration,
    /// The first [`ERRORS_KEPT`] failed operations, in the order they failed.
    pub first_errors: Vec<FailedOp>,
    /// Every successful operation's latency, in microseconds, for other percentiles.
    pub latency_us: Histogram<u64>,
}

impl Report {
    fn new(
        latency_us: Histogram<u64>,
        errors: u64,
        elapsed: Duration,
        first_errors: Vec<FailedOp>,
    ) -> Report {
        let ops = latency_us.len();
        let at = |q: f64| {
            if ops == 0 {
                Duration::ZERO
            } else {
                Duration::from_micros(latency_us.value_at_quantile(q))
            }
        };
        let seconds = elapsed.as_secs_f64();
        Report {
            ops,
            errors,
            elapsed,
            ops_per_s: if seconds > 0.0 {
                ops as f64 / seconds
            } else {
                0.0
            },
            p50: at(0.5),
            p99: at(0.99),
            p999: at(0.999),
            max: if ops == 0 {
                Duration::ZERO
            } else {
                Duration::from_micros(latency_us.max())
            },
            first_errors,
            latency_us,
        }
    }
}

/// The names of `count` partitions: `base` alone for one, `base-0` to `base-{count-1}` for
/// more. Every target names its partitions this way, so that a report's cells and prefixes
/// read the same.
pub fn partition_names(base: &str, count: usize) -> Vec<String> {
    if count == 1 {
        vec![base.to_string()]
    } else {
        (0..count).map(|i| format!("{base}-{i}")).collect()
    }
}

/// Milliseconds, as reports print latencies: fractional, to the microsecond.
pub fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// What the clients share: two counters for the progress bar, the claim on a count of
/// operations, and the failures kept.
#[derive(Default)]
struct Shared {
    done: AtomicU64,
    failed: AtomicU64,
    claimed: AtomicU64,
    failures: Mutex<Vec<FailedOp>>,
}

impl Shared {
    fn fail(&self, failure: FailedOp) {
        self.failed.fetch_add(1, Ordering::Relaxed);
        let mut kept = self
            .failures
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if kept.len() < ERRORS_KEPT {
            kept.push(failure);
        }
    }
}

/// Runs `workload` against `target` and reports what it measured.
pub async fn run(
    target: Arc<dyn Target>,
    workload: &Workload,
    progress: &Progress,
) -> Result<Report, WorkloadError> {
    workload.check()?;
    let template = Histogram::<u64>::new_with_bounds(1, LATENCY_MAX_US, LATENCY_DIGITS)
        .map_err(|e| WorkloadError::Broken(format!("a latency histogram: {e}")))?;
    let shared = Arc::new(Shared::default());
    let start = Instant::now();
    // The tasks are held in join sets and the bar in a guard, so that a caller who drops this
    // future (on Ctrl-C, say) stops the clients and clears the bar rather than leaving them
    // running detached.
    let bar = ClearOnDrop(progress_bar(progress, workload.stop));
    let mut ticker = JoinSet::new();
    if let Some(bar) = &bar.0 {
        ticker.spawn(show_progress(
            bar.clone(),
            shared.clone(),
            workload.stop,
            start,
        ));
    }
    let mut clients = JoinSet::new();
    for client in 0..workload.clients {
        let run = client_loop(
            client,
            target.clone(),
            workload.clone(),
            shared.clone(),
            template.clone(),
            start,
        );
        clients.spawn(async move { (client, run.await) });
    }
    let mut latency = template;
    let mut broken = None;
    while let Some(joined) = clients.join_next().await {
        match joined {
            Ok((client, histogram)) => {
                if let Err(e) = latency.add(histogram) {
                    broken = Some(format!("merging client {client}'s latencies: {e:?}"));
                }
            }
            Err(e) => broken = Some(format!("a client: {e}")),
        }
    }
    let elapsed = start.elapsed();
    ticker.abort_all();
    drop(bar);
    if let Some(why) = broken {
        return Err(WorkloadError::Broken(why));
    }
    let failures = std::mem::take(
        &mut *shared
            .failures
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()),
    );
    Ok(Report::new(
        latency,
        shared.failed.load(Ordering::Relaxed),
        elapsed,
        failures,
    ))
}

/// One closed-loop client: draws an operation, sends it, waits, records, until the workload
/// stops it. Returns its latencies.
async fn client_loop(
    client: usize,
    target: Arc<dyn Target>,
    workload: Workload,
    shared: Arc<Shared>,
    mut latency: Histogram<u64>,
    start: Instant,
) -> Histogram<u64> {
    // A stream per client, each from the workload's seed, so that a client's draws do not
    // depend on how the others are scheduled.
    let mut rng = SmallRng::seed_from_u64(
        workload
            .seed
            .wrapping_add((client as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)),
    );
    let mut value = vec![0u8; workload.value_bytes];
    rng.fill_bytes(&mut value);
    for seq in 0.. {
        let more = match workload.stop {
            Stop::After(duration) => start.elapsed() < duration,
            Stop::Ops(count) => shared.claimed.fetch_add(1, Ordering::Relaxed) < count,
        };
        if !more {
            break;
        }
        let op = Op {
            client,
            seq,
            partition: rng.random_range(0..workload.partitions),
            key: format!("key-{}", rng.random_range(0..workload.keys)),
            value: value.clone(),
        };
        let (partition, key) = (op.partition, op.key.clone());
        let began = Instant::now();
        let outcome = target.put(op).await;
        let took = began.elapsed();
        match outcome {
            Ok(()) => {
                // A latency below the histogram's lowest value (1 us) counts as 1 us.
                latency.saturating_record(took.as_micros().try_into().unwrap_or(u64::MAX).max(1));
                shared.done.fetch_add(1, Ordering::Relaxed);
            }
            Err(error) => shared.fail(FailedOp {
                client,
                partition,
                key,
                after: start.elapsed(),
                error,
            }),
        }
    }
    latency
}

/// A progress bar that is cleared when it goes out of scope, however that happens.
pub(crate) struct ClearOnDrop(pub(crate) Option<ProgressBar>);

impl Drop for ClearOnDrop {
    fn drop(&mut self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

/// The run's bar: its length is the duration in milliseconds or the count of operations.
fn progress_bar(progress: &Progress, stop: Stop) -> Option<ProgressBar> {
    let length = match stop {
        Stop::After(duration) => duration.as_millis().try_into().unwrap_or(u64::MAX),
        Stop::Ops(count) => count,
    };
    bar_on_stderr(progress, length)
}

/// A bar of `length` steps on standard error, labelled, when standard error is a terminal and
/// a bar was asked for.
pub(crate) fn bar_on_stderr(progress: &Progress, length: u64) -> Option<ProgressBar> {
    let Progress::Bar(label) = progress else {
        return None;
    };
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::with_draw_target(Some(length), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template("{prefix} [{bar:30}] {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style.progress_chars("=> "));
    bar.set_prefix(label.clone());
    Some(bar)
}

/// Redraws the bar every [`PROGRESS_EVERY`] until the run aborts this task.
async fn show_progress(bar: ProgressBar, shared: Arc<Shared>, stop: Stop, start: Instant) {
    let mut every = tokio::time::interval(PROGRESS_EVERY);
    loop {
        every.tick().await;
        let done = shared.done.load(Ordering::Relaxed);
        let failed = shared.failed.load(Ordering::Relaxed);
        let elapsed = start.elapsed();
        let rate = done as f64 / elapsed.as_secs_f64().max(1e-3);
        let position = match stop {
            Stop::After(duration) => {
                let shown = elapsed.min(duration);
                bar.set_position(shown.as_millis().try_into().unwrap_or(u64::MAX));
                format!(
                    "{:.1} of {:.1} s",
                    shown.as_secs_f64(),
                    duration.as_secs_f64()
                )
            }
            Stop::Ops(count) => {
                bar.set_position(done + failed);
                format!("{} of {count} ops", done + failed)
            }
        };
        bar.set_message(format!(
            "{position}: {done} done, {rate:.0} ops/s, {failed} errors"
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A target that fails every tenth operation it receives, and otherwise answers after a
    /// latency it takes from a list, in turn.
    struct Fake {
        received: AtomicU64,
        fail_every: u64,
        latencies_ms: Vec<u64>,
        seen: Mutex<Vec<Op>>,
    }

    impl Fake {
        fn new(fail_every: u64, latencies_ms: Vec<u64>) -> Arc<Fake> {
            Arc::new(Fake {
                received: AtomicU64::new(0),
                fail_every,
                latencies_ms,
                seen: Mutex::new(Vec::new()),
            })
        }
    }

    impl Target for Fake {
        fn put(&self, op: Op) -> OpFuture<'_> {
            let n = self.received.fetch_add(1, Ordering::SeqCst);
            self.seen.lock().unwrap().push(op);
            Box::pin(async move {
                if !self.latencies_ms.is_empty() {
                    let ms = self.latencies_ms[n as usize % self.latencies_ms.len()];
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                }
                if self.fail_every > 0 && (n + 1) % self.fail_every == 0 {
                    Err(format!("operation {n} refused"))
                } else {
                    Ok(())
                }
            })
        }
    }

    /// Whether a percentile is the latency measured, within the histogram's precision.
    fn close(measured: Duration, ms: u64) -> bool {
        let expected = Duration::from_millis(ms).as_secs_f64();
        (measured.as_secs_f64() - expected).abs() <= expected * 0.001
    }

    fn workload(clients: usize, stop: Stop) -> Workload {
        Workload {
            clients,
            stop,
            ..Workload::default()
        }
    }

    #[tokio::test(start_paused = true)]
    async fn errors_are_counted_and_the_first_kept_with_their_text() {
        let fake = Fake::new(10, vec![1]);
        let report = run(
            fake.clone(),
            &workload(4, Stop::Ops(1000)),
            &Progress::Hidden,
        )
        .await
        .unwrap();
        assert_eq!(fake.received.load(Ordering::SeqCst), 1000);
        assert_eq!(report.ops, 900);
        assert_eq!(report.errors, 100);
        assert_eq!(report.first_errors.len(), ERRORS_KEPT);
        for failed in &report.first_errors {
            assert!(failed.error.ends_with(" refused"), "{failed}");
            assert!(failed.client < 4, "{failed}");
            let n: u64 = failed.error["operation ".len()..failed.error.len() - " refused".len()]
                .parse()
                .unwrap();
            assert_eq!((n + 1) % 10, 0, "{failed}");
        }
        let shown = report.first_errors[0].to_string();
        assert!(shown.contains("operation 9 refused"), "{shown}");
    }

    #[tokio::test(start_paused = true)]
    async fn percentiles_are_those_of_the_latencies() {
        // 1,000 operations, ten of each latency from 1 to 100 ms.
        let fake = Fake::new(0, (1..=100).collect());
        let report = run(fake, &workload(1, Stop::Ops(1000)), &Progress::Hidden)
            .await
            .unwrap();
        assert_eq!((report.ops, report.errors), (1000, 0));
        assert!(close(report.p50, 50), "p50 {:?}", report.p50);
        assert!(close(report.p99, 99), "p99 {:?}", report.p99);
        assert!(close(report.p999, 100), "p99.9 {:?}", report.p999);
        assert!(close(report.max, 100), "max {:?}", report.max);
        // One client, one operation at a time: the run lasts the sum of the latencies.
        assert_eq!(report.elapsed, Duration::from_millis(10 * 5050));
        assert!((report.ops_per_s - 1000.0 / 50.5).abs() < 1e-9);
        assert!((report.latency_us.mean() - 50_500.0).abs() < 50.5);
    }

    #[tokio::test(start_paused = true)]
    async fn a_timed_run_stops_its_clients_at_the_deadline() {
        let fake = Fake::new(0, vec![10]);
        let stop = Stop::After(Duration::from_secs(1));
        let report = run(fake, &workload(2, stop), &Progress::Hidden)
            .await
            .unwrap();
        // Each client starts an operation at 0, 10, ..., 990 ms: 100 each.
        assert_eq!(report.ops, 200);
        assert_eq!(report.elapsed, Duration::from_secs(1));
        assert!((report.ops_per_s - 200.0).abs() < 1e-9);
        assert!(close(report.p50, 10), "p50 {:?}", report.p50);
    }

    #[tokio::test(start_paused = true)]
    async fn dropping_a_run_stops_its_clients() {
        let fake = Fake::new(0, vec![10]);
        let stop = Stop::After(Duration::from_secs(100));
        let cut = tokio::time::timeout(
            Duration::from_millis(55),
            run(fake.clone(), &workload(4, stop), &Progress::Hidden),
        )
        .await;
        assert!(cut.is_err(), "the run ended early: {cut:?}");
        let sent = fake.received.load(Ordering::SeqCst);
        assert_eq!(sent, 4 * 6);
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(fake.received.load(Ordering::SeqCst), sent);
    }

    #[tokio::test(start_paused = true)]
    async fn operations_follow_the_workload() {
        let fake = Fake::new(0, Vec::new());
        let workload = Workload {
            clients: 3,
            stop: Stop::Ops(3000),
            value_bytes: 37,
            keys: 5,
            partitions: 4,
            seed: 7,
        };
        run(fake.clone(), &workload, &Progress::Hidden)
            .await
            .unwrap();
        let seen = fake.seen.lock().unwrap();
        assert_eq!(seen.len(), 3000);
        let mut partitions = [0u32; 4];
        let mut keys = std::collections::BTreeSet::new();
        for op in seen.iter() {
            assert!(op.client < 3);
            assert_eq!(op.value.len(), 37);
            partitions[op.partition] += 1;
            keys.insert(op.key.clone());
        }
        // Uniform draws: every partition gets about a quarter.
        assert!(
            partitions.iter().all(|&n| (600..900).contains(&n)),
            "{partitions:?}"
        );
        let expected: std::collections::BTreeSet<String> =
            (0..5).map(|k| format!("key-{k}")).collect();
        assert_eq!(keys, expected);
        // Each client numbers its operations from 0 and draws its own value.
        for client in 0..3 {
            let mine: Vec<&Op> = seen.iter().filter(|op| op.client == client).collect();
            assert!(mine.iter().enumerate().all(|(i, op)| op.seq == i as u64));
            assert!(mine.iter().all(|op| op.value == mine[0].value));
        }
    }

    #[test]
    fn a_workload_that_cannot_run_says_why() {
        for (workload, words) in [
            (workload(0, Stop::Ops(1)), "one client"),
            (workload(1, Stop::Ops(0)), "operations"),
            (workload(1, Stop::After(Duration::ZERO)), "duration"),
            (
                Workload {
                    partitions: 0,
                    ..Workload::default()
                },
                "partition",
            ),
            (
                Workload {
                    keys: 0,
                    ..Workload::default()
                },
                "key",
            ),
        ] {
            let error = workload.check().unwrap_err().to_string();
            assert!(error.contains(words), "{error}");
        }
        assert!(Workload::default().check().is_ok());
    }

    #[test]
    fn partitions_are_named_alike_for_every_target() {
        assert_eq!(partition_names("bench", 1), ["bench"]);
        assert_eq!(
            partition_names("bench", 3),
            ["bench-0", "bench-1", "bench-2"]
        );
    }

    #[test]
    fn a_report_of_no_success_has_zero_latencies() {
        let histogram = Histogram::<u64>::new_with_bounds(1, LATENCY_MAX_US, 3).unwrap();
        let report = Report::new(histogram, 3, Duration::from_secs(1), Vec::new());
        assert_eq!((report.ops, report.errors), (0, 3));
        assert_eq!(report.p50, Duration::ZERO);
        assert_eq!(report.max, Duration::ZERO);
        assert_eq!(report.ops_per_s, 0.0);
    }
}
