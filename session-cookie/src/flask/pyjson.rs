//! JSON text exactly as Python's `json.dumps(obj, separators=(",", ":"),
//! sort_keys=True, ensure_ascii=True)` writes it, which is what Flask's
//! `TaggedJSONSerializer.dumps` produces inside a request.
//!
//! Differences from `serde_json::to_string` this takes care of:
//!
//! * object keys sorted by code point, whatever `serde_json::Map`'s order;
//! * every character outside printable ASCII escaped as `\uXXXX` (lowercase
//!   hex, UTF-16 surrogate pairs for astral characters), `\b \f \n \r \t`
//!   as short escapes, `/` not escaped;
//! * floats formatted like Python's `repr(float)` (`1.0`, `1e+16`, `1e-05`).

use serde_json::{Map, Number, Value};

/// Serializes `value` the way Python's `json.dumps` does (see module docs).
pub(crate) fn dumps(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value);
    out
}

/// Appends the Python-compatible JSON text of `value` to `out`.
pub(crate) fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => write_number(out, n),
        Value::String(s) => write_str(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => write_object(out, map),
    }
}

fn write_object(out: &mut String, map: &Map<String, Value>) {
    let mut entries: Vec<(&String, &Value)> = map.iter().collect();
    entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
    out.push('{');
    for (i, (key, value)) in entries.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_str(out, key);
        out.push(':');
        write_value(out, value);
    }
    out.push('}');
}

/// Appends `s` as a JSON string literal with `ensure_ascii` escaping.
pub(crate) fn write_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    push_unicode_escape(out, *unit);
                }
            }
        }
    }
    out.push('"');
}

fn push_unicode_escape(out: &mut String, unit: u16) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push_str("\\u");
    for shift in [12u16, 8, 4, 0] {
        out.push(char::from(HEX[usize::from((unit >> shift) & 0xf)]));
    }
}

fn write_number(out: &mut String, n: &Number) {
    if let Some(i) = n.as_i64() {
        out.push_str(&i.to_string());
    } else if let Some(u) = n.as_u64() {
        out.push_str(&u.to_string());
    } else if let Some(f) = n.as_f64() {
        write_float(out, f);
    } else {
        out.push_str(&n.to_string());
    }
}

/// Python's `float.__repr__` (shortest round-trip digits; scientific
/// notation when the decimal exponent is < -4 or >= 16).
pub(crate) fn write_float(out: &mut String, f: f64) {
    if f.is_nan() {
        out.push_str("NaN");
        return;
    }
    if f.is_infinite() {
        out.push_str(if f > 0.0 { "Infinity" } else { "-Infinity" });
        return;
    }
    // `{:e}` gives the shortest round-trip digits: "-1.2345e-7", "0e0".
    let sci = format!("{f:e}");
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let (negative, mantissa) = match mantissa.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    if negative {
        out.push('-');
    }
    // Python's decpt: value = 0.DIGITS * 10^decpt.
    let decpt = exponent + 1;
    let ndigits = i32::try_from(digits.len()).unwrap_or(i32::MAX);
    if decpt <= -4 || decpt > 16 {
        let (first, rest) = digits.split_at(1.min(digits.len()));
        out.push_str(first);
        if !rest.is_empty() {
            out.push('.');
            out.push_str(rest);
        }
        out.push_str(&format!("e{exponent:+03}"));
    } else if decpt <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n(
            '0',
            usize::try_from(-decpt).unwrap_or(0),
        ));
        out.push_str(&digits);
    } else if decpt >= ndigits {
        out.push_str(&digits);
        out.extend(std::iter::repeat_n(
            '0',
            usize::try_from(decpt - ndigits).unwrap_or(0),
        ));
        out.push_str(".0");
    } else {
        let (int_part, frac_part) = digits.split_at(usize::try_from(decpt).unwrap_or(0));
        out.push_str(int_part);
        out.push('.');
        out.push_str(frac_part);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn float(f: f64) -> String {
        let mut s = String::new();
        write_float(&mut s, f);
        s
    }

    #[test]
    fn floats_match_python_repr() {
        let cases = [
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1.0, "1.0"),
            (0.1, "0.1"),
            (1.5, "1.5"),
            (100.0, "100.0"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1e15, "1000000000000000.0"),
            (1e16, "1e+16"),
            (1.5e16, "1.5e+16"),
            (123456789.125, "123456789.125"),
            (1e300, "1e+300"),
            (5e-324, "5e-324"),
            (-2.5e-7, "-2.5e-07"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
        ];
        for (value, expected) in cases {
            assert_eq!(float(value), expected, "{value:e}");
        }
    }

    #[test]
    fn strings_escape_like_ensure_ascii() {
        let s = "a\"\\/\n\r\t\u{8}\u{c}\u{0}\u{1f}\u{7f}é\u{2028}😀";
        let mut out = String::new();
        write_str(&mut out, s);
        assert_eq!(
            out,
            r#""a\"\\/\n\r\t\b\f\u0000\u001f\u007f\u00e9\u2028\ud83d\ude00""#
        );
    }

    #[test]
    fn objects_are_sorted_and_compact() {
        let v = json!({"b": [1, 2.5, null, true], "a": {"z": "x", "é": false, "A": {}}});
        assert_eq!(
            dumps(&v),
            r#"{"a":{"A":{},"z":"x","\u00e9":false},"b":[1,2.5,null,true]}"#
        );
    }
}
