//! The asynchronous controllers a real cluster runs: the token controller (fills service-account token
//! Secrets after a short delay, or deletes them when their service account is missing), the namespace
//! lifecycle controller (empties a Terminating namespace, then removes it unless finalizers hold it), and a stand-in kubelet
//! (Pending → Running and Ready, graceful pod deletion). The workload controllers are in [`crate::rollouts`].

use crate::cluster::{Cluster, State, rt};
use crate::tokens::{self, TokenInfo};
use base64::Engine;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

/// Delay before the token controller acts on a new Secret.
pub const TOKEN_DELAY: Duration = Duration::from_millis(120);
/// Delay before a Terminating namespace's contents are deleted.
pub const NAMESPACE_CONTENT_DELAY: Duration = Duration::from_millis(80);
/// Delay before an emptied namespace disappears.
pub const NAMESPACE_REMOVE_DELAY: Duration = Duration::from_millis(120);
/// Delay before a pod is Running.
pub const POD_START_DELAY: Duration = Duration::from_millis(150);
/// Delay before a gracefully deleted pod is gone.
pub const POD_REMOVE_DELAY: Duration = Duration::from_millis(100);

const SA_TOKEN: &str = "kubernetes.io/service-account-token";

fn meta<'a>(obj: &'a Value, k: &str) -> &'a str {
    obj.get("metadata").and_then(|m| m.get(k)).and_then(Value::as_str).unwrap_or("")
}

fn annotation<'a>(obj: &'a Value, k: &str) -> &'a str {
    obj.pointer("/metadata/annotations").and_then(|a| a.get(k)).and_then(Value::as_str).unwrap_or("")
}

/// Schedules the token controller for a new token Secret.
pub fn spawn_token_fill(cluster: Arc<Cluster>, ns: String, name: String) {
    tokio::spawn(async move {
        tokio::time::sleep(TOKEN_DELAY).await;
        let mut st = cluster.lock();
        fill_token_secret(&cluster, &mut st, &ns, &name);
    });
}

/// Fills a token Secret, or deletes it when its service account does not exist (or has another uid).
pub fn fill_token_secret(cluster: &Cluster, st: &mut State, ns: &str, name: &str) {
    let secrets = rt("", "secrets");
    let Some(secret) = st.store.get(secrets, ns, name).cloned() else { return };
    if secret["type"] != SA_TOKEN || secret.pointer("/data/token").is_some() {
        return;
    }
    let sa_name = annotation(&secret, "kubernetes.io/service-account.name").to_string();
    let wanted_uid = annotation(&secret, "kubernetes.io/service-account.uid").to_string();
    let sa = st.store.get(rt("", "serviceaccounts"), ns, &sa_name).cloned();
    let sa_uid = sa.as_ref().map(|s| meta(s, "uid").to_string());
    match sa_uid {
        Some(uid) if wanted_uid.is_empty() || wanted_uid == uid => {
            let info = TokenInfo {
                namespace: ns.to_string(),
                service_account: sa_name,
                service_account_uid: uid.clone(),
                secret: Some((name.to_string(), meta(&secret, "uid").to_string())),
                expires_at: None,
            };
            let token = tokens::mint(&tokens::claims(&cluster.issuer, &info, crate::clock::now_secs(), &[]));
            st.tokens.insert(token.clone(), info);
            let b64 = |s: &str| json!(base64::engine::general_purpose::STANDARD.encode(s));
            let mut filled = secret;
            filled["data"]["token"] = b64(&token);
            filled["data"]["ca.crt"] = b64(&cluster.ca_pem);
            filled["data"]["namespace"] = b64(ns);
            filled["metadata"]["annotations"]["kubernetes.io/service-account.uid"] = json!(uid);
            st.store.put(secrets, filled);
        }
        _ => {
            st.store.remove(secrets, ns, name);
        }
    }
}

