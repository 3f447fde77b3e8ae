//! Watches: a stream of `{"type":…,"object":…}` lines (one JSON object per line, as the official
//! clients split them) for one resource type, filtered by namespace and selectors as the real watch
//! cache filters them (an object that stops matching is sent as DELETED, one that starts matching as
//! ADDED). It starts with the current objects as ADDED (no or zero resourceVersion, or
//! `sendInitialEvents=true`, then a bookmark marking the end of them) or with the stored events after
//! a resourceVersion; a resourceVersion older than the history gets a single `ERROR` event with a 410
//! `Expired` Status, as a real server answers (HTTP 200 first). With `allowWatchBookmarks`, BOOKMARK
//! events carry the watcher's progress every minute and once more as `timeoutSeconds` ends. Objects
//! are sent as one-row Tables when the client asked for Tables.

use crate::api::Selectors;
use crate::cluster::Cluster;
use crate::kinds::ResourceType;
use crate::params::ListOptions;
use crate::status::{ApiError, ApiResult};
use crate::store::Event;
use bytes::Bytes;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};

/// How often a watch that allows bookmarks gets one (the real watch cache's frequency).
const BOOKMARK_EVERY: Duration = Duration::from_secs(60);

/// Watches that end without a timeoutSeconds (the real server picks 30–60 minutes).
const DEFAULT_TIMEOUT_SECS: u64 = 1800;

/// What one stored event means to a watcher whose filter gave `prev_matches` for the object before
/// the change and `cur_matches` after it: the event type to send and whether to send the object before
/// the change (stamped with the event's resourceVersion) instead of after. Mirrors the watch cache's
/// `convertToWatchEvent` (k8s.io/apiserver `pkg/storage/cacher/cache_watcher.go`).
pub fn visible(kind: &str, prev_matches: bool, cur_matches: bool) -> Option<(&'static str, bool)> {
    let cur = kind != "DELETED" && cur_matches;
    match (prev_matches, cur) {
        (false, true) => Some(("ADDED", false)),
        (true, true) => Some(("MODIFIED", false)),
        (true, false) => Some(("DELETED", true)),
        (false, false) => None,
    }
}

fn line(kind: &str, object: &Value, table: Option<&ResourceType>) -> Bytes {
    let object = match table {
        Some(rt) if kind != "BOOKMARK" && kind != "ERROR" => {
            let rv = object.pointer("/metadata/resourceVersion").and_then(Value::as_str).unwrap_or("");
            crate::table::table(rt, &[object], rv, crate::clock::now_secs())
        }
        _ => object.clone(),
    };
    let mut s = json!({"type": kind, "object": object}).to_string();
    s.push('\n');
    Bytes::from(s)
}

/// A BOOKMARK object: only kind, apiVersion and the resourceVersion (Go renders the null timestamp).
fn bookmark(rt: &ResourceType, rv: u64, initial_events_end: bool) -> Bytes {
    let mut meta = json!({"resourceVersion": rv.to_string(), "creationTimestamp": null});
    if initial_events_end {
        meta["annotations"] = json!({"k8s.io/initial-events-end": "true"});
    }
    line("BOOKMARK", &json!({"kind": rt.kind, "apiVersion": rt.api_version(), "metadata": meta}), None)
}

/// The filter of one watch.
struct Filter {
    rt: &'static ResourceType,
    ns: String,
    sel: Selectors,
}

impl Filter {
    fn matches(&self, obj: &Value) -> bool {
        (self.ns.is_empty() || obj.pointer("/metadata/namespace").and_then(Value::as_str) == Some(self.ns.as_str()))
            && self.sel.matches(obj)
    }

    /// The line for a stored event, if this watcher sees it.
    fn event_line(&self, e: &Event, table: Option<&ResourceType>) -> Option<Bytes> {
        if e.group != self.rt.group || e.plural != self.rt.plural {
            return None;
        }
        let prev_matches = e.prev.as_ref().is_some_and(|p| self.matches(p));
        let (kind, send_prev) = visible(e.kind, prev_matches, self.matches(&e.object))?;
        match (send_prev, &e.prev) {
            (true, Some(prev)) => {
                let mut obj = prev.clone();
                obj["metadata"]["resourceVersion"] = json!(e.rv.to_string());
                Some(line(kind, &obj, table))
            }
            _ => Some(line(kind, &e.object, table)),
        }
    }
}

