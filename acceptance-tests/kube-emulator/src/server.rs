//! HTTPS serving for one cluster: TLS accept, HTTP/1.1 and HTTP/2 (hyper), then per request:
//! routing, authentication, impersonation, fault injection, RBAC, and dispatch to discovery, the REST
//! verbs, watches, subresources (exec, log, token), SelfSubjectAccessReview, SelfSubjectReview (`kubectl auth whoami`)
//! and the fault endpoint.

use crate::api::{self, Query, WriteCtx};
use crate::cluster::Cluster;
use crate::kinds::{self, ResourceType};
use crate::rbac::{self, Attributes, Policy, UserInfo};
use crate::status::{ApiError, ApiResult};
use crate::{auth, controllers, discovery, faults, openapi, watch};
use base64::Engine;
use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::{Frame, Incoming, SizeHint};
use hyper::{Request, Response, StatusCode};
use serde_json::{Value, json};
use sha1::Digest;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;

/// Largest accepted request body.
const MAX_BODY: usize = 3 * 1024 * 1024;

/// A response body: complete, or streamed (watches).
pub enum Body {
    /// The whole body.
    Full(Option<Bytes>),
    /// Chunks from a channel.
    Stream(mpsc::Receiver<Bytes>),
}

impl hyper::body::Body for Body {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match &mut *self {
            Body::Full(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            Body::Stream(rx) => rx.poll_recv(cx).map(|o| o.map(|b| Ok(Frame::data(b)))),
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, Body::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Body::Full(Some(b)) => SizeHint::with_exact(b.len() as u64),
            Body::Full(None) => SizeHint::with_exact(0),
            Body::Stream(_) => SizeHint::default(),
        }
    }
}

fn respond(code: u16, content_type: &str, body: Bytes) -> Response<Body> {
    Response::builder()
        .status(code)
        .header("content-type", content_type)
        .header("cache-control", "no-cache, private")
        .body(Body::Full(Some(body)))
        .expect("static headers are valid")
}

fn json_response(code: u16, v: &Value) -> Response<Body> {
    respond(code, "application/json", Bytes::from(v.to_string()))
}

fn error_response(e: &ApiError) -> Response<Body> {
    let mut status = e.to_status();
    let mut r = json_response(e.code, &status);
    if e.code == 429 {
        status["details"]["retryAfterSeconds"] = json!(1);
        r = json_response(429, &status);
        r.headers_mut().insert("retry-after", "1".parse().expect("valid header"));
    }
    r
}

/// Serves a cluster on an accepted listener until the process ends.
pub async fn serve(cluster: Arc<Cluster>, listener: tokio::net::TcpListener, tls: Arc<rustls::ServerConfig>) {
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    loop {
        let Ok((tcp, _)) = listener.accept().await else { continue };
        let acceptor = acceptor.clone();
        let cluster = cluster.clone();
        tokio::spawn(async move {
            let Ok(stream) = acceptor.accept(tcp).await else { return };
            let svc = hyper::service::service_fn(move |req| {
                let cluster = cluster.clone();
                async move { Ok::<_, Infallible>(handle(cluster, req).await) }
            });
            let builder = hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new());
            let _ = builder.serve_connection_with_upgrades(hyper_util::rt::TokioIo::new(stream), svc).await;
        });
    }
}

/// Where a request goes.
#[derive(Debug)]
enum Route {
    Version,
    CoreVersions,
    Groups,
    ResourceList(String),
    OpenApi(String),
    Health,
    SelfSubjectAccessReview,
    SelfSubjectReview,
    Faults,
    Compact,
    Clock,
    /// `watch` is set for the `/watch/` path forms (deprecated, still served by real servers).
    Resource {
        rt: &'static ResourceType,
        ns: String,
        name: Option<String>,
        sub: Option<String>,
        watch: bool,
    },
    NotFound,
}

