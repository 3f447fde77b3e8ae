//! The workload controllers kube-controller-manager runs for StatefulSets and Deployments
//! (k8s.io/kubernetes `pkg/controller/statefulset`, `pkg/controller/deployment`), enough for
//! `kubectl rollout restart` and `kubectl rollout status` (kubectl `pkg/polymorphichelpers/rollout_status.go`).
//!
//! A sync runs ~150 ms after a workload is created or written, again whenever one of its pods
//! starts or goes, and a second after a pod create was refused (a missing service account, quota). It is level-triggered: it deletes (gracefully) the pods of an older template and
//! creates `spec.replicas` pods of the current one, then writes `status` from the pods it owns.
//!
//! - StatefulSet pods are `<name>-0` … `<name>-(n-1)`, labelled `controller-revision-hash:
//!   <name>-<hash>`, `statefulset.kubernetes.io/pod-name` and `apps.kubernetes.io/pod-index`, with
//!   `hostname` (and `subdomain` from `serviceName`). `OrderedReady` creates one pod at a time, each
//!   once the ones before are Ready; `RollingUpdate` replaces one pod at a time, highest ordinal first,
//!   down to `partition`, each once every pod is Ready; `OnDelete` replaces only pods deleted by hand.
//!   `currentRevision` becomes `updateRevision` once every pod is updated and Ready.
//! - Deployment pods are `<name>-<hash>-<5 chars>`, labelled `pod-template-hash: <hash>`. Unlike a real
//!   Deployment there are no ReplicaSets: pods are owned by the Deployment itself, and a new template
//!   replaces every old pod at once (`Recreate` waits until the old ones are gone). Conditions:
//!   `Available` (`MinimumReplicasAvailable` against `maxUnavailable`), `Progressing`
//!   (`ReplicaSetUpdated`, `NewReplicaSetAvailable`, or False `ProgressDeadlineExceeded` once
//!   `progressDeadlineSeconds` pass without progress), `ReplicaFailure` (`FailedCreate`) while pods are refused.
//!
//! Every pod carries the template's labels, annotations and spec and a controller `ownerReferences`
//! entry to its workload, is created like a client's pod (defaults, admission; manager
//! `kube-controller-manager`), and is deleted with its workload (background cascading deletion).
//! `<hash>` is FNV-32a of the canonical JSON of `spec.template`, encoded as the real controllers encode
//! theirs, so it changes with any template change (a `restartedAt` annotation too).
//!
//! **Stall knob:** a workload whose own `metadata.annotations` has `kube-emulator/rollout: stall` gets
//! its pods created and Running but never Ready (as with a failing readiness probe): `observedGeneration`
//! follows `generation`, but a Deployment keeps `readyReplicas`/`availableReplicas` 0 (its old pods are
//! gone) and a StatefulSet keeps `readyReplicas` below `replicas` and `currentRevision` ≠
//! `updateRevision`, so `kubectl rollout status` never succeeds. The knob is read when pods start;
//! removing it makes running pods Ready on the next sync, so the rollout completes.

use crate::api::{Query, WriteCtx};
use crate::cluster::{Cluster, State, rt};
use crate::controllers::{is_ready, set_ready};
use crate::kinds::ResourceType;
use serde_json::{Map, Value, json};
use std::sync::Arc;
use std::time::Duration;

/// Delay before the controllers act on a created or written workload.
pub const ROLLOUT_DELAY: Duration = Duration::from_millis(150);
/// Delay before refused pod creates are tried again.
const CREATE_RETRY: Duration = Duration::from_secs(1);
/// The annotation of the stall knob; its value is [`STALL`].
pub const STALL_KNOB: &str = "kube-emulator/rollout";
/// The knob's value that stalls rollouts.
pub const STALL: &str = "stall";
/// The field manager of the pods the controllers create.
const MANAGER: &str = "kube-controller-manager";
/// Alphabet of apimachinery `rand.SafeEncodeString`, used for template hashes.
const SAFE_CHARS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// True for the kinds these controllers run.
pub fn is_workload(rt: &ResourceType) -> bool {
    rt.group == "apps" && matches!(rt.kind, "StatefulSet" | "Deployment")
}

fn str_at<'a>(v: &'a Value, ptr: &str) -> &'a str {
    v.pointer(ptr).and_then(Value::as_str).unwrap_or("")
}

