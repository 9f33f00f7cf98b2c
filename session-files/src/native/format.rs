//! The native session file: a 28-byte header, then the JSON of the whole record.
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 4 | magic `89 53 45 53` (`\x89SES`: the high byte catches text-mode mangling) |
//! | 4 | 2 | format version, little-endian (1) |
//! | 6 | 2 | flags, reserved (0) |
//! | 8 | 8 | `expires_at`, Unix milliseconds, little-endian signed |
//! | 16 | 8 | `version`, little-endian |
//! | 24 | 4 | length of the body, little-endian |
//! | 28 | … | the [`Record`] as JSON: data, timestamps, permanent flag, version |
//!
//! Bytes 0–16 (magic, format, flags, expiry) keep their meaning in every future format,
//! so an older build can still tell whether a newer file has expired. The header repeats
//! the expiry and the version so compare-and-swap and cleanup read 28 bytes, not the
//! record; decoding checks the two agree. Fixed little-endian, so a directory moves
//! between machines.

use session_core::clock::Timestamp;
use session_core::store::Record;

use crate::dir::MAX_FILE_BYTES;
use crate::{FileStoreError, FormatError};

pub(crate) const MAGIC: [u8; 4] = [0x89, b'S', b'E', b'S'];
/// The format this build writes and the newest it reads.
pub(crate) const FORMAT: u16 = 1;
/// The bytes every format keeps: magic, format, flags, expiry.
pub(crate) const STABLE_LEN: usize = 16;
pub(crate) const HEADER_LEN: usize = 28;

/// What the header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Head {
    pub(crate) format: u16,
    pub(crate) expires_at: Timestamp,
    /// The version and body length; only known for formats this build reads.
    pub(crate) current: Option<(u64, u32)>,
}

impl Head {
    /// Parses the first [`HEADER_LEN`] bytes (at least [`STABLE_LEN`]) of a file.
    pub(crate) fn parse(bytes: &[u8]) -> Result<Self, FormatError> {
        let truncated = |needed| FormatError::Truncated {
            len: bytes.len(),
            needed,
        };
        let stable = bytes
            .get(..STABLE_LEN)
            .ok_or_else(|| truncated(STABLE_LEN))?;
        if stable[..4] != MAGIC {
            return Err(FormatError::BadMagic);
        }
        let format = u16::from_le_bytes([stable[4], stable[5]]);
        let expires_at = Timestamp::from_unix_millis(i64::from_le_bytes(le8(&stable[8..16])));
        if format > FORMAT {
            return Ok(Self {
                format,
                expires_at,
                current: None,
            });
        }
        let rest = bytes
            .get(STABLE_LEN..HEADER_LEN)
            .ok_or_else(|| truncated(HEADER_LEN))?;
        let version = u64::from_le_bytes(le8(&rest[..8]));
        let body = u32::from_le_bytes([rest[8], rest[9], rest[10], rest[11]]);
        Ok(Self {
            format,
            expires_at,
            current: Some((version, body)),
        })
    }

    /// The expiry from the bytes every format keeps (the first [`STABLE_LEN`]).
    pub(crate) fn stable_expiry(bytes: &[u8]) -> Result<Timestamp, FormatError> {
        let stable = bytes.get(..STABLE_LEN).ok_or(FormatError::Truncated {
            len: bytes.len(),
            needed: STABLE_LEN,
        })?;
        if stable[..4] != MAGIC {
            return Err(FormatError::BadMagic);
        }
        Ok(Timestamp::from_unix_millis(i64::from_le_bytes(le8(
            &stable[8..16],
        ))))
    }

    /// Whether the record is live at `now`.
    pub(crate) fn is_live(&self, now: Timestamp) -> bool {
        now < self.expires_at
    }

    /// The record's version, for a format this build reads.
    pub(crate) fn version(&self) -> Option<u64> {
        self.current.map(|(version, _)| version)
    }
}

fn le8(bytes: &[u8]) -> [u8; 8] {
    let mut out = [0; 8];
    out.copy_from_slice(&bytes[..8]);
    out
}

