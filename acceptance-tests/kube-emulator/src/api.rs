//! The REST verbs on stored objects: create, get, list, update, patch (merge, strategic, JSON, apply),
//! delete and deletecollection, with the API server's checks (namespace exists and is not terminating,
//! resourceVersion preconditions, validation, immutability, dryRun) and the controllers' synchronous
//! parts (a new namespace's defaults, a deleted service account's token Secrets).

use crate::cluster::{Cluster, State, rt, stamp_new};
use crate::kinds::ResourceType;
use crate::params::{ListOptions, RvMatch};
use crate::status::{ApiError, ApiResult, Cause};
use crate::{admission, controllers, paging, patch, rollouts, selectors, ssa, validation};
use base64::Engine;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

/// Query parameters by name.
pub type Query = HashMap<String, String>;

/// What every write carries besides the object.
pub struct WriteCtx<'a> {
    /// The cluster.
    pub cluster: &'a Arc<Cluster>,
    /// The resource type.
    pub rt: &'static ResourceType,
    /// Namespace from the URL (`""` when cluster-scoped).
    pub ns: &'a str,
    /// Query parameters.
    pub query: &'a Query,
    /// Default field manager (from the User-Agent).
    pub default_manager: &'a str,
}

impl WriteCtx<'_> {
    fn dry_run(&self) -> bool {
        self.query.get("dryRun").is_some_and(|v| v == "All")
    }

    fn manager(&self) -> String {
        self.query.get("fieldManager").cloned().unwrap_or_else(|| self.default_manager.to_string())
    }
}

fn name_of(obj: &Value) -> &str {
    obj.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("")
}

fn rv_of(obj: &Value) -> &str {
    obj.pointer("/metadata/resourceVersion").and_then(Value::as_str).unwrap_or("")
}

/// Checks the namespace of a namespaced create exists and accepts new objects (reads and writes of
/// existing objects need no check: the object is simply not found, as on a real server).
fn check_namespace(st: &State, rt: &ResourceType, ns: &str, name: &str, creating: bool) -> ApiResult<()> {
    if !rt.namespaced || !creating {
        return Ok(());
    }
    let Some(nso) = st.store.get(crate::cluster::rt("", "namespaces"), "", ns) else {
        return Err(ApiError::not_found("", "namespaces", ns));
    };
    if creating && nso.pointer("/status/phase").and_then(Value::as_str) == Some("Terminating") {
        let mut e = ApiError::forbidden(
            rt.group,
            rt.plural,
            name,
            format!(
                "{} {name:?} is forbidden: unable to create new content in namespace {ns} because it is being terminated",
                crate::status::qualified(rt.group, rt.plural)
            ),
        );
        e.causes.push(Cause {
            reason: "NamespaceTerminating".into(),
            message: format!("namespace {ns} is being terminated"),
            field: "metadata.namespace".into(),
        });
        return Err(e);
    }
    Ok(())
}

/// Parses a request body as JSON, or YAML for apply patches.
pub fn parse_body(body: &[u8], yaml_ok: bool) -> ApiResult<Value> {
    match serde_json::from_slice::<Value>(body) {
        Ok(v) => Ok(v),
        Err(e) if yaml_ok => serde_yaml_ng::from_slice::<Value>(body)
            .map_err(|ye| ApiError::bad_request(format!("error decoding YAML: {ye} (as JSON: {e})"))),
        Err(e) => Err(ApiError::bad_request(format!("the object provided is unrecognized: {e}"))),
    }
}

