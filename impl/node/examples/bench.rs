//! The node's figures, printed (never asserted: the machines are shared and noisy).
//!
//! ```text
//! cargo run --release -p colony-node --example bench -- wal [--rounds 5]
//! cargo run --release -p colony-node --example bench -- memory [--cells 1000000]
//! cargo run --release -p colony-node --example bench -- recovery [--cells 1000000]
//! cargo run --release -p colony-node --example bench -- quiescent [--cells 1000000]
//! cargo run --release -p colony-node --example bench -- store [--cells 1000000]
//! cargo run --release -p colony-node --example bench -- all
//! ```
//!
//! - `wal`: a plain loop of 100-byte appends and `fdatasync` on the disk of the temporary
//!   directory (the physical limit), and the write-ahead log with 1, 64 and 1,024 cells each
//!   writing one vote per batch, in alternating one-second rounds: median syncs per second,
//!   writes per second, and the log's syncs as a fraction of the plain loop's.
//! - `memory`: the resident memory a host takes for idle cells, per cell.
//! - `recovery`: the time to recover a node holding that many cells, from the log alone and
//!   after a checkpoint folded it into the embedded store.
//! - `quiescent`: the time one tick of a host takes when every cell is quiescent.
//! - `store`: the embedded store (redb) against a flat checkpoint file rewritten whole.

use colony_core::group::{Ballot, NodeId};
use colony_core::multipaxos::{Command, Entry, Slot, Vote};
use colony_node::host::{Host, HostConfig, Input};
use colony_node::storage::{FileStorage, Recovered, Storage, Write};
use colony_node::CellId;
use std::io::Write as _;
use std::time::{Duration, Instant};

fn arg(args: &[String], name: &str, default: u64) -> u64 {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

fn members() -> Vec<NodeId> {
    vec![NodeId(1), NodeId(2), NodeId(3)]
}

fn vote(cell: u64, slot: u64) -> Write {
    Write::Vote {
        cell: CellId(cell),
        slot: Slot(slot),
        vote: Vote {
            ballot: Ballot {
                round: 1,
                proposer: NodeId(2),
            },
            entry: Entry::batch(vec![Command(vec![7u8; 64])]),
        },
    }
}

/// Runs `step` for `seconds`; how many times, and how long it took.
fn timed(seconds: u64, mut step: impl FnMut()) -> (u64, Duration) {
    let start = Instant::now();
    let mut count = 0;
    while start.elapsed() < Duration::from_secs(seconds) {
        step();
        count += 1;
    }
    (count, start.elapsed())
}

/// One write-ahead log of `cells` cells, each writing one vote per batch.
struct Log {
    _dir: tempfile::TempDir,
    storage: FileStorage,
    cells: u64,
    slot: u64,
    /// The bytes one batch appends (measured on the first, before any segment closes).
    batch_bytes: u64,
    /// Whether segments close and checkpoints run (they run inline, in the sync).
    checkpoints: bool,
    prepared: Vec<Write>,
}

impl Log {
    /// A log of `cells` cells closing segments past `segment_bytes` (and so checkpointing).
    fn new(cells: u64, segment_bytes: u64) -> Log {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let mut storage = FileStorage::open_with(dir.path(), segment_bytes).expect("opens");
        storage.recover().expect("recovers");
        let creations: Vec<Write> = (0..cells)
            .map(|c| Write::Cell {
                cell: CellId(c),
                members: members(),
            })
            .collect();
        storage.append(&creations).expect("appends");
        storage.sync().expect("syncs");
        let mut log = Log {
            _dir: dir,
            storage,
            cells,
            checkpoints: segment_bytes != u64::MAX,
            slot: 0,
            batch_bytes: 0,
            prepared: Vec::new(),
        };
        let before = log.bytes();
        log.batch();
        log.batch_bytes = log.bytes() - before;
        log
    }

    /// The bytes of the log's segments.
    fn bytes(&self) -> u64 {
        log_bytes(self._dir.path())
    }

    /// Appends and syncs one batch. The batch is built once: building writes is the host's
    /// work, not the log's, and the log's cost is what is measured.
    fn batch(&mut self) {
        self.slot += 1;
        if self.prepared.is_empty() {
            self.prepared = (0..self.cells).map(|c| vote(c, 1)).collect();
        }
        self.storage.append(&self.prepared).expect("appends");
        self.storage.sync().expect("syncs");
    }
}

/// The bytes of the write-ahead log's segments in a storage directory.
fn log_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir.join("wal"))
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// A plain loop of appends of `bytes` bytes, each followed by `fdatasync`, for one second:
/// syncs per second.
fn plain_loop(file: &mut std::fs::File, bytes: usize) -> f64 {
    let record = vec![5u8; bytes.max(1)];
    let (n, elapsed) = timed(1, || {
        file.write_all(&record).expect("writes");
        file.sync_data().expect("syncs");
    });
    n as f64 / elapsed.as_secs_f64()
}

