//! A transaction as `colony txn` reads it, text or JSON: never a panic, and what parses is a
//! transaction a cell accepts.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(transaction) = colony_txn_syntax::parse_transaction(text) {
            assert!(
                transaction.validate().is_ok(),
                "parsed past a bound: {text:?}"
            );
        }
    }
});
