//! The emulator driven by kube-rs 5 (typed `Api<K>` over k8s-openapi 0.29), a client no one here wrote.

mod common;

use base64::Engine;
use common::{emulator, unique};
use futures::StreamExt;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Pod, Secret, ServiceAccount};
use k8s_openapi::api::rbac::v1::RoleBinding;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams};
use serde_json::{Value, json};
use std::time::{Duration, SystemTime};

fn pem_to_der(pem: &str) -> Vec<u8> {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD.decode(body).expect("PEM body is base64")
}

fn client_with(cluster: &str, token: &str) -> kube::Client {
    let e = emulator();
    let mut config = kube::Config::new(e.field(cluster, "endpoint").parse().unwrap());
    config.root_cert = Some(vec![pem_to_der(&e.field(cluster, "ca_pem"))]);
    config.auth_info.token = Some(token.to_string().into());
    config.default_namespace = "default".into();
    kube::Client::try_from(config).expect("client")
}

fn admin(cluster: &str) -> kube::Client {
    client_with(cluster, &emulator().field(cluster, "admin_token"))
}

async fn new_namespace(client: &kube::Client, prefix: &str) -> String {
    let name = unique(prefix);
    let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": name}})).unwrap();
    Api::<Namespace>::all(client.clone()).create(&PostParams::default(), &ns).await.expect("namespace created");
    name
}

fn api_code(e: kube::Error) -> (u16, kube::core::Status) {
    match e {
        kube::Error::Api(s) => (s.code, *s),
        other => panic!("expected an API error, got {other:?}"),
    }
}

fn cm(name: &str, data: Value) -> ConfigMap {
    serde_json::from_value(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}))
        .unwrap()
}

#[tokio::test]
async fn server_side_apply_conflicts_force_and_field_removal() {
    let client = admin("controller");
    let ns = new_namespace(&client, "ssa").await;
    let cms: Api<ConfigMap> = Api::namespaced(client, &ns);
    let live = cms
        .patch("cfg", &PatchParams::apply("mgr-a"), &Patch::Apply(cm("cfg", json!({"k1": "a", "k2": "b"}))))
        .await
        .unwrap();
    let fields = live.metadata.managed_fields.unwrap();
    assert_eq!(fields.len(), 1);
    assert_eq!(fields[0].manager.as_deref(), Some("mgr-a"));
    assert_eq!(fields[0].operation.as_deref(), Some("Apply"));
    assert_eq!(fields[0].fields_v1.as_ref().unwrap().0, json!({"f:data": {"f:k1": {}, "f:k2": {}}}));

    let err = cms
        .patch("cfg", &PatchParams::apply("mgr-b"), &Patch::Apply(cm("cfg", json!({"k1": "changed"}))))
        .await
        .unwrap_err();
    let (code, status) = api_code(err);
    assert_eq!(code, 409);
    assert!(status.message.contains("conflict with \"mgr-a\""), "{}", status.message);

    let live = cms
        .patch("cfg", &PatchParams::apply("mgr-b").force(), &Patch::Apply(cm("cfg", json!({"k1": "changed"}))))
        .await
        .unwrap();
    assert_eq!(live.data.unwrap()["k1"], "changed");

    // mgr-a drops k2 (it still lists nothing else it owns): k2 goes; k1 is mgr-b's now and stays.
    let live = cms.patch("cfg", &PatchParams::apply("mgr-a"), &Patch::Apply(cm("cfg", json!({})))).await.unwrap();
    let data = live.data.unwrap_or_default();
    assert_eq!(data.len(), 1, "{data:?}");
    assert_eq!(data["k1"], "changed");
}