/// Rounds of one second each: a plain loop of 100-byte appends, and for 1, 64 and 1,024 cells
/// the log, then a plain loop appending as many bytes per sync as the log did. One after the
/// other, so that a burst of noise on the shared disk hits all of them alike; the medians.
fn wal(rounds: u64) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    // Opened as the log opens its segments (appending), so that the two differ only in what
    // the log adds: framing, checksums, encoding and the batch's end.
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.path().join("plain"))
        .expect("creates");
    let default = colony_node::limits::SEGMENT_BYTES_TARGET;
    let mut logs: Vec<Log> = [
        (1u64, default),
        (64, default),
        (1024, default),
        (1024, u64::MAX),
    ]
    .into_iter()
    .map(|(cells, segment_bytes)| Log::new(cells, segment_bytes))
    .collect();
    let mut small = Vec::new();
    let mut per_log: Vec<Vec<f64>> = vec![Vec::new(); logs.len()];
    let mut same_bytes: Vec<Vec<f64>> = vec![Vec::new(); logs.len()];
    let batch_bytes: Vec<u64> = logs.iter().map(|log| log.batch_bytes).collect();
    for _ in 0..rounds.max(1) {
        small.push(plain_loop(&mut file, 100));
        for (i, log) in logs.iter_mut().enumerate() {
            let (n, elapsed) = timed(1, || log.batch());
            per_log[i].push(n as f64 / elapsed.as_secs_f64());
            same_bytes[i].push(plain_loop(&mut file, batch_bytes[i] as usize));
        }
    }
    let small = median(small);
    println!(
        "plain fdatasync loop, 100-byte appends: {small:.0} syncs/s (median of {} one-second rounds)",
        rounds.max(1)
    );
    for (i, log) in logs.iter().enumerate() {
        let per_s = median(per_log[i].clone());
        let limit = median(same_bytes[i].clone());
        println!(
            "write-ahead log, {:>4} writing cells{} ({:>6} bytes a batch): {per_s:>6.0} syncs/s, \
             {:>8.0} writes/s; the plain loop appending {} bytes: {limit:>6.0} syncs/s; the log \
             at {:.0}% of it ({:.0}% of the 100-byte loop)",
            log.cells,
            if log.checkpoints {
                ""
            } else {
                ", no checkpoint"
            },
            batch_bytes[i],
            per_s * log.cells as f64,
            batch_bytes[i],
            100.0 * per_s / limit,
            100.0 * per_s / small
        );
    }
}

/// A host holding `cells` idle cells, created as a node's control plane would.
fn host_with(cells: u64) -> Host {
    let mut host = Host::new(HostConfig::new(NodeId(1), 1), Recovered::default());
    for c in 0..cells {
        host.step(Input::CreateCell {
            cell: CellId(c),
            members: members(),
        });
        if c % 4096 == 4095 {
            let ready = host.ready();
            if let Some(last) = ready.batches.last() {
                host.step(Input::Durable { batch: last.id });
            }
        }
    }
    let ready = host.ready();
    if let Some(last) = ready.batches.last() {
        host.step(Input::Durable { batch: last.id });
    }
    let _ = host.ready();
    host
}

fn memory(cells: u64) {
    let before = resident_bytes();
    let host = host_with(cells);
    let after = resident_bytes();
    let metrics = host.metrics();
    println!(
        "{} idle cells: {:.1} MiB resident for the host, {:.0} bytes per idle cell ({} active)",
        metrics.cells,
        (after - before) as f64 / (1024.0 * 1024.0),
        (after - before) as f64 / cells as f64,
        metrics.active
    );
}

/// Recovery of `cells` cells, each created and holding one vote: once with the default
/// segments (the log holds nearly everything: no checkpoint yet), once with 8 MiB segments
/// (checkpoints folded nearly everything into the embedded store).
fn recovery(cells: u64) {
    for (label, segment_bytes) in [
        ("from the log", colony_node::limits::SEGMENT_BYTES_TARGET),
        ("from the store", 8 * 1024 * 1024),
    ] {
        recovery_with(cells, label, segment_bytes);
    }
}