/// Sets apiVersion/kind and namespace, folds `stringData`, checks Secret data is base64.
fn normalize(rt: &ResourceType, ns: &str, obj: &mut Value) -> ApiResult<()> {
    if !obj.is_object() {
        return Err(ApiError::bad_request("the object provided is not a JSON object"));
    }
    if let Some(av) = obj.get("apiVersion").and_then(Value::as_str)
        && (av != rt.api_version() || obj.get("kind").and_then(Value::as_str).is_some_and(|k| k != rt.kind))
    {
        return Err(ApiError::bad_request(format!(
            "the API version in the data ({av}) does not match the expected API version ({})",
            rt.api_version()
        )));
    }
    obj["apiVersion"] = json!(rt.api_version());
    obj["kind"] = json!(rt.kind);
    if !obj.get("metadata").is_some_and(Value::is_object) {
        obj["metadata"] = json!({});
    }
    if rt.namespaced {
        match obj.pointer("/metadata/namespace").and_then(Value::as_str) {
            Some(n) if !n.is_empty() && n != ns => {
                return Err(ApiError::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ));
            }
            _ => obj["metadata"]["namespace"] = json!(ns),
        }
    } else if let Some(m) = obj["metadata"].as_object_mut() {
        m.remove("namespace");
    }
    if !validation::quantities_decode(rt, obj) {
        return Err(ApiError::bad_request(format!(
            "{kind} in version \"v1\" cannot be handled as a {kind}: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
            kind = rt.kind
        )));
    }
    if rt.kind == "Secret" {
        if let Some(sd) = obj.as_object_mut().and_then(|o| o.remove("stringData"))
            && let Some(sd) = sd.as_object()
        {
            for (k, v) in sd {
                let text = v.as_str().unwrap_or_default();
                obj["data"][k] = json!(base64::engine::general_purpose::STANDARD.encode(text));
            }
        }
        if let Some(data) = obj.get("data").and_then(Value::as_object) {
            for (k, v) in data {
                let ok = v.as_str().is_some_and(|s| base64::engine::general_purpose::STANDARD.decode(s).is_ok());
                if !ok {
                    return Err(ApiError::bad_request(format!(
                        "Secret in version \"v1\" cannot be handled as a Secret: illegal base64 data for key {k:?}"
                    )));
                }
            }
        }
    }
    Ok(())
}

fn apply_defaults(rt: &ResourceType, obj: &mut Value) {
    crate::defaults::apply(rt, obj);
}

fn invalid(rt: &ResourceType, name: &str, causes: Vec<Cause>) -> ApiResult<()> {
    if causes.is_empty() { Ok(()) } else { Err(ApiError::invalid(rt.group, rt.kind, name, causes)) }
}

