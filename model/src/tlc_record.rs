//! TLC's results, recorded per configuration under a hash of everything they depend on, so that
//! the conformance test compares the model against TLC's numbers without running TLC on every
//! configuration each time.
//!
//! A record (`tla/tlc-record/<Module>.json`, one file per spec so that the conformance tests of
//! different specs never write the same file) holds, for each `.cfg` of the module, TLC's
//! outcome and a hash of the `.cfg`'s text, its module's text and the text of every module it
//! extends from `tla/`. A record whose hash differs is stale: TLC runs again. The hash is
//! FNV-1a over the texts with their names, stable across Rust versions and machines (a cache
//! key, not a defence against anyone).

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// What TLC found for one configuration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// A complete search: its three numbers.
    Counts {
        /// Distinct states found.
        distinct_states: usize,
        /// States generated.
        states_generated: usize,
        /// Depth of the complete state graph search.
        depth: usize,
    },
    /// A violated invariant, and the length of TLC's shortest counterexample.
    Violation {
        /// The invariant.
        invariant: String,
        /// States in the counterexample.
        trace_states: usize,
    },
}

/// One configuration's record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// The hash of the inputs ([`inputs_hash`]), in hex.
    pub inputs: String,
    /// What TLC found.
    pub outcome: Outcome,
    /// How long TLC took, in seconds (one worker): what a run saves by reading the record.
    pub tlc_seconds: f64,
}

/// A module's records, by configuration file name.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// The configurations.
    pub configs: BTreeMap<String, Entry>,
}

/// The record file of `module` in the folder `tla`.
pub fn path(tla: &Path, module: &str) -> PathBuf {
    tla.join("tlc-record").join(format!("{module}.json"))
}

impl Record {
    /// Reads the record at `path`; a missing file is an empty record.
    pub fn load(path: &Path) -> Result<Record, String> {
        match std::fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text)
                .map_err(|e| format!("{}: not a TLC record: {e}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Record::default()),
            Err(e) => Err(format!("{}: {e}", path.display())),
        }
    }

    /// Writes the record to `path`, one line per field, so that a change reads well in a diff.
    pub fn save(&self, path: &Path) -> Result<(), String> {
        if let Some(folder) = path.parent() {
            std::fs::create_dir_all(folder).map_err(|e| format!("{}: {e}", folder.display()))?;
        }
        let mut text = serde_json::to_string_pretty(self).map_err(|e| e.to_string())?;
        text.push('\n');
        std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// The entry of `config` if it was recorded for these `inputs`.
    pub fn fresh(&self, config: &str, inputs: &str) -> Option<&Entry> {
        self.configs.get(config).filter(|e| e.inputs == inputs)
    }
}

/// The hash of everything TLC's outcome on `config` depends on: the `.cfg`, the module it
/// checks (named by its file name: `Module_rest.cfg` checks `Module.tla`) and, recursively, the
/// modules of the same folder that module `EXTENDS`. Standard modules (`Naturals`, ...) are
/// TLC's own and not hashed.
pub fn inputs_hash(config: &Path) -> Result<String, String> {
    let folder = config.parent().unwrap_or(Path::new("."));
    let file = config
        .file_name()
        .and_then(|f| f.to_str())
        .ok_or_else(|| format!("{}: no file name", config.display()))?;
    let module = crate::cfg::module_of(file).map_err(|e| format!("{file}: {e}"))?;
    let mut hash = Fnv::new();
    hash.text(file, &read(config)?);
    let mut seen = BTreeSet::new();
    let mut pending = vec![module.to_string()];
    while let Some(module) = pending.pop() {
        if !seen.insert(module.clone()) {
            continue;
        }
        let spec = folder.join(format!("{module}.tla"));
        if !spec.exists() {
            continue;
        }
        let text = read(&spec)?;
        hash.text(&module, &text);
        pending.extend(extends(&text));
    }
    Ok(format!("{:016x}", hash.0))
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// The modules a spec's `EXTENDS` lines name.
fn extends(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| line.trim().strip_prefix("EXTENDS"))
        .flat_map(|names| names.split(','))
        .map(|name| name.trim().to_string())
        .filter(|name| !name.is_empty())
        .collect()
}

/// FNV-1a, 64 bits.
struct Fnv(u64);

impl Fnv {
    fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    fn bytes(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 ^= u64::from(*byte);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    /// A named text, with its lengths, so that moving bytes between two texts changes the hash.
    fn text(&mut self, name: &str, text: &str) {
        for part in [name, text] {
            self.bytes(&(part.len() as u64).to_le_bytes());
            self.bytes(part.as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_extended_modules_are_read_off_the_extends_lines() {
        let text = "---- MODULE B ----\nEXTENDS MultiPaxos, Naturals\nVARIABLE x\n====";
        assert_eq!(extends(text), ["MultiPaxos", "Naturals"]);
        assert!(extends("VARIABLE x").is_empty());
    }

    #[test]
    fn the_hash_follows_the_cfg_the_spec_and_what_it_extends() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
        write("Base.tla", "---- MODULE Base ----\n====");
        write(
            "Spec.tla",
            "---- MODULE Spec ----\nEXTENDS Base, Naturals\n====",
        );
        write("Spec_a.cfg", "CONSTANT N = 1");
        let config = dir.path().join("Spec_a.cfg");
        let first = inputs_hash(&config).unwrap();
        assert_eq!(
            inputs_hash(&config).unwrap(),
            first,
            "the same inputs, the same hash"
        );
        let mut seen = vec![first];
        for (file, text) in [
            ("Spec_a.cfg", "CONSTANT N = 2"),
            (
                "Spec.tla",
                "---- MODULE Spec ----\nEXTENDS Base, Naturals\n\\* x\n====",
            ),
            ("Base.tla", "---- MODULE Base ----\nVARIABLE y\n===="),
        ] {
            write(file, text);
            let hash = inputs_hash(&config).unwrap();
            assert!(!seen.contains(&hash), "changing {file} changes the hash");
            seen.push(hash);
        }
    }

    #[test]
    fn a_record_round_trips_and_a_missing_one_is_empty() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let file = path(dir.path(), "Spec");
        assert_eq!(Record::load(&file).unwrap(), Record::default());
        let mut record = Record::default();
        record.configs.insert(
            "Spec_a.cfg".into(),
            Entry {
                inputs: "00ff".into(),
                outcome: Outcome::Counts {
                    distinct_states: 3,
                    states_generated: 7,
                    depth: 2,
                },
                tlc_seconds: 1.5,
            },
        );
        record.save(&file).unwrap();
        let loaded = Record::load(&file).unwrap();
        assert_eq!(loaded, record);
        assert!(loaded.fresh("Spec_a.cfg", "00ff").is_some());
        assert!(
            loaded.fresh("Spec_a.cfg", "0100").is_none(),
            "another hash is stale"
        );
        std::fs::write(&file, "{").unwrap();
        assert!(Record::load(&file)
            .unwrap_err()
            .contains("not a TLC record"));
    }
}