/// Deletes the token Secrets of a deleted service account (their tokens stop authenticating).
pub fn delete_token_secrets(st: &mut State, ns: &str, sa: &str) {
    let secrets = rt("", "secrets");
    let doomed: Vec<String> = st
        .store
        .list(secrets, Some(ns))
        .into_iter()
        .filter(|s| s["type"] == SA_TOKEN && annotation(s, "kubernetes.io/service-account.name") == sa)
        .map(|s| meta(s, "name").to_string())
        .collect();
    for name in doomed {
        st.store.remove(secrets, ns, &name);
    }
}

/// Schedules removal of a Terminating namespace.
pub fn spawn_namespace_finalizer(cluster: Arc<Cluster>, ns: String) {
    tokio::spawn(async move {
        tokio::time::sleep(NAMESPACE_CONTENT_DELAY).await;
        {
            let mut st = cluster.lock();
            for (key, _) in st.store.namespace_contents(&ns) {
                st.store.remove_key(&key);
            }
        }
        tokio::time::sleep(NAMESPACE_REMOVE_DELAY).await;
        let mut st = cluster.lock();
        for (key, _) in st.store.namespace_contents(&ns) {
            st.store.remove_key(&key);
        }
        let namespaces = rt("", "namespaces");
        // Finalizers someone else set keep it Terminating until they are removed.
        if st.store.get(namespaces, "", &ns).is_some_and(|n| !has_finalizers(n)) {
            st.store.remove(namespaces, "", &ns);
        }
    });
}

/// True when `metadata.finalizers` holds any entry: a deleted object then stays, with its
/// `deletionTimestamp`, until an update removes the last one.
pub fn has_finalizers(obj: &Value) -> bool {
    obj.pointer("/metadata/finalizers").and_then(Value::as_array).is_some_and(|f| !f.is_empty())
}

/// Removes an object whose deletion waited for its finalizers; a namespace takes its contents along.
pub fn finish_deletion(st: &mut State, rt: &crate::kinds::ResourceType, ns: &str, name: &str) {
    if rt.kind == "Namespace" {
        for (key, _) in st.store.namespace_contents(name) {
            st.store.remove_key(&key);
        }
    }
    st.store.remove(rt, ns, name);
}

/// Schedules a new pod to become Running: Ready too, unless the workload owning it carries the
/// stall knob (see [`crate::rollouts`]); then its containers run but never pass readiness.
pub fn spawn_pod_start(cluster: Arc<Cluster>, ns: String, name: String) {
    tokio::spawn(async move {
        tokio::time::sleep(POD_START_DELAY).await;
        let mut st = cluster.lock();
        let pods = rt("", "pods");
        let Some(mut pod) = st.store.get(pods, &ns, &name).cloned() else { return };
        if pod.pointer("/metadata/deletionTimestamp").is_some() {
            return;
        }
        st.pods_started += 1;
        let n = st.pods_started;
        let ready = !crate::rollouts::owner_stalls(&st, &ns, &pod);
        let now = crate::clock::now_rfc3339();
        let ip = format!("10.244.{}.{}", n / 250, n % 250 + 2);
        let statuses: Vec<Value> = pod
            .pointer("/spec/containers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|c| {
                json!({"name": c["name"], "image": c["image"], "imageID": "", "ready": ready, "started": true,
                       "restartCount": 0, "state": {"running": {"startedAt": now}}})
            })
            .collect();
        let cond = |t: &str| json!({"type": t, "status": "True", "lastTransitionTime": now});
        pod["spec"]["nodeName"] = json!("kube-emulator-node");
        let qos = crate::defaults::qos_class(&pod["spec"]);
        pod["status"] = json!({
            "phase": "Running", "qosClass": qos, "hostIP": "10.0.0.1",
            "podIP": ip, "podIPs": [{"ip": ip}], "hostIPs": [{"ip": "10.0.0.1"}], "startTime": now,
            "conditions": [cond("PodScheduled"), cond("Initialized"), cond("ContainersReady"), cond("Ready")],
            "containerStatuses": statuses,
        });
        set_ready(&mut pod, ready);
        let stored = st.store.put(pods, pod);
        crate::rollouts::pod_changed(&cluster, &mut st, &ns, &stored);
    });
}

