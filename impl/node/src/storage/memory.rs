//! Storage in memory: the contract with nothing in the way, for tests of the layers above and
//! as the reference the conformance suite holds the others to.

use super::image::{fold, report_orphans};
use super::{check_batch, Recovered, Storage, StorageError, Write};

/// Keeps synced batches in memory; a crash ([`MemoryStorage::crash`]) loses the batches
/// appended since the last sync.
#[derive(Debug, Default)]
pub struct MemoryStorage {
    synced: Recovered,
    appended: Vec<Write>,
}

impl MemoryStorage {
    /// Empty storage.
    pub fn new() -> MemoryStorage {
        MemoryStorage::default()
    }

    /// The node crashed: what was appended and not synced is gone.
    pub fn crash(&mut self) {
        self.appended.clear();
    }
}

impl Storage for MemoryStorage {
    fn append(&mut self, batch: &[Write]) -> Result<(), StorageError> {
        check_batch(batch)?;
        self.appended.extend_from_slice(batch);
        Ok(())
    }

    fn sync(&mut self) -> Result<(), StorageError> {
        fold(&mut self.synced, self.appended.drain(..), []);
        Ok(())
    }

    fn recover(&mut self) -> Result<Recovered, StorageError> {
        let mut recovered = self.synced.clone();
        report_orphans(&mut recovered);
        Ok(recovered)
    }
}
