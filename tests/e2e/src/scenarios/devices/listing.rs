//! Reading a user's sessions as the demo shows them: the JSON of `GET /api/sessions`,
//! checked field by field, and the HTML of `GET /sessions`.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::{decode_entities, Visitor};

/// The fields of one `GET /api/sessions` entry, no more, no fewer (DESIGN.md).
const FIELDS: [&str; 5] = [
    "created_at",
    "current",
    "handle",
    "last_active",
    "user_agent",
];

/// One entry of `GET /api/sessions`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Entry {
    pub(super) handle: String,
    pub(super) current: bool,
    /// Unix ms.
    pub(super) created_at: i64,
    /// Unix ms.
    pub(super) last_active: i64,
    pub(super) user_agent: Option<String>,
}

/// The handle of the entry whose `User-Agent` is `agent`.
pub(super) fn handle_of(listed: &[Entry], agent: &str) -> String {
    match listed
        .iter()
        .find(|entry| entry.user_agent.as_deref() == Some(agent))
    {
        Some(entry) => entry.handle.clone(),
        None => panic!("no session of User-Agent {agent:?} in {listed:?}"),
    }
}

/// `GET /api/sessions`: 200, `application/json`, an array of objects with exactly the
/// contract's fields and types.
pub(super) async fn list(visitor: &mut Visitor, who: &str) -> Vec<Entry> {
    let reply = visitor.get("/api/sessions").await.unwrap();
    let context = format!("GET /api/sessions as {who}");
    assert!(
        reply.status == 200
            && reply
                .header("content-type")
                .is_some_and(|kind| kind.starts_with("application/json")),
        "{context}: expected 200 application/json; got {}",
        reply.summary()
    );
    let json: Value = match serde_json::from_slice(&reply.body) {
        Ok(json) => json,
        Err(error) => panic!("{context}: not JSON ({error}): {}", reply.summary()),
    };
    let Some(items) = json.as_array() else {
        panic!("{context}: expected a JSON array; got {json}");
    };
    items.iter().map(|item| entry(item, &context)).collect()
}

/// One entry, checked field by field: `handle` a string, `current` a boolean, the times
/// integers (unix ms), `user_agent` a string or null, nothing else.
fn entry(item: &Value, context: &str) -> Entry {
    let fields: Option<BTreeSet<&str>> = item
        .as_object()
        .map(|object| object.keys().map(String::as_str).collect());
    assert_eq!(
        fields,
        Some(FIELDS.into()),
        "{context}: each entry has exactly the contract's fields; got {item}"
    );
    let parsed = (|| {
        Some(Entry {
            handle: item["handle"].as_str()?.to_owned(),
            current: item["current"].as_bool()?,
            created_at: item["created_at"].as_i64()?,
            last_active: item["last_active"].as_i64()?,
            user_agent: match &item["user_agent"] {
                Value::Null => None,
                agent => Some(agent.as_str()?.to_owned()),
            },
        })
    })();
    match parsed {
        Some(entry) if !entry.handle.is_empty() => entry,
        _ => panic!(
            "{context}: expected handle: string, current: bool, created_at and last_active: \
             integer unix ms, user_agent: string or null; got {item}"
        ),
    }
}

/// `GET /sessions`: 200 HTML with one `<li class="session">` per entry of `listed` (by
/// `data-handle`), each holding a revoke form with its handle; the current one (and only
/// it) marked `current` and "(this device)"; the two buttons for the others and for all.
pub(super) async fn assert_sessions_page(visitor: &mut Visitor, listed: &[Entry], agents: &[&str]) {
    let reply = visitor.get("/sessions").await.unwrap();
    let html = reply.text();
    assert!(
        reply.status == 200
            && reply
                .header("content-type")
                .is_some_and(|kind| kind.starts_with("text/html")),
        "GET /sessions: expected 200 HTML; got {}",
        reply.summary()
    );
    let items = session_items(&html);
    let expected: BTreeSet<(&str, bool)> = listed
        .iter()
        .map(|entry| (entry.handle.as_str(), entry.current))
        .collect();
    let shown: BTreeSet<(&str, bool)> = items
        .iter()
        .map(|item| (item.handle, item.current))
        .collect();
    assert!(
        items.len() == listed.len() && shown == expected,
        "GET /sessions lists (handle, current) {shown:?}, /api/sessions {expected:?}: {html}"
    );
    for item in &items {
        let revoke_form = item.body.contains("action=\"/sessions/revoke\"")
            && item.body.contains(&format!("value=\"{}\"", item.handle))
            && item.body.contains("name=\"handle\"");
        assert!(
            revoke_form && item.body.contains("(this device)") == item.current,
            "each session has a revoke form with its handle, and only the current one says \
             \"(this device)\": {}",
            item.body
        );
    }
    let text = decode_entities(&html);
    for agent in agents {
        assert!(
            text.contains(agent) && (!agent.contains('<') || !html.contains(agent)),
            "GET /sessions names the browser {agent:?}, HTML-escaped: {html}"
        );
    }
    for needle in [
        "action=\"/sessions/revoke-others\"",
        "id=\"revoke-others\"",
        "action=\"/logout-everywhere\"",
        "id=\"logout-everywhere\"",
    ] {
        assert!(
            html.contains(needle),
            "GET /sessions lacks `{needle}`: {html}"
        );
    }
}

/// One `<li class="session ...">` of the sessions page.
struct Item<'a> {
    handle: &'a str,
    current: bool,
    /// The item's markup up to its `</li>`.
    body: &'a str,
}

/// The items of `html` whose class list has `session`.
fn session_items(html: &str) -> Vec<Item<'_>> {
    html.match_indices("<li")
        .filter_map(|(start, _)| {
            let rest = &html[start..];
            let tag = &rest[..rest.find('>')?];
            let classes = attribute(tag, "class")?;
            let classes: Vec<&str> = classes.split_whitespace().collect();
            classes.contains(&"session").then(|| Item {
                handle: attribute(tag, "data-handle").unwrap_or_default(),
                current: classes.contains(&"current"),
                body: &rest[..rest.find("</li>").unwrap_or(rest.len())],
            })
        })
        .collect()
}

/// The value of `name="..."` in a start tag.
fn attribute<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let marker = format!(" {name}=\"");
    let start = tag.find(&marker)? + marker.len();
    let end = tag[start..].find('"')?;
    Some(&tag[start..start + end])
}