fn route(path: &str) -> Route {
    let segs: Vec<&str> = path.trim_matches('/').split('/').filter(|s| !s.is_empty()).collect();
    match segs.as_slice() {
        ["version"] => Route::Version,
        ["api"] => Route::CoreVersions,
        ["apis"] => Route::Groups,
        ["healthz" | "livez" | "readyz", ..] => Route::Health,
        ["openapi", "v3", rest @ ..] => Route::OpenApi(rest.join("/")),
        ["emulator", "faults"] => Route::Faults,
        ["emulator", "compact"] => Route::Compact,
        ["emulator", "clock"] => Route::Clock,
        ["api", "v1"] => Route::ResourceList(String::new()),
        ["apis", g, "v1"] => Route::ResourceList(g.to_string()),
        ["apis", "authorization.k8s.io", "v1", "selfsubjectaccessreviews"] => Route::SelfSubjectAccessReview,
        ["apis", "authentication.k8s.io", "v1", "selfsubjectreviews"] => Route::SelfSubjectReview,
        ["api", "v1", "watch", rest @ ..] => watch_route(resource_route("", rest)),
        ["apis", g, "v1", "watch", rest @ ..] => watch_route(resource_route(g, rest)),
        ["api", "v1", rest @ ..] => resource_route("", rest),
        ["apis", g, "v1", rest @ ..] => resource_route(g, rest),
        _ => Route::NotFound,
    }
}

fn resource_route(group: &str, rest: &[&str]) -> Route {
    let namespaced_type = |p: &str| kinds::by_plural(group, p).filter(|t| t.namespaced);
    let (ns, rest) = match rest {
        ["namespaces", ns, plural, tail @ ..] if namespaced_type(plural).is_some() => (ns.to_string(), {
            let mut v = vec![*plural];
            v.extend_from_slice(tail);
            v
        }),
        _ => (String::new(), rest.to_vec()),
    };
    let Some(rt) = rest.first().and_then(|p| kinds::by_plural(group, p)) else { return Route::NotFound };
    if rest.len() > 3 {
        return Route::NotFound;
    }
    Route::Resource {
        rt,
        ns,
        name: rest.get(1).map(|s| s.to_string()),
        sub: rest.get(2).map(|s| s.to_string()),
        watch: false,
    }
}

/// `/api/v1/watch/…`: the same resource, always watched; no subresources.
fn watch_route(r: Route) -> Route {
    match r {
        Route::Resource { rt, ns, name, sub: None, .. } => Route::Resource { rt, ns, name, sub: None, watch: true },
        _ => Route::NotFound,
    }
}

/// Decodes a query string as Go's `url.ParseQuery` does for the API server: `+` is a space, and
/// the first of repeated keys wins.
fn parse_query(q: Option<&str>) -> Query {
    let mut out = Query::new();
    let decode = |s: &str| crate::sigv4::percent_decode(&s.replace('+', " "));
    for p in q.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (k, v) = p.split_once('=').unwrap_or((p, ""));
        if let (Some(k), Some(v)) = (decode(k), decode(v)) {
            out.entry(k).or_insert(v);
        }
    }
    out
}

fn header<'a>(req: &'a Request<Incoming>, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

fn verb_of(method: &hyper::Method, name: &Option<String>, q: &Query, watch_path: bool) -> &'static str {
    match (method.as_str(), name.is_some()) {
        ("GET", _) if watch_path || crate::params::query_bool(q, "watch") => "watch",
        ("GET", true) => "get",
        ("GET", false) => "list",
        ("POST", _) => "create",
        ("PUT", _) => "update",
        ("PATCH", _) => "patch",
        ("DELETE", true) => "delete",
        ("DELETE", false) => "deletecollection",
        _ => "",
    }
}

fn authorize(cluster: &Cluster, user: &UserInfo, a: &Attributes) -> bool {
    if user.is_master() {
        return true;
    }
    let st = cluster.lock();
    let grp = "rbac.authorization.k8s.io";
    let policy = Policy {
        roles: st.store.list(kinds::by_plural(grp, "roles").expect("served"), None),
        role_bindings: st.store.list(kinds::by_plural(grp, "rolebindings").expect("served"), None),
        cluster_roles: st.store.list(kinds::by_plural(grp, "clusterroles").expect("served"), None),
        cluster_role_bindings: st.store.list(kinds::by_plural(grp, "clusterrolebindings").expect("served"), None),
    };
    rbac::allowed(user, a, &policy)
}

