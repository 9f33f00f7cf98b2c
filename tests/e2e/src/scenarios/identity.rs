//! Which cookie is who: logout, id regeneration at login, replayed, tampered, forged and
//! unknown cookies, strict mode.

use super::{
    assert_anonymous, assert_logged_in, config, cookie_from_elsewhere, count, counter_value, login,
    session_cookie, start, NAME,
};
use session_core::SessionError;

use crate::{DemoSpec, Visitor};

/// `GET /logout` and `POST /logout`: 303 to `/` with a removal cookie carrying the same
/// name, path and attributes as the session cookie; the visitor is then anonymous.
pub async fn logout_ends_the_session(spec: &DemoSpec) {
    let (_demo, mut visitor) = start(&config(spec)).await;
    for post in [false, true] {
        let method = if post { "POST" } else { "GET" };
        let login_reply = login(&mut visitor, NAME).await;
        let session = session_cookie(&login_reply, "POST /login").clone();
        let reply = if post {
            visitor.post("/logout").await
        } else {
            visitor.get("/logout").await
        }
        .unwrap();
        assert_eq!(
            reply.status,
            303,
            "{method} /logout: expected 303 to /; {}",
            reply.summary()
        );
        assert_eq!(
            reply.location(),
            Some("/"),
            "{method} /logout: Location must be `/`; {}",
            reply.summary()
        );
        let removal = session_cookie(&reply, "logout");
        assert!(
            removal.is_removal(),
            "{method} /logout must send a removal cookie, sent {}",
            removal.raw
        );
        let attributes = |c: &crate::SetCookie| {
            (
                c.path.clone(),
                c.domain.clone(),
                c.http_only,
                c.secure,
                c.same_site.clone(),
            )
        };
        assert_eq!(
            attributes(removal),
            attributes(&session),
            "the removal cookie must carry the session cookie's path and attributes:\n  removal: {}\n  session: {}",
            removal.raw,
            session.raw
        );
        assert_eq!(
            visitor.session_cookie(),
            None,
            "the removal cookie did not remove the cookie"
        );
        assert_anonymous(&mut visitor, &format!("after {method} /logout")).await;
    }
}

/// Login issues a new cookie value (no session fixation); the pre-login cookie is dead on
/// server-side backends. Where the store marks the id a login replaced, a write on it
/// moments later is refused (409, the library's message, no cookie): it is neither
/// forwarded to the new session nor allowed to start one whose cookie would log the
/// browser out. Flask-Session's records get no marker: there the write starts a
/// brand-new session. On cookie backends the old cookie still holds its pre-login data,
/// as it was never logged in: it cannot be revoked.
pub async fn login_regenerates_the_id(spec: &DemoSpec) {
    let (_demo, mut visitor) = start(&config(spec)).await;
    assert_eq!(count(&mut visitor, "anonymous").await, 1);
    let before = visitor.session_cookie().map(str::to_owned);
    let mut old = visitor.clone();
    assert!(
        before.is_some(),
        "an anonymous POST /counter must create a session and set its cookie"
    );
    login(&mut visitor, NAME).await;
    assert_ne!(
        visitor.session_cookie().map(str::to_owned),
        before,
        "login must change the cookie value (session fixation)"
    );

    assert_anonymous(&mut old, "the pre-login cookie replayed after login").await;
    let capabilities = spec.backend.capabilities();
    let context = "the pre-login cookie replayed after login";
    if capabilities.refuses_writes_racing_login {
        let reply = old.post("/counter").await.unwrap();
        assert_eq!(
            (reply.status, reply.text()),
            (409, SessionError::Superseded.public_message().into_owned()),
            "{context}: a write on the id a login just replaced must be refused with the \
             library's message; got {}",
            reply.summary()
        );
        assert!(
            reply.set_cookies.is_empty(),
            "{context}: the refused write must send no cookie; got {}",
            reply.summary()
        );
    } else if capabilities.server_side_revocation {
        let value = count(&mut old, context).await;
        assert_eq!(
            value, 1,
            "the pre-login id must be dead after login (its counter was 1): a write starts afresh"
        );
        assert_ne!(
            old.session_cookie().map(str::to_owned),
            before,
            "a write on a dead id must issue a brand-new id"
        );
    } else {
        assert_eq!(
            count(&mut old, context).await,
            2,
            "--backend {}: declared unrevocable, the old cookie still carries counter 1",
            spec.backend
        );
    }
    assert_logged_in(&mut visitor, NAME, "the new cookie").await;
}

/// An anonymous counter survives the id regeneration at login.
pub async fn data_from_before_login_survives(spec: &DemoSpec) {
    let (_demo, mut visitor) = start(&config(spec)).await;
    assert_eq!(count(&mut visitor, "anonymous").await, 1);
    assert_eq!(count(&mut visitor, "anonymous").await, 2);
    login(&mut visitor, NAME).await;
    assert_eq!(
        count(&mut visitor, "after login").await,
        3,
        "the counter from before login must survive the login"
    );
    assert_logged_in(&mut visitor, NAME, "after counting").await;
}