#[tokio::test]
async fn stale_update_conflicts_and_missing_objects_are_none() {
    let client = admin("controller");
    let ns = new_namespace(&client, "rv").await;
    let cms: Api<ConfigMap> = Api::namespaced(client, &ns);
    let created = cms.create(&PostParams::default(), &cm("c", json!({"a": "1"}))).await.unwrap();
    assert!(created.metadata.uid.is_some() && created.metadata.creation_timestamp.is_some());
    let mut first = created.clone();
    first.data = Some([("a".to_string(), "2".to_string())].into());
    let updated = cms.replace("c", &PostParams::default(), &first).await.unwrap();
    assert_ne!(updated.metadata.resource_version, created.metadata.resource_version);
    let mut stale = created.clone();
    stale.data = Some([("a".to_string(), "3".to_string())].into());
    let (code, status) = api_code(cms.replace("c", &PostParams::default(), &stale).await.unwrap_err());
    assert_eq!((code, status.reason.as_str()), (409, "Conflict"));
    assert!(status.message.contains("the object has been modified"));

    let (code, status) = api_code(cms.create(&PostParams::default(), &cm("c", json!({}))).await.unwrap_err());
    assert_eq!((code, status.reason.as_str()), (409, "AlreadyExists"));
    assert!(cms.get_opt("nope").await.unwrap().is_none());
    let (code, status) = api_code(cms.get("nope").await.unwrap_err());
    assert_eq!((code, status.reason.as_str()), (404, "NotFound"));
    let details = status.details.unwrap();
    assert_eq!((details.name.as_str(), details.kind.as_str()), ("nope", "configmaps"));
}

#[tokio::test]
async fn validation_errors_carry_causes() {
    let client = admin("controller");
    let ns = new_namespace(&client, "invalid").await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
    let (code, status) = api_code(cms.create(&PostParams::default(), &cm("Bad_Name", json!({}))).await.unwrap_err());
    assert_eq!((code, status.reason.as_str()), (422, "Invalid"));
    let causes = status.details.unwrap().causes;
    assert_eq!(causes[0].field, "metadata.name");
    assert_eq!(causes[0].reason, "FieldValueInvalid");

    let (code, _) = api_code(cms.create(&PostParams::default(), &cm("ok", json!({"bad key": "v"}))).await.unwrap_err());
    assert_eq!(code, 422);

    let immutable: ConfigMap =
        serde_json::from_value(json!({"metadata": {"name": "frozen"}, "immutable": true, "data": {"a": "1"}})).unwrap();
    cms.create(&PostParams::default(), &immutable).await.unwrap();
    let (code, status) = api_code(
        cms.patch("frozen", &PatchParams::default(), &Patch::Merge(json!({"data": {"a": "2"}}))).await.unwrap_err(),
    );
    assert_eq!(code, 422);
    assert!(status.message.contains("field is immutable"), "{}", status.message);

    let rbs: Api<RoleBinding> = Api::namespaced(client, &ns);
    let rb = |role: &str| -> RoleBinding {
        serde_json::from_value(json!({"metadata": {"name": "rb"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
            "subjects": [{"kind": "ServiceAccount", "name": "default"}]}))
        .unwrap()
    };
    rbs.create(&PostParams::default(), &rb("view")).await.unwrap();
    let (code, _) = api_code(rbs.patch("rb", &PatchParams::apply("t"), &Patch::Apply(rb("edit"))).await.unwrap_err());
    assert_eq!(code, 409, "another manager owns roleRef");
    let (code, status) =
        api_code(rbs.patch("rb", &PatchParams::apply("t").force(), &Patch::Apply(rb("edit"))).await.unwrap_err());
    assert_eq!(code, 422);
    assert_eq!(status.details.unwrap().causes[0].field, "roleRef");
}

#[tokio::test]
async fn secrets_generate_name_dry_run_and_selectors() {
    let client = admin("controller");
    let ns = new_namespace(&client, "misc").await;
    let secrets: Api<Secret> = Api::namespaced(client.clone(), &ns);
    let s: Secret = serde_json::from_value(json!({"metadata": {"generateName": "creds-", "labels": {"team": "ci"}},
        "stringData": {"password": "hunter2"}}))
    .unwrap();
    let created = secrets.create(&PostParams::default(), &s).await.unwrap();
    let name = created.metadata.name.unwrap();
    assert!(name.starts_with("creds-") && name.len() == "creds-".len() + 5, "{name}");
    assert_eq!(created.data.unwrap()["password"].0, b"hunter2");
    assert_eq!(created.type_.as_deref(), Some("Opaque"));

    let applied: Secret =
        serde_json::from_value(json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "ssa-secret"},
        "stringData": {"k": "v"}}))
        .unwrap();
    let live = secrets.patch("ssa-secret", &PatchParams::apply("mgr"), &Patch::Apply(applied)).await.unwrap();
    assert_eq!(live.type_.as_deref(), Some("Opaque"), "defaulted by the server");
    let managed = live.metadata.managed_fields.unwrap();
    assert_eq!(
        &managed[0].fields_v1.as_ref().unwrap().0,
        &json!({"f:data": {"f:k": {}}}),
        "the applier owns what it sent, not the defaults"
    );

    let dry = PostParams { dry_run: true, ..Default::default() };
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
    cms.create(&dry, &cm("dry", json!({}))).await.unwrap();
    assert!(cms.get_opt("dry").await.unwrap().is_none());

    let labelled = |name: &str, tier: &str| -> ConfigMap {
        serde_json::from_value(json!({"metadata": {"name": name, "labels": {"tier": tier}}})).unwrap()
    };
    cms.create(&PostParams::default(), &labelled("fe", "frontend")).await.unwrap();
    cms.create(&PostParams::default(), &labelled("be", "backend")).await.unwrap();
    let names = |l: kube::core::ObjectList<ConfigMap>| -> Vec<String> {
        l.items.into_iter().filter_map(|c| c.metadata.name).collect()
    };
    assert_eq!(names(cms.list(&ListParams::default().labels("tier=frontend")).await.unwrap()), ["fe"]);
    assert_eq!(
        names(cms.list(&ListParams::default().labels("tier in (frontend,backend),tier!=frontend")).await.unwrap()),
        ["be"]
    );
    assert_eq!(names(cms.list(&ListParams::default().fields("metadata.name=be")).await.unwrap()), ["be"]);

    let missing: Api<ConfigMap> = Api::namespaced(client, "no-such-ns");
    let (code, status) = api_code(missing.create(&PostParams::default(), &cm("x", json!({}))).await.unwrap_err());
    assert_eq!(code, 404);
    assert!(status.message.contains("namespaces \"no-such-ns\" not found"));
}

