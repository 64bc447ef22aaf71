//! A client's request (as a node reads it) and a node's response (as a client reads it):
//! decoding never panics, and what decodes encodes to the same bytes.
#![no_main]

use colony_net::api::{decode_request, decode_response, encode_request, encode_response};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(request) = decode_request(data) {
        let bytes = encode_request(&request).expect("a decoded request encodes");
        assert_eq!(bytes, data, "a request with two encodings");
    }
    if let Ok(response) = decode_response(data) {
        let bytes = encode_response(&response).expect("a decoded response encodes");
        assert_eq!(bytes, data, "a response with two encodings");
    }
});
