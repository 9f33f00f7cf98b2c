//! cachelib's `FileSystemCache` layout: file names, the expiry header, the count file.

use md5::Md5;
use sha2::{Digest as _, Sha256};

use super::pickle::{self, dump};
use crate::native::hex;

/// The file name of the count file: the digest of this key.
const COUNT_KEY: &str = "__wz_cache_count";
/// What cachelib appends to its temporary files, and skips when it lists or counts its
/// entries; the lock file ends the same way, so cachelib never counts or prunes it.
pub(crate) const CACHELIB_SUFFIX: &str = ".__wz_cache";
/// The lock file of a Flask-Session directory.
pub(crate) const LOCK_NAME: &str = "session-files.lock.__wz_cache";

/// The hash cachelib names its files with (`FileSystemCache(hash_method=...)`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum FilenameDigest {
    /// SHA-256, cachelib 0.16 and later (what `pip install flask-session` brings today).
    #[default]
    Sha256,
    /// MD5, cachelib 0.15 and earlier.
    Md5,
}

/// Where and how a Flask app keeps its filesystem sessions, beyond the directory.
///
/// | setting | default | Flask-Session / cachelib |
/// |---|---|---|
/// | [`digest`](Self::with_digest) | SHA-256 | `hashlib.sha256` from cachelib 0.16 on, MD5 before |
/// | [`key_prefix`](Self::with_key_prefix) | `session:` | `SESSION_KEY_PREFIX` |
/// | [`count_file`](Self::with_count_file) | kept | `SESSION_FILE_THRESHOLD` > 0 (500 by default) |
///
/// # Examples
///
/// ```
/// use session_files::{FilenameDigest, FlaskSessionFormat};
///
/// // An app on cachelib 0.15 (MD5 names) with its own prefix.
/// let format = FlaskSessionFormat::default()
///     .with_digest(FilenameDigest::Md5)
///     .with_key_prefix("myapp:");
/// assert_eq!(format.key_prefix(), "myapp:");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlaskSessionFormat {
    digest: FilenameDigest,
    key_prefix: String,
    count_file: bool,
}

impl Default for FlaskSessionFormat {
    fn default() -> Self {
        Self {
            digest: FilenameDigest::Sha256,
            key_prefix: "session:".to_owned(),
            count_file: true,
        }
    }
}

impl FlaskSessionFormat {
    /// The hash of file names; SHA-256 by default, [`FilenameDigest::Md5`] for cachelib
    /// 0.15 and earlier.
    pub fn with_digest(mut self, digest: FilenameDigest) -> Self {
        self.digest = digest;
        self
    }

    /// Flask-Session's `SESSION_KEY_PREFIX`, `session:` by default.
    pub fn with_key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.key_prefix = prefix.into();
        self
    }

    /// Whether cachelib's count file (the number of entries, which cachelib compares with
    /// `SESSION_FILE_THRESHOLD` to decide when to prune) is kept up to date; on by
    /// default. Turn it off only for an app with `SESSION_FILE_THRESHOLD = 0`, which keeps
    /// no count.
    pub fn with_count_file(mut self, keep: bool) -> Self {
        self.count_file = keep;
        self
    }

    /// The hash of file names.
    pub fn digest(&self) -> FilenameDigest {
        self.digest
    }

    /// The key prefix.
    pub fn key_prefix(&self) -> &str {
        &self.key_prefix
    }

    /// Whether the count file is kept.
    pub fn keeps_count_file(&self) -> bool {
        self.count_file
    }

    /// cachelib's file name for the cache key `key`: its hex digest.
    pub(crate) fn name_of(&self, key: &str) -> String {
        match self.digest {
            FilenameDigest::Sha256 => hex(&Sha256::digest(key.as_bytes())),
            FilenameDigest::Md5 => hex(&Md5::digest(key.as_bytes())),
        }
    }

    /// The file of the session `sid`: the digest of the prefix and the sid.
    pub(crate) fn session_name(&self, sid: &str) -> String {
        self.name_of(&format!("{}{sid}", self.key_prefix))
    }

    pub(crate) fn count_name(&self) -> String {
        self.name_of(COUNT_KEY)
    }

    /// Whether `name` is one of cachelib's entries (not its count file, not a temporary
    /// file, not the lock).
    pub(crate) fn is_entry_name(&self, name: &str) -> bool {
        let len = match self.digest {
            FilenameDigest::Sha256 => 64,
            FilenameDigest::Md5 => 32,
        };
        name.len() == len
            && name
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            && name != self.count_name()
    }
}

