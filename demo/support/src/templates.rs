//! The demo's pages: minijinja templates embedded in the binary, HTML-escaped as Flask
//! (MarkupSafe) escapes them.

use minijinja::value::Value;
use minijinja::{context, AutoEscape, Environment, Output, State};
use serde::Serialize;
use session_core::clock::Timestamp;
use session_core::{Flash, LiveSession};

/// The pages both demos render, in the spirit of Flask's tutorial: a layout, a home page
/// that greets the user (or offers a login link) and shows pending flash messages once,
/// and a login form.
///
/// Values are HTML-escaped exactly as Flask's MarkupSafe does (`&`, `<`, `>`, `"`, `'`),
/// so `Logged in as NAME` and `Welcome, NAME!` are contiguous text with NAME escaped.
///
/// # Examples
///
/// ```
/// use demo_support::Templates;
///
/// let pages = Templates::new("axum", "memory backend");
/// let html = pages.index(Some("<ada & bob>"), &[])?;
/// assert!(html.contains("Logged in as &lt;ada &amp; bob&gt;"));
/// let html = pages.index(None, &[])?;
/// assert!(html.contains("You are not logged in") && html.contains(r#"href="/login""#));
/// # Ok::<(), minijinja::Error>(())
/// ```
#[derive(Debug)]
pub struct Templates {
    env: Environment<'static>,
}

#[derive(Serialize)]
struct SessionView<'a> {
    handle: &'a str,
    current: bool,
    created: String,
    last_active: String,
    user_agent: Option<&'a str>,
}

#[derive(Serialize)]
struct FlashView<'a> {
    category: &'a str,
    message: &'a str,
}

impl Templates {
    /// The templates, with the framework and backend named in every page's footer.
    ///
    /// # Panics
    ///
    /// Never for the embedded templates: they are checked by this crate's tests. (A
    /// template that failed to parse would panic here, at startup, not per request.)
    pub fn new(framework: &'static str, backend: impl Into<String>) -> Self {
        let mut env = Environment::new();
        env.set_formatter(markupsafe_formatter);
        for (name, source) in [
            ("layout.html", include_str!("templates/layout.html")),
            ("index.html", include_str!("templates/index.html")),
            ("login.html", include_str!("templates/login.html")),
            ("sessions.html", include_str!("templates/sessions.html")),
        ] {
            if let Err(error) = env.add_template(name, source) {
                panic!("embedded template {name} is invalid: {error}");
            }
        }
        env.add_global("framework", framework);
        env.add_global("backend", backend.into());
        Self { env }
    }

    /// The home page for `username` (`None`: not logged in), showing `flashes`.
    ///
    /// # Errors
    ///
    /// When rendering fails, which the embedded templates do not.
    pub fn index(
        &self,
        username: Option<&str>,
        flashes: &[Flash],
    ) -> Result<String, crate::TemplateError> {
        let flashes: Vec<_> = flashes
            .iter()
            .map(|flash| FlashView {
                category: &flash.category,
                message: &flash.message,
            })
            .collect();
        self.env
            .get_template("index.html")?
            .render(context! { username, flashes })
    }

    /// The sessions of `username`, each with a revoke button, "this device" marked, and
    /// the "sign out other devices" and "log out everywhere" buttons.
    ///
    /// # Errors
    ///
    /// When rendering fails, which the embedded templates do not.
    pub fn sessions(
        &self,
        username: &str,
        sessions: &[LiveSession],
    ) -> Result<String, crate::TemplateError> {
        let sessions: Vec<_> = sessions
            .iter()
            .map(|session| SessionView {
                handle: session.handle.as_str(),
                current: session.current,
                created: minute_of(session.created_at),
                last_active: minute_of(session.last_active),
                user_agent: crate::devices::user_agent(session),
            })
            .collect();
        self.env
            .get_template("sessions.html")?
            .render(context! { username, sessions })
    }

    /// The login form, with an error message and the value submitted before, if any.
    ///
    /// # Errors
    ///
    /// When rendering fails, which the embedded templates do not.
    pub fn login(
        &self,
        username: Option<&str>,
        error: Option<&str>,
        submitted: Option<&str>,
    ) -> Result<String, crate::TemplateError> {
        self.env
            .get_template("login.html")?
            .render(context! { username, error, submitted })
    }
}

/// `2026-11-30 14:05 UTC`: when a session began or was last active, for people.
fn minute_of(at: Timestamp) -> String {
    let at = at.to_offset_date_time();
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute()
    )
}

