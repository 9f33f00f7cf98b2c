//! A scripted visitor: an HTTP client that never follows redirects and keeps its cookies
//! in a jar the test can read, replay and tamper with.

use std::collections::BTreeMap;
use std::time::Duration;

use reqwest::header::{CONTENT_TYPE, COOKIE, SET_COOKIE, USER_AGENT};
use reqwest::Method;

use crate::{Demo, E2eError, Reply, SetCookie};

/// The cookie name of the demo contract.
pub const SESSION_COOKIE: &str = "session";
/// The bound on any one request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A visitor of one demo: sends its cookies, stores the ones it is given (and drops the
/// ones it is told to remove), as a browser would. `Clone` forks the visitor with a copy
/// of the jar: keep a clone to replay an old cookie later.
///
/// It sends no `User-Agent` unless given one ([`with_user_agent`](Self::with_user_agent)):
/// several visitors with different ones are several browsers of one person.
#[derive(Clone, Debug)]
pub struct Visitor {
    http: reqwest::Client,
    base: String,
    jar: BTreeMap<String, String>,
    user_agent: Option<String>,
}

impl Visitor {
    /// A visitor with an empty jar.
    ///
    /// # Errors
    ///
    /// [`E2eError::Client`] when the HTTP client cannot be built.
    pub fn new(demo: &Demo) -> Result<Visitor, E2eError> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(REQUEST_TIMEOUT)
            .no_proxy()
            .build()
            .map_err(E2eError::Client)?;
        Ok(Visitor {
            http,
            base: format!("http://{}", demo.addr()),
            jar: BTreeMap::new(),
            user_agent: None,
        })
    }

    /// The same visitor sending `User-Agent: agent` with every request from now on. The
    /// value is sent as is: it must be a valid header value.
    pub fn with_user_agent(mut self, agent: impl Into<String>) -> Visitor {
        self.user_agent = Some(agent.into());
        self
    }

    /// The `User-Agent` it sends, if any.
    pub fn user_agent(&self) -> Option<&str> {
        self.user_agent.as_deref()
    }

    /// The same visitor (same jar) visiting another demo process, as a load balancer
    /// would send a browser to another machine.
    pub fn at(&self, demo: &Demo) -> Visitor {
        Visitor {
            base: format!("http://{}", demo.addr()),
            ..self.clone()
        }
    }

    /// The session cookie's value as the visitor would send it.
    pub fn session_cookie(&self) -> Option<&str> {
        self.jar.get(SESSION_COOKIE).map(String::as_str)
    }

    /// Puts `value` in the jar as the session cookie (`None` empties it), to replay or
    /// forge one. The value is sent as is: it must be a valid header value.
    pub fn set_session_cookie(&mut self, value: Option<&str>) {
        match value {
            Some(value) => self.jar.insert(SESSION_COOKIE.to_owned(), value.to_owned()),
            None => self.jar.remove(SESSION_COOKIE),
        };
    }

    /// `GET path`.
    ///
    /// # Errors
    ///
    /// [`E2eError::Http`] when no HTTP answer comes.
    pub async fn get(&mut self, path: &str) -> Result<Reply, E2eError> {
        self.send(Method::GET, path, None).await
    }

    /// `POST path` with an `application/x-www-form-urlencoded` body of `fields`.
    ///
    /// # Errors
    ///
    /// [`E2eError::Http`] when no HTTP answer comes.
    pub async fn post_form(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
    ) -> Result<Reply, E2eError> {
        let body = form_urlencoded(fields);
        self.send(Method::POST, path, Some(body)).await
    }

    /// `POST path` with an empty form body.
    ///
    /// # Errors
    ///
    /// [`E2eError::Http`] when no HTTP answer comes.
    pub async fn post(&mut self, path: &str) -> Result<Reply, E2eError> {
        self.send(Method::POST, path, Some(String::new())).await
    }

    async fn send(
        &mut self,
        method: Method,
        path: &str,
        form: Option<String>,
    ) -> Result<Reply, E2eError> {
        let url = format!("{}{path}", self.base);
        let method_name = if method == Method::GET { "GET" } else { "POST" };
        let mut request = self.http.request(method, &url);
        if let Some(agent) = &self.user_agent {
            request = request.header(USER_AGENT, agent);
        }
        if !self.jar.is_empty() {
            let header: Vec<String> = self
                .jar
                .iter()
                .map(|(name, value)| format!("{name}={value}"))
                .collect();
            request = request.header(COOKIE, header.join("; "));
        }
        if let Some(body) = form {
            request = request
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(body);
        }
        let failed = |source| E2eError::Http {
            method: method_name,
            url: url.clone(),
            source,
        };
        let response = request.send().await.map_err(failed)?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.bytes().await.map_err(failed)?.to_vec();
        let set_cookies: Vec<SetCookie> = headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .filter_map(SetCookie::parse)
            .collect();
        for cookie in &set_cookies {
            if cookie.is_removal() {
                self.jar.remove(&cookie.name);
            } else {
                self.jar.insert(cookie.name.clone(), cookie.value.clone());
            }
        }
        Ok(Reply {
            status,
            headers,
            body,
            set_cookies,
        })
    }
}

/// `application/x-www-form-urlencoded`, as a browser encodes a form (UTF-8, spaces as `+`).
pub fn form_urlencoded(fields: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (index, (name, value)) in fields.iter().enumerate() {
        if index > 0 {
            out.push('&');
        }
        encode_component(name, &mut out);
        out.push('=');
        encode_component(value, &mut out);
    }
    out
}

fn encode_component(text: &str, out: &mut String) {
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                out.push(char::from(byte))
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_forms_as_browsers_do() {
        assert_eq!(
            form_urlencoded(&[("username", "Zoë <b>&\"'"), ("x", "a+b")]),
            "username=Zo%C3%AB+%3Cb%3E%26%22%27&x=a%2Bb"
        );
    }
}
