//! The storage of a real node: a write-ahead log in segment files, and an embedded store (redb)
//! that checkpoints fold closed segments into.
//!
//! ```text
//! <dir>/wal/<segment, 20 digits>.log   framed batches (see frame.rs), one writer, appended
//! <dir>/cells.redb                     per cell: its record and its snapshot; and which
//!                                      segments are folded in, and which cells are corrupt
//! ```
//!
//! **Group commit.** [`Storage::append`] writes a batch's frames to the open segment (one
//! `write` call); [`Storage::sync`] makes all of them durable with one `fdatasync`.
//!
//! **Checkpoints.** Once a segment passes [`SEGMENT_BYTES_TARGET`] after a sync, a new one is
//! opened (and the directory synced, so that the new file survives a crash). Once more than
//! [`CLOSED_SEGMENTS_MAX`] segments are closed, the oldest are read back, folded onto the
//! records of the cells they touch, and written to the embedded store in one transaction, which
//! also records the last segment folded; only once that transaction is durable are the segments
//! deleted. Recovery skips (and deletes) every segment at or below the one recorded, so a
//! segment whose deletion a crash undid is never folded twice: folding an older vote again
//! over a newer one would forget the newer.
//!
//! **Recovery** reads the embedded store, then the segments after the checkpoint, and cuts the
//! open segment's torn tail off (and syncs the cut). It reads the tail, not the history.

use super::frame::{encode_batch, scan};
use super::image::{fold, report_orphans, CellImage};
use super::{check_batch, Corruption, RecordPosition, Recovered, Storage, StorageError, Write};
use crate::limits::{CLOSED_SEGMENTS_MAX, SEGMENT_BYTES_TARGET};
use crate::CellId;
use colony_core::codec::{self, CodecError};
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use std::fs::{self, File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The version of a cell record's encoding in the embedded store.
const RECORD_VERSION: u8 = 1;

const CELLS: TableDefinition<'_, u64, &[u8]> = TableDefinition::new("cells");
const SNAPSHOTS: TableDefinition<'_, u64, &[u8]> = TableDefinition::new("snapshots");
const CORRUPT: TableDefinition<'_, u64, &str> = TableDefinition::new("corrupt");
const META: TableDefinition<'_, &str, u64> = TableDefinition::new("meta");
/// The key in `META` of the last segment a checkpoint folded in.
const FOLDED_THROUGH: &str = "folded_through";

/// A node's storage in a directory. See the module's documentation.
pub struct FileStorage {
    dir: PathBuf,
    db: Database,
    /// The open segment: its number, the file, its length.
    open: Option<(u64, File, u64)>,
    /// The closed segments not yet folded, oldest first.
    closed: Vec<u64>,
    next_batch: u64,
    poisoned: bool,
    recovered: bool,
    segment_bytes_target: u64,
}

fn io(operation: impl Into<String>) -> impl FnOnce(std::io::Error) -> StorageError {
    let operation = operation.into();
    move |source| StorageError::Io { operation, source }
}

fn store(operation: &'static str) -> impl Fn(redb::Error) -> StorageError {
    move |e| StorageError::Store {
        operation,
        reason: e.to_string(),
    }
}

/// Runs `f`, turning any of redb's error types into a [`StorageError`].
fn redb<T>(
    operation: &'static str,
    f: impl FnOnce() -> Result<T, redb::Error>,
) -> Result<T, StorageError> {
    f().map_err(store(operation))
}

fn segment_path(dir: &Path, segment: u64) -> PathBuf {
    dir.join("wal").join(format!("{segment:020}.log"))
}

fn sync_dir(dir: &Path) -> Result<(), StorageError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io(format!("syncing directory {}", dir.display())))
}

impl FileStorage {
    /// Opens (or creates) the storage in `dir`. Call [`Storage::recover`] before appending.
    pub fn open(dir: impl AsRef<Path>) -> Result<FileStorage, StorageError> {
        FileStorage::open_with(dir, SEGMENT_BYTES_TARGET)
    }