/// The expiry header: the first 4 bytes, a native-endian `u32` of Unix seconds (0:
/// never), as `struct.pack("I", ...)` writes it.
pub(crate) fn expiry(file: &[u8]) -> Option<u32> {
    let header: [u8; 4] = file.get(..4)?.try_into().ok()?;
    Some(u32::from_ne_bytes(header))
}

/// The header for a deadline in Unix milliseconds: whole seconds rounded up (a session
/// never ends early on the Flask side), at least 1 (0 would mean "never"), at most
/// `u32::MAX`.
pub(crate) fn header_for(deadline_ms: i64) -> [u8; 4] {
    let secs = deadline_ms.div_euclid(1000) + i64::from(deadline_ms.rem_euclid(1000) != 0);
    let secs = u32::try_from(secs.max(1)).unwrap_or(u32::MAX);
    secs.to_ne_bytes()
}

/// The count file's number: what `cachelib` would read (`self.get(count) or 0`).
pub(crate) fn read_count(file: Option<&[u8]>) -> i64 {
    let Some(pickled) = file.and_then(|file| file.get(4..)) else {
        return 0;
    };
    pickle::decode_int(pickled).unwrap_or_default()
}

/// The count file holding `count`: no expiry, then the pickled integer.
pub(crate) fn count_file(count: i64) -> Vec<u8> {
    let mut file = 0_u32.to_ne_bytes().to_vec();
    // Encoding an integer cannot fail.
    if let Ok(pickled) = dump(|encoder| {
        encoder.save_int(count);
        Ok(())
    }) {
        file.extend_from_slice(&pickled);
    }
    file
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_cachelib_digests() {
        let format = FlaskSessionFormat::default();
        // hashlib.sha256(b"__wz_cache_count").hexdigest()
        assert_eq!(
            format.count_name(),
            "79bc207ee04a581ab2348ca1f3494e64cd0ec36128735b8c6bc85ddd8fe1938c"
        );
        assert!(!format.is_entry_name(&format.count_name()));
        assert!(format.is_entry_name(&format.session_name("x")));
        let md5 = format.with_digest(FilenameDigest::Md5);
        // hashlib.md5(b"session:abc").hexdigest()
        assert_eq!(md5.session_name("abc"), "32607b0dcb9d5a58fbe913b473137833");
        assert!(!md5.is_entry_name(&"0".repeat(64)));
    }

    #[test]
    fn headers_round_up_to_whole_seconds() {
        assert_eq!(header_for(5_000), 5_u32.to_ne_bytes());
        assert_eq!(header_for(5_001), 6_u32.to_ne_bytes());
        assert_eq!(header_for(-3), 1_u32.to_ne_bytes());
        assert_eq!(header_for(i64::MAX), u32::MAX.to_ne_bytes());
        assert_eq!(expiry(&header_for(7_000)), Some(7));
        assert_eq!(expiry(b"abc"), None);
    }

    #[test]
    fn the_count_file_is_what_cachelib_writes() {
        assert_eq!(count_file(3), b"\x00\x00\x00\x00\x80\x05K\x03.");
        assert_eq!(read_count(Some(&count_file(-2))), -2);
        assert_eq!(read_count(Some(b"\x00\x00\x00\x00garbage")), 0);
        assert_eq!(read_count(None), 0);
    }
}
