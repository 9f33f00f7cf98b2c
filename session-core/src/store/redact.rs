//! Store URLs fit for errors and logs: passwords hidden, whatever characters they hold.

use url::{form_urlencoded, Url};

/// What a hidden secret is shown as.
const HIDDEN: &str = "***";

/// A store URL with its password hidden, fit for an error message, a log line or a
/// startup banner.
///
/// - The password of `scheme://user:password@host` becomes `***`; the user name stays.
/// - Query parameters that carry secrets (`pass`, `password`, `token`, `secret`, `auth`,
///   `key`... as redis-rs reads `redis+unix:///path?pass=...`) become `***`.
/// - A password holding an unencoded `/`, `?`, `#` or `@` (which makes the URL ambiguous or
///   unparseable) is still hidden: nothing between `://` and the last `@` is shown but the
///   user name.
/// - Anything without a password (`sqlite://sessions.db`, `redis://127.0.0.1:6379`) comes
///   back unchanged.
///
/// # Examples
///
/// ```
/// use session_core::store::redact_url;
///
/// assert_eq!(redact_url("redis://ada:hunter2@127.0.0.1:6379/0"), "redis://ada:***@127.0.0.1:6379/0");
/// // An unencoded `/` in the password does not end the authority early.
/// assert_eq!(redact_url("redis://ada:hun/ter2@127.0.0.1:6379/0"), "redis://ada:***@127.0.0.1:6379/0");
/// assert_eq!(
///     redact_url("redis+unix:///run/redis.sock?db=0&pass=hunter2"),
///     "redis+unix:///run/redis.sock?db=0&pass=***"
/// );
/// assert_eq!(redact_url("sqlite:///var/lib/app/sessions.db"), "sqlite:///var/lib/app/sessions.db");
/// ```
pub fn redact_url(url: &str) -> String {
    let (prefix, rest) = match url.find("://") {
        Some(at) => url.split_at(at + 3),
        // `user:password@host` with no scheme: the userinfo starts the text.
        None if url.contains('@') => ("", url),
        None => return redact_parsed(url).unwrap_or_else(|| redact_query_text(url)),
    };
    if let Some(last_at) = rest.rfind('@') {
        let userinfo = &rest[..last_at];
        // An `@` after a `/`, `?` or `#` is outside the authority to a URL parser, which
        // would then read part of the password as host, port or path and print it: take
        // everything up to the last `@` as the userinfo instead.
        // (`\\` counts: parsers read it as `/` in `http`-like schemes.)
        let unambiguous = !prefix.is_empty() && !userinfo.contains(['/', '?', '#', '\\']);
        if unambiguous {
            if let Some(redacted) = redact_parsed(url) {
                return redacted;
            }
        }
        return match userinfo.split_once(':') {
            Some((user, _password)) => {
                // (A "user" holding a query is none: its secret parameters go too.)
                let user = redact_query_text(user);
                let host_and_rest = redact_query_text(&rest[last_at + 1..]);
                format!("{prefix}{user}:{HIDDEN}@{host_and_rest}")
            }
            // No `:`, so no password: a user name, or an `@` in a path or a query (whose
            // secret values may run past it).
            None => format!("{prefix}{}", redact_query_text(rest)),
        };
    }
    redact_parsed(url).unwrap_or_else(|| redact_query_text(url))
}

/// `url` parsed, its password and secret query parameters hidden; the text unchanged when
/// there was nothing to hide (no re-serialisation); `None` when it does not parse.
fn redact_parsed(url: &str) -> Option<String> {
    let mut parsed = Url::parse(url).ok()?;
    let mut changed = false;
    if parsed.password().is_some() {
        parsed.set_password(Some(HIDDEN)).ok()?;
        changed = true;
    }
    if parsed.query_pairs().any(|(name, _)| is_secret_param(&name)) {
        let pairs: Vec<(String, String)> = parsed
            .query_pairs()
            .map(|(name, value)| {
                let value = if is_secret_param(&name) {
                    HIDDEN.to_owned()
                } else {
                    value.into_owned()
                };
                (name.into_owned(), value)
            })
            .collect();
        parsed.query_pairs_mut().clear().extend_pairs(pairs);
        // An unencoded `#` in a secret value starts the fragment.
        if parsed.fragment().is_some() {
            parsed.set_fragment(Some(HIDDEN));
        }
        changed = true;
    }
    Some(if changed {
        parsed.into()
    } else {
        url.to_owned()
    })
}

/// `text` (the part after the userinfo, or a URL that does not parse) with the values of
/// secret query parameters hidden, without parsing anything else.
fn redact_query_text(text: &str) -> String {
    let Some((before, query_and_fragment)) = text.split_once('?') else {
        return text.to_owned();
    };
    let (query, fragment) = match query_and_fragment.split_once('#') {
        Some((query, fragment)) => (query, Some(fragment)),
        None => (query_and_fragment, None),
    };
    let mut secret = false;
    let query: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if is_secret_param(&decoded(name)) => {
                secret = true;
                format!("{name}={HIDDEN}")
            }
            _ => pair.to_owned(),
        })
        .collect();
    let mut out = format!("{before}?{}", query.join("&"));
    if let Some(fragment) = fragment {
        out.push('#');
        // An unencoded `#` in a secret value starts the fragment.
        out.push_str(if secret { HIDDEN } else { fragment });
    }
    out
}

