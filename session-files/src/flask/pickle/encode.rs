//! Pickle protocol 5, byte for byte as CPython's `pickle.dump` writes it (cachelib uses
//! `pickle.HIGHEST_PROTOCOL`, 5 since Python 3.8).
//!
//! What CPython does and this mirrors: `PROTO 5`; frames (`FRAME` + 8-byte length) cut at
//! the start of the first value written once a frame holds 64 KiB, a frame under 4 bytes
//! written bare, and a string or bytes payload of 64 KiB or more written outside any
//! frame; the shortest integer opcode (`BININT1`, `BININT2`, `BININT`, else `LONG1`/`LONG4`
//! with the fewest two's-complement bytes); `SHORT_BINUNICODE`/`BINUNICODE`/`BINUNICODE8`;
//! `MEMOIZE` after every string, bytes, tuple, list, dict and set; `APPEND` for a
//! one-item list, `SETITEM` for a one-item dict, else batches of 1000 (`MARK` …
//! `APPENDS`/`SETITEMS`, a dict with a multiple of 1000 items ending in an empty batch, as
//! CPython's loop does).
//!
//! The one thing a writer cannot know is which values CPython would hold as one object
//! (pickled once, then referenced with `BINGET`): here every value is its own object,
//! except the ones CPython itself shares, the empty string and the one-character strings
//! below U+0100 (and the empty and one-byte `bytes`). A session CPython builds from fresh
//! values pickles to the same bytes.

use std::collections::HashMap;

use num_bigint::BigInt;
use serde_json::Value as Json;
use serde_pickle::{HashableValue, Value as Py};

use super::scan::MAX_DEPTH;
use super::EncodeError;

const FRAME_SIZE_TARGET: usize = 64 * 1024;
const FRAME_SIZE_MIN: usize = 4;
const FRAME_HEADER: usize = 9;
const BATCH: usize = 1000;

/// Writes one pickle.
pub(crate) struct Encoder {
    out: Vec<u8>,
    framing: bool,
    frame_start: Option<usize>,
    memo_len: u32,
    /// Memo ids of the strings (and bytes) CPython shares, by content.
    shared_str: HashMap<String, u32>,
    shared_bytes: HashMap<Vec<u8>, u32>,
    depth: usize,
}

/// The pickle of what `save` writes.
pub(crate) fn dump(
    save: impl FnOnce(&mut Encoder) -> Result<(), EncodeError>,
) -> Result<Vec<u8>, EncodeError> {
    let mut encoder = Encoder {
        out: vec![0x80, 5],
        framing: true,
        frame_start: None,
        memo_len: 0,
        shared_str: HashMap::new(),
        shared_bytes: HashMap::new(),
        depth: 0,
    };
    save(&mut encoder)?;
    encoder.write(b".");
    encoder.commit_frame();
    Ok(encoder.out)
}

impl Encoder {
    fn write(&mut self, bytes: &[u8]) {
        if self.framing && self.frame_start.is_none() {
            self.frame_start = Some(self.out.len());
            self.out.extend_from_slice(&[0; FRAME_HEADER]);
        }
        self.out.extend_from_slice(bytes);
    }

    fn commit_frame(&mut self) {
        let Some(start) = self.frame_start.take() else {
            return;
        };
        let len = self.out.len() - start - FRAME_HEADER;
        if len >= FRAME_SIZE_MIN {
            self.out[start] = 0x95;
            self.out[start + 1..start + FRAME_HEADER].copy_from_slice(&(len as u64).to_le_bytes());
        } else {
            self.out.drain(start..start + FRAME_HEADER);
        }
    }

    /// Where CPython's `save` starts: a full frame is committed before the next value.
    fn begin(&mut self) {
        if let Some(start) = self.frame_start {
            if self.out.len() - start - FRAME_HEADER >= FRAME_SIZE_TARGET {
                self.commit_frame();
            }
        }
    }

    /// An opcode with a string or bytes payload; a large payload goes outside the frames.
    fn write_payload(&mut self, header: &[u8], payload: &[u8]) {
        if self.framing && payload.len() >= FRAME_SIZE_TARGET {
            self.commit_frame();
            self.framing = false;
            self.write(header);
            self.write(payload);
            self.framing = true;
        } else {
            self.write(header);
            self.write(payload);
        }
    }