fn int_at(v: &Value, ptr: &str) -> Option<i64> {
    v.pointer(ptr).and_then(Value::as_i64)
}

fn stalls(workload: &Value) -> bool {
    workload.pointer("/metadata/annotations").and_then(|a| a.get(STALL_KNOB)).and_then(Value::as_str) == Some(STALL)
}

fn live(pod: &Value) -> bool {
    pod.pointer("/metadata/deletionTimestamp").is_none()
}

/// Schedules a sync of a workload after [`ROLLOUT_DELAY`].
pub fn spawn_sync(cluster: Arc<Cluster>, rt: &'static ResourceType, ns: String, name: String) {
    spawn_sync_after(cluster, rt, ns, name, ROLLOUT_DELAY);
}

fn spawn_sync_after(cluster: Arc<Cluster>, rt: &'static ResourceType, ns: String, name: String, delay: Duration) {
    tokio::spawn(async move {
        tokio::time::sleep(delay).await;
        let mut st = cluster.lock();
        sync(&cluster, &mut st, rt, &ns, &name);
    });
}

/// Objects keep keys in insertion order here; hashing needs one order for equal templates.
fn canonical(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            Value::Object(keys.into_iter().map(|k| (k.clone(), canonical(&m[k]))).collect::<Map<_, _>>())
        }
        Value::Array(a) => Value::Array(a.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

/// The hash of a pod template: FNV-32a, its decimal digits mapped onto [`SAFE_CHARS`] as
/// apimachinery's `SafeEncodeString` maps them (k8s.io/kubernetes `pkg/controller/controller_utils.go`
/// `ComputeHash` hashes the Go struct instead, so values differ from a real cluster's).
pub fn template_hash(template: &Value) -> String {
    let mut h: u32 = 0x811c_9dc5;
    for b in canonical(template).to_string().bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h.to_string().bytes().map(|b| SAFE_CHARS[b as usize % SAFE_CHARS.len()] as char).collect()
}

/// What one sync works out for a workload.
struct Rollout<'a> {
    rt: &'static ResourceType,
    w: &'a Value,
    name: String,
    /// The label marking pods of the current template: key and value.
    revision: (&'static str, String),
    wanted: i64,
}

impl<'a> Rollout<'a> {
    fn of(rt: &'static ResourceType, w: &'a Value) -> Self {
        let name = str_at(w, "/metadata/name").to_string();
        let hash = template_hash(w.pointer("/spec/template").unwrap_or(&Value::Null));
        let revision = if rt.kind == "StatefulSet" {
            ("controller-revision-hash", format!("{name}-{hash}"))
        } else {
            ("pod-template-hash", hash)
        };
        let wanted = int_at(w, "/spec/replicas").unwrap_or(1).max(0);
        Rollout { rt, w, name, revision, wanted }
    }

    fn is_sts(&self) -> bool {
        self.rt.kind == "StatefulSet"
    }

    fn is_current(&self, pod: &Value) -> bool {
        pod.pointer("/metadata/labels").and_then(|l| l.get(self.revision.0)).and_then(Value::as_str)
            == Some(self.revision.1.as_str())
    }

    /// A StatefulSet pod's ordinal (`None` for names that are not `<name>-<n>`).
    fn ordinal(&self, pod: &Value) -> Option<i64> {
        str_at(pod, "/metadata/name").strip_prefix(&format!("{}-", self.name))?.parse().ok()
    }

    fn grace(&self) -> i64 {
        int_at(self.w, "/spec/template/spec/terminationGracePeriodSeconds").unwrap_or(30)
    }

    /// The pods to delete now.
    fn doomed(&self, pods: &[Value]) -> Vec<String> {
        let names = |v: Vec<&Value>| v.into_iter().map(|p| str_at(p, "/metadata/name").to_string()).collect();
        let live: Vec<&Value> = pods.iter().filter(|p| live(p)).collect();
        if !self.is_sts() {
            let (current, old): (Vec<&Value>, Vec<&Value>) = live.into_iter().partition(|p| self.is_current(p));
            let extra = current.len().saturating_sub(self.wanted as usize);
            let mut doomed = old;
            doomed.extend(current.iter().rev().take(extra));
            return names(doomed);
        }
        let condemned: Vec<&Value> =
            live.iter().copied().filter(|p| self.ordinal(p).is_none_or(|o| o >= self.wanted)).collect();
        if !condemned.is_empty() {
            return names(condemned);
        }
        names(self.next_update(&live).into_iter().collect())
    }

    fn ordered(&self) -> bool {
        str_at(self.w, "/spec/podManagementPolicy") != "Parallel"
    }

    /// The StatefulSet pod a rolling update replaces next (`updateStatefulSet` in
    /// `stateful_set_control.go`): walking down from the highest ordinal to `partition`, the first
    /// outdated pod, unless an updated pod on the way is not Ready yet; with `OrderedReady`, only
    /// once every pod is Ready.
    fn next_update<'p>(&self, live: &[&'p Value]) -> Option<&'p Value> {
        if str_at(self.w, "/spec/updateStrategy/type") == "OnDelete"
            || live.len() as i64 != self.wanted
            || (self.ordered() && !live.iter().all(|p| is_ready(p)))
        {
            return None;
        }
        let partition = int_at(self.w, "/spec/updateStrategy/rollingUpdate/partition").unwrap_or(0);
        let mut candidates: Vec<&Value> =
            live.iter().copied().filter(|p| self.ordinal(p).is_some_and(|o| o >= partition)).collect();
        candidates.sort_by_key(|p| std::cmp::Reverse(self.ordinal(p)));
        for p in candidates {
            if !self.is_current(p) {
                return Some(p);
            }
            if !is_ready(p) {
                return None;
            }
        }
        None
    }

    /// The pods to create now: names for a StatefulSet, `None` (a generated name) for a Deployment.
    fn missing(&self, pods: &[Value]) -> Vec<Option<String>> {
        if !self.is_sts() {
            let recreate = str_at(self.w, "/spec/strategy/type") == "Recreate";
            if recreate && pods.iter().any(|p| !self.is_current(p)) {
                return vec![];
            }
            let current = pods.iter().filter(|p| live(p) && self.is_current(p)).count() as i64;
            return (current..self.wanted).map(|_| None).collect();
        }
        let ordered = self.ordered();
        let mut out = vec![];
        for i in 0..self.wanted {
            let name = format!("{}-{i}", self.name);
            match pods.iter().find(|p| str_at(p, "/metadata/name") == name) {
                Some(p) if ordered && !(live(p) && is_ready(p)) => break,
                Some(_) => {}
                None => {
                    out.push(Some(name));
                    if ordered {
                        break;
                    }
                }
            }
        }
        out
    }

    /// A new pod of the current template.
    fn pod(&self, name: Option<&str>) -> Value {
        let t = self.w.pointer("/spec/template").cloned().unwrap_or(json!({}));
        let mut labels = t.pointer("/metadata/labels").cloned().filter(Value::is_object).unwrap_or(json!({}));
        labels[self.revision.0] = json!(self.revision.1);
        let owner = json!({"apiVersion": "apps/v1", "kind": self.rt.kind, "name": self.name,
            "uid": str_at(self.w, "/metadata/uid"), "controller": true, "blockOwnerDeletion": true});
        let mut meta = json!({"ownerReferences": [owner]});
        if let Some(a) = t.pointer("/metadata/annotations").filter(|a| a.is_object()) {
            meta["annotations"] = a.clone();
        }
        let mut spec = t.get("spec").cloned().filter(Value::is_object).unwrap_or(json!({}));
        match name {
            Some(n) => {
                meta["name"] = json!(n);
                labels["statefulset.kubernetes.io/pod-name"] = json!(n);
                labels["apps.kubernetes.io/pod-index"] = json!(n.rsplit('-').next().unwrap_or("0"));
                spec["hostname"] = json!(n);
                let service = str_at(self.w, "/spec/serviceName");
                if !service.is_empty() {
                    spec["subdomain"] = json!(service);
                }
            }
            None => meta["generateName"] = json!(format!("{}-{}-", self.name, self.revision.1)),
        }
        meta["labels"] = labels;
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec})
    }
}