fn secret_type_checks(obj: &Value, causes: &mut Vec<Cause>) {
    if obj.get("type").and_then(Value::as_str) == Some("kubernetes.io/service-account-token")
        && obj
            .pointer("/metadata/annotations/kubernetes.io~1service-account.name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .is_empty()
    {
        causes.push(Cause::required("metadata.annotations[kubernetes.io/service-account.name]", ""));
    }
}

fn validate(rt: &ResourceType, old: Option<&Value>, new: &Value) -> ApiResult<()> {
    let mut causes = validation::validate_object(rt, new);
    if rt.kind == "Secret" {
        secret_type_checks(new, &mut causes);
    }
    if let Some(old) = old {
        causes.extend(validation::validate_update(rt, old, new));
    }
    invalid(rt, name_of(new), causes)
}

const GENERATE_CHARS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

fn generate_name(prefix: &str) -> String {
    let id = uuid::Uuid::new_v4();
    let suffix: String =
        id.as_bytes()[..5].iter().map(|b| GENERATE_CHARS[*b as usize % GENERATE_CHARS.len()] as char).collect();
    format!("{prefix}{suffix}")
}

/// Stores a new object (after normalisation and validation), running creation side effects.
fn store_new(ctx: &WriteCtx, st: &mut State, obj: Value) -> Value {
    let rt = ctx.rt;
    let mut obj = stamp_new(obj);
    if let Some(status) = crate::defaults::initial_status(rt, &obj) {
        obj["status"] = status;
    }
    match rt.kind {
        "StatefulSet" | "Deployment" => obj["metadata"]["generation"] = json!(1),
        "ResourceQuota" => obj["status"] = quota_status(st, ctx.ns, &obj),
        "Service" => allocate_cluster_ip(st, &mut obj),
        _ => {}
    }
    if ctx.dry_run() {
        obj["metadata"]["resourceVersion"] = json!("");
        return obj;
    }
    let stored = st.store.put(rt, obj);
    match rt.kind {
        "Namespace" => ctx.cluster.seed_namespace(st, name_of(&stored)),
        "Secret" if stored["type"] == "kubernetes.io/service-account-token" => {
            controllers::spawn_token_fill(ctx.cluster.clone(), ctx.ns.to_string(), name_of(&stored).to_string());
        }
        "Pod" => {
            refresh_quotas(st, ctx.ns);
            controllers::spawn_pod_start(ctx.cluster.clone(), ctx.ns.to_string(), name_of(&stored).to_string());
        }
        "StatefulSet" | "Deployment" => {
            rollouts::spawn_sync(ctx.cluster.clone(), rt, ctx.ns.to_string(), name_of(&stored).to_string());
        }
        _ => {}
    }
    stored
}

/// A ClusterIP from EKS's default service range, unless the Service is headless or has one.
fn allocate_cluster_ip(st: &mut State, svc: &mut Value) {
    if svc.pointer("/spec/type").and_then(Value::as_str) == Some("ExternalName") {
        return;
    }
    let ip = match svc.pointer("/spec/clusterIP").and_then(Value::as_str).filter(|ip| !ip.is_empty()) {
        Some(ip) => ip.to_string(),
        None => {
            st.services_created += 1;
            let n = st.services_created;
            format!("10.100.{}.{}", n / 250, n % 250 + 2)
        }
    };
    svc["spec"]["clusterIP"] = json!(ip);
    svc["spec"]["clusterIPs"] = json!([ip]);
}

fn listed(st: &State, plural: &str, ns: &str) -> Vec<Value> {
    st.store.list(rt("", plural), Some(ns)).into_iter().cloned().collect()
}

/// A quota's `status` from the namespace's pods.
fn quota_status(st: &State, ns: &str, quota: &Value) -> Value {
    admission::quota::status(quota, &listed(st, "pods", ns))
}

/// Keeps every quota's `status.used` of a namespace current after its pods changed.
pub fn refresh_quotas(st: &mut State, ns: &str) {
    let quotas = listed(st, "resourcequotas", ns);
    for mut q in quotas {
        let status = quota_status(st, ns, &q);
        if q.get("status") != Some(&status) {
            q["status"] = status;
            st.store.put(rt("", "resourcequotas"), q);
        }
    }
}

/// Pod admission around object validation, as on a real server: the mutating plugins, then
/// validation (422), then the validating plugins (403).
fn admit_pod(st: &State, ns: &str, obj: &mut Value) -> ApiResult<()> {
    let name = name_of(obj).to_string();
    let sa = obj.pointer("/spec/serviceAccountName").and_then(Value::as_str).unwrap_or("default").to_string();
    let namespace = st.store.get(rt("", "namespaces"), "", ns);
    let (limit_ranges, quotas, pods) =
        (listed(st, "limitranges", ns), listed(st, "resourcequotas", ns), listed(st, "pods", ns));
    let suffix = generate_name("");
    let env = admission::PodEnv {
        namespace_labels: namespace.and_then(|n| n.pointer("/metadata/labels")),
        service_account: st.store.get(rt("", "serviceaccounts"), ns, &sa),
        token_volume_suffix: &suffix,
        limit_ranges: &limit_ranges,
        quotas: &quotas,
        pods: &pods,
    };
    let forbidden = |msg: String| ApiError::forbidden("", "pods", &name, format!("pods {name:?} is forbidden: {msg}"));
    admission::mutate(&env, ns, obj).map_err(forbidden)?;
    validate(rt("", "pods"), None, obj)?;
    admission::validate(&env, obj).map_err(forbidden)
}

/// POST on a collection.
pub fn create(ctx: &WriteCtx, body: Value) -> ApiResult<(u16, Value)> {
    let mut st = ctx.cluster.lock();
    create_locked(ctx, &mut st, body)
}

/// A create with the state already locked: what a controller's create (a workload's new pod) runs,
/// with the same defaulting, validation and admission as a client's.
pub fn create_locked(ctx: &WriteCtx, st: &mut State, body: Value) -> ApiResult<(u16, Value)> {
    let rt = ctx.rt;
    let mut obj = body;
    normalize(rt, ctx.ns, &mut obj)?;
    apply_defaults(rt, &mut obj);
    obj = ssa::strip_system(&obj);
    if name_of(&obj).is_empty()
        && let Some(prefix) = obj.pointer("/metadata/generateName").and_then(Value::as_str)
        && !prefix.is_empty()
    {
        obj["metadata"]["name"] = json!(generate_name(prefix));
    }
    let name = name_of(&obj).to_string();
    if rt.kind != "Pod" {
        validate(rt, None, &obj)?;
    }
    check_namespace(st, rt, ctx.ns, &name, true)?;
    if st.store.get(rt, ctx.ns, &name).is_some() {
        return Err(ApiError::already_exists(rt.group, rt.plural, &name));
    }
    if rt.kind == "Pod" {
        admit_pod(st, ctx.ns, &mut obj)?;
    }
    ssa::record_update(None, &mut obj, &ctx.manager(), &rt.api_version(), &crate::clock::now_rfc3339());
    Ok((201, store_new(ctx, st, obj)))
}

/// GET on one object.
pub fn get(cluster: &Cluster, rt: &ResourceType, ns: &str, name: &str) -> ApiResult<Value> {
    let st = cluster.lock();
    check_namespace(&st, rt, ns, name, false)?;
    st.store.get(rt, ns, name).cloned().ok_or_else(|| ApiError::not_found(rt.group, rt.plural, name))
}

/// The label and field selectors of a request.
pub struct Selectors {
    labels: Vec<selectors::LabelReq>,
    fields: Vec<selectors::FieldReq>,
}

impl Selectors {
    /// Parses `labelSelector` and `fieldSelector`.
    pub fn from_query(q: &Query) -> ApiResult<Self> {
        let labels = selectors::parse_labels(q.get("labelSelector").map(String::as_str).unwrap_or(""))
            .map_err(|e| ApiError::bad_request(format!("unable to parse requirement: {e}")))?;
        let fields = selectors::parse_fields(q.get("fieldSelector").map(String::as_str).unwrap_or(""))
            .map_err(ApiError::bad_request)?;
        Ok(Selectors { labels, fields })
    }

    /// Whether an object matches.
    pub fn matches(&self, obj: &Value) -> bool {
        selectors::labels_match(&self.labels, obj) && selectors::fields_match(&self.fields, obj)
    }

    /// Whether nothing is selected on (the server then reports `remainingItemCount`).
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty() && self.fields.is_empty()
    }
}