    fn memoize(&mut self) -> u32 {
        self.write(&[0x94]);
        self.memo_len += 1;
        self.memo_len - 1
    }

    fn memo_get(&mut self, id: u32) {
        match u8::try_from(id) {
            Ok(id) => self.write(&[b'h', id]),
            Err(_) => {
                self.write(b"j");
                self.write(&id.to_le_bytes());
            }
        }
    }

    fn nest(&mut self) -> Result<(), EncodeError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(EncodeError::TooDeep { limit: MAX_DEPTH });
        }
        Ok(())
    }

    pub(crate) fn save_none(&mut self) {
        self.begin();
        self.write(b"N");
    }

    pub(crate) fn save_bool(&mut self, value: bool) {
        self.begin();
        self.write(if value { &[0x88] } else { &[0x89] });
    }

    pub(crate) fn save_int(&mut self, value: i64) {
        self.begin();
        match (
            u8::try_from(value),
            u16::try_from(value),
            i32::try_from(value),
        ) {
            (Ok(byte), _, _) => self.write(&[b'K', byte]),
            (_, Ok(short), _) => {
                self.write(b"M");
                self.write(&short.to_le_bytes());
            }
            (_, _, Ok(int)) => {
                self.write(b"J");
                self.write(&int.to_le_bytes());
            }
            _ => self.write_long(&BigInt::from(value).to_signed_bytes_le()),
        }
    }

    pub(crate) fn save_big(&mut self, value: &BigInt) {
        match i64::try_from(value) {
            Ok(small) => self.save_int(small),
            Err(_) => {
                self.begin();
                self.write_long(&value.to_signed_bytes_le());
            }
        }
    }

    fn write_long(&mut self, bytes: &[u8]) {
        match u8::try_from(bytes.len()) {
            Ok(len) => self.write(&[0x8a, len]),
            Err(_) => {
                self.write(&[0x8b]);
                self.write(&(bytes.len() as u32).to_le_bytes());
            }
        }
        self.write(bytes);
    }

    pub(crate) fn save_float(&mut self, value: f64) {
        self.begin();
        self.write(b"G");
        self.write(&value.to_be_bytes());
    }

    pub(crate) fn save_str(&mut self, value: &str) {
        self.begin();
        let mut chars = value.chars();
        let shared = match (chars.next(), chars.next()) {
            (None, _) => true,
            (Some(c), None) => u32::from(c) < 0x100,
            _ => false,
        };
        if shared {
            if let Some(id) = self.shared_str.get(value) {
                return self.memo_get(*id);
            }
        }
        let bytes = value.as_bytes();
        match (u8::try_from(bytes.len()), u32::try_from(bytes.len())) {
            (Ok(len), _) => self.write_payload(&[0x8c, len], bytes),
            (_, Ok(len)) => {
                let mut header = vec![b'X'];
                header.extend_from_slice(&len.to_le_bytes());
                self.write_payload(&header, bytes);
            }
            _ => {
                let mut header = vec![0x8d];
                header.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
                self.write_payload(&header, bytes);
            }
        }
        let id = self.memoize();
        if shared {
            self.shared_str.insert(value.to_owned(), id);
        }
    }

    pub(crate) fn save_bytes(&mut self, value: &[u8]) {
        self.begin();
        let shared = value.len() <= 1;
        if shared {
            if let Some(id) = self.shared_bytes.get(value) {
                return self.memo_get(*id);
            }
        }
        match (u8::try_from(value.len()), u32::try_from(value.len())) {
            (Ok(len), _) => self.write_payload(&[b'C', len], value),
            (_, Ok(len)) => {
                let mut header = vec![b'B'];
                header.extend_from_slice(&len.to_le_bytes());
                self.write_payload(&header, value);
            }
            _ => {
                let mut header = vec![0x8e];
                header.extend_from_slice(&(value.len() as u64).to_le_bytes());
                self.write_payload(&header, value);
            }
        }
        let id = self.memoize();
        if shared {
            self.shared_bytes.insert(value.to_owned(), id);
        }
    }

    pub(crate) fn save_tuple<T>(
        &mut self,
        items: &[T],
        mut save: impl FnMut(&mut Self, &T) -> Result<(), EncodeError>,
    ) -> Result<(), EncodeError> {
        self.begin();
        if items.is_empty() {
            self.write(b")");
            return Ok(());
        }
        self.nest()?;
        if items.len() > 3 {
            self.write(b"(");
        }
        for item in items {
            save(self, item)?;
        }
        match items.len() {
            1 => self.write(&[0x85]),
            2 => self.write(&[0x86]),
            3 => self.write(&[0x87]),
            _ => self.write(b"t"),
        }
        self.memoize();
        self.depth -= 1;
        Ok(())
    }

    pub(crate) fn save_list<T>(
        &mut self,
        items: &[T],
        mut save: impl FnMut(&mut Self, &T) -> Result<(), EncodeError>,
    ) -> Result<(), EncodeError> {
        self.begin();
        self.nest()?;
        self.write(b"]");
        self.memoize();
        if let [item] = items {
            save(self, item)?;
            self.write(b"a");
        } else if !items.is_empty() {
            for batch in items.chunks(BATCH) {
                self.write(b"(");
                for item in batch {
                    save(self, item)?;
                }
                self.write(b"e");
            }
        }
        self.depth -= 1;
        Ok(())
    }

    /// A dict of `len` items that `save` writes, key then value, for each index.
    pub(crate) fn save_dict(
        &mut self,
        len: usize,
        mut save: impl FnMut(&mut Self, usize) -> Result<(), EncodeError>,
    ) -> Result<(), EncodeError> {
        self.begin();
        self.nest()?;
        self.write(b"}");
        self.memoize();
        if len == 1 {
            save(self, 0)?;
            self.write(b"s");
        } else if len > 1 {
            self.batches(len, b"u", &mut save)?;
        }
        self.depth -= 1;
        Ok(())
    }

    /// CPython's dict and set loop: batches of [`BATCH`], and one more (empty) after a
    /// full one.
    fn batches(
        &mut self,
        len: usize,
        close: &[u8],
        save: &mut impl FnMut(&mut Self, usize) -> Result<(), EncodeError>,
    ) -> Result<(), EncodeError> {
        let mut index = 0;
        loop {
            self.write(b"(");
            let end = (index + BATCH).min(len);
            let full = end - index == BATCH;
            while index < end {
                save(self, index)?;
                index += 1;
            }
            self.write(close);
            if !full {
                return Ok(());
            }
        }
    }

    fn save_set(&mut self, items: &[&HashableValue], frozen: bool) -> Result<(), EncodeError> {
        self.begin();
        self.nest()?;
        if frozen {
            self.write(b"(");
            for item in items {
                self.save_hashable(item)?;
            }
            self.write(&[0x91]);
            self.memoize();
        } else {
            self.write(&[0x8f]);
            self.memoize();
            if !items.is_empty() {
                self.batches(items.len(), &[0x90], &mut |encoder, index| {
                    encoder.save_hashable(items[index])
                })?;
            }
        }
        self.depth -= 1;
        Ok(())
    }

    /// A JSON value: `null`, booleans, integers, floats, strings, lists, dicts (in the
    /// map's key order).
    pub(crate) fn save_json(&mut self, value: &Json) -> Result<(), EncodeError> {
        match value {
            Json::Null => self.save_none(),
            Json::Bool(value) => self.save_bool(*value),
            Json::Number(number) => match (number.as_i64(), number.as_u64(), number.as_f64()) {
                (Some(int), _, _) => self.save_int(int),
                (None, Some(unsigned), _) => self.save_big(&BigInt::from(unsigned)),
                (None, None, Some(float)) => self.save_float(float),
                (None, None, None) => return Err(EncodeError::Number),
            },
            Json::String(text) => self.save_str(text),
            Json::Array(items) => self.save_list(items, Self::save_json)?,
            Json::Object(map) => {
                let entries: Vec<(&String, &Json)> = map.iter().collect();
                self.save_dict(entries.len(), |encoder, index| {
                    let (key, value) = entries[index];
                    encoder.save_str(key);
                    encoder.save_json(value)
                })?;
            }
        }
        Ok(())
    }

    /// Flask's flashes: a list of `(category, message)` tuples, which JSON holds as
    /// two-item arrays.
    pub(crate) fn save_flashes(&mut self, value: &Json) -> Result<(), EncodeError> {
        let Json::Array(flashes) = value else {
            return self.save_json(value);
        };
        self.save_list(flashes, |encoder, flash| match flash {
            Json::Array(pair) if pair.len() == 2 => encoder.save_tuple(pair, Self::save_json),
            other => encoder.save_json(other),
        })
    }

    /// A value decoded from a Flask-Session file, written back as it was.
    pub(crate) fn save_value(&mut self, value: &Py) -> Result<(), EncodeError> {
        match value {
            Py::None => self.save_none(),
            Py::Bool(value) => self.save_bool(*value),
            Py::I64(value) => self.save_int(*value),
            Py::Int(value) => self.save_big(value),
            Py::F64(value) => self.save_float(*value),
            Py::Bytes(value) => self.save_bytes(value),
            Py::String(value) => self.save_str(value),
            Py::List(items) => self.save_list(items, Self::save_value)?,
            Py::Tuple(items) => self.save_tuple(items, Self::save_value)?,
            Py::Set(items) => self.save_set(&items.iter().collect::<Vec<_>>(), false)?,
            Py::FrozenSet(items) => self.save_set(&items.iter().collect::<Vec<_>>(), true)?,
            Py::Dict(map) => {
                let entries: Vec<_> = map.iter().collect();
                self.save_dict(entries.len(), |encoder, index| {
                    let (key, value) = entries[index];
                    encoder.save_hashable(key)?;
                    encoder.save_value(value)
                })?;
            }
        }
        Ok(())
    }

    pub(crate) fn save_hashable(&mut self, value: &HashableValue) -> Result<(), EncodeError> {
        match value {
            HashableValue::None => self.save_none(),
            HashableValue::Bool(value) => self.save_bool(*value),
            HashableValue::I64(value) => self.save_int(*value),
            HashableValue::Int(value) => self.save_big(value),
            HashableValue::F64(value) => self.save_float(*value),
            HashableValue::Bytes(value) => self.save_bytes(value),
            HashableValue::String(value) => self.save_str(value),
            HashableValue::Tuple(items) => self.save_tuple(items, Self::save_hashable)?,
            HashableValue::FrozenSet(items) => {
                self.save_set(&items.iter().collect::<Vec<_>>(), true)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn pickle(value: &Json) -> Vec<u8> {
        dump(|encoder| encoder.save_json(value)).expect("encodes")
    }

    /// Bytes from CPython 3.11's `pickle.dumps(value, 5)`.
    #[test]
    fn small_values_match_cpython() {
        assert_eq!(pickle(&json!(3)), b"\x80\x05K\x03.");
        assert_eq!(
            pickle(&json!(300)),
            b"\x80\x05\x95\x04\x00\x00\x00\x00\x00\x00\x00M,\x01."
        );
        assert_eq!(
            pickle(&json!({"a": 1})),
            b"\x80\x05\x95\n\x00\x00\x00\x00\x00\x00\x00}\x94\x8c\x01a\x94K\x01s."
        );
        // A one-character string is one object in CPython: pickled once, then referenced.
        assert_eq!(
            pickle(&json!(["a", "a"])),
            b"\x80\x05\x95\x0b\x00\x00\x00\x00\x00\x00\x00]\x94(\x8c\x01a\x94h\x01e."
        );
    }

    #[test]
    fn integers_take_the_shortest_opcode() {
        let int = |value: i64| pickle(&json!(value))[2..].to_vec();
        assert_eq!(int(255), b"K\xff.");
        assert_eq!(int(-1)[9..], *b"J\xff\xff\xff\xff.");
        assert_eq!(int(1 << 31)[9..], *b"\x8a\x05\x00\x00\x00\x80\x00.");
        assert_eq!(
            int(i64::MIN)[9..],
            *b"\x8a\x08\x00\x00\x00\x00\x00\x00\x00\x80."
        );
    }

    #[test]
    fn nesting_is_bounded() {
        let mut value = json!(1);
        for _ in 0..=MAX_DEPTH {
            value = json!([value]);
        }
        assert!(matches!(
            dump(|encoder| encoder.save_json(&value)),
            Err(EncodeError::TooDeep { .. })
        ));
    }
}