/// The pods a workload (by uid) controls.
fn owned(st: &State, ns: &str, uid: &str) -> Vec<Value> {
    st.store.list(rt("", "pods"), Some(ns)).into_iter().filter(|p| controller_uid(p) == Some(uid)).cloned().collect()
}

fn controller_ref(pod: &Value) -> Option<&Value> {
    pod.pointer("/metadata/ownerReferences")?.as_array()?.iter().find(|r| r["controller"] == true)
}

fn controller_uid(pod: &Value) -> Option<&str> {
    controller_ref(pod).and_then(|r| r["uid"].as_str())
}

/// The workload controlling a pod, if it still exists with the referenced uid.
fn owner(st: &State, ns: &str, pod: &Value) -> Option<(&'static ResourceType, Value)> {
    let r = controller_ref(pod)?;
    let t = crate::kinds::by_kind(r["apiVersion"].as_str()?, r["kind"].as_str()?).filter(|t| is_workload(t))?;
    let w = st.store.get(t, ns, r["name"].as_str()?)?;
    (w.pointer("/metadata/uid") == r.get("uid")).then(|| (t, w.clone()))
}

/// Whether the workload controlling a pod carries the stall knob (read by the stand-in kubelet).
pub fn owner_stalls(st: &State, ns: &str, pod: &Value) -> bool {
    owner(st, ns, pod).is_some_and(|(_, w)| stalls(&w))
}