    /// As [`FileStorage::open`], closing segments past `segment_bytes_target` rather than
    /// [`SEGMENT_BYTES_TARGET`]: tests use small segments to rotate and checkpoint often.
    pub fn open_with(
        dir: impl AsRef<Path>,
        segment_bytes_target: u64,
    ) -> Result<FileStorage, StorageError> {
        let dir = dir.as_ref().to_path_buf();
        fs::create_dir_all(dir.join("wal")).map_err(io(format!("creating {}", dir.display())))?;
        sync_dir(&dir)?;
        let db = redb("opening the store", || {
            Ok(Database::create(dir.join("cells.redb"))?)
        })?;
        Ok(FileStorage {
            dir,
            db,
            open: None,
            closed: Vec::new(),
            next_batch: 1,
            poisoned: false,
            recovered: false,
            segment_bytes_target,
        })
    }

    /// The segments on disk, in order.
    fn segments(&self) -> Result<Vec<u64>, StorageError> {
        let wal = self.dir.join("wal");
        let mut segments = Vec::new();
        for entry in fs::read_dir(&wal).map_err(io(format!("listing {}", wal.display())))? {
            let entry = entry.map_err(io(format!("listing {}", wal.display())))?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if let Some(number) = name
                .strip_suffix(".log")
                .and_then(|n| n.parse::<u64>().ok())
            {
                segments.push(number);
            }
        }
        segments.sort_unstable();
        Ok(segments)
    }

    fn folded_through(&self) -> Result<u64, StorageError> {
        redb("reading the checkpoint", || {
            let txn = self.db.begin_read()?;
            let meta = match txn.open_table(META) {
                Ok(table) => table,
                Err(redb::TableError::TableDoesNotExist(_)) => return Ok(0),
                Err(e) => return Err(e.into()),
            };
            Ok(meta.get(FOLDED_THROUGH)?.map_or(0, |v| v.value()))
        })
    }

    /// Reads the whole embedded store: every cell's record and snapshot, and the corrupt cells.
    fn read_store(&self, recovered: &mut Recovered) -> Result<(), StorageError> {
        let txn = redb("reading the store", || Ok(self.db.begin_read()?))?;
        if let Some(table) = open_read(&txn, CORRUPT)? {
            for item in redb("reading corrupt cells", || Ok(table.iter()?))? {
                let (cell, reason) = item.map_err(|e| store("reading corrupt cells")(e.into()))?;
                let cell = CellId(cell.value());
                recovered
                    .corrupt
                    .insert(cell, found_corrupt(cell, reason.value()));
            }
        }
        if let Some(table) = open_read(&txn, CELLS)? {
            for item in redb("reading cell records", || Ok(table.iter()?))? {
                let (cell, bytes) = item.map_err(|e| store("reading cell records")(e.into()))?;
                add_record(recovered, CellId(cell.value()), bytes.value());
            }
        }
        if let Some(table) = open_read(&txn, SNAPSHOTS)? {
            for item in redb("reading snapshots", || Ok(table.iter()?))? {
                let (cell, bytes) = item.map_err(|e| store("reading snapshots")(e.into()))?;
                if let Some(image) = recovered.cells.get_mut(&CellId(cell.value())) {
                    image.snapshot_state = Some(Arc::from(bytes.value()));
                }
            }
        }
        for cell in recovered.corrupt.keys() {
            recovered.cells.remove(cell);
        }
        Ok(())
    }

    /// Reads segment `segment` back.
    fn read_segment(&self, segment: u64) -> Result<(Vec<u8>, super::frame::Scan), StorageError> {
        let path = segment_path(&self.dir, segment);
        let bytes = fs::read(&path).map_err(io(format!("reading {}", path.display())))?;
        let scan = scan(&bytes, segment)?;
        Ok((bytes, scan))
    }

    /// Starts segment `segment` and makes its existence durable.
    fn start_segment(&mut self, segment: u64) -> Result<(), StorageError> {
        let path = segment_path(&self.dir, segment);
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(io(format!("creating {}", path.display())))?;
        sync_dir(&self.dir.join("wal"))?;
        self.open = Some((segment, file, 0));
        Ok(())
    }

