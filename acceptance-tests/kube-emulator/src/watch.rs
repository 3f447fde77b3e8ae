//! Watches: a stream of `{"type":…,"object":…}` lines for one resource type, starting either with the
//! current objects as ADDED (no or zero resourceVersion) or with the stored events after a given
//! resourceVersion, then live events, filtered by namespace and selectors, until `timeoutSeconds`.
//! Objects are sent as one-row Tables when the client asked for Tables.

use crate::api::{Query, Selectors};
use crate::cluster::Cluster;
use crate::kinds::ResourceType;
use crate::status::{ApiError, ApiResult};
use bytes::Bytes;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};

fn line(kind: &str, object: &Value, table: Option<&ResourceType>) -> Bytes {
    let object = match table {
        Some(rt) => {
            let rv = object.pointer("/metadata/resourceVersion").and_then(Value::as_str).unwrap_or("");
            crate::table::table(rt, &[object], rv, crate::clock::now_secs())
        }
        None => object.clone(),
    };
    let mut s = json!({"type": kind, "object": object}).to_string();
    s.push('\n');
    Bytes::from(s)
}

/// Starts a watch; the receiver yields the response body's chunks.
pub fn start(
    cluster: &Arc<Cluster>,
    rt: &'static ResourceType,
    ns: &str,
    q: &Query,
    as_table: bool,
) -> ApiResult<mpsc::Receiver<Bytes>> {
    let table = as_table.then_some(rt);
    let sel = Selectors::from_query(q)?;
    let timeout = q.get("timeoutSeconds").and_then(|t| t.parse::<u64>().ok()).unwrap_or(1800);
    let since = match q.get("resourceVersion").map(String::as_str) {
        None | Some("") | Some("0") => None,
        Some(rv) => {
            Some(rv.parse::<u64>().map_err(|_| ApiError::bad_request(format!("invalid resource version {rv:?}")))?)
        }
    };
    let ns = if rt.namespaced { ns.to_string() } else { String::new() };
    let wanted = move |group: &str, plural: &str, obj: &Value| {
        group == rt.group
            && plural == rt.plural
            && (ns.is_empty() || obj.pointer("/metadata/namespace").and_then(Value::as_str) == Some(ns.as_str()))
            && sel.matches(obj)
    };
    let (initial, mut live) = {
        let st = cluster.lock();
        let live = st.store.subscribe();
        let initial: Vec<Bytes> = match since {
            None => st
                .store
                .list(rt, None)
                .into_iter()
                .filter(|o| wanted(rt.group, rt.plural, o))
                .map(|o| line("ADDED", o, table))
                .collect(),
            Some(rv) => st
                .store
                .events_since(rv)
                .ok_or_else(|| {
                    ApiError::new(410, "Expired", format!("too old resource version: {rv} ({})", st.store.rv()))
                })?
                .into_iter()
                .filter(|e| wanted(e.group, e.plural, &e.object))
                .map(|e| line(e.kind, &e.object, table))
                .collect(),
        };
        (initial, live)
    };
    let (tx, rx) = mpsc::channel(64);
    tokio::spawn(async move {
        for chunk in initial {
            if tx.send(chunk).await.is_err() {
                return;
            }
        }
        let deadline = tokio::time::sleep(Duration::from_secs(timeout));
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                _ = &mut deadline => return,
                _ = tx.closed() => return,
                ev = live.recv() => match ev {
                    Ok(e) if wanted(e.group, e.plural, &e.object) => {
                        if tx.send(line(e.kind, &e.object, table)).await.is_err() {
                            return;
                        }
                    }
                    Ok(_) => {}
                    Err(broadcast::error::RecvError::Lagged(_)) | Err(broadcast::error::RecvError::Closed) => return,
                },
            }
        }
    });
    Ok(rx)
}
