//! A browser: a small HTTP client with a cookie jar, and what it sees of an answer.

use std::collections::BTreeMap;
use std::sync::Mutex;

use cookie::time::OffsetDateTime;
use cookie::Cookie;

use super::{Server, WAIT};

/// A `Set-Cookie` header, parsed.
#[derive(Clone, Debug)]
pub struct SetCookie {
    pub name: String,
    pub value: String,
    pub http_only: bool,
    pub secure: bool,
    pub same_site: Option<String>,
    pub path: Option<String>,
    /// Seconds the browser keeps it (`Max-Age`, else `Expires` minus the response's
    /// `Date`); `None` for a browser-session cookie.
    pub lifetime: Option<i64>,
    /// The raw header.
    pub raw: String,
}

impl SetCookie {
    fn parse(raw: &str, date: Option<OffsetDateTime>) -> Self {
        let cookie = Cookie::parse(raw.to_owned())
            .unwrap_or_else(|error| panic!("bad Set-Cookie {raw:?}: {error}"));
        let lifetime = match (cookie.max_age(), cookie.expires_datetime()) {
            (Some(max_age), _) => Some(max_age.whole_seconds()),
            (None, Some(expires)) => {
                let date = date.expect("a response with Expires has a Date");
                Some((expires - date).whole_seconds())
            }
            (None, None) => None,
        };
        Self {
            name: cookie.name().to_owned(),
            value: cookie.value().to_owned(),
            http_only: cookie.http_only().unwrap_or(false),
            secure: cookie.secure().unwrap_or(false),
            same_site: cookie.same_site().map(|s| s.to_string()),
            path: cookie.path().map(str::to_owned),
            lifetime,
            raw: raw.to_owned(),
        }
    }

    /// Whether it deletes the cookie (an expiry in the past or `Max-Age=0`).
    pub fn removes(&self) -> bool {
        self.lifetime.is_some_and(|seconds| seconds <= 0)
    }
}

/// An answer as the browser got it.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub location: Option<String>,
    pub content_type: Option<String>,
    pub body: String,
    pub cookies: Vec<SetCookie>,
}

impl Reply {
    /// The cookie `name` this answer sets or removes.
    pub fn cookie(&self, name: &str) -> Option<&SetCookie> {
        self.cookies.iter().find(|c| c.name == name)
    }

    /// The body as a page: its text, links and form fields.
    pub fn page(&self) -> Page {
        Page::of(&self.body)
    }
}

/// A browser: a cookie jar (by name: every server here is on 127.0.0.1, and a browser
/// sends a host's cookies to all its ports) and no redirects followed.
pub struct Browser {
    http: reqwest::Client,
    jar: Mutex<BTreeMap<String, String>>,
}

impl Browser {
    pub fn new() -> Self {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(WAIT)
            .build()
            .unwrap();
        Self {
            http,
            jar: Mutex::new(BTreeMap::new()),
        }
    }

    pub async fn get(&self, server: &Server, path: &str) -> Reply {
        self.send(server, self.http.get(format!("{}{path}", server.base)))
            .await
    }

    pub async fn post(&self, server: &Server, path: &str, form: &[(&str, &str)]) -> Reply {
        let request = self.http.post(format!("{}{path}", server.base)).form(form);
        self.send(server, request).await
    }

    /// The names of the cookies the jar holds.
    pub fn cookie_names(&self) -> Vec<String> {
        self.jar.lock().unwrap().keys().cloned().collect()
    }

    fn keep(&self, cookies: &[SetCookie]) {
        let mut jar = self.jar.lock().unwrap();
        for cookie in cookies {
            if cookie.removes() {
                jar.remove(&cookie.name);
            } else {
                jar.insert(cookie.name.clone(), cookie.value.clone());
            }
        }
    }

    async fn send(&self, server: &Server, mut request: reqwest::RequestBuilder) -> Reply {
        let jar = self.jar.lock().unwrap().clone();
        if !jar.is_empty() {
            let header: Vec<String> = jar.iter().map(|(k, v)| format!("{k}={v}")).collect();
            request = request.header("cookie", header.join("; "));
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|error| panic!("{error}\n{}", server.log()));
        let headers = response.headers().clone();
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        // The Date header read with the cookie parser's date format.
        let date = header("date").and_then(|date| {
            Cookie::parse(format!("d=d; Expires={date}"))
                .ok()?
                .expires_datetime()
        });
        let cookies: Vec<SetCookie> = headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(|raw| SetCookie::parse(raw, date))
            .collect();
        self.keep(&cookies);
        Reply {
            status: response.status().as_u16(),
            location: header("location"),
            content_type: header("content-type"),
            cookies,
            body: response.text().await.unwrap(),
        }
    }
}

/// What a page says and offers, whatever its markup's whitespace: the text outside tags
/// (whitespace collapsed), the links, and the forms' actions and fields.
#[derive(Debug, PartialEq, Eq)]
pub struct Page {
    pub text: String,
    pub links: Vec<String>,
    pub forms: Vec<String>,
    pub fields: Vec<String>,
}

impl Page {
    fn of(html: &str) -> Self {
        let mut text = String::new();
        let (mut links, mut forms, mut fields) = (Vec::new(), Vec::new(), Vec::new());
        let mut rest = html;
        while let Some(start) = rest.find('<') {
            text.push_str(&rest[..start]);
            text.push(' ');
            let end = rest[start..].find('>').map_or(rest.len(), |e| start + e);
            let tag = &rest[start + 1..end];
            let name = tag.split_whitespace().next().unwrap_or("").to_lowercase();
            let attr = |key: &str| attribute(tag, key).unwrap_or_default();
            match name.as_str() {
                "a" => links.push(attr("href")),
                "form" => forms.push(format!(
                    "{} {:?}",
                    attr("method").to_uppercase(),
                    attr("action")
                )),
                "input" => fields.push(format!("{} {}", attr("type"), attr("name"))),
                _ => {}
            }
            rest = rest.get(end + 1..).unwrap_or("");
        }
        text.push_str(rest);
        Self {
            text: text.split_whitespace().collect::<Vec<_>>().join(" "),
            links,
            forms,
            fields,
        }
    }
}

/// The value of `key="..."` in a tag.
fn attribute(tag: &str, key: &str) -> Option<String> {
    let at = tag.find(&format!(" {key}=\""))? + key.len() + 3;
    let len = tag[at..].find('"')?;
    Some(tag[at..at + len].to_owned())
}