/// The 410 for a continue token older than the history: it hands back a token that continues at
/// the latest state (text from k8s.io/apiserver `pkg/storage/etcd3/store.go`).
fn continue_expired(start: &str) -> ApiError {
    let mut e = ApiError::new(
        410,
        "Expired",
        "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.",
    );
    e.list_continue = Some(paging::encode(-1, start));
    e
}

/// Which snapshot a list reads and where it starts, from `resourceVersion`/`resourceVersionMatch`
/// and `continue`.
fn list_snapshot(st: &State, opts: &ListOptions) -> ApiResult<(u64, Option<String>)> {
    let current = st.store.rv();
    if !opts.continue_token.is_empty() {
        if !matches!(opts.resource_version.as_str(), "" | "0") {
            return Err(ApiError::bad_request("specifying resource version is not allowed when using continue"));
        }
        let c = paging::decode(&opts.continue_token)
            .map_err(|e| ApiError::bad_request(format!("invalid continue token: {e}")))?;
        return match c.rv {
            -1 => Ok((current, Some(c.start))),
            rv if rv < -1 => Err(ApiError::bad_request(
                "invalid continue token: continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)",
            )),
            rv if (rv as u64) < st.store.compacted() => Err(continue_expired(&c.start)),
            rv => Ok(((rv as u64).min(current), Some(c.start))),
        };
    }
    match (opts.rv_match, opts.rv_number()?) {
        (RvMatch::Exact, Some(rv)) if rv > current => {
            Err(ApiError::new(504, "Timeout", format!("Too large resource version: {rv}, current: {current}")))
        }
        (RvMatch::Exact, Some(rv)) if rv < st.store.compacted() => {
            Err(ApiError::new(410, "Expired", "The resourceVersion for the provided list is too old."))
        }
        (RvMatch::Exact, Some(rv)) => Ok((rv, None)),
        // Unset, "0" and NotOlderThan: the current state is at least as new as asked.
        _ => Ok((current, None)),
    }
}