    /// Folds the closed segments into the embedded store, then deletes them.
    fn checkpoint(&mut self) -> Result<(), StorageError> {
        let segments = std::mem::take(&mut self.closed);
        let Some(&last) = segments.last() else {
            return Ok(());
        };
        let mut writes = Vec::new();
        let mut damaged = Vec::new();
        for &segment in &segments {
            let (_, scan) = self.read_segment(segment)?;
            writes.extend(scan.writes);
            damaged.extend(scan.damaged);
        }
        // Load the records of the cells the segments touch, fold, and write them back.
        let touched: std::collections::BTreeSet<CellId> = writes
            .iter()
            .map(Write::cell)
            .chain(damaged.iter().map(Corruption::cell))
            .collect();
        let mut partial = Recovered::default();
        {
            let txn = redb("reading the store", || Ok(self.db.begin_read()?))?;
            let cells = open_read(&txn, CELLS)?;
            let corrupt = open_read(&txn, CORRUPT)?;
            for &cell in &touched {
                if let Some(table) = &corrupt {
                    if let Some(reason) = redb("reading corrupt cells", || Ok(table.get(cell.0)?))?
                    {
                        partial
                            .corrupt
                            .insert(cell, found_corrupt(cell, reason.value()));
                        continue;
                    }
                }
                if let Some(table) = &cells {
                    if let Some(bytes) = redb("reading cell records", || Ok(table.get(cell.0)?))? {
                        add_record(&mut partial, cell, bytes.value());
                    }
                }
            }
        }
        fold(&mut partial, writes, damaged);
        report_orphans(&mut partial);
        let mut records = Vec::with_capacity(partial.cells.len());
        for (cell, image) in &partial.cells {
            let bytes = encode_image(image).map_err(|e| StorageError::Store {
                operation: "writing a checkpoint",
                reason: format!("cannot encode the record of {cell}: {e}"),
            })?;
            records.push((*cell, bytes, image.snapshot_state.clone()));
        }
        redb("writing a checkpoint", || {
            let txn = self.db.begin_write()?;
            {
                let mut cells = txn.open_table(CELLS)?;
                let mut snapshots = txn.open_table(SNAPSHOTS)?;
                let mut corrupt = txn.open_table(CORRUPT)?;
                let mut meta = txn.open_table(META)?;
                for (cell, bytes, snapshot) in &records {
                    cells.insert(cell.0, bytes.as_slice())?;
                    if let Some(state) = snapshot {
                        snapshots.insert(cell.0, &state[..])?;
                    }
                }
                for (cell, corruption) in &partial.corrupt {
                    corrupt.insert(cell.0, corruption.to_string().as_str())?;
                    cells.remove(cell.0)?;
                    snapshots.remove(cell.0)?;
                }
                meta.insert(FOLDED_THROUGH, last)?;
            }
            txn.commit()?;
            Ok(())
        })?;
        for segment in segments {
            let path = segment_path(&self.dir, segment);
            fs::remove_file(&path).map_err(io(format!("deleting {}", path.display())))?;
        }
        sync_dir(&self.dir.join("wal"))
    }
}

fn open_read<K: redb::Key + 'static, V: redb::Value + 'static>(
    txn: &redb::ReadTransaction,
    table: TableDefinition<'_, K, V>,
) -> Result<Option<redb::ReadOnlyTable<K, V>>, StorageError> {
    match txn.open_table(table) {
        Ok(table) => Ok(Some(table)),
        Err(redb::TableError::TableDoesNotExist(_)) => Ok(None),
        Err(e) => Err(store("opening a table")(e.into())),
    }
}

/// A cell the store had recorded as corrupt, for `reason`.
fn found_corrupt(cell: CellId, reason: &str) -> Corruption {
    Corruption::Stored {
        cell,
        what: "state (found corrupt before)",
        reason: reason.to_string(),
    }
}

/// Adds the stored record of `cell` to `recovered`: its image, or why it is corrupt.
fn add_record(recovered: &mut Recovered, cell: CellId, bytes: &[u8]) {
    match decode_image(bytes) {
        Ok(image) => {
            recovered.cells.insert(cell, image);
        }
        Err(reason) => {
            recovered.corrupt.insert(
                cell,
                Corruption::Stored {
                    cell,
                    what: "cell record",
                    reason: reason.to_string(),
                },
            );
        }
    }
}

fn encode_image(image: &CellImage) -> Result<Vec<u8>, CodecError> {
    codec::encode(RECORD_VERSION, image, |_| Ok::<(), CodecError>(()))
}

fn decode_image(bytes: &[u8]) -> Result<CellImage, CodecError> {
    codec::decode(RECORD_VERSION, bytes, |_| Ok(()))
}