async fn read_body(req: Request<Incoming>) -> ApiResult<Bytes> {
    let limited = http_body_util::Limited::new(req.into_body(), MAX_BODY);
    limited
        .collect()
        .await
        .map(|c| c.to_bytes())
        .map_err(|e| ApiError::new(413, "RequestEntityTooLarge", format!("request body: {e}")))
}

/// Reads a JSON or protobuf request body as JSON (`{}` when empty).
async fn decode_body(req: Request<Incoming>) -> ApiResult<Value> {
    let protobuf = header(&req, "content-type").is_some_and(|c| c.starts_with("application/vnd.kubernetes.protobuf"));
    let body = read_body(req).await?;
    if body.is_empty() {
        Ok(json!({}))
    } else if protobuf {
        crate::proto::decode(&body).map_err(|e| ApiError::new(415, "UnsupportedMediaType", e))
    } else {
        api::parse_body(&body, false)
    }
}

/// Handles one request.
pub async fn handle(cluster: Arc<Cluster>, req: Request<Incoming>) -> Response<Body> {
    let line = format!("{} {}", req.method(), req.uri());
    let mut after_ms = 0;
    let response = match handle_inner(&cluster, req, &mut after_ms).await {
        Ok(r) => r,
        Err(e) => error_response(&e),
    };
    if after_ms > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(after_ms)).await;
    }
    eprintln!("kube-emulator[{}]: {line} -> {}", cluster.name, response.status().as_u16());
    response
}

