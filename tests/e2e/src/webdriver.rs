//! A real browser on a demo: Debian's Chromium, driven through chromedriver with
//! `fantoccini`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

use crate::demo::free_port;
use crate::{Demo, DemoConfig, DemoSpec, E2eError};

/// What to do when the browser is missing.
const INSTALL_ADVICE: &str = "run scripts/test.sh (it installs chromium and chromium-driver)";
/// The bound on chromedriver's start and on every wait for the page.
const WAIT: Duration = Duration::from_secs(20);

/// A chromedriver process on a free loopback port; killed on drop.
#[derive(Debug)]
pub struct ChromeDriver {
    child: Child,
    addr: SocketAddr,
    chromium: PathBuf,
}

impl ChromeDriver {
    /// Finds `chromedriver` and `chromium` (in `/usr/bin` or on `PATH`) and starts the
    /// driver, waiting (at most 20 s) until its `/status` answers.
    ///
    /// # Errors
    ///
    /// [`E2eError::MissingProgram`] when either is not installed, [`E2eError::Spawn`] or
    /// [`E2eError::NotReady`] when the driver does not start.
    pub async fn start() -> Result<ChromeDriver, E2eError> {
        let chromium = find_program(&["chromium", "chromium-browser", "google-chrome"])?;
        let driver = find_program(&["chromedriver"])?;
        let addr = free_port()?;
        let child = Command::new(&driver)
            .arg(format!("--port={}", addr.port()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|source| E2eError::Spawn {
                program: driver.clone(),
                source,
            })?;
        let driver = ChromeDriver {
            child,
            addr,
            chromium,
        };
        let probe = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .map_err(E2eError::Client)?;
        let started = Instant::now();
        while started.elapsed() < WAIT {
            if let Ok(reply) = probe.get(format!("{}/status", driver.url())).send().await {
                if reply.status().is_success() {
                    return Ok(driver);
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(E2eError::NotReady {
            bin: "chromedriver".to_owned(),
            addr: addr.to_string(),
            seconds: WAIT.as_secs(),
            log: String::new(),
        })
    }

    /// The WebDriver URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A new headless Chromium session with a fresh profile in `profile`.
    ///
    /// # Errors
    ///
    /// [`E2eError::WebDriver`] when chromedriver cannot start the browser.
    pub async fn browser(&self, profile: &Path) -> Result<Client, E2eError> {
        let mut capabilities = fantoccini::wd::Capabilities::new();
        capabilities.insert(
            "goog:chromeOptions".to_owned(),
            json!({
                "binary": self.chromium,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--window-size=1024,768",
                    format!("--user-data-dir={}", profile.display()),
                ],
            }),
        );
        ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&self.url())
            .await
            .map_err(|source| E2eError::WebDriver(Box::new(source)))
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        // Errors mean it already exited.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The first of `names` in `/usr/bin` or on `PATH`.
fn find_program(names: &[&'static str]) -> Result<PathBuf, E2eError> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs: Vec<PathBuf> = std::iter::once(PathBuf::from("/usr/bin"))
        .chain(std::env::split_paths(&path))
        .collect();
    names
        .iter()
        .flat_map(|name| dirs.iter().map(move |dir| dir.join(name)))
        .find(|candidate| candidate.is_file())
        .ok_or(E2eError::MissingProgram {
            program: names[0],
            advice: INSTALL_ADVICE,
        })
}

/// A person in Chromium: opens `/`, follows the login link, types a name, submits, sees
/// `Logged in as NAME` and `Welcome, NAME!` (and an `HttpOnly` session cookie), reloads
/// and the flash is gone, logs out and sees `You are not logged in` (and no cookie).
///
/// The demo runs with secure cookies: Chromium treats `http://127.0.0.1` as a secure
/// context and keeps `Secure` cookies from it. On failure a screenshot is saved under
/// `/tmp` and its path is in the panic message.
pub async fn browser_logs_in_and_out(spec: &DemoSpec) {
    let config = DemoConfig::new(spec).unwrap();
    let demo = config.start().await.unwrap();
    let driver = ChromeDriver::start().await.unwrap();
    let profile = profile();
    let client = driver.browser(profile.path()).await.unwrap();
    let outcome = person(&client, &demo.url("/"), "Ada Lovelace").await;
    let screenshot = match &outcome {
        Ok(()) => None,
        Err(_) => Some(screenshot(&client, spec, "browser").await),
    };
    // Closing ends Chromium; the driver and the demo go when dropped.
    let _ = client.close().await;
    if let Err(failure) = outcome {
        panic!("{failure}; screenshot: {}", screenshot.unwrap_or_default());
    }
}

/// One person in two browsers (two WebDriver sessions of one chromedriver, each with a
/// profile of its own, so two cookie jars): signs in as the same name in both, opens
/// `/sessions` in the first, sees two sessions, clicks the revoke button of the one that
/// is not "(this device)", and sees one left; the second browser, reloading `/`, is not
/// logged in any more, and the first still is.
///
/// On failure a screenshot of each browser is saved under `/tmp` and their paths are in
/// the panic message.
pub async fn browser_revokes_another_browser(spec: &DemoSpec) {
    let config = DemoConfig::new(spec).unwrap();
    let demo = config.start().await.unwrap();
    let driver = ChromeDriver::start().await.unwrap();
    let profiles = [profile(), profile()];
    let first = driver.browser(profiles[0].path()).await.unwrap();
    let second = driver.browser(profiles[1].path()).await.unwrap();
    let outcome = other_device(&first, &second, &demo, "Ada Lovelace").await;
    let screenshots = match &outcome {
        Ok(()) => None,
        Err(_) => Some([
            screenshot(&first, spec, "first-browser").await,
            screenshot(&second, spec, "second-browser").await,
        ]),
    };
    let _ = first.close().await;
    let _ = second.close().await;
    if let Err(failure) = outcome {
        panic!(
            "{failure}; screenshots: {:?}",
            screenshots.unwrap_or_default()
        );
    }
}

/// A fresh Chromium profile directory, removed on drop.
fn profile() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("e2e-chromium-")
        .tempdir()
        .unwrap()
}

/// Why the person's visit went wrong (a step and what was seen).
type Step = Result<(), String>;

async fn person(client: &Client, home: &str, name: &str) -> Step {
    sign_in(client, home, name).await?;
    let cookie = client
        .get_named_cookie("session")
        .await
        .map_err(|e| format!("after login the browser kept no `session` cookie: {e}"))?;
    if cookie.http_only() != Some(true) {
        return Err(format!(
            "the browser's session cookie is not HttpOnly: {cookie}"
        ));
    }
    client
        .refresh()
        .await
        .map_err(|e| format!("reloading: {e}"))?;
    page_shows(client, &[&format!("Logged in as {name}")], &["Welcome,"]).await?;
    click(
        client,
        "a[href$='/logout'], form[action$='/logout'] button",
        "the logout link",
    )
    .await?;
    page_shows(client, &["You are not logged in"], &["Logged in as"]).await?;
    // Every cookie the browser holds, so that a WebDriver failure is an error, not "no
    // cookie" (asking for the one named cookie cannot tell the two apart).
    let cookies = client
        .get_all_cookies()
        .await
        .map_err(|e| format!("after logout, listing the browser's cookies: {e}"))?;
    match cookies.iter().find(|cookie| cookie.name() == "session") {
        Some(cookie) => Err(format!("after logout the browser still holds {cookie}")),
        None => Ok(()),
    }
}

/// Opens `/` (not logged in), follows the login link, types `name`, submits, and sees
/// `Logged in as NAME` and `Welcome, NAME!`.
async fn sign_in(client: &Client, home: &str, name: &str) -> Step {
    client
        .goto(home)
        .await
        .map_err(|e| format!("opening {home}: {e}"))?;
    page_shows(client, &["You are not logged in"], &[]).await?;
    click(client, "a[href$='/login']", "the login link").await?;
    let field = client
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css("input[name='username']"))
        .await
        .map_err(|e| format!("the login form has no username field: {e}"))?;
    field
        .send_keys(name)
        .await
        .map_err(|e| format!("typing the name: {e}"))?;
    let submit = client
        .find(Locator::Css("form button, form input[type='submit']"))
        .await;
    match submit {
        Ok(button) => button.click().await,
        Err(_) => field.send_keys("\u{E007}").await, // Enter submits the form.
    }
    .map_err(|e| format!("submitting the login form: {e}"))?;
    page_shows(
        client,
        &[
            &format!("Logged in as {name}"),
            &format!("Welcome, {name}!"),
        ],
        &[],
    )
    .await
}

/// The steps of [`browser_revokes_another_browser`].
async fn other_device(first: &Client, second: &Client, demo: &Demo, name: &str) -> Step {
    let home = demo.url("/");
    sign_in(first, &home, name)
        .await
        .map_err(|e| format!("first browser: {e}"))?;
    sign_in(second, &home, name)
        .await
        .map_err(|e| format!("second browser: {e}"))?;
    let sessions = demo.url("/sessions");
    first
        .goto(&sessions)
        .await
        .map_err(|e| format!("opening {sessions}: {e}"))?;
    page_shows(first, &["(this device)"], &[]).await?;
    session_items(first, 2).await?;
    click(
        first,
        "li.session:not(.current) form[action$='/sessions/revoke'] button",
        "the revoke button of the other browser's session",
    )
    .await?;
    page_shows(first, &["(this device)"], &[]).await?;
    session_items(first, 1).await?;
    second
        .goto(&home)
        .await
        .map_err(|e| format!("second browser, reloading {home}: {e}"))?;
    page_shows(second, &["You are not logged in"], &["Logged in as"])
        .await
        .map_err(|e| format!("second browser, after its session was revoked: {e}"))?;
    first
        .goto(&home)
        .await
        .map_err(|e| format!("first browser, opening {home}: {e}"))?;
    page_shows(first, &[&format!("Logged in as {name}")], &[])
        .await
        .map_err(|e| format!("first browser, after revoking the other: {e}"))
}

/// Waits (bounded) until the page lists `wanted` sessions (`li.session`).
async fn session_items(client: &Client, wanted: usize) -> Step {
    let started = Instant::now();
    let mut found = 0;
    while started.elapsed() < WAIT {
        if let Ok(items) = client.find_all(Locator::Css("li.session")).await {
            found = items.len();
            if found == wanted {
                return Ok(());
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(format!(
        "/sessions should list {wanted} sessions (li.session); it lists {found}"
    ))
}

async fn click(client: &Client, css: &str, what: &str) -> Step {
    let element = client
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css(css))
        .await
        .map_err(|e| format!("no {what} ({css}) on the page: {e}"))?;
    element
        .click()
        .await
        .map_err(|e| format!("clicking {what}: {e}"))
}

/// Waits (bounded) until the page's visible text has every `wanted` and none of
/// `unwanted`.
async fn page_shows(client: &Client, wanted: &[&str], unwanted: &[&str]) -> Step {
    let started = Instant::now();
    let mut text = String::new();
    while started.elapsed() < WAIT {
        if let Ok(body) = client.find(Locator::Css("body")).await {
            text = body.text().await.unwrap_or_default();
            if wanted.iter().all(|w| text.contains(w)) && !unwanted.iter().any(|u| text.contains(u))
            {
                return Ok(());
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let url = client
        .current_url()
        .await
        .map(|u| u.to_string())
        .unwrap_or_default();
    Err(format!(
        "the page at {url} should show {wanted:?} and not {unwanted:?}; it shows {text:?}"
    ))
}

/// Saves a screenshot under /tmp; returns its path or why there is none.
async fn screenshot(client: &Client, spec: &DemoSpec, label: &str) -> String {
    let path = std::env::temp_dir().join(format!(
        "{label}-{}-{}-{}.png",
        spec.bin,
        spec.backend,
        std::process::id()
    ));
    match client.screenshot().await {
        Ok(png) => match std::fs::write(&path, png) {
            Ok(()) => path.display().to_string(),
            Err(e) => format!("cannot write {}: {e}", path.display()),
        },
        Err(e) => format!("none taken: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_browser_says_how_to_install_it() {
        let error = find_program(&["no-such-browser-for-e2e"]).unwrap_err();
        assert!(error.to_string().contains("scripts/test.sh"), "{error}");
    }
}
