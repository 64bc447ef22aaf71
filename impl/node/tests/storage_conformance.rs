//! The storage conformance suite on each storage: memory, the simulated disk (with and
//! without torn writes at a crash) and the file store (with segments small enough that the
//! suite rotates and checkpoints them many times).

use colony_node::storage::conformance::Subject;
use colony_node::storage::{FileStorage, MemoryStorage, SimStorage};

struct Memory(MemoryStorage);

impl Subject for Memory {
    type Storage = MemoryStorage;
    fn storage(&mut self) -> &mut MemoryStorage {
        &mut self.0
    }
    fn restart(&mut self) {
        self.0.crash();
    }
}

struct Sim(SimStorage);

impl Subject for Sim {
    type Storage = SimStorage;
    fn storage(&mut self) -> &mut SimStorage {
        &mut self.0
    }
    fn restart(&mut self) {
        self.0.crash();
    }
}

struct File {
    dir: tempfile::TempDir,
    segment_bytes: u64,
    storage: Option<FileStorage>,
}

impl File {
    fn new(segment_bytes: u64) -> File {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let storage = FileStorage::open_with(dir.path(), segment_bytes).expect("opens");
        File {
            dir,
            segment_bytes,
            storage: Some(storage),
        }
    }
}

impl Subject for File {
    type Storage = FileStorage;
    fn storage(&mut self) -> &mut FileStorage {
        self.storage.as_mut().expect("open")
    }
    /// The process dies: its open files go, the page cache stays (a process crash, not a power
    /// cut: the simulated disk is the one that loses unsynced writes).
    fn restart(&mut self) {
        // The embedded store allows one opener at a time: the dead process's goes first.
        drop(self.storage.take());
        self.storage =
            Some(FileStorage::open_with(self.dir.path(), self.segment_bytes).expect("reopens"));
    }
}

mod memory {
    colony_node::storage_conformance!(super::Memory(colony_node::storage::MemoryStorage::new()));
}

mod sim_losing_unsynced_writes {
    colony_node::storage_conformance!(super::Sim(colony_node::storage::SimStorage::new(
        1,
        colony_node::storage::SimFaults { torn_per_mille: 0 }
    )));
}

mod sim_tearing_unsynced_writes {
    colony_node::storage_conformance!(super::Sim(colony_node::storage::SimStorage::new(
        2,
        colony_node::storage::SimFaults {
            torn_per_mille: 1000
        }
    )));
}

mod file_with_small_segments {
    colony_node::storage_conformance!(super::File::new(4096));
}

mod file_with_default_segments {
    colony_node::storage_conformance!(super::File::new(colony_node::limits::SEGMENT_BYTES_TARGET));
}