/// Serves one request; `after_ms` is set when a fault rule delays the answer of a carried-out request.
async fn handle_inner(cluster: &Arc<Cluster>, req: Request<Incoming>, after_ms: &mut u64) -> ApiResult<Response<Body>> {
    let path = req.uri().path().to_string();
    let query = parse_query(req.uri().query());
    let method = req.method().clone();
    let route = route(&path);
    let now = crate::clock::now_secs();
    let authz = header(&req, "authorization").map(String::from);

    if let Route::Faults | Route::Compact | Route::Clock = route {
        if authz.as_deref().and_then(|h| h.strip_prefix("Bearer ")) != Some(cluster.admin_token.as_str()) {
            return Err(ApiError::unauthorized());
        }
        if let Route::Compact = route {
            return handle_compact(cluster, &method);
        }
        if let Route::Clock = route {
            return handle_clock(cluster, &method, read_body(req).await?, now);
        }
        return handle_faults(cluster, &method, read_body(req).await?);
    }
    if let Route::Health = route {
        return Ok(respond(200, "text/plain", Bytes::from_static(b"ok")));
    }

    if authz.is_none() && matches!(route, Route::Version) {
        // system:public-info-viewer: anonymous clients may read the version.
        return Ok(json_response(200, &discovery::version()));
    }
    let requester = auth::authenticate(cluster, authz.as_deref(), now)?;
    let groups: Vec<String> =
        req.headers().get_all("impersonate-group").iter().filter_map(|v| v.to_str().ok().map(String::from)).collect();
    let user = auth::impersonate(requester, header(&req, "impersonate-user"), groups)?;
    let default_manager = header(&req, "user-agent")
        .and_then(|ua| ua.split('/').next())
        .filter(|s| !s.is_empty())
        .unwrap_or("unknown")
        .to_string();

    let (attrs, verb) = match &route {
        Route::Resource { rt, ns, name, sub, watch } => {
            let mut verb = verb_of(&method, name, &query, *watch);
            if sub.as_deref() == Some("exec") {
                verb = if method == hyper::Method::GET { "get" } else { "create" };
            }
            if verb.is_empty() {
                return Err(ApiError::method_not_allowed());
            }
            let a = Attributes {
                verb: verb.into(),
                group: rt.group.into(),
                resource: rt.plural.into(),
                subresource: sub.clone().unwrap_or_default(),
                name: name.clone().unwrap_or_default(),
                namespace: if rt.plural == "namespaces" { name.clone().unwrap_or_default() } else { ns.clone() },
                non_resource_path: None,
            };
            (a, verb)
        }
        Route::SelfSubjectAccessReview => {
            let a = Attributes {
                verb: "create".into(),
                group: "authorization.k8s.io".into(),
                resource: "selfsubjectaccessreviews".into(),
                ..Default::default()
            };
            (a, "create")
        }
        Route::SelfSubjectReview => (Attributes { verb: "create".into(), ..Default::default() }, "create"),
        _ => {
            let verb = match method.as_str() {
                "GET" | "HEAD" => "get",
                "POST" => "create",
                _ => "",
            };
            (Attributes { verb: verb.into(), non_resource_path: Some(path.clone()), ..Default::default() }, verb)
        }
    };

    let effect = faults::take(&mut cluster.lock().faults, verb, &path);
    if let Some(effect) = effect {
        *after_ms = effect.after_ms;
        if effect.latency_ms > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(effect.latency_ms)).await;
        }
        if let Some(code) = effect.status {
            return Err(injected(code, &attrs));
        }
    }

    let ssar = matches!(route, Route::SelfSubjectAccessReview | Route::SelfSubjectReview);
    if !ssar && !authorize(cluster, &user, &attrs) {
        return Err(ApiError::forbidden(
            &attrs.group,
            &attrs.resource,
            &attrs.name,
            rbac::forbidden_message(&user, &attrs),
        ));
    }

    match route {
        Route::Version => Ok(json_response(200, &discovery::version())),
        Route::CoreVersions => {
            let host = header(&req, "host").unwrap_or("127.0.0.1").to_string();
            Ok(json_response(200, &discovery::core_versions(&host)))
        }
        Route::Groups => Ok(json_response(200, &discovery::group_list())),
        Route::ResourceList(g) => match discovery::resource_list(&g, "v1") {
            Some(v) => Ok(json_response(200, &v)),
            None => Err(ApiError::new(404, "NotFound", "the server could not find the requested resource")),
        },
        Route::OpenApi(p) if p.is_empty() => Ok(json_response(200, &openapi::index())),
        Route::OpenApi(p) => match openapi::group_version(&p) {
            Some(v) => Ok(json_response(200, &v)),
            None => Err(ApiError::new(404, "NotFound", "the server could not find the requested resource")),
        },
        Route::NotFound | Route::Health | Route::Faults | Route::Compact | Route::Clock => {
            Err(ApiError::new(404, "NotFound", "the server could not find the requested resource"))
        }
        Route::SelfSubjectAccessReview => {
            if method != hyper::Method::POST {
                return Err(ApiError::method_not_allowed());
            }
            let body = decode_body(req).await?;
            Ok(json_response(201, &self_subject_access_review(cluster, &user, body)))
        }
        Route::SelfSubjectReview => {
            if method != hyper::Method::POST {
                return Err(ApiError::method_not_allowed());
            }
            Ok(json_response(
                201,
                &json!({"kind": "SelfSubjectReview", "apiVersion": "authentication.k8s.io/v1",
                        "metadata": {"creationTimestamp": Value::Null},
                        "status": {"userInfo": {"username": user.name, "groups": user.groups}}}),
            ))
        }
        Route::Resource { rt, ns, name, sub, .. } => {
            if let Some(sub) = sub.as_deref() {
                let name = name.unwrap_or_default();
                return subresource(cluster, rt, &ns, &name, sub, &method, req).await;
            }
            let ctx = WriteCtx { cluster, rt, ns: &ns, query: &query, default_manager: &default_manager };
            let as_table = crate::table::wants_table(header(&req, "accept"));
            let (code, v) = match (verb, name) {
                ("watch", _) => {
                    let mut q = query.clone();
                    if !attrs.name.is_empty() {
                        q.insert("fieldSelector".into(), format!("metadata.name={}", attrs.name));
                    }
                    let opts = crate::params::ListOptions::parse(&q, true)?;
                    let sel = api::Selectors::from_query(&q)?;
                    let rx = watch::start(cluster, rt, &ns, sel, &opts, as_table)?;
                    let resp = Response::builder()
                        .status(200)
                        .header("content-type", "application/json")
                        .header("cache-control", "no-cache, private")
                        .body(Body::Stream(rx))
                        .expect("static headers are valid");
                    return Ok(resp);
                }
                ("get", Some(n)) if as_table => {
                    let obj = api::get(cluster, rt, &ns, &n)?;
                    let rv = obj.pointer("/metadata/resourceVersion").and_then(Value::as_str).unwrap_or("").to_string();
                    (200, crate::table::table(rt, &[&obj], &rv, now))
                }
                ("list", _) if as_table => {
                    let list = api::list(cluster, rt, &ns, &query)?;
                    let items: Vec<&Value> = list["items"].as_array().map(|a| a.iter().collect()).unwrap_or_default();
                    let rv = list["metadata"]["resourceVersion"].as_str().unwrap_or("");
                    let mut table = crate::table::table(rt, &items, rv, now);
                    for k in ["continue", "remainingItemCount"] {
                        if let Some(v) = list["metadata"].get(k) {
                            table["metadata"][k] = v.clone();
                        }
                    }
                    (200, table)
                }
                ("get", Some(n)) => (200, api::get(cluster, rt, &ns, &n)?),
                ("list", _) => (200, api::list(cluster, rt, &ns, &query)?),
                ("create", None) => {
                    let body = decode_body(req).await?;
                    api::create(&ctx, body)?
                }
                ("update", Some(n)) => {
                    let body = decode_body(req).await?;
                    api::update(&ctx, &n, body)?
                }
                ("patch", Some(n)) => {
                    let ct = header(&req, "content-type").unwrap_or("").to_string();
                    let body = read_body(req).await?;
                    api::patch(&ctx, &n, &ct, &body)?
                }
                ("delete", Some(n)) => {
                    let body = decode_body(req).await?;
                    api::delete(&ctx, &n, &api::DeleteOptions::parse(&body, &query))?
                }
                ("deletecollection", None) => api::delete_collection(&ctx, &query)?,
                _ => return Err(ApiError::method_not_allowed()),
            };
            Ok(json_response(code, &v))
        }
    }
}