/// The file for `record`.
pub(crate) fn encode(record: &Record) -> Result<Vec<u8>, FileStoreError> {
    let body = serde_json::to_vec(record).map_err(|error| FileStoreError::Encode {
        source: Box::new(error),
    })?;
    let too_large = || FileStoreError::TooLarge {
        size: HEADER_LEN + body.len(),
        limit: MAX_FILE_BYTES,
    };
    if HEADER_LEN + body.len() > MAX_FILE_BYTES {
        return Err(too_large());
    }
    let len = u32::try_from(body.len()).map_err(|_| too_large())?;
    let mut file = Vec::with_capacity(HEADER_LEN + body.len());
    file.extend_from_slice(&MAGIC);
    file.extend_from_slice(&FORMAT.to_le_bytes());
    file.extend_from_slice(&0_u16.to_le_bytes());
    file.extend_from_slice(&record.expires_at.as_unix_millis().to_le_bytes());
    file.extend_from_slice(&record.version.to_le_bytes());
    file.extend_from_slice(&len.to_le_bytes());
    file.extend_from_slice(&body);
    Ok(file)
}

/// A whole file of a format this build reads: its record. `Ok(None)` for a newer format.
pub(crate) fn decode(bytes: &[u8]) -> Result<Option<(Head, Record)>, FormatError> {
    let head = Head::parse(bytes)?;
    let Some((version, body_len)) = head.current else {
        return Ok(None);
    };
    let needed = HEADER_LEN + body_len as usize;
    let body = bytes
        .get(HEADER_LEN..needed)
        .ok_or(FormatError::Truncated {
            len: bytes.len(),
            needed,
        })?;
    if bytes.len() > needed {
        return Err(FormatError::TrailingBytes {
            extra: bytes.len() - needed,
        });
    }
    let record: Record = serde_json::from_slice(body).map_err(FormatError::Json)?;
    if record.expires_at != head.expires_at {
        return Err(FormatError::HeaderMismatch("expires_at"));
    }
    if record.version != version {
        return Err(FormatError::HeaderMismatch("version"));
    }
    Ok(Some((head, record)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> Record {
        let mut record = Record::new(
            Timestamp::from_unix_millis(1_000),
            Timestamp::from_unix_millis(-5),
        );
        record.data.insert("user".into(), "ada".into());
        record.version = u64::MAX;
        record
    }

    #[test]
    fn round_trip_and_layout() -> Result<(), Box<dyn std::error::Error>> {
        let bytes = encode(&record())?;
        assert_eq!(&bytes[..8], b"\x89SES\x01\x00\x00\x00");
        assert_eq!(&bytes[8..16], &(-5_i64).to_le_bytes());
        let (head, decoded) = decode(&bytes)?.ok_or("format 1 decodes")?;
        assert_eq!(decoded, record());
        assert_eq!(head.version(), Some(u64::MAX));
        assert!(!head.is_live(Timestamp::from_unix_millis(-5)));
        assert!(head.is_live(Timestamp::from_unix_millis(-6)));
        Ok(())
    }

    #[test]
    fn damage_is_typed() -> Result<(), Box<dyn std::error::Error>> {
        let bytes = encode(&record())?;
        for cut in [0, 3, 15, 27, bytes.len() - 1] {
            assert!(decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut longer = bytes.clone();
        longer.push(b' ');
        assert!(matches!(
            decode(&longer),
            Err(FormatError::TrailingBytes { extra: 1 })
        ));
        let mut magic = bytes.clone();
        magic[0] = b'{';
        assert!(matches!(decode(&magic), Err(FormatError::BadMagic)));
        let mut version = bytes.clone();
        version[16] ^= 1;
        assert!(matches!(
            decode(&version),
            Err(FormatError::HeaderMismatch("version"))
        ));
        let mut newer = bytes;
        newer[4] = 2;
        assert_eq!(decode(&newer)?, None);
        assert_eq!(Head::parse(&newer[..STABLE_LEN])?.format, 2);
        Ok(())
    }
}