impl Storage for FileStorage {
    fn append(&mut self, batch: &[Write]) -> Result<(), StorageError> {
        if self.poisoned {
            return Err(StorageError::Poisoned);
        }
        assert!(self.recovered, "recover before appending");
        check_batch(batch)?;
        let bytes = encode_batch(self.next_batch, batch)?;
        let Some((segment, file, length)) = &mut self.open else {
            unreachable!("recovery opens a segment");
        };
        if let Err(source) = file.write_all(&bytes) {
            // A short write leaves a torn batch that only a restart's recovery may cut off.
            self.poisoned = true;
            return Err(StorageError::Io {
                operation: format!("appending to segment {segment}"),
                source,
            });
        }
        *length += bytes.len() as u64;
        self.next_batch += 1;
        Ok(())
    }

    fn sync(&mut self) -> Result<(), StorageError> {
        if self.poisoned {
            return Err(StorageError::Poisoned);
        }
        let Some((segment, file, length)) = &mut self.open else {
            unreachable!("recovery opens a segment");
        };
        if let Err(source) = file.sync_data() {
            self.poisoned = true;
            return Err(StorageError::Io {
                operation: format!("fdatasync of segment {segment}"),
                source,
            });
        }
        if *length >= self.segment_bytes_target {
            let next = *segment + 1;
            self.closed.push(*segment);
            let result = self.start_segment(next).and_then(|()| {
                if self.closed.len() > CLOSED_SEGMENTS_MAX {
                    self.checkpoint()
                } else {
                    Ok(())
                }
            });
            if result.is_err() {
                self.poisoned = true;
            }
            result?;
        }
        Ok(())
    }

    fn recover(&mut self) -> Result<Recovered, StorageError> {
        let mut recovered = Recovered::default();
        self.read_store(&mut recovered)?;
        let folded_through = self.folded_through()?;
        let segments = self.segments()?;
        let mut tail = Vec::new();
        for segment in segments {
            if segment <= folded_through {
                // A segment whose deletion a crash undid: already in the store.
                let path = segment_path(&self.dir, segment);
                fs::remove_file(&path).map_err(io(format!("deleting {}", path.display())))?;
            } else {
                tail.push(segment);
            }
        }
        let last = tail.last().copied();
        for &segment in &tail {
            let (bytes, scan) = self.read_segment(segment)?;
            let cut = bytes.len() as u64 - scan.valid_bytes;
            if cut > 0 && Some(segment) != last {
                // Segments are closed only after a sync: a closed one cannot have a torn tail.
                return Err(StorageError::LogDamaged {
                    position: RecordPosition {
                        segment,
                        offset: scan.valid_bytes,
                    },
                    reason: super::FrameError::AfterLastBatch { bytes: cut },
                });
            }
            if cut > 0 {
                let path = segment_path(&self.dir, segment);
                let file = OpenOptions::new()
                    .write(true)
                    .open(&path)
                    .map_err(io(format!("opening {}", path.display())))?;
                file.set_len(scan.valid_bytes)
                    .and_then(|()| file.sync_all())
                    .map_err(io(format!("cutting the torn tail of {}", path.display())))?;
                recovered.truncated_bytes += cut;
            }
            self.next_batch = self.next_batch.max(scan.last_batch + 1);
            fold(&mut recovered, scan.writes, scan.damaged);
        }
        report_orphans(&mut recovered);
        self.closed = tail.clone();
        match last {
            Some(segment) => {
                self.closed.pop();
                let path = segment_path(&self.dir, segment);
                let file = OpenOptions::new()
                    .append(true)
                    .open(&path)
                    .map_err(io(format!("opening {}", path.display())))?;
                let length = file
                    .metadata()
                    .map_err(io(format!("reading the length of {}", path.display())))?
                    .len();
                self.open = Some((segment, file, length));
            }
            None => self.start_segment(folded_through + 1)?,
        }
        self.recovered = true;
        Ok(recovered)
    }
}

impl std::fmt::Debug for FileStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileStorage")
            .field("dir", &self.dir)
            .field("open", &self.open.as_ref().map(|(s, _, l)| (s, l)))
            .field("closed", &self.closed)
            .finish()
    }
}