/// GET on a collection: selectors, then `limit`/`continue` pages of a consistent snapshot.
pub fn list(cluster: &Cluster, rt: &ResourceType, ns: &str, q: &Query) -> ApiResult<Value> {
    let opts = ListOptions::parse(q, false)?;
    let sel = Selectors::from_query(q)?;
    let st = cluster.lock();
    let (snapshot_rv, start) = list_snapshot(&st, &opts)?;
    let in_ns = rt.namespaced.then_some(ns).filter(|n| !n.is_empty());
    let objects = match st.store.list_at(rt, in_ns, snapshot_rv) {
        Some(objects) => objects,
        None => return Err(continue_expired(start.as_deref().unwrap_or_default())),
    };
    let keyed: Vec<(String, Value)> = objects
        .into_iter()
        .filter(|o| sel.matches(o))
        .map(|o| {
            let name = name_of(&o).to_string();
            let key = match (rt.namespaced && in_ns.is_none(), o.pointer("/metadata/namespace").and_then(Value::as_str))
            {
                (true, Some(n)) => format!("{n}/{name}"),
                _ => name,
            };
            (key, o)
        })
        .collect();
    let page = paging::page(keyed, start.as_deref(), opts.limit);
    let mut metadata = json!({"resourceVersion": snapshot_rv.to_string()});
    if let Some(last) = &page.last_key {
        metadata["continue"] = json!(paging::encode(snapshot_rv as i64, &format!("{last}\u{0}")));
        if sel.is_empty() {
            metadata["remainingItemCount"] = json!(page.remaining);
        }
    }
    Ok(json!({
        "kind": format!("{}List", rt.kind),
        "apiVersion": rt.api_version(),
        "metadata": metadata,
        "items": page.items,
    }))
}

/// Carries the system-owned parts of `old` over to `new`.
fn keep_system(old: &Value, new: &mut Value) {
    for k in ["uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generateName"] {
        match old.pointer(&format!("/metadata/{k}")) {
            Some(v) => new["metadata"][k] = v.clone(),
            None => {
                if let Some(m) = new["metadata"].as_object_mut() {
                    m.remove(k);
                }
            }
        }
    }
    match old.get("status") {
        Some(s) => new["status"] = s.clone(),
        None => {
            if let Some(m) = new.as_object_mut() {
                m.remove("status");
            }
        }
    }
}

fn commit_update(
    ctx: &WriteCtx,
    st: &mut State,
    old: &Value,
    mut new: Value,
    manager: Option<&str>,
) -> ApiResult<(u16, Value)> {
    let rt = ctx.rt;
    keep_system(old, &mut new);
    match rt.kind {
        "Service" => {
            for k in ["clusterIP", "clusterIPs"] {
                if new.pointer(&format!("/spec/{k}")).is_none()
                    && let Some(v) = old.pointer(&format!("/spec/{k}"))
                {
                    new["spec"][k] = v.clone();
                }
            }
        }
        "StatefulSet" | "Deployment" => {
            // Every write path (PUT, merge, strategic and JSON patches, apply) ends here.
            let generation = old.pointer("/metadata/generation").and_then(Value::as_i64).unwrap_or(1);
            let changed = old.get("spec") != new.get("spec");
            new["metadata"]["generation"] = json!(if changed { generation + 1 } else { generation });
        }
        _ => {}
    }
    validate(rt, Some(old), &new)?;
    if let Some(m) = manager {
        ssa::record_update(Some(old), &mut new, m, &rt.api_version(), &crate::clock::now_rfc3339());
    }
    if ctx.dry_run() {
        new["metadata"]["resourceVersion"] = json!(rv_of(old));
        return Ok((200, new));
    }
    let without_meta = |v: &Value| {
        let mut v = v.clone();
        if let Some(m) = v["metadata"].as_object_mut() {
            m.remove("resourceVersion");
        }
        v
    };
    if without_meta(old) == without_meta(&new) {
        return Ok((200, old.clone()));
    }
    let stored = st.store.put(rt, new);
    if stored.pointer("/metadata/deletionTimestamp").is_some() && !controllers::has_finalizers(&stored) {
        // The last finalizer of an object being deleted was removed: it goes now.
        controllers::finish_deletion(st, rt, ctx.ns, name_of(&stored));
        return Ok((200, stored));
    }
    if matches!(rt.kind, "Pod" | "ResourceQuota") {
        refresh_quotas(st, ctx.ns);
    }
    if rollouts::is_workload(rt) {
        // Level-triggered: a changed template rolls out, a changed knob is noticed.
        rollouts::spawn_sync(ctx.cluster.clone(), rt, ctx.ns.to_string(), name_of(&stored).to_string());
    }
    Ok((200, st.store.get(rt, ctx.ns, name_of(&stored)).cloned().unwrap_or(stored)))
}

