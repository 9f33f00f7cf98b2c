//! zlib with a bound on the decompressed size (itsdangerous payloads).

use std::cell::RefCell;

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

use super::itsdangerous::ItsdangerousError;

thread_local! {
    /// One compressor per thread, reset for each use: building one allocates and zeroes
    /// about 300 KB of tables, which was 69% of the instructions of a Flask cookie save.
    static COMPRESSOR: RefCell<Compress> = RefCell::new(Compress::new(Compression::default(), true));
}

/// zlib at the default level (6), like Python's `zlib.compress`. `None` only
/// if the compressor reports an error, in which case callers store the data
/// uncompressed.
pub(crate) fn zlib_compress(data: &[u8]) -> Option<Vec<u8>> {
    COMPRESSOR.with(|cell| {
        let mut compress = cell.try_borrow_mut().ok()?;
        compress.reset();
        compress_with(&mut compress, data)
    })
}

fn compress_with(compress: &mut Compress, data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(data.len() / 2 + 64);
    loop {
        let consumed = usize::try_from(compress.total_in()).ok()?;
        let status = compress
            .compress_vec(data.get(consumed..)?, &mut out, FlushCompress::Finish)
            .ok()?;
        match status {
            Status::StreamEnd => return Some(out),
            Status::Ok | Status::BufError => out.reserve(out.capacity().max(64)),
        }
    }
}

pub(crate) fn zlib_decompress(data: &[u8], limit: usize) -> Result<Vec<u8>, ItsdangerousError> {
    let cap = limit.saturating_add(1);
    let mut decompress = Decompress::new(true);
    let mut out: Vec<u8> = Vec::with_capacity(cap.min(data.len().saturating_mul(4).max(256)));
    loop {
        if out.len() == out.capacity() {
            if out.len() >= cap {
                return Err(ItsdangerousError::TooLarge { limit });
            }
            out.reserve_exact(out.capacity().max(256).min(cap - out.len()));
        }
        let (in_before, out_before) = (decompress.total_in(), decompress.total_out());
        let rest = usize::try_from(in_before)
            .ok()
            .and_then(|consumed| data.get(consumed..))
            .ok_or(ItsdangerousError::TruncatedZlib)?;
        let status = decompress
            .decompress_vec(rest, &mut out, FlushDecompress::None)
            .map_err(ItsdangerousError::BadZlib)?;
        if out.len() > limit {
            return Err(ItsdangerousError::TooLarge { limit });
        }
        if status == Status::StreamEnd {
            return Ok(out);
        }
        let stalled = decompress.total_in() == in_before && decompress.total_out() == out_before;
        if stalled && out.len() < out.capacity() {
            return Err(ItsdangerousError::TruncatedZlib);
        }
    }
}

#[cfg(test)]
mod reuse_tests {
    use super::*;

    #[test]
    fn a_reused_compressor_writes_what_a_fresh_one_writes() {
        let data = b"{\"user\":\"ada\",\"cart\":[1,2,3]}".repeat(20);
        let first = zlib_compress(&data);
        let second = zlib_compress(&data);
        let fresh = compress_with(&mut Compress::new(Compression::default(), true), &data);
        assert!(first.is_some());
        assert_eq!(first, second, "reset leaves no state behind");
        assert_eq!(first, fresh);
        let back = zlib_decompress(&second.unwrap_or_default(), 1 << 16);
        assert_eq!(back.ok(), Some(data));
    }
}
