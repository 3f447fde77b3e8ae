//! One cluster's objects: a map keyed by (group, plural, namespace, name), one global resourceVersion
//! counter, and a bounded history of watch events fanned out on a broadcast channel. No HTTP, no policy.

use crate::kinds::ResourceType;
use serde_json::Value;
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use tokio::sync::broadcast;

/// Events kept for watches that resume from a resourceVersion.
const HISTORY: usize = 20_000;

/// Storage key.
pub type Key = (&'static str, &'static str, String, String);

/// A change, as sent to watchers.
#[derive(Debug, Clone)]
pub struct Event {
    /// The resourceVersion this event produced.
    pub rv: u64,
    /// `ADDED`, `MODIFIED` or `DELETED`.
    pub kind: &'static str,
    /// Group of the object's type.
    pub group: &'static str,
    /// Plural of the object's type.
    pub plural: &'static str,
    /// The object after the change (before, for DELETED, with the new resourceVersion).
    pub object: Value,
}

/// The object store.
pub struct Store {
    objects: BTreeMap<Key, Value>,
    rv: u64,
    history: VecDeque<Arc<Event>>,
    tx: broadcast::Sender<Arc<Event>>,
}

impl Default for Store {
    fn default() -> Self {
        Store { objects: BTreeMap::new(), rv: 0, history: VecDeque::new(), tx: broadcast::channel(4096).0 }
    }
}

fn meta<'a>(obj: &'a Value, k: &str) -> &'a str {
    obj.get("metadata").and_then(|m| m.get(k)).and_then(Value::as_str).unwrap_or("")
}

/// The key an object is stored under.
pub fn key_of(rt: &ResourceType, ns: &str, name: &str) -> Key {
    (rt.group, rt.plural, if rt.namespaced { ns.to_string() } else { String::new() }, name.to_string())
}

impl Store {
    /// The current resourceVersion.
    pub fn rv(&self) -> u64 {
        self.rv
    }

    /// A new subscription to live events.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.tx.subscribe()
    }

    /// Events after `rv` still in the history, oldest first; `None` if `rv` is older than the history.
    pub fn events_since(&self, rv: u64) -> Option<Vec<Arc<Event>>> {
        if let Some(first) = self.history.front()
            && first.rv > rv + 1
            && rv < self.rv
        {
            return None;
        }
        Some(self.history.iter().filter(|e| e.rv > rv).cloned().collect())
    }

    /// Looks an object up.
    pub fn get(&self, rt: &ResourceType, ns: &str, name: &str) -> Option<&Value> {
        self.objects.get(&key_of(rt, ns, name))
    }

    /// All objects of a type, optionally in one namespace.
    pub fn list(&self, rt: &ResourceType, ns: Option<&str>) -> Vec<&Value> {
        self.objects
            .iter()
            .filter(|((g, p, n, _), _)| *g == rt.group && *p == rt.plural && ns.is_none_or(|ns| n == ns))
            .map(|(_, v)| v)
            .collect()
    }

    /// All objects in a namespace, of every namespaced type, as (type key, object).
    pub fn namespace_contents(&self, ns: &str) -> Vec<(Key, Value)> {
        self.objects.iter().filter(|((_, _, n, _), _)| n == ns).map(|(k, v)| (k.clone(), v.clone())).collect()
    }

    fn emit(&mut self, kind: &'static str, group: &'static str, plural: &'static str, object: Value) {
        let ev = Arc::new(Event { rv: self.rv, kind, group, plural, object });
        if self.history.len() >= HISTORY {
            self.history.pop_front();
        }
        self.history.push_back(ev.clone());
        let _ = self.tx.send(ev);
    }

    /// Stores an object (new or replacing), stamping the next resourceVersion; returns the stored copy.
    pub fn put(&mut self, rt: &ResourceType, mut obj: Value) -> Value {
        self.rv += 1;
        obj["metadata"]["resourceVersion"] = Value::String(self.rv.to_string());
        let key = key_of(rt, meta(&obj, "namespace"), meta(&obj, "name"));
        let kind = if self.objects.contains_key(&key) { "MODIFIED" } else { "ADDED" };
        self.objects.insert(key, obj.clone());
        self.emit(kind, rt.group, rt.plural, obj.clone());
        obj
    }

    /// Removes an object; returns it with the deletion's resourceVersion.
    pub fn remove(&mut self, rt: &ResourceType, ns: &str, name: &str) -> Option<Value> {
        self.remove_key(&key_of(rt, ns, name))
    }

    /// Removes an object by key.
    pub fn remove_key(&mut self, key: &Key) -> Option<Value> {
        let mut obj = self.objects.remove(key)?;
        self.rv += 1;
        obj["metadata"]["resourceVersion"] = Value::String(self.rv.to_string());
        self.emit("DELETED", key.0, key.1, obj.clone());
        Some(obj)
    }
}
