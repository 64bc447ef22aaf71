//! The first frame of a connection, each way: decoding never panics, and what decodes
//! encodes to the same bytes.
#![no_main]

use colony_net::hello::{decode_hello, decode_welcome, encode_hello, encode_welcome};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(role) = decode_hello(data) {
        assert_eq!(encode_hello(role), data, "a hello with two encodings");
    }
    if let Ok(welcome) = decode_welcome(data) {
        assert_eq!(
            encode_welcome(&welcome),
            data,
            "a welcome with two encodings"
        );
    }
});