/// A pod started or went: its workload syncs at once (the kubelet's and the removal's delays
/// already passed).
pub fn pod_changed(cluster: &Arc<Cluster>, st: &mut State, ns: &str, pod: &Value) {
    if let Some((t, w)) = owner(st, ns, pod) {
        sync(cluster, st, t, ns, str_at(&w, "/metadata/name"));
    }
}

/// Background cascading deletion: the pods of a deleted workload go, gracefully.
pub fn delete_dependents(cluster: &Arc<Cluster>, st: &mut State, ns: &str, uid: &str) {
    for pod in owned(st, ns, uid) {
        crate::api::delete_pod_gracefully(cluster, st, ns, str_at(&pod, "/metadata/name"), 30);
    }
}

/// One reconciliation of a workload: replace outdated pods, create missing ones, write `status`.
pub fn sync(cluster: &Arc<Cluster>, st: &mut State, rt: &'static ResourceType, ns: &str, name: &str) {
    let Some(w) = st.store.get(rt, ns, name).cloned().filter(live) else { return };
    let r = Rollout::of(rt, &w);
    let uid = str_at(&w, "/metadata/uid");
    if !stalls(&w) {
        make_ready(st, &owned(st, ns, uid));
    }
    for doomed in r.doomed(&owned(st, ns, uid)) {
        crate::api::delete_pod_gracefully(cluster, st, ns, &doomed, r.grace());
    }
    let failure = create_missing(cluster, st, &r, ns, &owned(st, ns, uid));
    let pods = owned(st, ns, uid);
    let now = crate::clock::now_secs();
    let status =
        if r.is_sts() { stateful_set_status(&r, &pods) } else { deployment_status(&r, &pods, failure.as_deref(), now) };
    if !r.is_sts() {
        schedule_deadline(cluster, rt, ns, name, &w, &status, now);
    }
    if failure.is_some() {
        schedule_retry(cluster, st, rt, ns, name);
    }
    if w.get("status") != Some(&status) {
        let mut updated = w.clone();
        updated["status"] = status;
        st.store.put(rt, updated);
    }
}

/// Refused creates are retried (the real controllers back off; once a second here), so that pods
/// appear once, say, their service account exists. One pending retry per workload.
fn schedule_retry(cluster: &Arc<Cluster>, st: &mut State, rt: &'static ResourceType, ns: &str, name: &str) {
    let key = (rt.plural, ns.to_string(), name.to_string());
    if !st.rollout_retries.insert(key.clone()) {
        return;
    }
    let cluster = cluster.clone();
    tokio::spawn(async move {
        tokio::time::sleep(CREATE_RETRY).await;
        let mut st = cluster.lock();
        st.rollout_retries.remove(&key);
        sync(&cluster, &mut st, rt, &key.1, &key.2);
    });
}

/// Creates the missing pods; returns the first refusal's message (admission, quota, …).
fn create_missing(cluster: &Arc<Cluster>, st: &mut State, r: &Rollout, ns: &str, pods: &[Value]) -> Option<String> {
    let query = Query::new();
    let ctx = WriteCtx { cluster, rt: rt("", "pods"), ns, query: &query, default_manager: MANAGER };
    let mut failure = None;
    for name in r.missing(pods) {
        if let Err(e) = crate::api::create_locked(&ctx, st, r.pod(name.as_deref())) {
            eprintln!("kube-emulator[{}]: {} {ns}/{}: FailedCreate: {}", cluster.name, r.rt.kind, r.name, e.message);
            failure.get_or_insert(e.message);
        }
    }
    failure
}

