//! One cluster's objects: a map keyed by (group, plural, namespace, name), one global resourceVersion
//! counter, and a bounded history of watch events fanned out on a broadcast channel. The history
//! (each event keeps the object before the change) serves watches that resume from a
//! resourceVersion and lists at an older resourceVersion (continued pages); what has been dropped
//! from it, by overflow or by [`Store::compact`], is "too old" (410 Expired), as after an etcd
//! compaction. No HTTP, no policy.

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
    /// The object before the change (`None` for ADDED).
    pub prev: Option<Value>,
}

/// The object store.
pub struct Store {
    objects: BTreeMap<Key, Value>,
    rv: u64,
    history: VecDeque<Arc<Event>>,
    /// Every event after this resourceVersion is still in `history`.
    compacted: u64,
    tx: broadcast::Sender<Arc<Event>>,
}

impl Default for Store {
    fn default() -> Self {
        Store {
            objects: BTreeMap::new(),
            rv: 0,
            history: VecDeque::new(),
            compacted: 0,
            tx: broadcast::channel(4096).0,
        }
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

    /// The oldest resourceVersion that can still be watched from or listed at.
    pub fn compacted(&self) -> u64 {
        self.compacted
    }

    /// Drops the event history, as an etcd compaction does: older resourceVersions become too old.
    pub fn compact(&mut self) {
        self.history.clear();
        self.compacted = self.rv;
    }

    /// Events after `rv` still in the history, oldest first; `None` if `rv` is older than the history.
    pub fn events_since(&self, rv: u64) -> Option<Vec<Arc<Event>>> {
        if rv < self.compacted {
            return None;
        }
        Some(self.history.iter().filter(|e| e.rv > rv).cloned().collect())
    }

    /// The objects of a type (optionally in one namespace) as they were at resourceVersion `rv`,
    /// rebuilt by undoing later events; `None` if `rv` is older than the history.
    pub fn list_at(&self, rt: &ResourceType, ns: Option<&str>, rv: u64) -> Option<Vec<Value>> {
        if rv >= self.rv {
            return Some(self.list(rt, ns).into_iter().cloned().collect());
        }
        if rv < self.compacted {
            return None;
        }
        let mut objects: BTreeMap<Key, Value> = self
            .objects
            .iter()
            .filter(|((g, p, _, _), _)| *g == rt.group && *p == rt.plural)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for e in self.history.iter().rev().take_while(|e| e.rv > rv) {
            if e.group != rt.group || e.plural != rt.plural {
                continue;
            }
            let key = key_of(rt, meta(&e.object, "namespace"), meta(&e.object, "name"));
            match &e.prev {
                Some(prev) => objects.insert(key, prev.clone()),
                None => objects.remove(&key),
            };
        }
        Some(objects.into_iter().filter(|((_, _, n, _), _)| ns.is_none_or(|ns| n == ns)).map(|(_, v)| v).collect())
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

    fn emit(
        &mut self,
        kind: &'static str,
        group: &'static str,
        plural: &'static str,
        object: Value,
        prev: Option<Value>,
    ) {
        let ev = Arc::new(Event { rv: self.rv, kind, group, plural, object, prev });
        if self.history.len() >= HISTORY
            && let Some(dropped) = self.history.pop_front()
        {
            self.compacted = dropped.rv;
        }
        self.history.push_back(ev.clone());
        let _ = self.tx.send(ev);
    }

    /// Stores an object (new or replacing), stamping the next resourceVersion; returns the stored copy.
    pub fn put(&mut self, rt: &ResourceType, mut obj: Value) -> Value {
        self.rv += 1;
        obj["metadata"]["resourceVersion"] = Value::String(self.rv.to_string());
        let key = key_of(rt, meta(&obj, "namespace"), meta(&obj, "name"));
        let prev = self.objects.insert(key, obj.clone());
        let kind = if prev.is_some() { "MODIFIED" } else { "ADDED" };
        self.emit(kind, rt.group, rt.plural, obj.clone(), prev);
        obj
    }

    /// Removes an object; returns it with the deletion's resourceVersion.
    pub fn remove(&mut self, rt: &ResourceType, ns: &str, name: &str) -> Option<Value> {
        self.remove_key(&key_of(rt, ns, name))
    }

    /// Removes an object by key.
    pub fn remove_key(&mut self, key: &Key) -> Option<Value> {
        let prev = self.objects.remove(key)?;
        let mut obj = prev.clone();
        self.rv += 1;
        obj["metadata"]["resourceVersion"] = Value::String(self.rv.to_string());
        self.emit("DELETED", key.0, key.1, obj.clone(), Some(prev));
        Some(obj)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cms() -> &'static ResourceType {
        crate::kinds::by_plural("", "configmaps").unwrap()
    }

    fn cm(name: &str, v: &str) -> Value {
        json!({"metadata": {"name": name, "namespace": "n"}, "data": {"v": v}})
    }

    fn data_at(s: &Store, rv: u64) -> Vec<String> {
        s.list_at(cms(), Some("n"), rv)
            .unwrap()
            .iter()
            .map(|o| format!("{}={}", meta(o, "name"), o["data"]["v"].as_str().unwrap()))
            .collect()
    }

    #[test]
    fn lists_at_an_older_resource_version_until_compacted() {
        let mut s = Store::default();
        s.put(cms(), cm("a", "1"));
        s.put(cms(), cm("b", "1"));
        let rv = s.rv();
        s.put(cms(), cm("a", "2"));
        s.remove(cms(), "n", "b");
        s.put(cms(), cm("c", "1"));
        assert_eq!(data_at(&s, rv), ["a=1", "b=1"]);
        assert_eq!(data_at(&s, s.rv()), ["a=2", "c=1"]);
        assert_eq!(s.events_since(rv).unwrap().len(), 3);
        s.compact();
        assert!(s.list_at(cms(), Some("n"), rv).is_none());
        assert!(s.events_since(rv).is_none());
        assert!(s.events_since(s.rv()).unwrap().is_empty());
    }
}