fn recovery_with(cells: u64, label: &str, segment_bytes: u64) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    {
        let mut storage = FileStorage::open_with(dir.path(), segment_bytes).expect("opens");
        storage.recover().expect("recovers");
        for chunk in (0..cells).collect::<Vec<_>>().chunks(10_000) {
            let batch: Vec<Write> = chunk
                .iter()
                .flat_map(|&c| {
                    [
                        Write::Cell {
                            cell: CellId(c),
                            members: members(),
                        },
                        vote(c, 1),
                    ]
                })
                .collect();
            storage.append(&batch).expect("appends");
            storage.sync().expect("syncs");
        }
    }
    let wal_bytes = log_bytes(dir.path())
        + std::fs::metadata(dir.path().join("cells.redb")).map_or(0, |m| m.len());
    let start = Instant::now();
    let mut storage = FileStorage::open_with(dir.path(), segment_bytes).expect("opens");
    let recovered = storage.recover().expect("recovers");
    let read = start.elapsed();
    let segments = std::fs::read_dir(dir.path().join("wal")).map_or(0, Iterator::count);
    let count = recovered.cells.len();
    let host = Host::new(HostConfig::new(NodeId(1), 1), recovered);
    let total = start.elapsed();
    println!(
        "recovery of {count} cells {label} ({:.0} MiB of log and store, {segments} segment(s) \
         left): storage {:.2} s, host {:.2} s, {:.2} s in all ({} cells in the host)",
        wal_bytes as f64 / (1024.0 * 1024.0),
        read.as_secs_f64(),
        (total - read).as_secs_f64(),
        total.as_secs_f64(),
        host.metrics().cells
    );
}

fn quiescent(cells: u64) {
    let mut host = host_with(cells);
    let ticks = 1000;
    let start = Instant::now();
    for t in 0..ticks {
        host.step(Input::Tick { now_ms: t * 10 });
        let _ = host.ready();
    }
    let per_tick = start.elapsed() / ticks as u32;
    println!(
        "{cells} quiescent cells: {:.1} us per tick, {} cells ticked; at 100 ticks/s that is \
         {:.4}% of one core",
        per_tick.as_secs_f64() * 1e6,
        host.metrics().ticking,
        per_tick.as_secs_f64() * 100.0 * 100.0
    );
}

/// The embedded store against the simplest alternative, a flat checkpoint file rewritten whole:
/// writing `cells` records, updating a hundredth of them (what a checkpoint of a busy segment
/// touches), and reading them all back (what recovery does).
fn store(cells: u64) {
    use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
    const TABLE: TableDefinition<'_, u64, &[u8]> = TableDefinition::new("cells");
    let record = [9u8; 60];
    let touched = cells / 100;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let db = Database::create(dir.path().join("cells.redb")).expect("creates");
    let write = |range: std::ops::Range<u64>| {
        let start = Instant::now();
        let txn = db.begin_write().expect("begins");
        {
            let mut table = txn.open_table(TABLE).expect("opens");
            for c in range {
                table.insert(c, &record[..]).expect("inserts");
            }
        }
        txn.commit().expect("commits");
        start.elapsed()
    };
    let all = write(0..cells);
    let some = write(0..touched);
    let start = Instant::now();
    let txn = db.begin_read().expect("begins");
    let table = txn.open_table(TABLE).expect("opens");
    let mut read = 0u64;
    for item in table.iter().expect("iterates") {
        let (_, value) = item.expect("reads");
        read += value.value().len() as u64;
    }
    let redb_read = start.elapsed();
    // The flat file: every checkpoint writes every record, then syncs and renames.
    let flat = |path: &std::path::Path| {
        let start = Instant::now();
        let mut bytes = Vec::with_capacity((cells * 68) as usize);
        for c in 0..cells {
            bytes.extend_from_slice(&c.to_le_bytes());
            bytes.extend_from_slice(&record);
        }
        let temporary = path.with_extension("new");
        let mut file = std::fs::File::create(&temporary).expect("creates");
        file.write_all(&bytes).expect("writes");
        file.sync_all().expect("syncs");
        std::fs::rename(&temporary, path).expect("renames");
        start.elapsed()
    };
    let path = dir.path().join("cells.flat");
    let flat_write = flat(&path);
    let start = Instant::now();
    let bytes = std::fs::read(&path).expect("reads");
    let flat_records = bytes.chunks_exact(68).count();
    let flat_read = start.elapsed();
    println!(
        "store of {cells} records of 60 bytes: redb writes all in {:.2} s, updates {touched} in \
         {:.3} s, reads all in {:.2} s ({} MiB read); a flat file rewritten whole: {:.2} s for \
         every checkpoint however few records changed, read in {:.2} s ({flat_records} records)",
        all.as_secs_f64(),
        some.as_secs_f64(),
        redb_read.as_secs_f64(),
        read / (1024 * 1024),
        flat_write.as_secs_f64(),
        flat_read.as_secs_f64()
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let what = args.first().map(String::as_str).unwrap_or("all");
    let rounds = arg(&args, "--rounds", 5);
    let cells = arg(&args, "--cells", 1_000_000);
    match what {
        "wal" => wal(rounds),
        "memory" => memory(cells),
        "recovery" => recovery(cells),
        "quiescent" => quiescent(cells),
        "store" => store(cells),
        "all" => {
            wal(rounds);
            memory(cells);
            recovery(cells);
            quiescent(cells);
            store(cells);
        }
        other => {
            eprintln!(
                "bench: no figure named {other:?}: wal, memory, recovery, quiescent, store or all"
            );
            std::process::exit(2);
        }
    }
}