fn injected(code: u16, a: &Attributes) -> ApiError {
    match code {
        429 => ApiError::new(
            429,
            "TooManyRequests",
            "the server has received too many requests and has asked us to try again later",
        ),
        409 => ApiError::stale(&a.group, &a.resource, &a.name),
        _ => ApiError::new(500, "InternalError", "Internal error occurred: injected fault (kube-emulator)"),
    }
}

fn handle_faults(cluster: &Cluster, method: &hyper::Method, body: Bytes) -> ApiResult<Response<Body>> {
    let mut st = cluster.lock();
    match method.as_str() {
        "POST" => {
            let f: faults::Fault =
                serde_json::from_slice(&body).map_err(|e| ApiError::bad_request(format!("invalid fault: {e}")))?;
            f.validate().map_err(ApiError::bad_request)?;
            st.faults.push(f);
            Ok(json_response(201, &json!({"faults": st.faults.len()})))
        }
        "DELETE" => {
            st.faults.clear();
            Ok(json_response(200, &json!({"faults": 0})))
        }
        "GET" => {
            let list: Vec<Value> = st
                .faults
                .iter()
                .map(|f| json!({"verb": f.verb, "path_prefix": f.path_prefix, "status": f.status, "count": f.count, "latency_ms": f.latency_ms, "after_ms": f.after_ms}))
                .collect();
            Ok(json_response(200, &json!({"faults": list})))
        }
        _ => Err(ApiError::method_not_allowed()),
    }
}

