//! The first frame of a connection, each way: decoding never panics, and what decodes
//! encodes to the same bytes. Half the inputs get this build's magic and version put in front,
//! so that the role's and the welcome's decoders are reached (a fuzzer would rarely guess the
//! six bytes of the magic on its own).
#![no_main]

use colony_net::hello::{
    decode_hello, decode_welcome, encode_hello, encode_welcome, MAGIC, PROTOCOL_VERSION,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let bytes = match data.split_first() {
        Some((first, rest)) if first % 2 == 1 => {
            let mut bytes = MAGIC.to_vec();
            bytes.extend_from_slice(&PROTOCOL_VERSION.to_be_bytes());
            bytes.extend_from_slice(rest);
            bytes
        }
        _ => data.to_vec(),
    };
    if let Ok(role) = decode_hello(&bytes) {
        assert_eq!(encode_hello(role), bytes, "a hello with two encodings");
    }
    if let Ok(welcome) = decode_welcome(&bytes) {
        assert_eq!(
            encode_welcome(&welcome),
            bytes,
            "a welcome with two encodings"
        );
    }
});
