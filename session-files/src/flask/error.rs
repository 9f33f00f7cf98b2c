//! Why a Flask-Session file cannot be read on the Rust side.

/// Why a Flask-Session file cannot be read here. The file is left as it is: it belongs to
/// the Flask app, which may well read it.
///
/// Values a pickle can only express as objects are refused by name: a `datetime`
/// (`REDUCE`), `Markup` (`NEWOBJ`), any class (`GLOBAL`, `STACK_GLOBAL`). Nothing in a
/// pickle is ever executed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FlaskFileError {
    /// The file is shorter than cachelib's 4-byte expiry header.
    #[error("the file is {len} bytes, shorter than cachelib's 4-byte expiry header")]
    NoHeader {
        /// The file's length.
        len: usize,
    },
    /// The pickle names or builds an object (a `datetime`, `Markup`, a class instance):
    /// refused, never executed.
    #[error(
        "the pickle builds a Python object (opcode {opcode} at byte {offset}: a datetime, \
         Markup or class instance), which is refused, never executed; store plain values \
         (str, int, float, bool, None, list, dict) in a session both sides read"
    )]
    Object {
        /// The opcode's name, such as `STACK_GLOBAL` or `REDUCE`.
        opcode: &'static str,
        /// Its offset in the pickle.
        offset: usize,
    },
    /// The pickle holds a value whose type could not be written back as it is (a
    /// `bytearray`).
    #[error("the pickle holds a value this store cannot keep as it is (opcode {opcode} at byte {offset})")]
    Unsupported {
        /// The opcode's name.
        opcode: &'static str,
        /// Its offset in the pickle.
        offset: usize,
    },
    /// A byte that is no pickle opcode.
    #[error("byte {offset} of the pickle, 0x{code:02x}, is no pickle opcode")]
    UnknownOpcode {
        /// The byte.
        code: u8,
        /// Its offset.
        offset: usize,
    },
    /// The pickle ends in the middle of an opcode, or before its `STOP`.
    #[error("the pickle ends early, in the opcode at byte {offset}")]
    Truncated {
        /// Where the cut opcode starts.
        offset: usize,
    },
    /// Bytes follow the pickle's `STOP`.
    #[error("bytes follow the end of the pickle, from byte {offset}")]
    TrailingBytes {
        /// Where they start.
        offset: usize,
    },
    /// An opcode that does not fit what the stack holds.
    #[error("the pickle is malformed at byte {offset} ({opcode}: {why})")]
    Malformed {
        /// The opcode's name.
        opcode: &'static str,
        /// Its offset.
        offset: usize,
        /// What is wrong.
        why: &'static str,
    },
    /// The pickle nests deeper than this store follows.
    #[error("the pickle nests deeper than {limit} levels")]
    TooDeep {
        /// The limit.
        limit: usize,
    },
    /// The pickle expands to more values than this store reads (a small file can share one
    /// list many times over).
    #[error("the pickle expands to more than {limit} values")]
    TooBig {
        /// The limit.
        limit: u64,
    },
    /// A value contains itself.
    #[error("the pickle holds a value that contains itself")]
    Recursive,
    /// `serde-pickle` could not decode it.
    #[error("the pickle does not decode: {0}")]
    Pickle(#[source] serde_pickle::Error),
    /// The pickle holds something other than a dict.
    #[error("the pickle is not a dict")]
    NotADict,
}
