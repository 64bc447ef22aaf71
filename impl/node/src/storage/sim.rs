//! A simulated disk under the write-ahead log's own framing, with the faults a real one has:
//! a crash loses what was not synced, or keeps part of it and tears the last write; a bit may
//! flip in what was synced; a sync may fail. Deterministic: every fault is drawn from the seed
//! it was made with, or asked for by the caller.
//!
//! The log is bytes, framed and read back by the same code as the file store's segments
//! ([`super::frame`]), so that the simulator exercises the real recovery: torn tails cut off,
//! damaged records reported per cell, batches kept whole or not at all.

use super::frame::{encode_batch, scan};
use super::image::{fold, report_orphans};
use super::{check_batch, Recovered, Storage, StorageError, Write};

/// Which faults a crash may bring, drawn from the store's seed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SimFaults {
    /// Out of 1,000 crashes, how many keep a part of the unsynced bytes (a torn write) rather
    /// than none: the kernel had written some of them back when the power went.
    pub torn_per_mille: u32,
}

impl Default for SimFaults {
    fn default() -> SimFaults {
        SimFaults {
            torn_per_mille: 500,
        }
    }
}

/// A simulated disk holding one write-ahead log. See the module's documentation.
#[derive(Debug)]
pub struct SimStorage {
    faults: SimFaults,
    rng: u64,
    /// The log's bytes that are on the platter.
    synced: Vec<u8>,
    /// Bytes written since the last sync, still in the page cache.
    unsynced: Vec<u8>,
    next_batch: u64,
    fail_next_sync: bool,
    poisoned: bool,
    counts: SimCounts,
}

/// What the simulated disk did, for the simulator's summary.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SimCounts {
    /// Syncs that succeeded.
    pub syncs: u64,
    /// Crashes that lost every unsynced byte.
    pub lost_writes: u64,
    /// Crashes that kept a part of them and tore the last write.
    pub torn_writes: u64,
    /// Bits flipped.
    pub bit_flips: u64,
    /// Syncs that failed.
    pub sync_failures: u64,
}

impl SimStorage {
    /// An empty disk whose faults are drawn from `seed`.
    pub fn new(seed: u64, faults: SimFaults) -> SimStorage {
        SimStorage {
            faults,
            rng: seed,
            synced: Vec::new(),
            unsynced: Vec::new(),
            next_batch: 1,
            fail_next_sync: false,
            poisoned: false,
            counts: SimCounts::default(),
        }
    }

    /// SplitMix64: small, fast and good enough to draw faults from.
    fn draw(&mut self) -> u64 {
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// The node crashed. The unsynced bytes are lost, or (as often as
    /// [`SimFaults::torn_per_mille`] says) a prefix of them reached the disk, cut at a byte
    /// drawn from the seed. The store can be recovered and used again, poisoned or not.
    pub fn crash(&mut self) {
        let unsynced = std::mem::take(&mut self.unsynced);
        if !unsynced.is_empty() && self.draw() % 1000 < u64::from(self.faults.torn_per_mille) {
            let kept = (self.draw() % unsynced.len() as u64) as usize;
            self.synced.extend_from_slice(&unsynced[..kept]);
            self.counts.torn_writes += 1;
        } else if !unsynced.is_empty() {
            self.counts.lost_writes += 1;
        }
        self.poisoned = false;
        self.fail_next_sync = false;
    }

    /// Flips bit `bit` (counted from the log's first byte, modulo its length in bits) of what
    /// is on the disk. Does nothing to an empty log.
    pub fn flip_bit(&mut self, bit: u64) {
        if self.synced.is_empty() {
            return;
        }
        let bit = bit % (self.synced.len() as u64 * 8);
        self.synced[(bit / 8) as usize] ^= 1 << (bit % 8);
        self.counts.bit_flips += 1;
    }

    /// The next sync fails, as an `fdatasync` returning `EIO` does.
    pub fn fail_next_sync(&mut self) {
        self.fail_next_sync = true;
    }

    /// The bytes on the disk.
    pub fn len_bytes(&self) -> u64 {
        self.synced.len() as u64
    }

    /// What the disk did so far.
    pub fn counts(&self) -> SimCounts {
        self.counts
    }
}

impl Storage for SimStorage {
    fn append(&mut self, batch: &[Write]) -> Result<(), StorageError> {
        if self.poisoned {
            return Err(StorageError::Poisoned);
        }
        check_batch(batch)?;
        let bytes = encode_batch(self.next_batch, batch)?;
        self.next_batch += 1;
        self.unsynced.extend_from_slice(&bytes);
        Ok(())
    }

    fn sync(&mut self) -> Result<(), StorageError> {
        if self.poisoned {
            return Err(StorageError::Poisoned);
        }
        if self.fail_next_sync {
            // The page cache may or may not have been written: the bytes stay where they are,
            // and a crash decides. Nothing more is accepted.
            self.poisoned = true;
            self.counts.sync_failures += 1;
            return Err(StorageError::Io {
                operation: "fdatasync of the simulated log".to_string(),
                source: std::io::Error::other("simulated EIO"),
            });
        }
        self.synced.append(&mut self.unsynced);
        self.counts.syncs += 1;
        Ok(())
    }

    fn recover(&mut self) -> Result<Recovered, StorageError> {
        let scan = scan(&self.synced, 0)?;
        let mut recovered = Recovered {
            truncated_bytes: self.synced.len() as u64 - scan.valid_bytes,
            ..Recovered::default()
        };
        // Cut the torn tail off, so that new batches follow the last whole one.
        self.synced.truncate(scan.valid_bytes as usize);
        self.next_batch = scan.last_batch + 1;
        fold(&mut recovered, scan.writes, scan.damaged);
        report_orphans(&mut recovered);
        Ok(recovered)
    }
}