/// Starts a watch; the receiver yields the response body's chunks.
pub fn start(
    cluster: &Arc<Cluster>,
    rt: &'static ResourceType,
    ns: &str,
    sel: Selectors,
    opts: &ListOptions,
    as_table: bool,
) -> ApiResult<mpsc::Receiver<Bytes>> {
    let table = as_table.then_some(rt);
    let timeout = opts.timeout_seconds.unwrap_or(DEFAULT_TIMEOUT_SECS);
    let bookmarks = opts.allow_bookmarks;
    let initial_events = opts.send_initial_events == Some(true);
    let since = if initial_events { None } else { opts.rv_number()? };
    let filter = Filter { rt, ns: if rt.namespaced { ns.to_string() } else { String::new() }, sel };
    let (tx, rx) = mpsc::channel(64);
    let (initial, mut live, mut progress) = {
        let st = cluster.lock();
        let live = st.store.subscribe();
        let mut initial: Vec<Bytes> = match since {
            None => st
                .store
                .list(rt, None)
                .into_iter()
                .filter(|o| filter.matches(o))
                .map(|o| line("ADDED", o, table))
                .collect(),
            Some(rv) => match st.store.events_since(rv) {
                Some(events) => events.iter().filter_map(|e| filter.event_line(e, table)).collect(),
                None => {
                    let expired = ApiError::new(
                        410,
                        "Expired",
                        format!("too old resource version: {rv} ({})", st.store.compacted()),
                    );
                    let chunk = line("ERROR", &expired.to_status(), None);
                    drop(st);
                    tokio::spawn(async move {
                        let _ = tx.send(chunk).await;
                    });
                    return Ok(rx);
                }
            },
        };
        let progress = st.store.rv();
        if initial_events {
            initial.push(bookmark(rt, progress, true));
        }
        (initial, live, progress)
    };
    tokio::spawn(async move {
        for chunk in initial {
            if tx.send(chunk).await.is_err() {
                return;
            }
        }
        let deadline = tokio::time::sleep(Duration::from_secs(timeout));
        tokio::pin!(deadline);
        let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + BOOKMARK_EVERY, BOOKMARK_EVERY);
        loop {
            let chunk = tokio::select! {
                _ = &mut deadline => {
                    if bookmarks {
                        let _ = tx.send(bookmark(rt, progress, false)).await;
                    }
                    return;
                }
                _ = tx.closed() => return,
                _ = ticker.tick(), if bookmarks => Some(bookmark(rt, progress, false)),
                ev = live.recv() => match ev {
                    Ok(e) => {
                        progress = progress.max(e.rv);
                        filter.event_line(&e, table)
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) | Err(broadcast::error::RecvError::Closed) => return,
                },
            };
            if let Some(chunk) = chunk
                && tx.send(chunk).await.is_err()
            {
                return;
            }
        }
    });
    Ok(rx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selector_transitions_become_added_and_deleted() {
        assert_eq!(visible("ADDED", false, true), Some(("ADDED", false)));
        assert_eq!(visible("ADDED", false, false), None);
        assert_eq!(visible("MODIFIED", true, true), Some(("MODIFIED", false)));
        assert_eq!(visible("MODIFIED", false, true), Some(("ADDED", false)));
        assert_eq!(visible("MODIFIED", true, false), Some(("DELETED", true)));
        assert_eq!(visible("MODIFIED", false, false), None);
        assert_eq!(visible("DELETED", true, true), Some(("DELETED", true)));
        assert_eq!(visible("DELETED", false, false), None);
    }

    #[test]
    fn bookmarks_carry_only_kind_api_version_and_resource_version() {
        let rt = crate::kinds::by_plural("", "configmaps").unwrap();
        let b: Value = serde_json::from_slice(&bookmark(rt, 17, false)).unwrap();
        assert_eq!(
            b,
            json!({"type": "BOOKMARK", "object": {"kind": "ConfigMap", "apiVersion": "v1",
                "metadata": {"resourceVersion": "17", "creationTimestamp": null}}})
        );
        let b: Value = serde_json::from_slice(&bookmark(rt, 3, true)).unwrap();
        assert_eq!(b["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"], "true");
        assert!(line("ADDED", &json!({}), None).ends_with(b"}\n"));
    }
}