/// The cookie from before logout, replayed after it: anonymous on server-side backends.
/// Cookie backends declare they cannot revoke a cookie, so there the replay must still be
/// logged in: the limitation is checked, not skipped.
pub async fn replayed_cookie_after_logout(spec: &DemoSpec) {
    let (_demo, mut visitor) = start(&config(spec)).await;
    login(&mut visitor, NAME).await;
    let mut replay = visitor.clone();
    let logout = visitor.post("/logout").await.unwrap();
    assert_eq!(logout.status, 303, "POST /logout: {}", logout.summary());
    assert_anonymous(&mut visitor, "after logout").await;
    if spec.backend.capabilities().server_side_revocation {
        assert_anonymous(&mut replay, "the pre-logout cookie replayed after logout").await;
    } else {
        // Declared capability: a client-side session lives in the cookie, and a copy kept
        // by an attacker stays valid until it expires. Documented in the backend's docs.
        assert_logged_in(
            &mut replay,
            NAME,
            "--backend cookie declares unrevocable cookies; the replay",
        )
        .await;
    }
}

/// Tampered, truncated, garbage and foreign cookies are anonymous visitors, never a 5xx;
/// so is a well-formed, correctly signed id this store never issued.
pub async fn bad_cookies_are_anonymous(spec: &DemoSpec) {
    let config = config(spec);
    let foreign = cookie_from_elsewhere(&config).await;
    let (demo, mut visitor) = start(&config).await;
    login(&mut visitor, NAME).await;
    let good = visitor.session_cookie().unwrap_or_default().to_owned();
    let mut bad = vec![
        (
            "one character changed in the middle",
            tamper(&good, good.len() / 2),
        ),
        (
            "one character changed at the end",
            tamper(&good, good.len().saturating_sub(1)),
        ),
        ("truncated", good[..good.len() / 2].to_owned()),
        ("extended", format!("{good}A")),
        ("doubled", format!("{good}{good}")),
        ("an id this store never issued", foreign),
    ];
    for garbage in [
        "",
        "garbage",
        "a.b.c",
        "...",
        "%00%ff",
        "\"quoted\"",
        "eyJ1c2VyIjoiYWRhIn0",
        "!#$&'()*+-./:<=>?@[]^_`{|}~",
    ] {
        bad.push(("garbage", garbage.to_owned()));
    }
    bad.push(("4000 bytes of garbage", "A".repeat(4000)));
    for (what, value) in bad {
        let mut stranger = Visitor::new(&demo).unwrap();
        stranger.set_session_cookie(Some(&value));
        assert_anonymous(&mut stranger, &format!("cookie {what} ({value:?})")).await;
    }
    assert_logged_in(&mut visitor, NAME, "the untouched cookie").await;
}

/// Strict mode: a write on an id the server never issued gets a brand-new cookie value
/// and a fresh session (counter 1), never the foreign id.
pub async fn strict_mode_issues_a_new_id(spec: &DemoSpec) {
    let config = config(spec);
    let foreign = cookie_from_elsewhere(&config).await;
    let (_demo, mut visitor) = start(&config).await;
    visitor.set_session_cookie(Some(&foreign));
    let reply = visitor.post("/counter").await.unwrap();
    assert_eq!(
        counter_value(&reply, "POST /counter with an unknown id"),
        1,
        "an unknown id must start a fresh session"
    );
    let issued = session_cookie(&reply, "POST /counter with an unknown id");
    assert!(
        !issued.is_removal(),
        "expected a new session cookie, got a removal: {}",
        issued.raw
    );
    assert_ne!(
        issued.value, foreign,
        "strict mode: the unknown id must not be adopted"
    );
    assert_anonymous(&mut visitor, "the fresh session").await;
    assert_eq!(
        count(&mut visitor, "the fresh session").await,
        2,
        "the new cookie must hold the new session"
    );
}

/// `value` with the character at `index` (or the last one) replaced by another of the
/// base64url alphabet, 32 places on: the top bit of its six changes, so even the last
/// character of a base64 signature (whose low bits may be padding) decodes differently.
fn tamper(value: &str, index: usize) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut chars: Vec<char> = value.chars().collect();
    let last = chars.len().saturating_sub(1);
    if let Some(ch) = chars.get_mut(index.min(last)) {
        *ch = match ALPHABET.iter().position(|&a| char::from(a) == *ch) {
            Some(at) => char::from(ALPHABET[(at + 32) % 64]),
            None => 'x',
        };
    }
    chars.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::tamper;

    #[test]
    fn tampering_changes_one_character() {
        for value in ["abc.DEF-012", "a", "Z9"] {
            for index in 0..value.len() {
                let tampered = tamper(value, index);
                assert_eq!(tampered.len(), value.len());
                assert_ne!(tampered, value);
            }
        }
    }
}