#[tokio::test]
async fn namespace_terminates_then_disappears() {
    let client = admin("controller");
    let ns = new_namespace(&client, "term").await;
    let nss: Api<Namespace> = Api::all(client.clone());
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
    cms.create(&PostParams::default(), &cm("inside", json!({}))).await.unwrap();
    let (code, _) = api_code(
        Api::<ServiceAccount>::namespaced(client.clone(), &ns)
            .create(&PostParams::default(), &serde_json::from_value(json!({"metadata": {"name": "default"}})).unwrap())
            .await
            .unwrap_err(),
    );
    assert_eq!(code, 409, "the default service account exists already");
    nss.delete(&ns, &DeleteParams::default()).await.unwrap();
    let live = nss.get(&ns).await.unwrap();
    assert_eq!(live.status.unwrap().phase.as_deref(), Some("Terminating"));
    assert!(live.metadata.deletion_timestamp.is_some());
    let (code, status) = api_code(cms.create(&PostParams::default(), &cm("late", json!({}))).await.unwrap_err());
    assert_eq!(code, 403);
    assert!(status.message.contains("being terminated"), "{}", status.message);
    for _ in 0..200 {
        if nss.get_opt(&ns).await.unwrap().is_none() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("namespace {ns} still exists");
}

#[tokio::test]
async fn token_controller_token_request_and_revocation() {
    let client = admin("controller");
    let ns = new_namespace(&client, "tokens").await;
    let sas: Api<ServiceAccount> = Api::namespaced(client.clone(), &ns);
    sas.create(&PostParams::default(), &serde_json::from_value(json!({"metadata": {"name": "robot"}})).unwrap())
        .await
        .unwrap();
    let secrets: Api<Secret> = Api::namespaced(client.clone(), &ns);
    let token_secret = |name: &str, sa: &str| -> Secret {
        serde_json::from_value(
            json!({"metadata": {"name": name, "annotations": {"kubernetes.io/service-account.name": sa}},
            "type": "kubernetes.io/service-account-token"}),
        )
        .unwrap()
    };
    let created = secrets.create(&PostParams::default(), &token_secret("robot-token", "robot")).await.unwrap();
    assert!(created.data.is_none_or(|d| !d.contains_key("token")), "the controller fills the token asynchronously");
    secrets.create(&PostParams::default(), &token_secret("orphan-token", "nobody")).await.unwrap();

    let mut filled = None;
    for _ in 0..200 {
        let s = secrets.get("robot-token").await.unwrap();
        if s.data.as_ref().is_some_and(|d| d.contains_key("token")) {
            filled = Some(s);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let filled = filled.expect("token filled");
    let data = filled.data.unwrap();
    assert_eq!(data["namespace"].0, ns.as_bytes());
    assert!(String::from_utf8(data["ca.crt"].0.clone()).unwrap().contains("BEGIN CERTIFICATE"));
    let annotations = filled.metadata.annotations.unwrap();
    assert!(annotations.contains_key("kubernetes.io/service-account.uid"));
    // The orphan is deleted by its own controller task, which may run after the fill above.
    let mut orphan_gone = false;
    for _ in 0..200 {
        if secrets.get_opt("orphan-token").await.unwrap().is_none() {
            orphan_gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(orphan_gone, "a token Secret without its service account is deleted");

    let token = String::from_utf8(data["token"].0.clone()).unwrap();
    let as_robot = client_with("controller", &token);
    let (code, status) =
        api_code(Api::<Pod>::namespaced(as_robot.clone(), &ns).list(&ListParams::default()).await.unwrap_err());
    assert_eq!(code, 403);
    assert!(status.message.contains(&format!("system:serviceaccount:{ns}:robot")));
    // The token is for the controller cluster only.
    let (code, _) = api_code(
        Api::<Pod>::namespaced(client_with("remote", &token), &ns).list(&ListParams::default()).await.unwrap_err(),
    );
    assert_eq!(code, 401);

    let request: Value = admin("controller")
        .request(
            http::Request::post(format!("/api/v1/namespaces/{ns}/serviceaccounts/robot/token"))
                .header("content-type", "application/json")
                .body(
                    serde_json::to_vec(&json!({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                    "spec": {"expirationSeconds": 3600}}))
                    .unwrap(),
                )
                .unwrap(),
        )
        .await
        .unwrap();
    assert!(request["status"]["expirationTimestamp"].is_string());
    let requested = request["status"]["token"].as_str().unwrap().to_string();
    let (code, _) = api_code(
        Api::<Pod>::namespaced(client_with("controller", &requested), &ns)
            .list(&ListParams::default())
            .await
            .unwrap_err(),
    );
    assert_eq!(code, 403, "authenticated but not authorised");

    sas.delete("robot", &DeleteParams::default()).await.unwrap();
    for token in [&token, &requested] {
        let (code, _) = api_code(
            Api::<Pod>::namespaced(client_with("controller", token), &ns)
                .list(&ListParams::default())
                .await
                .unwrap_err(),
        );
        assert_eq!(code, 401, "deleting the service account revokes its tokens");
    }
    assert!(secrets.get_opt("robot-token").await.unwrap().is_none());
}

/// An EKS token as aws-iam-authenticator and `aws eks get-token` make it, signed with the aws-sigv4 crate.
fn eks_token(cluster: &str, access_key: &str, secret: &str, at: SystemTime) -> String {
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign};
    let identity = aws_credential_types::Credentials::new(access_key, secret, None, None, "test").into();
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(Duration::from_secs(60));
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("sts")
        .time(at)
        .settings(settings)
        .build()
        .unwrap()
        .into();
    let url = "https://sts.us-east-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15";
    let signable =
        SignableRequest::new("GET", url, [("x-k8s-aws-id", cluster)].into_iter(), SignableBody::Bytes(&[])).unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let mut request = http::Request::get(url).body(()).unwrap();
    instructions.apply_to_request_http1x(&mut request);
    format!("k8s-aws-v1.{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(request.uri().to_string()))
}

#[tokio::test]
async fn eks_tokens_are_verified_per_cluster_and_expire() {
    let now = SystemTime::now();
    let good = eks_token("controller", "testing", "testing", now);
    let eks_client = client_with("controller", &good);
    let nss: Api<Namespace> = Api::all(eks_client.clone());
    assert!(nss.get("kube-system").await.is_ok(), "a fresh token for this cluster is cluster admin");
    let review = json!({"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"});
    let whoami: Value = eks_client
        .request(
            http::Request::post("/apis/authentication.k8s.io/v1/selfsubjectreviews")
                .header("content-type", "application/json")
                .body(serde_json::to_vec(&review).unwrap())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(whoami["status"]["userInfo"]["username"], "arn:aws:iam::000000000000:user/testing");

    let other_cluster = eks_token("remote", "testing", "testing", now);
    let (code, status) =
        api_code(Api::<Namespace>::all(client_with("controller", &other_cluster)).get("default").await.unwrap_err());
    assert_eq!((code, status.reason.as_str()), (401, "Unauthorized"));
    assert!(Api::<Namespace>::all(client_with("remote", &other_cluster)).get("default").await.is_ok());

    let expired = eks_token("controller", "testing", "testing", now - Duration::from_secs(16 * 60));
    let (code, _) =
        api_code(Api::<Namespace>::all(client_with("controller", &expired)).get("default").await.unwrap_err());
    assert_eq!(code, 401);
    let almost = eks_token("controller", "testing", "testing", now - Duration::from_secs(14 * 60));
    assert!(Api::<Namespace>::all(client_with("controller", &almost)).get("default").await.is_ok());

    let wrong_secret = eks_token("controller", "testing", "not-the-secret", now);
    let (code, _) =
        api_code(Api::<Namespace>::all(client_with("controller", &wrong_secret)).get("default").await.unwrap_err());
    assert_eq!(code, 401);
    let (code, _) =
        api_code(Api::<Namespace>::all(client_with("controller", "garbage")).get("default").await.unwrap_err());
    assert_eq!(code, 401);
}

#[tokio::test]
async fn faults_are_injected_then_cleared() {
    let client = admin("controller");
    let ns = new_namespace(&client, "faults").await;
    let post = |body: Value| {
        http::Request::post("/emulator/faults")
            .header("content-type", "application/json")
            .body(serde_json::to_vec(&body).unwrap())
            .unwrap()
    };
    let path = format!("/api/v1/namespaces/{ns}/configmaps");
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
    let pending = || async {
        let list: Value = client.request(http::Request::get("/emulator/faults").body(vec![]).unwrap()).await.unwrap();
        list["faults"].as_array().unwrap().len()
    };
    // kube-rs retries 429 by itself: the create succeeds, and the fault was used up on the way.
    client
        .request::<Value>(post(json!({"verb": "create", "path_prefix": path, "status": 429, "count": 1})))
        .await
        .unwrap();
    assert_eq!(pending().await, 1);
    cms.create(&PostParams::default(), &cm("x", json!({}))).await.expect("retried after the 429");
    assert_eq!(pending().await, 0);

    client
        .request::<Value>(post(json!({"verb": "get", "path_prefix": path, "status": 409, "count": 1})))
        .await
        .unwrap();
    let (code, status) = api_code(cms.get("x").await.unwrap_err());
    assert_eq!((code, status.reason.as_str()), (409, "Conflict"));
    assert!(cms.get("x").await.is_ok(), "the fault applied once");

    client.request::<Value>(post(json!({"verb": "*", "path_prefix": path, "status": 500, "count": 5}))).await.unwrap();
    assert_eq!(api_code(cms.get("x").await.unwrap_err()).0, 500);
    client.request::<Value>(http::Request::delete("/emulator/faults").body(vec![]).unwrap()).await.unwrap();
    assert!(cms.get("x").await.is_ok());

    client.request::<Value>(post(json!({"verb": "get", "path_prefix": path, "latency_ms": 300}))).await.unwrap();
    let started = std::time::Instant::now();
    cms.get("x").await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300));

    // Only the admin token may set faults.
    let eks = client_with("controller", &eks_token("controller", "testing", "testing", SystemTime::now()));
    assert!(eks.request::<Value>(post(json!({"verb": "get", "status": 500}))).await.is_err());
}

/// Compaction expires every older resourceVersion: tests that watch from one do not overlap with it.
static HISTORY: tokio::sync::RwLock<()> = tokio::sync::RwLock::const_new(());

#[tokio::test]
async fn watch_from_a_list_resource_version() {
    let _history = HISTORY.read().await;
    let client = admin("controller");
    let ns = new_namespace(&client, "watch").await;
    let cms: Api<ConfigMap> = Api::namespaced(client, &ns);
    cms.create(&PostParams::default(), &cm("before", json!({}))).await.unwrap();
    let rv = cms.list(&ListParams::default()).await.unwrap().metadata.resource_version.unwrap();
    let mut events = cms.watch(&WatchParams::default().timeout(10), &rv).await.unwrap().boxed();
    cms.create(&PostParams::default(), &cm("w", json!({"a": "1"}))).await.unwrap();
    cms.patch("w", &PatchParams::default(), &Patch::Merge(json!({"data": {"a": "2"}}))).await.unwrap();
    cms.delete("w", &DeleteParams::default()).await.unwrap();
    let mut seen = vec![];
    while seen.len() < 3 {
        let ev =
            tokio::time::timeout(Duration::from_secs(5), events.next()).await.expect("event in time").unwrap().unwrap();
        seen.push(match ev {
            WatchEvent::Added(c) => format!("ADDED {}", c.metadata.name.unwrap()),
            WatchEvent::Modified(c) => format!("MODIFIED {} {}", c.metadata.name.unwrap(), c.data.unwrap()["a"]),
            WatchEvent::Deleted(c) => format!("DELETED {}", c.metadata.name.unwrap()),
            other => format!("{other:?}"),
        });
    }
    assert_eq!(seen, ["ADDED w", "MODIFIED w 2", "DELETED w"]);
}

#[tokio::test]
async fn strategic_merge_patch_merges_keyed_lists() {
    let client = admin("controller");
    let ns = new_namespace(&client, "smp").await;
    let sas: Api<ServiceAccount> = Api::namespaced(client, &ns);
    let sa: ServiceAccount = serde_json::from_value(
        json!({"metadata": {"name": "puller"}, "secrets": [{"name": "a"}], "imagePullSecrets": [{"name": "a"}]}),
    )
    .unwrap();
    sas.create(&PostParams::default(), &sa).await.unwrap();
    let patched = sas
        .patch(
            "puller",
            &PatchParams::default(),
            &Patch::Strategic(json!({"secrets": [{"name": "b"}], "imagePullSecrets": [{"name": "b"}]})),
        )
        .await
        .unwrap();
    let secrets: Vec<String> = patched.secrets.unwrap().into_iter().filter_map(|r| r.name).collect();
    assert_eq!(secrets, ["a", "b"], "ServiceAccount.secrets merges by name");
    let pulls: Vec<String> = patched.image_pull_secrets.unwrap().into_iter().map(|r| r.name).collect();
    assert_eq!(pulls, ["b"], "ServiceAccount.imagePullSecrets is atomic");
    let merged =
        sas.patch("puller", &PatchParams::default(), &Patch::Merge(json!({"secrets": [{"name": "c"}]}))).await.unwrap();
    assert_eq!(merged.secrets.unwrap().len(), 1, "a JSON merge patch replaces lists");
}

/// Drops the emulator's event history, as an etcd compaction does.
async fn compact(client: &kube::Client) {
    let req = http::Request::post("/emulator/compact").body(vec![]).unwrap();
    client.request::<Value>(req).await.expect("compacted");
}

#[tokio::test]
async fn expired_watch_sends_one_error_event_then_a_relist_and_watch_recover() {
    let _history = HISTORY.write().await;
    let client = admin("controller");
    let ns = new_namespace(&client, "expired").await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
    cms.create(&PostParams::default(), &cm("old", json!({}))).await.unwrap();
    let rv = cms.list(&ListParams::default()).await.unwrap().metadata.resource_version.unwrap();
    cms.create(&PostParams::default(), &cm("newer", json!({}))).await.unwrap();
    compact(&client).await;

    // HTTP 200, then a single ERROR event carrying the 410 Status, then the end of the stream.
    let mut events = cms.watch(&WatchParams::default().timeout(10), &rv).await.expect("watch answers 200").boxed();
    match events.next().await {
        Some(Ok(WatchEvent::Error(status))) => {
            assert_eq!((status.code, status.reason.as_str()), (410, "Expired"));
            assert!(status.message.starts_with(&format!("too old resource version: {rv} (")), "{}", status.message);
        }
        other => panic!("expected an ERROR event, got {other:?}"),
    }
    assert!(events.next().await.is_none(), "the stream ends after the ERROR event");

    // What kube-runtime's watcher does on 410: list again (here in pages of one), watch from there.
    let mut names = vec![];
    let mut params = ListParams::default().limit(1);
    let list_rv = loop {
        let page = cms.list(&params).await.unwrap();
        names.extend(page.items.into_iter().filter_map(|c| c.metadata.name));
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(token) => params = ListParams::default().limit(1).continue_token(&token),
            None => break page.metadata.resource_version.unwrap(),
        }
    };
    assert_eq!(names, ["kube-root-ca.crt", "newer", "old"]);
    let mut events = cms.watch(&WatchParams::default().timeout(2), &list_rv).await.unwrap().boxed();
    cms.create(&PostParams::default(), &cm("after", json!({}))).await.unwrap();
    let mut seen = vec![];
    while let Some(ev) = events.next().await {
        seen.push(match ev.unwrap() {
            WatchEvent::Added(c) => format!("ADDED {}", c.metadata.name.unwrap()),
            WatchEvent::Bookmark(b) => {
                let rv: u64 = b.metadata.resource_version.parse().unwrap();
                assert!(rv > list_rv.parse::<u64>().unwrap());
                "BOOKMARK".to_string()
            }
            other => format!("{other:?}"),
        });
    }
    assert_eq!(seen, ["ADDED after", "BOOKMARK"], "the watch ends with a bookmark at its timeout");
}

#[tokio::test]
async fn streaming_list_watch_sends_the_objects_then_an_initial_events_end_bookmark() {
    let client = admin("controller");
    let ns = new_namespace(&client, "stream").await;
    let cms: Api<ConfigMap> = Api::namespaced(client, &ns);
    cms.create(&PostParams::default(), &cm("one", json!({}))).await.unwrap();
    let params = WatchParams::streaming_lists().timeout(1);
    let mut events = cms.watch(&params, "").await.unwrap().boxed();
    let mut seen = vec![];
    while let Some(ev) = events.next().await {
        seen.push(match ev.unwrap() {
            WatchEvent::Added(c) => format!("ADDED {}", c.metadata.name.unwrap()),
            WatchEvent::Bookmark(b) => {
                let end = b.metadata.annotations.get("k8s.io/initial-events-end").map(String::as_str);
                format!("BOOKMARK end={}", end.unwrap_or("-"))
            }
            other => format!("{other:?}"),
        });
    }
    assert_eq!(
        seen,
        ["ADDED kube-root-ca.crt", "ADDED one", "BOOKMARK end=true", "BOOKMARK end=-"],
        "the initial objects, the bookmark closing them, the bookmark at the timeout"
    );
}

#[tokio::test]
async fn force_on_a_non_apply_patch_is_refused_even_when_false() {
    let client = admin("controller");
    let ns = new_namespace(&client, "force").await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
    cms.create(&PostParams::default(), &cm("c", json!({}))).await.unwrap();
    let req = http::Request::patch(format!("/api/v1/namespaces/{ns}/configmaps/c?force=false"))
        .header("content-type", "application/merge-patch+json")
        .body(br#"{"data":{"a":"1"}}"#.to_vec())
        .unwrap();
    let (code, status) = api_code(client.request::<Value>(req).await.unwrap_err());
    assert_eq!(code, 422);
    assert_eq!(
        status.message,
        "PatchOptions.meta.k8s.io \"\" is invalid: force: Forbidden: may not be specified for non-apply patch"
    );
}

/// kubectl's `DeploymentStatusViewer` verdict (kubectl `pkg/polymorphichelpers/rollout_status.go`).
fn deployment_done(d: &k8s_openapi::api::apps::v1::Deployment) -> bool {
    let s = d.status.clone().unwrap_or_default();
    let wanted = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let updated = s.updated_replicas.unwrap_or(0);
    d.metadata.generation <= s.observed_generation
        && updated >= wanted
        && s.replicas.unwrap_or(0) <= updated
        && s.available_replicas.unwrap_or(0) >= updated
}

/// The provider's restart: a JSON merge patch of the template's `restartedAt` annotation from
/// kube-rs, with a field manager, bumps the generation, and the watch shows the rollout finishing on
/// new pods (`pod-template-hash` changed) under the template's service account.
#[tokio::test]
async fn a_merge_patched_restart_rolls_out_and_watches_show_it() {
    use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
    let client = admin("controller");
    let ns = new_namespace(&client, "restart").await;
    let sas: Api<ServiceAccount> = Api::namespaced(client.clone(), &ns);
    sas.create(&PostParams::default(), &serde_json::from_value(json!({"metadata": {"name": "jenkins"}})).unwrap())
        .await
        .unwrap();
    let spec = |app: &str| {
        json!({"replicas": 2, "selector": {"matchLabels": {"app": app}},
               "template": {"metadata": {"labels": {"app": app}},
                            "spec": {"serviceAccountName": "jenkins", "containers": [{"name": "main", "image": "nginx"}]}}})
    };
    let deploys: Api<Deployment> = Api::namespaced(client.clone(), &ns);
    let d = serde_json::from_value(json!({"metadata": {"name": "web"}, "spec": spec("web")})).unwrap();
    let created = deploys.create(&PostParams::default(), &d).await.unwrap();
    assert_eq!(created.metadata.generation, Some(1));
    let spec_sts = {
        let mut s = spec("db");
        s["serviceName"] = json!("db");
        s
    };
    let stss: Api<StatefulSet> = Api::namespaced(client.clone(), &ns);
    let s = serde_json::from_value(json!({"metadata": {"name": "db"}, "spec": spec_sts})).unwrap();
    stss.create(&PostParams::default(), &s).await.unwrap();

    let pods: Api<Pod> = Api::namespaced(client.clone(), &ns);
    let hashes = || async {
        let list = pods.list(&ListParams::default().labels("app=web")).await.unwrap();
        list.items
            .into_iter()
            .filter(|p| p.metadata.deletion_timestamp.is_none())
            .map(|p| p.metadata.labels.unwrap()["pod-template-hash"].clone())
            .collect::<Vec<_>>()
    };
    let start = std::time::Instant::now();
    while !deployment_done(&deploys.get("web").await.unwrap()) {
        assert!(start.elapsed() < Duration::from_secs(10), "the first rollout finishes");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let old_hashes = hashes().await;
    assert_eq!(old_hashes.len(), 2);

    let rv = deploys.get("web").await.unwrap().metadata.resource_version.unwrap();
    let mut events =
        deploys.watch(&WatchParams::default().fields("metadata.name=web").timeout(15), &rv).await.unwrap().boxed();
    let restart = json!({"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "2026-01-01T00:00:00Z"}}}}});
    let pp = PatchParams { field_manager: Some("jenkins-restart".into()), ..Default::default() };
    let patched = deploys.patch("web", &pp, &Patch::Merge(&restart)).await.unwrap();
    assert_eq!(patched.metadata.generation, Some(2));
    let managers: Vec<String> =
        patched.metadata.managed_fields.unwrap().into_iter().filter_map(|m| m.manager).collect();
    assert!(managers.contains(&"jenkins-restart".to_string()), "{managers:?}");
    loop {
        let ev = tokio::time::timeout(Duration::from_secs(10), events.next()).await.expect("events in time");
        if let Some(Ok(WatchEvent::Modified(d))) = ev
            && d.status.as_ref().and_then(|s| s.observed_generation) == Some(2)
            && deployment_done(&d)
        {
            break;
        }
    }
    let new_hashes = hashes().await;
    assert_eq!(new_hashes.len(), 2);
    assert!(new_hashes.iter().all(|h| !old_hashes.contains(h)), "{old_hashes:?} -> {new_hashes:?}");
    let sa: Vec<String> = pods
        .list(&ListParams::default().labels("app=web"))
        .await
        .unwrap()
        .items
        .into_iter()
        .filter_map(|p| p.spec.and_then(|s| s.service_account_name))
        .collect();
    assert!(sa.iter().all(|s| s == "jenkins"), "{sa:?}");

    let patched = stss.patch("db", &pp, &Patch::Merge(&restart)).await.unwrap();
    assert_eq!(patched.metadata.generation, Some(2));
    let start = std::time::Instant::now();
    loop {
        let s = stss.get("db").await.unwrap();
        let st = s.status.unwrap_or_default();
        let done = st.observed_generation == Some(2)
            && st.ready_replicas == Some(2)
            && st.updated_replicas == Some(2)
            && st.current_revision == st.update_revision;
        if done {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "the StatefulSet rolls out: {st:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