/// `POST /emulator/clock`: ages the EKS tokens an access key signed so far (see
/// [`crate::token_clock`]); `DELETE` clears the knob.
fn handle_clock(cluster: &Cluster, method: &hyper::Method, body: Bytes, now: i64) -> ApiResult<Response<Body>> {
    let mut st = cluster.lock();
    match method.as_str() {
        "POST" => {
            let mut shift: crate::token_clock::ClockShift = serde_json::from_slice(&body)
                .map_err(|e| ApiError::bad_request(format!("invalid clock shift: {e}")))?;
            shift.set_at = now;
            st.clock_shifts.push(shift);
            Ok(json_response(201, &json!({"clock_shifts": st.clock_shifts.len()})))
        }
        "DELETE" => {
            st.clock_shifts.clear();
            Ok(json_response(200, &json!({"clock_shifts": 0})))
        }
        _ => Err(ApiError::method_not_allowed()),
    }
}

/// `POST /emulator/compact`: drops the event history, so that older resourceVersions and continue
/// tokens are too old (410), as after an etcd compaction.
fn handle_compact(cluster: &Cluster, method: &hyper::Method) -> ApiResult<Response<Body>> {
    if method != hyper::Method::POST {
        return Err(ApiError::method_not_allowed());
    }
    let mut st = cluster.lock();
    st.store.compact();
    Ok(json_response(200, &json!({"compacted": st.store.compacted().to_string()})))
}

fn self_subject_access_review(cluster: &Cluster, user: &UserInfo, mut body: Value) -> Value {
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let attrs = if let Some(r) = body.pointer("/spec/resourceAttributes") {
        Attributes {
            verb: s(r, "verb"),
            group: s(r, "group"),
            resource: s(r, "resource"),
            subresource: s(r, "subresource"),
            name: s(r, "name"),
            namespace: s(r, "namespace"),
            non_resource_path: None,
        }
    } else {
        let r = body.pointer("/spec/nonResourceAttributes").cloned().unwrap_or(Value::Null);
        Attributes { verb: s(&r, "verb"), non_resource_path: Some(s(&r, "path")), ..Default::default() }
    };
    let allowed = authorize(cluster, user, &attrs);
    body["apiVersion"] = json!("authorization.k8s.io/v1");
    body["kind"] = json!("SelfSubjectAccessReview");
    body["metadata"] = json!({"creationTimestamp": Value::Null});
    body["status"] =
        if allowed { json!({"allowed": true, "reason": "allowed by RBAC"}) } else { json!({"allowed": false}) };
    body
}