/// PUT on one object.
pub fn update(ctx: &WriteCtx, name: &str, body: Value) -> ApiResult<(u16, Value)> {
    let rt = ctx.rt;
    let mut obj = body;
    normalize(rt, ctx.ns, &mut obj)?;
    apply_defaults(rt, &mut obj);
    if name_of(&obj) != name {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({}) does not match the name on the URL ({name})",
            name_of(&obj)
        )));
    }
    let wanted_rv = rv_of(&obj).to_string();
    let mut st = ctx.cluster.lock();
    check_namespace(&st, rt, ctx.ns, name, false)?;
    let Some(old) = st.store.get(rt, ctx.ns, name).cloned() else {
        if rt.group == "rbac.authorization.k8s.io" {
            drop(st);
            return create(ctx, obj);
        }
        return Err(ApiError::not_found(rt.group, rt.plural, name));
    };
    if !wanted_rv.is_empty() && wanted_rv != rv_of(&old) {
        return Err(ApiError::stale(rt.group, rt.plural, name));
    }
    let obj = ssa::strip_system(&obj);
    commit_update(ctx, &mut st, &old, obj, Some(&ctx.manager()))
}

/// PATCH on one object.
pub fn patch(ctx: &WriteCtx, name: &str, content_type: &str, body: &[u8]) -> ApiResult<(u16, Value)> {
    let rt = ctx.rt;
    let ct = content_type.split(';').next().unwrap_or("").trim();
    if ct == "application/apply-patch+yaml" || ct == "application/apply-patch+cbor" {
        return apply(ctx, name, body);
    }
    if ctx.query.contains_key("force") {
        // apimachinery `ValidatePatchOptions`: any `force` value, even false, is refused here.
        let mut e = ApiError::invalid(
            "meta.k8s.io",
            "PatchOptions",
            "",
            vec![Cause::forbidden("force", "may not be specified for non-apply patch")],
        );
        e.message = e.message.replacen("PatchOptions", "PatchOptions.meta.k8s.io", 1);
        return Err(e);
    }
    let patch_doc = parse_body(body, false)?;
    let mut st = ctx.cluster.lock();
    check_namespace(&st, rt, ctx.ns, name, false)?;
    let old = st.store.get(rt, ctx.ns, name).cloned().ok_or_else(|| ApiError::not_found(rt.group, rt.plural, name))?;
    let mut new = old.clone();
    match ct {
        "application/merge-patch+json" | "application/strategic-merge-patch+json" => {
            if let Some(rv) = patch_doc.pointer("/metadata/resourceVersion").and_then(Value::as_str)
                && rv != rv_of(&old)
            {
                return Err(ApiError::stale(rt.group, rt.plural, name));
            }
            if ct.starts_with("application/strategic") {
                patch::strategic_merge(&mut new, &patch_doc, rt.kind);
            } else {
                patch::merge_patch(&mut new, &patch_doc);
            }
        }
        "application/json-patch+json" => {
            patch::json_patch(&mut new, &patch_doc).map_err(|e| ApiError::new(422, "Invalid", e))?;
            if rv_of(&new) != rv_of(&old) {
                return Err(ApiError::stale(rt.group, rt.plural, name));
            }
        }
        other => return Err(ApiError::unsupported_media(other)),
    }
    normalize(rt, ctx.ns, &mut new)?;
    apply_defaults(rt, &mut new);
    if name_of(&new) != name {
        return Err(ApiError::bad_request("metadata.name may not be changed by a patch"));
    }
    let new = {
        let mut n = ssa::strip_system(&new);
        if let Some(mf) = old.pointer("/metadata/managedFields") {
            n["metadata"]["managedFields"] = mf.clone();
        }
        n
    };
    commit_update(ctx, &mut st, &old, new, Some(&ctx.manager()))
}

