//! List pagination: the opaque `continue` token and cutting a sorted snapshot into pages.
//! The token has the real server's shape (k8s.io/apiserver `pkg/storage/continue.go`): unpadded
//! base64url of `{"v":"meta.k8s.io/v1","rv":<snapshot resourceVersion>,"start":"<next key>"}`, the
//! key relative to the listed collection (`name` in a namespace, `namespace/name` across them), and
//! `rv` -1 meaning "continue at the latest state" (what a 410 for an expired token hands back).
//! Pure: the list handler supplies the snapshot.

use base64::Engine;
use serde_json::{Value, json};

const TOKEN_VERSION: &str = "meta.k8s.io/v1";
const INVALID_START_RV: &str =
    "continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)";

/// A decoded continue token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Continue {
    /// Resourceversion of the first page's snapshot; -1 for "latest".
    pub rv: i64,
    /// Keys at or after this one are on the next page.
    pub start: String,
}

/// The token whose next page starts at `start` (the last key of this page followed by a NUL, the
/// smallest key after it).
pub fn encode(rv: i64, start: &str) -> String {
    let body = json!({"v": TOKEN_VERSION, "rv": rv, "start": start});
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(body.to_string())
}

/// Decodes a token, with the real server's error texts (the caller prefixes `invalid continue token: `).
pub fn decode(token: &str) -> Result<Continue, String> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .map_err(|e| format!("{INVALID_START_RV}: {e}"))?;
    let v: Value = serde_json::from_slice(&raw).map_err(|e| format!("{INVALID_START_RV}: {e}"))?;
    let version = v.get("v").and_then(Value::as_str).unwrap_or("");
    if version != TOKEN_VERSION {
        return Err(format!("continue key is not valid: server does not recognize this encoded version {version}"));
    }
    let rv = v.get("rv").and_then(Value::as_i64).unwrap_or(0);
    if rv == 0 {
        return Err(INVALID_START_RV.into());
    }
    let start = v.get("start").and_then(Value::as_str).unwrap_or("");
    if start.is_empty() {
        return Err("continue key is not valid: encoded start key empty (version meta.k8s.io/v1)".into());
    }
    // The real server refuses keys that path-cleaning would change (no escaping the collection).
    if start.split('/').any(|seg| seg.is_empty() || seg == "." || seg == "..") {
        return Err(format!("continue key is not valid: {start}"));
    }
    Ok(Continue { rv, start: start.to_string() })
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// The objects on this page.
    pub items: Vec<Value>,
    /// The key of the last object, when more objects follow.
    pub last_key: Option<String>,
    /// How many objects follow this page.
    pub remaining: usize,
}

/// Cuts `items` (key, object), sorted here by key, to those at or after `start`, at most `limit`
/// (0: all).
pub fn page(mut items: Vec<(String, Value)>, start: Option<&str>, limit: u64) -> Page {
    items.sort_by(|a, b| a.0.cmp(&b.0));
    let rest: Vec<(String, Value)> = items.into_iter().filter(|(k, _)| start.is_none_or(|s| k.as_str() >= s)).collect();
    let limit = if limit == 0 { usize::MAX } else { limit as usize };
    if rest.len() <= limit {
        return Page { items: rest.into_iter().map(|(_, v)| v).collect(), last_key: None, remaining: 0 };
    }
    let remaining = rest.len() - limit;
    let mut taken: Vec<(String, Value)> = rest.into_iter().take(limit).collect();
    let last_key = taken.last().map(|(k, _)| k.clone());
    Page { items: taken.drain(..).map(|(_, v)| v).collect(), last_key, remaining }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(names: &[&str]) -> Vec<(String, Value)> {
        names.iter().map(|n| (n.to_string(), json!({"metadata": {"name": n}}))).collect()
    }

    fn names(p: &Page) -> Vec<&str> {
        p.items.iter().map(|v| v["metadata"]["name"].as_str().unwrap()).collect()
    }

    #[test]
    fn token_round_trips_and_has_the_real_shape() {
        let t = encode(42, "ns/cm-3\u{0}");
        assert!(!t.contains('=') && !t.contains('+') && !t.contains('/'), "{t}");
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(&t).unwrap();
        assert_eq!(String::from_utf8(raw).unwrap(), r#"{"v":"meta.k8s.io/v1","rv":42,"start":"ns/cm-3\u0000"}"#);
        assert_eq!(decode(&t).unwrap(), Continue { rv: 42, start: "ns/cm-3\u{0}".into() });
        assert_eq!(decode(&encode(-1, "x\u{0}")).unwrap().rv, -1);
    }

    #[test]
    fn bad_tokens_are_refused_with_the_real_texts() {
        assert!(decode("!!!").unwrap_err().starts_with(INVALID_START_RV));
        let enc = |v: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        assert_eq!(
            decode(&enc(json!({"v": "meta.k8s.io/v2", "rv": 1, "start": "a"}))).unwrap_err(),
            "continue key is not valid: server does not recognize this encoded version meta.k8s.io/v2"
        );
        assert_eq!(decode(&enc(json!({"v": "meta.k8s.io/v1", "rv": 0, "start": "a"}))).unwrap_err(), INVALID_START_RV);
        assert!(decode(&enc(json!({"v": "meta.k8s.io/v1", "rv": 3, "start": ""}))).unwrap_err().contains("empty"));
        assert!(decode(&enc(json!({"v": "meta.k8s.io/v1", "rv": 3, "start": "../x"}))).is_err());
    }

    #[test]
    fn pages_walk_every_item_once_in_key_order() {
        let all = named(&["e", "a", "d", "b", "c", "g", "f"]);
        let p1 = page(all.clone(), None, 2);
        assert_eq!((names(&p1), p1.remaining), (vec!["a", "b"], 5));
        let start = format!("{}\u{0}", p1.last_key.unwrap());
        let p2 = page(all.clone(), Some(&start), 2);
        assert_eq!(names(&p2), vec!["c", "d"]);
        let start = format!("{}\u{0}", p2.last_key.unwrap());
        let p3 = page(all.clone(), Some(&start), 3);
        assert_eq!((names(&p3), p3.last_key.as_deref(), p3.remaining), (vec!["e", "f", "g"], None, 0));
        assert_eq!(page(all, None, 0).items.len(), 7);
    }
}
