//! A demo's answer, its `Set-Cookie` headers taken apart, and the bits of HTML the
//! contract promises.

use cookie::time::OffsetDateTime;
use cookie::{Cookie, Expiration, SameSite};

/// One HTTP answer, read whole.
#[derive(Clone, Debug)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// The headers.
    pub headers: reqwest::header::HeaderMap,
    /// The body, byte for byte.
    pub body: Vec<u8>,
    /// Every `Set-Cookie`, parsed.
    pub set_cookies: Vec<SetCookie>,
}

impl Reply {
    /// The body as text (lossy UTF-8).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// A header as text, when present and readable.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    /// The `Location` header.
    pub fn location(&self) -> Option<&str> {
        self.header("location")
    }

    /// The `Set-Cookie` for `name`, if the answer carries one (the last one wins, as in a
    /// browser).
    pub fn cookie(&self, name: &str) -> Option<&SetCookie> {
        self.set_cookies
            .iter()
            .rev()
            .find(|cookie| cookie.name == name)
    }

    /// A one-line summary for assertion messages: status, cookies and the start of the
    /// body.
    pub fn summary(&self) -> String {
        let text = self.text();
        let body: String = text.chars().take(600).collect();
        let cookies: Vec<&str> = self
            .set_cookies
            .iter()
            .map(|cookie| cookie.raw.as_str())
            .collect();
        format!(
            "status {}, Set-Cookie {cookies:?}, body {body:?}",
            self.status
        )
    }
}

/// A `Set-Cookie` header taken apart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetCookie {
    /// The header as received.
    pub raw: String,
    /// The cookie name.
    pub name: String,
    /// The value exactly as sent (not percent-decoded), to send back as is.
    pub value: String,
    /// `HttpOnly` is present.
    pub http_only: bool,
    /// `Secure` is present.
    pub secure: bool,
    /// The `SameSite` attribute as written (`Lax`, `Strict`, `None`).
    pub same_site: Option<String>,
    /// The `Path` attribute.
    pub path: Option<String>,
    /// The `Domain` attribute.
    pub domain: Option<String>,
    /// `Max-Age` in seconds.
    pub max_age: Option<i64>,
    /// `Expires`, as a unix timestamp in seconds.
    pub expires: Option<i64>,
}

impl SetCookie {
    /// Parses one `Set-Cookie` header value; `None` when it is not a cookie at all.
    pub fn parse(raw: &str) -> Option<SetCookie> {
        let cookie = Cookie::parse(raw.to_owned()).ok()?;
        let expires = match cookie.expires() {
            Some(Expiration::DateTime(at)) => Some(at.unix_timestamp()),
            Some(Expiration::Session) | None => None,
        };
        Some(SetCookie {
            raw: raw.to_owned(),
            name: cookie.name().to_owned(),
            value: cookie.value().to_owned(),
            http_only: cookie.http_only().unwrap_or(false),
            secure: cookie.secure().unwrap_or(false),
            same_site: cookie.same_site().map(|same_site| {
                match same_site {
                    SameSite::Strict => "Strict",
                    SameSite::Lax => "Lax",
                    SameSite::None => "None",
                }
                .to_owned()
            }),
            path: cookie.path().map(str::to_owned),
            domain: cookie.domain().map(str::to_owned),
            max_age: cookie.max_age().map(|age| age.whole_seconds()),
            expires,
        })
    }

    /// Whether a browser deletes the cookie on receiving this: `Max-Age` of zero or
    /// less, or `Expires` in the past.
    pub fn is_removal(&self) -> bool {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        self.max_age.is_some_and(|age| age <= 0)
            || (self.max_age.is_none() && self.expires.is_some_and(|at| at <= now))
    }

    /// Whether the cookie outlives the browser session (`Max-Age` or `Expires`).
    pub fn is_persistent(&self) -> bool {
        !self.is_removal() && (self.max_age.is_some() || self.expires.is_some())
    }
}

/// The text that follows `marker` in `html`, up to the next tag, with HTML entities
/// decoded: what a person reads after "Logged in as ". `None` when `marker` is absent.
///
/// A name that was not escaped stops at its first `<`, so comparing the result with the
/// name checks the escaping too.
pub fn text_after(html: &str, marker: &str) -> Option<String> {
    let start = html.find(marker)? + marker.len();
    let rest = &html[start..];
    let end = rest.find('<').unwrap_or(rest.len());
    Some(decode_entities(&rest[..end]))
}

/// Decodes the character references HTML escapers produce: `&amp;`, `&lt;`, `&gt;`,
/// `&quot;`, `&apos;`, `&#NN;` and `&#xHH;`. Anything else is left as written.
pub fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let decoded = rest.find(';').and_then(|end| {
            let entity = &rest[1..end];
            let ch = match entity {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                _ => entity
                    .strip_prefix("#x")
                    .or_else(|| entity.strip_prefix("#X"))
                    .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                    .or_else(|| entity.strip_prefix('#').and_then(|dec| dec.parse().ok()))
                    .and_then(char::from_u32),
            };
            ch.map(|ch| (ch, end + 1))
        });
        match decoded {
            Some((ch, used)) => {
                out.push(ch);
                rest = &rest[used..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_what_escapers_write() {
        assert_eq!(
            decode_entities("&lt;b&gt;&amp;&quot;&#x27;&#39;&#X2f;&apos; &nbsp; a&b"),
            "<b>&\"''/' &nbsp; a&b"
        );
    }

    #[test]
    fn text_after_stops_at_the_next_tag() {
        let html = "<p>Logged in as Zo&#235; &lt;b&gt;</p> <a href=\"/logout\">";
        assert_eq!(
            text_after(html, "Logged in as ").as_deref(),
            Some("Zoë <b>")
        );
        assert_eq!(text_after(html, "Welcome, "), None);
    }

    #[test]
    fn parses_attributes_and_removals() {
        let cookie =
            SetCookie::parse("session=abc.def; HttpOnly; SameSite=Lax; Secure; Path=/").unwrap();
        assert_eq!(cookie.value, "abc.def");
        assert!(
            cookie.http_only && cookie.secure && !cookie.is_removal() && !cookie.is_persistent()
        );
        assert_eq!(cookie.same_site.as_deref(), Some("Lax"));
        let removal =
            SetCookie::parse("session=; Max-Age=0; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT")
                .unwrap();
        assert!(removal.is_removal());
        let permanent = SetCookie::parse("session=x; Max-Age=3600; Path=/").unwrap();
        assert!(permanent.is_persistent());
    }
}