/// Server-side apply.
fn apply(ctx: &WriteCtx, name: &str, body: &[u8]) -> ApiResult<(u16, Value)> {
    let rt = ctx.rt;
    let Some(manager) = ctx.query.get("fieldManager").filter(|m| !m.is_empty()) else {
        return Err(ApiError::new(
            422,
            "Invalid",
            "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch",
        ));
    };
    let force = crate::params::query_bool(ctx.query, "force");
    let mut applied = parse_body(body, true)?;
    if applied.get("apiVersion").is_none() || applied.get("kind").is_none() {
        return Err(ApiError::bad_request("apiVersion and kind must be set in an applied configuration"));
    }
    normalize(rt, ctx.ns, &mut applied)?;
    if name_of(&applied) != name {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({}) does not match the name on the URL ({name})",
            name_of(&applied)
        )));
    }
    if applied.pointer("/metadata/managedFields").is_some_and(|m| !m.is_null()) {
        return Err(ApiError::bad_request("metadata.managedFields must be nil"));
    }
    let wanted_rv = rv_of(&applied).to_string();
    let stripped = ssa::strip_system(&applied);
    let mut st = ctx.cluster.lock();
    let live = st.store.get(rt, ctx.ns, name).cloned();
    check_namespace(&st, rt, ctx.ns, name, live.is_none())?;
    if !wanted_rv.is_empty() && live.as_ref().is_none_or(|l| rv_of(l) != wanted_rv) {
        return match live {
            Some(_) => Err(ApiError::stale(rt.group, rt.plural, name)),
            None => Err(ApiError::not_found(rt.group, rt.plural, name)),
        };
    }
    let now = crate::clock::now_rfc3339();
    let req = ssa::ApplyRequest {
        live: live.as_ref(),
        applied: &stripped,
        manager,
        force,
        api_version: &rt.api_version(),
        now: &now,
    };
    let mut merged = ssa::apply(&req).map_err(|conflicts| {
        let mut e = ApiError::new(409, "Conflict", ssa::conflict_message(&conflicts));
        e.causes = conflicts
            .iter()
            .map(|c| Cause {
                reason: "FieldManagerConflict".into(),
                message: format!("conflict with {}", c.manager),
                field: c.field.clone(),
            })
            .collect();
        e
    })?;
    normalize(rt, ctx.ns, &mut merged)?;
    apply_defaults(rt, &mut merged);
    match live {
        None => {
            if rt.kind == "Pod" {
                admit_pod(&st, ctx.ns, &mut merged)?;
            } else {
                validate(rt, None, &merged)?;
            }
            Ok((201, store_new(ctx, &mut st, merged)))
        }
        Some(old) => commit_update(ctx, &mut st, &old, merged, None),
    }
}

/// The body of a DELETE, if any.
#[derive(Default)]
pub struct DeleteOptions {
    precondition_uid: Option<String>,
    precondition_rv: Option<String>,
    grace_seconds: Option<i64>,
}

impl DeleteOptions {
    /// Reads DeleteOptions from the body and query.
    pub fn parse(v: &Value, q: &Query) -> Self {
        let s = |p: &str| v.pointer(p).and_then(Value::as_str).map(String::from);
        DeleteOptions {
            precondition_uid: s("/preconditions/uid"),
            precondition_rv: s("/preconditions/resourceVersion"),
            grace_seconds: v
                .get("gracePeriodSeconds")
                .and_then(Value::as_i64)
                .or_else(|| q.get("gracePeriodSeconds").and_then(|g| g.parse().ok())),
        }
    }
}

