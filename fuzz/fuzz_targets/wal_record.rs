//! The write-ahead log as recovery reads it, raw and as the payload of a record with right
//! checksums: never a panic, whatever the bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    colony_node::fuzzing::scan(data);
});