/// True when a pod's `Ready` condition is True.
pub fn is_ready(pod: &Value) -> bool {
    pod.pointer("/status/conditions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|c| c["type"] == "Ready" && c["status"] == "True")
}

/// Sets a running pod's readiness as the kubelet reports a readiness probe's result: the
/// containers' `ready` and the `ContainersReady` and `Ready` conditions (with the kubelet's
/// `ContainersNotReady` reason and message when false, k8s.io/kubernetes `pkg/kubelet/status/generate.go`).
pub fn set_ready(pod: &mut Value, ready: bool) {
    let now = crate::clock::now_rfc3339();
    let mut unready = vec![];
    for c in pod.pointer_mut("/status/containerStatuses").and_then(Value::as_array_mut).into_iter().flatten() {
        c["ready"] = json!(ready);
        if !ready {
            unready.push(c["name"].as_str().unwrap_or("").to_string());
        }
    }
    for c in pod.pointer_mut("/status/conditions").and_then(Value::as_array_mut).into_iter().flatten() {
        if !(c["type"] == "Ready" || c["type"] == "ContainersReady") {
            continue;
        }
        let status = if ready { "True" } else { "False" };
        if c["status"] != status {
            c["lastTransitionTime"] = json!(now);
        }
        c["status"] = json!(status);
        let obj = c.as_object_mut().expect("a condition is an object");
        if ready {
            obj.remove("reason");
            obj.remove("message");
        } else {
            obj.insert("reason".into(), json!("ContainersNotReady"));
            obj.insert("message".into(), json!(format!("containers with unready status: [{}]", unready.join(" "))));
        }
    }
}

/// Schedules the end of a graceful pod deletion.
pub fn spawn_pod_removal(cluster: Arc<Cluster>, ns: String, name: String) {
    tokio::spawn(async move {
        tokio::time::sleep(POD_REMOVE_DELAY).await;
        let mut st = cluster.lock();
        let removed = st.store.remove(rt("", "pods"), &ns, &name);
        crate::api::refresh_quotas(&mut st, &ns);
        if let Some(pod) = removed {
            crate::rollouts::pod_changed(&cluster, &mut st, &ns, &pod);
        }
    });
}

/// Handles `POST serviceaccounts/<name>/token`.
pub fn token_request(
    cluster: &Cluster,
    ns: &str,
    sa_name: &str,
    body: &Value,
) -> Result<Value, crate::status::ApiError> {
    let mut st = cluster.lock();
    let sa = st
        .store
        .get(rt("", "serviceaccounts"), ns, sa_name)
        .cloned()
        .ok_or_else(|| crate::status::ApiError::not_found("", "serviceaccounts", sa_name))?;
    let seconds = body.pointer("/spec/expirationSeconds").and_then(Value::as_i64).unwrap_or(3600);
    if seconds < 600 {
        return Err(crate::status::ApiError::invalid(
            "authentication.k8s.io",
            "TokenRequest",
            sa_name,
            vec![crate::status::Cause::invalid(
                "spec.expirationSeconds",
                &seconds.to_string(),
                "may not specify a duration less than 10 minutes",
            )],
        ));
    }
    let audiences: Vec<String> = body
        .pointer("/spec/audiences")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|x| x.as_str().map(String::from)).collect())
        .unwrap_or_default();
    let now = crate::clock::now_secs();
    let info = TokenInfo {
        namespace: ns.to_string(),
        service_account: sa_name.to_string(),
        service_account_uid: meta(&sa, "uid").to_string(),
        secret: None,
        expires_at: Some(now + seconds),
    };
    let auds = if audiences.is_empty() { vec![cluster.issuer.clone()] } else { audiences.clone() };
    let token = tokens::mint(&tokens::claims(&cluster.issuer, &info, now, &auds));
    st.tokens.insert(token.clone(), info);
    Ok(json!({
        "kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1",
        "metadata": {"name": sa_name, "namespace": ns, "creationTimestamp": Value::Null},
        "spec": {"audiences": auds, "expirationSeconds": seconds, "boundObjectRef": body.pointer("/spec/boundObjectRef").cloned()},
        "status": {"token": token, "expirationTimestamp": crate::clock::rfc3339(now + seconds)},
    }))
}
