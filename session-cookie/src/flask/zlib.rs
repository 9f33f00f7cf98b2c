//! zlib with a bound on the decompressed size (itsdangerous payloads).

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

use super::itsdangerous::ItsdangerousError;

/// zlib at the default level (6), like Python's `zlib.compress`. `None` only
/// if the compressor reports an error, in which case callers store the data
/// uncompressed.
pub(crate) fn zlib_compress(data: &[u8]) -> Option<Vec<u8>> {
    let mut compress = Compress::new(Compression::default(), true);
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