/// Running pods pass readiness once their workload no longer carries the stall knob.
fn make_ready(st: &mut State, pods: &[Value]) {
    for pod in pods.iter().filter(|p| live(p) && p.pointer("/status/phase") == Some(&json!("Running"))) {
        if !is_ready(pod) {
            let mut p = pod.clone();
            set_ready(&mut p, true);
            st.store.put(rt("", "pods"), p);
        }
    }
}

/// Sets a count, leaving it out when zero as Go's `omitempty` does.
fn put_count(status: &mut Value, key: &str, n: i64) {
    if n != 0 {
        status[key] = json!(n);
    }
}

/// StatefulSet status as `stateful_set_control.go` computes it: `replicas` counts every pod,
/// the others the live ones.
fn stateful_set_status(r: &Rollout, pods: &[Value]) -> Value {
    let live: Vec<&Value> = pods.iter().filter(|p| live(p)).collect();
    let rev = |p: &Value| str_at(p, &format!("/metadata/labels/{}", r.revision.0)).to_string();
    let update_rev = r.revision.1.clone();
    let ready = live.iter().filter(|p| is_ready(p)).count() as i64;
    let updated = live.iter().filter(|p| rev(p) == update_rev).count() as i64;
    let replicas = pods.len() as i64;
    let previous = str_at(r.w, "/status/currentRevision");
    let complete = updated == replicas && ready == replicas;
    let current_rev = if previous.is_empty() || complete { update_rev.clone() } else { previous.to_string() };
    let current = live.iter().filter(|p| rev(p) == current_rev).count() as i64;
    let mut s = json!({"replicas": replicas, "availableReplicas": ready});
    put_count(&mut s, "observedGeneration", int_at(r.w, "/metadata/generation").unwrap_or(1));
    put_count(&mut s, "readyReplicas", ready);
    put_count(&mut s, "currentReplicas", current);
    put_count(&mut s, "updatedReplicas", updated);
    s["currentRevision"] = json!(current_rev);
    s["updateRevision"] = json!(update_rev);
    s["collisionCount"] = json!(0);
    s
}

/// An int-or-percent of `total` (apimachinery `GetScaledValueFromIntOrPercent`).
fn scaled(v: Option<&Value>, total: i64, round_up: bool) -> i64 {
    match v {
        Some(Value::Number(n)) => n.as_i64().unwrap_or(0),
        Some(Value::String(s)) => {
            let pct: i64 = s.trim_end_matches('%').parse().unwrap_or(0);
            if round_up { (pct * total + 99) / 100 } else { pct * total / 100 }
        }
        _ => 0,
    }
}

/// `maxUnavailable` resolved against `replicas` (deployment util `MaxUnavailable`).
fn max_unavailable(w: &Value, replicas: i64) -> i64 {
    if str_at(w, "/spec/strategy/type") != "RollingUpdate" || replicas == 0 {
        return 0;
    }
    let ru = w.pointer("/spec/strategy/rollingUpdate");
    let surge = scaled(ru.and_then(|r| r.get("maxSurge")), replicas, true);
    let unavailable = scaled(ru.and_then(|r| r.get("maxUnavailable")), replicas, false);
    if surge == 0 && unavailable == 0 { 1 } else { unavailable.min(replicas) }
}

/// A condition, keeping the previous one when nothing but its time would change (deployment util
/// `SetDeploymentCondition`), or with a fresh `lastUpdateTime` when `refresh`.
fn condition(
    prev: Option<&Value>,
    kind: &str,
    status: &str,
    reason: &str,
    message: &str,
    now: &str,
    refresh: bool,
) -> Value {
    let same_status = prev.is_some_and(|p| p["status"] == status);
    if same_status && !refresh && prev.is_some_and(|p| p["reason"] == reason) {
        return prev.cloned().expect("checked above");
    }
    let transition = match prev {
        Some(p) if same_status => p["lastTransitionTime"].clone(),
        _ => json!(now),
    };
    json!({"type": kind, "status": status, "lastUpdateTime": now, "lastTransitionTime": transition,
           "reason": reason, "message": message})
}

fn prev_condition<'a>(w: &'a Value, kind: &str) -> Option<&'a Value> {
    w.pointer("/status/conditions")?.as_array()?.iter().find(|c| c["type"] == kind)
}