/// DELETE on one object.
pub fn delete(ctx: &WriteCtx, name: &str, opts: &DeleteOptions) -> ApiResult<(u16, Value)> {
    let rt = ctx.rt;
    let mut st = ctx.cluster.lock();
    check_namespace(&st, rt, ctx.ns, name, false)?;
    let old = st.store.get(rt, ctx.ns, name).cloned().ok_or_else(|| ApiError::not_found(rt.group, rt.plural, name))?;
    let uid = old.pointer("/metadata/uid").and_then(Value::as_str).unwrap_or("").to_string();
    if opts.precondition_uid.as_ref().is_some_and(|u| *u != uid) {
        return Err(ApiError::new(
            409,
            "Conflict",
            format!(
                "Precondition failed: UID in precondition: {}, UID in object meta: {uid}",
                opts.precondition_uid.as_deref().unwrap_or("")
            ),
        ));
    }
    if opts.precondition_rv.as_ref().is_some_and(|r| r != rv_of(&old)) {
        return Err(ApiError::stale(rt.group, rt.plural, name));
    }
    if ctx.dry_run() {
        return Ok((200, crate::status::success(rt.group, rt.plural, name, &uid)));
    }
    match rt.kind {
        "Namespace" => {
            if crate::cluster::SYSTEM_NAMESPACES.contains(&name) {
                return Err(ApiError::forbidden(
                    "",
                    "namespaces",
                    name,
                    format!("namespaces {name:?} is forbidden: this namespace may not be deleted"),
                ));
            }
            if old.pointer("/metadata/deletionTimestamp").is_some() {
                return Ok((200, old));
            }
            let mut t = old.clone();
            t["metadata"]["deletionTimestamp"] = json!(crate::clock::now_rfc3339());
            t["status"] = json!({"phase": "Terminating"});
            let stored = st.store.put(rt, t);
            controllers::spawn_namespace_finalizer(ctx.cluster.clone(), name.to_string());
            Ok((200, stored))
        }
        "Pod" if opts.grace_seconds != Some(0) => {
            Ok((200, delete_pod_gracefully(ctx.cluster, &mut st, ctx.ns, name, opts.grace_seconds.unwrap_or(30))))
        }
        _ if controllers::has_finalizers(&old) => {
            // Kept, marked for deletion, until its finalizers are removed (see `commit_update`).
            if old.pointer("/metadata/deletionTimestamp").is_some() {
                return Ok((200, old));
            }
            let mut t = old.clone();
            t["metadata"]["deletionTimestamp"] = json!(crate::clock::now_rfc3339());
            t["metadata"]["deletionGracePeriodSeconds"] = json!(0);
            Ok((200, st.store.put(rt, t)))
        }
        _ => {
            let removed = st.store.remove(rt, ctx.ns, name).expect("looked up under the same lock");
            if rt.kind == "ServiceAccount" {
                controllers::delete_token_secrets(&mut st, ctx.ns, name);
            }
            if rollouts::is_workload(rt) {
                rollouts::delete_dependents(ctx.cluster, &mut st, ctx.ns, &uid);
            }
            if rt.kind == "Pod" {
                refresh_quotas(&mut st, ctx.ns);
                rollouts::pod_changed(ctx.cluster, &mut st, ctx.ns, &removed);
                return Ok((200, removed));
            }
            Ok((200, crate::status::success(rt.group, rt.plural, name, &uid)))
        }
    }
}

/// Starts a pod's graceful deletion (`deletionTimestamp` now, gone after the stand-in kubelet's
/// delay), as a client's DELETE or a controller replacing the pod does; returns the pod.
pub fn delete_pod_gracefully(cluster: &Arc<Cluster>, st: &mut State, ns: &str, name: &str, grace: i64) -> Value {
    let pods = rt("", "pods");
    let Some(old) = st.store.get(pods, ns, name).cloned() else { return Value::Null };
    if old.pointer("/metadata/deletionTimestamp").is_some() {
        return old;
    }
    let mut t = old;
    t["metadata"]["deletionTimestamp"] = json!(crate::clock::now_rfc3339());
    t["metadata"]["deletionGracePeriodSeconds"] = json!(grace);
    let stored = st.store.put(pods, t);
    controllers::spawn_pod_removal(cluster.clone(), ns.to_string(), name.to_string());
    stored
}

/// DELETE on a collection: deletes every matching object, returns them as a list.
pub fn delete_collection(ctx: &WriteCtx, q: &Query) -> ApiResult<(u16, Value)> {
    let list = list(ctx.cluster, ctx.rt, ctx.ns, q)?;
    let mut items = vec![];
    for item in list["items"].as_array().into_iter().flatten() {
        let ns = item.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or("");
        let sub =
            WriteCtx { cluster: ctx.cluster, rt: ctx.rt, ns, query: ctx.query, default_manager: ctx.default_manager };
        if let Ok((_, v)) = delete(&sub, name_of(item), &DeleteOptions::default()) {
            items.push(if v["kind"] == "Status" { item.clone() } else { v });
        }
    }
    Ok((
        200,
        json!({"kind": format!("{}List", ctx.rt.kind), "apiVersion": ctx.rt.api_version(), "metadata": {}, "items": items}),
    ))
}