/// A query parameter's name as a server reads it (`pa%73s` is `pass`).
fn decoded(name: &str) -> String {
    form_urlencoded::parse(name.as_bytes())
        .next()
        .map(|(name, _)| name.into_owned())
        .unwrap_or_default()
}

/// Whether a query parameter's name says it carries a secret.
fn is_secret_param(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    [
        "pass",
        "pwd",
        "secret",
        "token",
        "auth",
        "key",
        "credential",
    ]
    .iter()
    .any(|word| name.contains(word))
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_are_hidden_whatever_they_hold() {
        for (url, shown) in [
            ("redis://:hunter2@h:1/0", "redis://:***@h:1/0"),
            ("redis://ada:hunter2@h:1/0", "redis://ada:***@h:1/0"),
            ("rediss://ada:p@ss:w@h/2", "rediss://ada:***@h/2"),
            (
                "redis://user:hun/ter2@127.0.0.1:6399/0",
                "redis://user:***@127.0.0.1:6399/0",
            ),
            (
                "redis://user:hun?ter2@127.0.0.1:6399/0",
                "redis://user:***@127.0.0.1:6399/0",
            ),
            (
                "redis://user:hun#ter2@127.0.0.1:6399/0",
                "redis://user:***@127.0.0.1:6399/0",
            ),
            (
                "redis://user:hun@ter2@127.0.0.1:6399/0",
                "redis://user:***@127.0.0.1:6399/0",
            ),
            // Parses (host `user`, port 123, path `/ter2@...`), but the `@` says otherwise.
            (
                "redis://user:123/ter2@127.0.0.1:6399/0",
                "redis://user:***@127.0.0.1:6399/0",
            ),
            ("redis://:hun/ter2@127.0.0.1", "redis://:***@127.0.0.1"),
            (
                "redis://u:p/w@h/0?db=1&pass=x#f",
                "redis://u:***@h/0?db=1&pass=***#***",
            ),
            ("redis://h/0?db=1#f", "redis://h/0?db=1#f"),
            ("http://u:12\\w@h/", "http://u:***@h/"),
            // An unparseable port: the password is hidden all the same.
            ("redis://u:secret@h:99999", "redis://u:***@h:99999"),
            ("u:secret@h:6379", "u:***@h:6379"),
            // A parameter name is read percent-decoded, as the server reads it: by the
            // parser (a URL that parses is shown as the parser writes it), and by the text
            // path an ambiguous `@` takes (shown as written).
            ("redis://h/0?pa%73s=hunter2", "redis://h/0?pass=***"),
            ("redis://u:p/w@h/0?pa%73s=x", "redis://u:***@h/0?pa%73s=***"),
            ("HTTP://u:secret@Example.COM/", "http://u:***@example.com/"),
            // A user name alone is no secret.
            ("redis://ada@h:6379", "redis://ada@h:6379"),
            ("redis://127.0.0.1:6379", "redis://127.0.0.1:6379"),
            ("redis://[::1]:6379/0", "redis://[::1]:6379/0"),
            // Unix sockets: the password travels in the query.
            (
                "redis+unix:///tmp/r.sock?pass=hunter2",
                "redis+unix:///tmp/r.sock?pass=***",
            ),
            (
                "unix:///tmp/r.sock?db=1&user=ada&password=hun/ter2",
                "unix:///tmp/r.sock?db=1&user=ada&password=***",
            ),
            // SQLite paths, `@` and `:` included, are shown as they are.
            ("sqlite://sessions.db", "sqlite://sessions.db"),
            (
                "sqlite:///var/lib/app/sessions.db",
                "sqlite:///var/lib/app/sessions.db",
            ),
            ("sqlite::memory:", "sqlite::memory:"),
            (
                "redis+unix:///r.sock?pass=a@b&db=1",
                "redis+unix:///r.sock?pass=***&db=1",
            ),
            (
                "redis+unix:///r.sock?pass=a:b@c",
                "redis+unix:///r.sock?pass=***:***@c",
            ),
            (
                "sqlite:///tmp/ada@home/s.db?mode=rwc",
                "sqlite:///tmp/ada@home/s.db?mode=rwc",
            ),
            (
                "sqlite://sessions.db?mode=rwc",
                "sqlite://sessions.db?mode=rwc",
            ),
            ("not a url", "not a url"),
            ("", ""),
        ] {
            assert_eq!(redact_url(url), shown, "{url}");
        }
    }

    #[test]
    fn no_password_character_survives() {
        for password in [
            "hun/ter2",
            "hun?ter2",
            "hun#ter2",
            "hun@ter2",
            "hun:ter2",
            "hun%ter2",
            "hun\\ter2",
            "hun/@?#ter2",
        ] {
            for url in [
                format!("redis://ada:{password}@127.0.0.1:6379/0"),
                format!("redis://:{password}@127.0.0.1:6379"),
                format!("rediss://ada:{password}@[::1]:6379/0?db=0"),
                format!("redis+unix:///run/r.sock?pass={password}"),
            ] {
                let shown = redact_url(&url);
                assert!(!shown.contains("ter2"), "{url} -> {shown}");
            }
        }
    }
}