/// Epoch seconds of an RFC 3339 timestamp as the emulator writes them.
fn parse_time(ts: &str) -> Option<i64> {
    let compact: String = ts.chars().filter(|c| c.is_ascii_digit() || *c == 'T' || *c == 'Z').collect();
    crate::clock::parse_amz_date(&compact)
}

/// Deployment status as the deployment controller's `syncRolloutStatus` computes it.
fn deployment_status(r: &Rollout, pods: &[Value], failure: Option<&str>, now: i64) -> Value {
    let w = r.w;
    let live: Vec<&Value> = pods.iter().filter(|p| live(p)).collect();
    let replicas = live.len() as i64;
    let updated = live.iter().filter(|p| r.is_current(p)).count() as i64;
    let ready = live.iter().filter(|p| is_ready(p)).count() as i64;
    let generation = int_at(w, "/metadata/generation").unwrap_or(1);
    let now_ts = crate::clock::rfc3339(now);
    let rs = format!("{}-{}", r.name, r.revision.1);
    let complete = updated == r.wanted && replicas == r.wanted && ready == r.wanted;
    let new_rollout = int_at(w, "/status/observedGeneration").is_none_or(|o| o < generation);
    let prev_count = |k: &str| int_at(w, &format!("/status/{k}")).unwrap_or(0);
    let progressed = updated > prev_count("updatedReplicas") || ready > prev_count("readyReplicas");

    let available = if ready >= r.wanted - max_unavailable(w, r.wanted) {
        ("True", "MinimumReplicasAvailable", "Deployment has minimum availability.")
    } else {
        ("False", "MinimumReplicasUnavailable", "Deployment does not have minimum availability.")
    };
    let prev_avail = prev_condition(w, "Available");
    let mut conditions =
        vec![condition(prev_avail, "Available", available.0, available.1, available.2, &now_ts, false)];
    let prev = prev_condition(w, "Progressing");
    let deadline = int_at(w, "/spec/progressDeadlineSeconds").unwrap_or(600);
    let timed_out =
        prev.and_then(|p| parse_time(p["lastUpdateTime"].as_str().unwrap_or(""))).is_some_and(|t| now >= t + deadline);
    let progressing = if complete {
        let msg = format!("ReplicaSet {rs:?} has successfully progressed.");
        condition(prev, "Progressing", "True", "NewReplicaSetAvailable", &msg, &now_ts, false)
    } else if new_rollout || progressed || prev.is_none() {
        let msg = format!("ReplicaSet {rs:?} is progressing.");
        condition(prev, "Progressing", "True", "ReplicaSetUpdated", &msg, &now_ts, true)
    } else if timed_out {
        let msg = format!("ReplicaSet {rs:?} has timed out progressing.");
        condition(prev, "Progressing", "False", "ProgressDeadlineExceeded", &msg, &now_ts, false)
    } else {
        prev.cloned().expect("checked above")
    };
    conditions.push(progressing);
    if let Some(msg) = failure {
        let prev = prev_condition(w, "ReplicaFailure");
        conditions.push(condition(prev, "ReplicaFailure", "True", "FailedCreate", msg, &now_ts, false));
    }
    let mut s = json!({});
    put_count(&mut s, "observedGeneration", generation);
    put_count(&mut s, "replicas", replicas);
    put_count(&mut s, "updatedReplicas", updated);
    put_count(&mut s, "readyReplicas", ready);
    put_count(&mut s, "availableReplicas", ready);
    put_count(&mut s, "unavailableReplicas", (r.wanted - ready).max(0));
    s["conditions"] = json!(conditions);
    s
}

