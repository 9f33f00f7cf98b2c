//! Finding the session cookie in raw `Cookie` header bytes.

/// The value of the cookie `name` in `Cookie` header values given as raw bytes, if any.
///
/// Written by hand rather than with the `cookie` crate's parser because that parser takes
/// `&str`: a header holding one non-UTF-8 byte in some *other* cookie (`theme=café` sent
/// as Latin-1) would have to be dropped whole, logging the visitor out. Here each
/// `name=value` pair is judged alone; only the session cookie's own value must be UTF-8
/// (session cookie values are ASCII).
pub(crate) fn find<'a>(name: &str, headers: impl IntoIterator<Item = &'a [u8]>) -> Option<String> {
    headers
        .into_iter()
        .flat_map(pairs)
        .filter_map(|pair| {
            let pair = pair.trim_ascii();
            let at = memchr::memchr(b'=', pair)?;
            let (key, value) = (pair[..at].trim_ascii(), pair[at + 1..].trim_ascii());
            (key == name.as_bytes()).then_some(value)
        })
        .find_map(|value| std::str::from_utf8(value).ok().map(str::to_owned))
}

/// The `;`-separated pairs of one header, found with `memchr`: the session cookie's value
/// is most of the header, and a byte-at-a-time split cost more than the rest of the search.
fn pairs(header: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut start = 0;
    memchr::memchr_iter(b';', header)
        .chain(std::iter::once(header.len()))
        .map(move |end| {
            let pair = &header[start..end];
            start = end + 1;
            pair
        })
}

#[cfg(test)]
mod tests {
    use super::find;

    #[test]
    fn finds_the_cookie_among_others() {
        let headers: [&[u8]; 2] = [b"theme=dark; lang=en", b"a=1;session=abc.def ; b=2"];
        assert_eq!(find("session", headers).as_deref(), Some("abc.def"));
        assert_eq!(find("sess", headers), None);
        assert_eq!(find("session", [b"session_x=1".as_slice()]), None);
    }

    #[test]
    fn a_non_utf8_byte_in_another_cookie_does_not_hide_the_session() {
        let header: &[u8] = b"session=abc; theme=caf\xe9";
        assert_eq!(find("session", [header]).as_deref(), Some("abc"));
        let before: &[u8] = b"theme=caf\xe9; session=abc";
        assert_eq!(find("session", [before]).as_deref(), Some("abc"));
    }

    #[test]
    fn empty_pairs_and_stray_separators_are_skipped() {
        let header: &[u8] = b";;a=1;; session=abc;";
        assert_eq!(find("session", [header]).as_deref(), Some("abc"));
        assert_eq!(find("session", [b"".as_slice(), b";".as_slice()]), None);
        assert_eq!(
            find("session", [b"session=".as_slice()]).as_deref(),
            Some("")
        );
    }

    #[test]
    fn the_first_well_formed_session_cookie_wins() {
        let header: &[u8] = b"session=\xff\xfe; session=second";
        assert_eq!(find("session", [header]).as_deref(), Some("second"));
        assert_eq!(
            find("session", [b"session".as_slice(), b"=x".as_slice()]),
            None
        );
    }
}