/// minijinja's formatter, but printing nothing for `None` and escaping HTML as MarkupSafe does: `'` and `"` as numeric
/// references, `/` left alone (minijinja escapes it too, which no test of "the name,
/// escaped" would expect).
fn markupsafe_formatter(
    out: &mut Output<'_>,
    state: &State<'_, '_>,
    value: &Value,
) -> Result<(), minijinja::Error> {
    // An absent optional value (`None` from Rust) renders as nothing, not as "none".
    if value.is_undefined() || value.is_none() {
        return Ok(());
    }
    if !matches!(state.auto_escape(), AutoEscape::Html) || value.is_safe() {
        return minijinja::escape_formatter(out, state, value);
    }
    let text = match value.as_str() {
        Some(text) => escape_html(text),
        None => escape_html(&value.to_string()),
    };
    out.write_str(&text).map_err(minijinja::Error::from)
}

/// HTML-escapes `text` as MarkupSafe (Flask, Jinja2) does.
pub fn escape_html(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&#34;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pages() -> Templates {
        Templates::new("test", "memory backend")
    }

    #[test]
    fn flashes_are_shown_escaped_and_contiguous() -> Result<(), minijinja::Error> {
        let flash = Flash {
            category: "message".to_owned(),
            message: "Welcome, <b>'o'</b>!".to_owned(),
        };
        let html = pages().index(Some("x"), &[flash])?;
        assert!(
            html.contains("Welcome, &lt;b&gt;&#39;o&#39;&lt;/b&gt;!"),
            "{html}"
        );
        assert!(!html.contains("<b>"));
        Ok(())
    }

    #[test]
    fn slashes_and_unicode_pass_through() -> Result<(), minijinja::Error> {
        let html = pages().index(Some("a/b ünï \"q\""), &[])?;
        assert!(html.contains("Logged in as a/b ünï &#34;q&#34;"), "{html}");
        assert!(html.contains(r#"href="/logout""#));
        Ok(())
    }

    #[test]
    fn the_sessions_page_marks_this_device_and_escapes_user_agents(
    ) -> Result<(), Box<dyn std::error::Error>> {
        use session_core::adapter::SessionManager;
        use session_core::store::MemoryStore;
        use session_core::{Principal, SessionConfig};

        let sessions = tokio::runtime::Builder::new_current_thread()
            .build()?
            .block_on(async {
                let manager =
                    SessionManager::new(MemoryStore::default(), SessionConfig::default())?;
                for agent in ["<script>x</script>", "Firefox"] {
                    let request = manager.request(None);
                    let session = request.session().await?;
                    session.set_principal(Principal::new("ada").attach("user_agent", agent))?;
                    request.finish().await?;
                }
                Ok::<_, Box<dyn std::error::Error>>(manager.sessions_of("ada").await?)
            })?;
        let mut listed = sessions.clone();
        listed[0].current = true;
        let html = pages().sessions("ada", &listed)?;
        assert!(html.contains("&lt;script&gt;x&lt;/script&gt;") && !html.contains("<script>"));
        assert_eq!(html.matches("(this device)").count(), 1, "{html}");
        assert_eq!(html.matches(r#"action="/sessions/revoke""#).count(), 2);
        for session in &sessions {
            assert!(html.contains(&format!(r#"name="handle" value="{}""#, session.handle)));
        }
        assert!(html.contains(r#"action="/sessions/revoke-others""#));
        assert!(html.contains(r#"action="/logout-everywhere""#));
        Ok(())
    }

    #[test]
    fn login_form_posts_username_and_shows_errors() -> Result<(), minijinja::Error> {
        let html = pages().login(None, None, None)?;
        assert!(
            html.contains(r#"method="post" action="/login""#)
                && html.contains(r#"name="username""#)
        );
        assert!(
            html.contains(r#"value="""#),
            "no submitted value rendered as empty: {html}"
        );
        assert!(
            html.contains(r#"<input type="checkbox" name="remember" value="on">"#)
                && html.contains("Remember me"),
            "the form offers \"Remember me\": {html}"
        );
        let html = pages().login(None, Some("Please <enter> a name."), Some("\" onfocus=x"))?;
        assert!(html.contains("Please &lt;enter&gt; a name."));
        assert!(html.contains(r#"value="&#34; onfocus=x""#), "{html}");
        Ok(())
    }
}