/// An unfinished Deployment syncs again when its progress deadline passes, so that `Progressing`
/// turns `ProgressDeadlineExceeded` without anything else happening.
fn schedule_deadline(
    cluster: &Arc<Cluster>,
    rt: &'static ResourceType,
    ns: &str,
    name: &str,
    w: &Value,
    status: &Value,
    now: i64,
) {
    let progressing = status["conditions"].as_array().into_iter().flatten().find(|c| c["type"] == "Progressing");
    let Some(c) = progressing.filter(|c| c["reason"] == "ReplicaSetUpdated") else { return };
    let Some(updated) = parse_time(c["lastUpdateTime"].as_str().unwrap_or("")) else { return };
    // Rescheduling only when the condition's time moved keeps one timer per stretch of no progress.
    if prev_condition(w, "Progressing").is_some_and(|p| p["lastUpdateTime"] == c["lastUpdateTime"]) {
        return;
    }
    let deadline = int_at(w, "/spec/progressDeadlineSeconds").unwrap_or(600);
    let wait = (updated + deadline - now).max(0) as u64;
    let delay = Duration::from_secs(wait) + Duration::from_millis(50);
    spawn_sync_after(cluster.clone(), rt, ns.to_string(), name.to_string(), delay);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::by_plural;

    fn deployment(replicas: i64, image: &str) -> Value {
        json!({"metadata": {"name": "web", "namespace": "n", "uid": "u1", "generation": 2},
               "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
                        "progressDeadlineSeconds": 600,
                        "template": {"metadata": {"labels": {"app": "web"}},
                                     "spec": {"containers": [{"name": "c", "image": image}]}}}})
    }

    fn stateful_set(replicas: i64) -> Value {
        json!({"metadata": {"name": "db", "namespace": "n", "uid": "u2", "generation": 1},
               "spec": {"replicas": replicas, "serviceName": "db", "podManagementPolicy": "OrderedReady",
                        "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
                        "selector": {"matchLabels": {"app": "db"}},
                        "template": {"metadata": {"labels": {"app": "db"}},
                                     "spec": {"containers": [{"name": "c", "image": "pg"}]}}}})
    }

    /// A pod of `r`, ready or not, of the current template or not.
    fn pod_of(r: &Rollout, name: &str, current: bool, ready: bool) -> Value {
        let mut p = r.pod(r.is_sts().then_some(name));
        p["metadata"]["name"] = json!(name);
        if !current {
            p["metadata"]["labels"][r.revision.0] = json!("old");
        }
        p["status"] = json!({"phase": "Running", "conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }}]});
        p
    }

    #[test]
    fn template_hashes_follow_the_template_not_its_key_order() {
        let a = json!({"metadata": {"labels": {"a": "1", "b": "2"}}, "spec": {}});
        let b = json!({"spec": {}, "metadata": {"labels": {"b": "2", "a": "1"}}});
        assert_eq!(template_hash(&a), template_hash(&b));
        let restarted = json!({"metadata": {"labels": {"a": "1", "b": "2"},
                               "annotations": {"kubectl.kubernetes.io/restartedAt": "2026-01-01T00:00:00Z"}}, "spec": {}});
        assert_ne!(template_hash(&a), template_hash(&restarted));
        assert!(template_hash(&a).bytes().all(|c| SAFE_CHARS.contains(&c)));
    }

    #[test]
    fn deployment_pods_carry_the_template_hash_and_an_owner() {
        let w = deployment(2, "nginx");
        let r = Rollout::of(by_plural("apps", "deployments").unwrap(), &w);
        let p = r.pod(None);
        let hash = template_hash(&w["spec"]["template"]);
        assert_eq!(p["metadata"]["generateName"], format!("web-{hash}-"));
        assert_eq!(p["metadata"]["labels"], json!({"app": "web", "pod-template-hash": hash}));
        assert_eq!(p["metadata"]["ownerReferences"][0]["kind"], "Deployment");
        assert_eq!(p["metadata"]["ownerReferences"][0]["uid"], "u1");
        assert_eq!(p["spec"]["containers"][0]["image"], "nginx");
        assert_eq!(r.missing(&[]).len(), 2);
        let old = vec![pod_of(&r, "web-old-1", false, true), pod_of(&r, "web-old-2", false, true)];
        assert_eq!(r.doomed(&old), ["web-old-1", "web-old-2"]);
    }

    #[test]
    fn stateful_sets_create_in_order_and_update_from_the_top() {
        let w = stateful_set(3);
        let r = Rollout::of(by_plural("apps", "statefulsets").unwrap(), &w);
        assert_eq!(r.missing(&[]), [Some("db-0".to_string())]);
        let p = r.pod(Some("db-0"));
        assert_eq!(p["metadata"]["labels"]["statefulset.kubernetes.io/pod-name"], "db-0");
        assert_eq!(p["metadata"]["labels"]["apps.kubernetes.io/pod-index"], "0");
        assert_eq!((&p["spec"]["hostname"], &p["spec"]["subdomain"]), (&json!("db-0"), &json!("db")));
        let unready = [pod_of(&r, "db-0", true, false)];
        assert!(r.missing(&unready).is_empty(), "OrderedReady waits for db-0");
        let old: Vec<Value> = (0..3).map(|i| pod_of(&r, &format!("db-{i}"), false, true)).collect();
        assert_eq!(r.doomed(&old), ["db-2"]);
        let mut mixed = old.clone();
        mixed[2] = pod_of(&r, "db-2", true, false);
        assert!(r.doomed(&mixed).is_empty(), "waits until the updated pod is Ready");
        let mut parallel = w.clone();
        parallel["spec"]["podManagementPolicy"] = json!("Parallel");
        let rp = Rollout::of(by_plural("apps", "statefulsets").unwrap(), &parallel);
        let ready_top =
            [pod_of(&rp, "db-0", false, false), pod_of(&rp, "db-1", false, true), pod_of(&rp, "db-2", true, true)];
        assert_eq!(rp.doomed(&ready_top), ["db-1"], "Parallel does not wait for db-0");
        assert_eq!(rp.missing(&[]).len(), 3, "Parallel creates every pod at once");
        let status = stateful_set_status(&r, &mixed);
        assert_eq!((status["readyReplicas"].as_i64(), status["updatedReplicas"].as_i64()), (Some(2), Some(1)));
        assert_eq!(status["currentRevision"], status["updateRevision"], "a first revision is current at once");
    }

    #[test]
    fn stateful_set_revision_advances_when_every_pod_is_updated_and_ready() {
        let mut w = stateful_set(2);
        w["status"] = json!({"currentRevision": "db-old"});
        let r = Rollout::of(by_plural("apps", "statefulsets").unwrap(), &w);
        let half = [pod_of(&r, "db-0", false, true), pod_of(&r, "db-1", true, false)];
        let s = stateful_set_status(&r, &half);
        assert_eq!(s["currentRevision"], "db-old");
        assert_ne!(s["updateRevision"], "db-old");
        let done = [pod_of(&r, "db-0", true, true), pod_of(&r, "db-1", true, true)];
        let s = stateful_set_status(&r, &done);
        assert_eq!(s["currentRevision"], s["updateRevision"]);
        assert_eq!((s["observedGeneration"].as_i64(), s["currentReplicas"].as_i64()), (Some(1), Some(2)));
    }

    #[test]
    fn deployment_conditions_follow_the_pods_and_the_deadline() {
        let w = deployment(2, "nginx");
        let r = Rollout::of(by_plural("apps", "deployments").unwrap(), &w);
        let now = crate::clock::parse_amz_date("20260101T000000Z").unwrap();
        let unready = [pod_of(&r, "a", true, false), pod_of(&r, "b", true, false)];
        let s = deployment_status(&r, &unready, None, now);
        assert_eq!((s["updatedReplicas"].as_i64(), s.get("availableReplicas")), (Some(2), None));
        assert_eq!(s["conditions"][0]["reason"], "MinimumReplicasUnavailable");
        assert_eq!(s["conditions"][1]["reason"], "ReplicaSetUpdated");

        let mut later = w.clone();
        later["status"] = s;
        let r = Rollout::of(by_plural("apps", "deployments").unwrap(), &later);
        let s = deployment_status(&r, &unready, None, now + 600);
        assert_eq!(
            (&s["conditions"][1]["status"], &s["conditions"][1]["reason"]),
            (&json!("False"), &json!("ProgressDeadlineExceeded"))
        );
        let ready = [pod_of(&r, "a", true, true), pod_of(&r, "b", true, true)];
        let s = deployment_status(&r, &ready, None, now + 1);
        assert_eq!(s["availableReplicas"], 2);
        assert_eq!(
            (&s["conditions"][0]["status"], &s["conditions"][1]["reason"]),
            (&json!("True"), &json!("NewReplicaSetAvailable"))
        );
        let refused = deployment_status(&r, &[], Some("pods is forbidden"), now);
        assert_eq!(refused["conditions"][2]["reason"], "FailedCreate");
    }

    #[test]
    fn max_unavailable_rounds_down_and_surge_up() {
        let w = deployment(3, "x");
        assert_eq!(max_unavailable(&w, 3), 0);
        assert_eq!(max_unavailable(&w, 4), 1);
        let mut zero = deployment(1, "x");
        zero["spec"]["strategy"]["rollingUpdate"] = json!({"maxUnavailable": 0, "maxSurge": 0});
        assert_eq!(max_unavailable(&zero, 1), 1);
    }
}