async fn subresource(
    cluster: &Arc<Cluster>,
    rt: &'static ResourceType,
    ns: &str,
    name: &str,
    sub: &str,
    method: &hyper::Method,
    mut req: Request<Incoming>,
) -> ApiResult<Response<Body>> {
    match (rt.plural, sub, method.as_str()) {
        ("serviceaccounts", "token", "POST") => {
            let body = decode_body(req).await?;
            Ok(json_response(201, &controllers::token_request(cluster, ns, name, &body)?))
        }
        ("pods", "log", "GET") => {
            let pod = api::get(cluster, rt, ns, name)?;
            let container = pod.pointer("/spec/containers/0/name").and_then(Value::as_str).unwrap_or("");
            Ok(respond(
                200,
                "text/plain",
                Bytes::from(format!("kube-emulator: canned log of pod {ns}/{name} container {container}\n")),
            ))
        }
        ("pods" | "namespaces" | "statefulsets" | "deployments", "status", "GET") => {
            Ok(json_response(200, &api::get(cluster, rt, ns, name)?))
        }
        ("pods", "exec", "GET" | "POST") => {
            api::get(cluster, rt, ns, name)?;
            let upgrade = header(&req, "upgrade").is_some_and(|u| u.eq_ignore_ascii_case("websocket"));
            if !upgrade {
                return Err(ApiError::bad_request("Upgrade request required"));
            }
            let key = header(&req, "sec-websocket-key").unwrap_or("").to_string();
            let offered: Vec<String> =
                header(&req, "sec-websocket-protocol").unwrap_or("").split(',').map(|p| p.trim().to_string()).collect();
            let protocol = ["v5.channel.k8s.io", "v4.channel.k8s.io", "channel.k8s.io"]
                .into_iter()
                .find(|p| offered.iter().any(|o| o == p))
                .unwrap_or("v4.channel.k8s.io");
            let mut sha = sha1::Sha1::new();
            sha.update(key.as_bytes());
            sha.update(b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
            let accept = base64::engine::general_purpose::STANDARD.encode(sha.finalize());
            let on_upgrade = hyper::upgrade::on(&mut req);
            tokio::spawn(async move {
                if let Ok(upgraded) = on_upgrade.await {
                    let mut io = hyper_util::rt::TokioIo::new(upgraded);
                    let mut frames = Vec::new();
                    frames.extend(ws_frame(0x2, &[&[1u8][..], b"kube-emulator: canned exec output\n"].concat()));
                    frames.extend(ws_frame(0x2, &[&[3u8][..], br#"{"metadata":{},"status":"Success"}"#].concat()));
                    frames.extend(ws_frame(0x8, &[0x03, 0xe8]));
                    let _ = io.write_all(&frames).await;
                    let _ = io.flush().await;
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                    let _ = io.shutdown().await;
                }
            });
            Ok(Response::builder()
                .status(StatusCode::SWITCHING_PROTOCOLS)
                .header("upgrade", "websocket")
                .header("connection", "Upgrade")
                .header("sec-websocket-accept", accept)
                .header("sec-websocket-protocol", protocol)
                .body(Body::Full(None))
                .expect("valid headers"))
        }
        _ => Err(ApiError::new(404, "NotFound", "the server could not find the requested resource")),
    }
}

/// An unmasked server-to-client WebSocket frame.
fn ws_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![0x80 | opcode];
    match payload.len() {
        n if n < 126 => f.push(n as u8),
        n if n < 65_536 => {
            f.push(126);
            f.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            f.push(127);
            f.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    f.extend_from_slice(payload);
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert!(
            matches!(route("/api/v1/namespaces"), Route::Resource { rt, name: None, .. } if rt.plural == "namespaces")
        );
        assert!(
            matches!(route("/api/v1/namespaces/x"), Route::Resource { rt, name: Some(n), .. } if rt.plural == "namespaces" && n == "x")
        );
        assert!(matches!(route("/api/v1/namespaces/x/status"), Route::Resource { sub: Some(s), .. } if s == "status"));
        assert!(
            matches!(route("/api/v1/namespaces/x/configmaps/y"), Route::Resource { rt, ns, name: Some(n), .. } if rt.plural == "configmaps" && ns == "x" && n == "y")
        );
        assert!(
            matches!(route("/api/v1/namespaces/x/pods/p/exec"), Route::Resource { sub: Some(s), .. } if s == "exec")
        );
        assert!(matches!(route("/apis/rbac.authorization.k8s.io/v1/clusterroles"), Route::Resource { .. }));
        assert!(matches!(route("/api/v1/configmaps"), Route::Resource { ns, .. } if ns.is_empty()));
        assert!(
            matches!(route("/apis/apps/v1/namespaces/x/deployments/d/status"), Route::Resource { rt, sub: Some(s), .. } if rt.kind == "Deployment" && s == "status")
        );
        assert!(matches!(route("/apis/apps/v1/daemonsets"), Route::NotFound));
        assert!(matches!(route("/apis"), Route::Groups));
        assert!(
            matches!(route("/api/v1/watch/namespaces/x/configmaps"), Route::Resource { rt, ns, name: None, watch: true, .. } if rt.plural == "configmaps" && ns == "x")
        );
        assert!(
            matches!(route("/api/v1/watch/namespaces/x"), Route::Resource { rt, name: Some(n), watch: true, .. } if rt.plural == "namespaces" && n == "x")
        );
        assert!(matches!(route("/api/v1/watch/namespaces/x/pods/p/log"), Route::NotFound));
        assert!(matches!(route("/apis/rbac.authorization.k8s.io/v1/watch/roles"), Route::Resource { watch: true, .. }));
    }

    #[test]
    fn queries_decode_like_go() {
        let q = parse_query(Some("labelSelector=a+in+%28x%2Cy%29&watch=True&watch=false&limit=2"));
        assert_eq!(q["labelSelector"], "a in (x,y)");
        assert_eq!(q["watch"], "True");
        assert!(crate::params::query_bool(&q, "watch"));
    }
}
