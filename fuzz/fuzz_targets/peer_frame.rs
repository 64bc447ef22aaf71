//! A frame from a peer: decoding never panics, and a frame that decodes encodes to the same
//! bytes (every frame has one encoding).
#![no_main]

use colony_node::wire::{decode_frame, encode_frame};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(frame) = decode_frame(data) {
        let bytes = encode_frame(&frame).expect("a decoded frame encodes");
        assert_eq!(bytes, data, "a frame with two encodings");
    }
});
