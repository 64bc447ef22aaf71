//! Entry points for the fuzz targets (`fuzz/`), which live outside the crate and reach the
//! write-ahead log's decoder only through here. Not part of the node's interface.

use crate::storage::frame;

/// Scans `bytes` as a log segment, as recovery does; then again with `bytes` as the payload of
/// one record whose header and checksums are right, so that the payload's decoder is reached
/// by inputs a fuzzer could never give a valid checksum. Neither may panic, whatever the
/// input; the result is thrown away.
pub fn scan(bytes: &[u8]) {
    let _ = frame::scan(bytes, 1);
    let framed = frame::frame_payload(bytes);
    let _ = frame::scan(&framed, 1);
}
