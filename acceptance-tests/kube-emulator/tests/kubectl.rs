//! The emulator driven by kubectl v1.32 (`/usr/bin/kubectl`), a client no one here wrote.

mod common;

use base64::Engine;
use common::{emulator, eventually, unique};
use std::io::Write;
use std::process::{Command, Output, Stdio};

struct Run {
    ok: bool,
    stdout: String,
    stderr: String,
}

fn run_with(kubeconfig: &std::path::Path, args: &[&str], stdin: Option<&str>) -> Run {
    let mut child = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .env("KUBECACHEDIR", emulator().dir.join("kube-cache"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kubectl runs");
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    }
    drop(child.stdin.take());
    let Output { status, stdout, stderr } = child.wait_with_output().unwrap();
    Run {
        ok: status.success(),
        stdout: String::from_utf8_lossy(&stdout).into(),
        stderr: String::from_utf8_lossy(&stderr).into(),
    }
}

fn kubectl(args: &[&str]) -> Run {
    run_with(&emulator().kubeconfig(), args, None)
}

fn kubectl_stdin(args: &[&str], input: &str) -> Run {
    run_with(&emulator().kubeconfig(), args, Some(input))
}

#[track_caller]
fn ok(r: Run) -> String {
    assert!(r.ok, "kubectl failed:\nstdout: {}\nstderr: {}", r.stdout, r.stderr);
    r.stdout
}

fn new_namespace(prefix: &str) -> String {
    let ns = unique(prefix);
    ok(kubectl(&["create", "namespace", &ns]));
    ns
}

#[test]
fn create_and_get_namespace_and_configmap() {
    let ns = new_namespace("basic");
    let out = ok(kubectl(&["get", "namespace", &ns, "-o", "jsonpath={.status.phase}"]));
    assert_eq!(out, "Active");
    ok(kubectl(&["-n", &ns, "create", "configmap", "settings", "--from-literal=url=https://example.com"]));
    let out = ok(kubectl(&["-n", &ns, "get", "configmap", "settings", "-o", "jsonpath={.data.url}"]));
    assert_eq!(out, "https://example.com");
    let names = ok(kubectl(&["-n", &ns, "get", "configmaps", "-o", "name"]));
    assert!(names.contains("configmap/settings") && names.contains("configmap/kube-root-ca.crt"), "{names}");
    let sa = ok(kubectl(&["-n", &ns, "get", "serviceaccount", "default", "-o", "name"]));
    assert_eq!(sa.trim(), "serviceaccount/default");
    let again = kubectl(&["-n", &ns, "create", "configmap", "settings"]);
    assert!(
        !again.ok && again.stderr.contains("AlreadyExists") || again.stderr.contains("already exists"),
        "{}",
        again.stderr
    );
    let bad = kubectl(&["-n", &ns, "create", "configmap", "Bad_Name"]);
    assert!(!bad.ok && bad.stderr.contains("is invalid") && bad.stderr.contains("RFC 1123"), "{}", bad.stderr);
    let missing = kubectl(&["-n", "no-such-namespace", "get", "configmap", "x"]);
    assert!(!missing.ok && missing.stderr.contains("NotFound"), "{}", missing.stderr);
}

#[test]
fn client_side_apply_creates_then_configures() {
    let ns = new_namespace("csa");
    let manifest = |v: &str| {
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n  namespace: {ns}\ndata:\n  level: \"{v}\"\n")
    };
    assert!(ok(kubectl_stdin(&["apply", "-f", "-"], &manifest("1"))).contains("configmap/app created"));
    assert!(ok(kubectl_stdin(&["apply", "-f", "-"], &manifest("1"))).contains("unchanged"));
    assert!(ok(kubectl_stdin(&["apply", "-f", "-"], &manifest("2"))).contains("configured"));
    let out = ok(kubectl(&["-n", &ns, "get", "cm", "app", "-o", "jsonpath={.data.level}"]));
    assert_eq!(out, "2");
}

#[test]
fn server_side_apply_conflict_then_force() {
    let ns = new_namespace("ssa");
    let manifest = |v: &str| {
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shared\n  namespace: {ns}\ndata:\n  key: {v}\n")
    };
    ok(kubectl_stdin(&["apply", "--server-side", "--field-manager=alpha", "-f", "-"], &manifest("one")));
    let conflict = kubectl_stdin(&["apply", "--server-side", "--field-manager=beta", "-f", "-"], &manifest("two"));
    assert!(!conflict.ok, "a conflicting apply must fail");
    assert!(
        conflict.stderr.contains("conflict with \"alpha\"") && conflict.stderr.contains(".data.key"),
        "{}",
        conflict.stderr
    );
    ok(kubectl_stdin(
        &["apply", "--server-side", "--field-manager=beta", "--force-conflicts", "-f", "-"],
        &manifest("two"),
    ));
    let out = ok(kubectl(&[
        "-n",
        &ns,
        "get",
        "cm",
        "shared",
        "-o",
        "jsonpath={.data.key} {.metadata.managedFields[*].manager}",
    ]));
    assert_eq!(out, "two beta");
}

#[test]
fn delete_namespace_and_watch_it_go() {
    let ns = new_namespace("gone");
    ok(kubectl(&["-n", &ns, "create", "configmap", "inside"]));
    ok(kubectl(&["delete", "namespace", &ns, "--wait=false"]));
    ok(kubectl(&["wait", "--for=delete", &format!("namespace/{ns}"), "--timeout=10s"]));
    let gone = kubectl(&["get", "namespace", &ns]);
    assert!(!gone.ok && gone.stderr.contains("NotFound"), "{}", gone.stderr);
    // A blocking delete also returns once the namespace is gone (it watches).
    let ns2 = new_namespace("gone-wait");
    ok(kubectl(&["delete", "namespace", &ns2, "--timeout=10s"]));
    assert!(!kubectl(&["get", "namespace", &ns2]).ok);
    let forbidden = kubectl(&["delete", "namespace", "kube-system"]);
    assert!(!forbidden.ok && forbidden.stderr.contains("may not be deleted"), "{}", forbidden.stderr);
}

/// `metadata.finalizers` hold a deleted object as the real API server does: the namespace stays
/// `Terminating` (kubectl's own wait times out), a ConfigMap keeps its `deletionTimestamp`, and a
/// patch removing the last finalizer lets each go.
#[test]
fn finalizers_hold_a_deleted_object_until_removed() {
    let ns = new_namespace("held");
    let hold = r#"{"metadata":{"finalizers":["example.com/hold"]}}"#;
    ok(kubectl(&["-n", &ns, "create", "configmap", "kept"]));
    ok(kubectl(&["-n", &ns, "patch", "configmap", "kept", "--type=merge", "-p", hold]));
    ok(kubectl(&["-n", &ns, "delete", "configmap", "kept", "--wait=false"]));
    let kept = ok(kubectl(&["-n", &ns, "get", "configmap", "kept", "-o", "jsonpath={.metadata.deletionTimestamp}"]));
    assert!(!kept.is_empty(), "marked for deletion, still there");
    ok(kubectl(&[
        "-n",
        &ns,
        "patch",
        "configmap",
        "kept",
        "--type=merge",
        "-p",
        r#"{"metadata":{"finalizers":null}}"#,
    ]));
    assert!(!kubectl(&["-n", &ns, "get", "configmap", "kept"]).ok, "gone once its finalizer is removed");

    ok(kubectl(&["patch", "namespace", &ns, "--type=merge", "-p", hold]));
    ok(kubectl(&["delete", "namespace", &ns, "--wait=false"]));
    let waited = kubectl(&["wait", "--for=delete", &format!("namespace/{ns}"), "--timeout=2s"]);
    assert!(!waited.ok, "the finalizer holds the namespace");
    let phase = ok(kubectl(&["get", "namespace", &ns, "-o", "jsonpath={.status.phase}"]));
    assert_eq!(phase, "Terminating");
    ok(kubectl(&[
        "patch",
        "namespace",
        &ns,
        "--type=json",
        "-p",
        r#"[{"op":"remove","path":"/metadata/finalizers"}]"#,
    ]));
    ok(kubectl(&["wait", "--for=delete", &format!("namespace/{ns}"), "--timeout=10s"]));
}

/// The service account, Role and RoleBinding the Jenkins Kubernetes plugin documents for its cloud
/// identity (verbs as in jenkinsci/kubernetes-plugin `src/main/kubernetes/service-account.yml`).
fn jenkins_rbac(ns: &str) -> String {
    format!(
        r#"apiVersion: v1
kind: ServiceAccount
metadata:
  name: jenkins
  namespace: {ns}
---
kind: Role
apiVersion: rbac.authorization.k8s.io/v1
metadata:
  name: jenkins
  namespace: {ns}
rules:
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["create","delete","get","list","patch","update","watch"]
- apiGroups: [""]
  resources: ["pods/exec"]
  verbs: ["create","delete","get","list","patch","update","watch"]
- apiGroups: [""]
  resources: ["pods/log"]
  verbs: ["get","list","watch"]
- apiGroups: [""]
  resources: ["events"]
  verbs: ["watch"]
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: jenkins
  namespace: {ns}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: jenkins
subjects:
- kind: ServiceAccount
  name: jenkins
"#
    )
}

fn can_i(ns: &str, verb: &str, resource: &str, sub: Option<&str>) -> bool {
    let who = format!("system:serviceaccount:{ns}:jenkins");
    let mut args = vec!["auth", "can-i", verb, resource, "-n", ns, "--as", &who];
    let sub_flag = sub.map(|s| format!("--subresource={s}"));
    if let Some(s) = &sub_flag {
        args.push(s);
    }
    let r = kubectl(&args);
    assert!(r.stdout.trim() == "yes" || r.stdout.trim() == "no", "can-i: {} {}", r.stdout, r.stderr);
    r.ok
}

#[test]
fn auth_can_i_follows_the_jenkins_plugin_role() {
    let ns = new_namespace("rbac");
    ok(kubectl_stdin(&["apply", "-n", &ns, "-f", "-"], &jenkins_rbac(&ns)));
    assert!(can_i(&ns, "create", "pods", Some("exec")));
    assert!(can_i(&ns, "get", "pods", Some("exec")));
    assert!(can_i(&ns, "get", "pods", Some("log")));
    assert!(!can_i(&ns, "create", "pods", Some("log")));
    assert!(can_i(&ns, "watch", "pods", None));
    assert!(can_i(&ns, "delete", "pods", None));
    assert!(can_i(&ns, "get", "secrets", None));
    assert!(!can_i(&ns, "list", "secrets", None));
    assert!(!can_i(&ns, "create", "configmaps", None));
    assert!(!can_i("default", "create", "pods", None));
}

#[test]
fn service_account_token_secret_authenticates_with_rbac() {
    let ns = new_namespace("token");
    ok(kubectl_stdin(&["apply", "-n", &ns, "-f", "-"], &jenkins_rbac(&ns)));
    let secret = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: jenkins-token\n  namespace: {ns}\n  annotations:\n    kubernetes.io/service-account.name: jenkins\ntype: kubernetes.io/service-account-token\n"
    );
    ok(kubectl_stdin(&["apply", "-f", "-"], &secret));
    let token_b64 = eventually(5, || {
        let out = ok(kubectl(&["-n", &ns, "get", "secret", "jenkins-token", "-o", "jsonpath={.data.token}"]));
        (!out.is_empty()).then_some(out)
    });
    let token = String::from_utf8(base64::engine::general_purpose::STANDARD.decode(token_b64).unwrap()).unwrap();
    let e = emulator();
    let kubeconfig = e.dir.join(format!("sa-{ns}.kubeconfig"));
    let ca64 = base64::engine::general_purpose::STANDARD.encode(e.field("controller", "ca_pem"));
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: sa\nclusters:\n- name: c\n  cluster:\n    server: {}\n    certificate-authority-data: {ca64}\ncontexts:\n- name: sa\n  context:\n    cluster: c\n    user: sa\n    namespace: {ns}\nusers:\n- name: sa\n  user:\n    token: {token}\n",
            e.field("controller", "endpoint")
        ),
    )
    .unwrap();
    let pods = run_with(&kubeconfig, &["get", "pods"], None);
    assert!(pods.ok, "{}", pods.stderr);
    let secrets = run_with(&kubeconfig, &["get", "secrets"], None);
    assert!(!secrets.ok, "listing secrets must be forbidden");
    assert!(
        secrets
            .stderr
            .contains(&format!("User \"system:serviceaccount:{ns}:jenkins\" cannot list resource \"secrets\"")),
        "{}",
        secrets.stderr
    );
    assert!(run_with(&kubeconfig, &["get", "secret", "jenkins-token", "-o", "name"], None).ok);
    ok(kubectl(&["-n", &ns, "delete", "secret", "jenkins-token"]));
    let revoked = run_with(&kubeconfig, &["get", "pods"], None);
    assert!(!revoked.ok && revoked.stderr.contains("Unauthorized"), "{}", revoked.stderr);
}

#[test]
fn pods_run_and_answer_log_and_exec() {
    let ns = new_namespace("pods");
    let pod = format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: agent\n  namespace: {ns}\nspec:\n  containers:\n  - name: jnlp\n    image: jenkins/inbound-agent\n"
    );
    ok(kubectl_stdin(&["apply", "-f", "-"], &pod));
    ok(kubectl(&["-n", &ns, "wait", "--for=condition=Ready", "pod/agent", "--timeout=10s"]));
    let log = ok(kubectl(&["-n", &ns, "logs", "agent"]));
    assert!(log.contains("canned log"), "{log}");
    let exec = kubectl(&["-n", &ns, "exec", "agent", "--", "true"]);
    assert!(exec.ok, "exec: {} {}", exec.stdout, exec.stderr);
    ok(kubectl(&["-n", &ns, "delete", "pod", "agent", "--timeout=10s"]));
    assert!(!kubectl(&["-n", &ns, "get", "pod", "agent"]).ok);
}

#[test]
fn kubeconfig_has_both_clusters() {
    let out = ok(kubectl(&["config", "get-contexts", "-o", "name"]));
    assert_eq!(out.split_whitespace().collect::<Vec<_>>(), ["controller", "remote"]);
    let remote = ok(kubectl(&["--context", "remote", "get", "namespaces", "-o", "name"]));
    assert!(remote.contains("namespace/kube-system"));
}

#[test]
fn get_watch_shows_objects_entering_and_leaving_a_label_selector() {
    use std::io::BufRead;
    let ns = new_namespace("watch");
    for cm in ["one", "two", "three"] {
        ok(kubectl(&["-n", &ns, "create", "configmap", cm]));
    }
    ok(kubectl(&["-n", &ns, "label", "configmap", "one", "casc=1"]));
    let e = emulator();
    // The watch ends by itself when its request timeout passes; kubectl then exits 0.
    let mut child = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(e.kubeconfig())
        .args([
            "-n",
            &ns,
            "get",
            "configmaps",
            "--watch",
            "-l",
            "casc",
            "--output-watch-events",
            "--request-timeout=4s",
        ])
        .env("KUBECACHEDIR", e.dir.join("kube-cache"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("kubectl runs");
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut next = || lines.next().map(|l| l.unwrap().split_whitespace().take(2).collect::<Vec<_>>().join(" "));
    assert_eq!(next().as_deref(), Some("EVENT NAME"));
    assert_eq!(next().as_deref(), Some("ADDED one"));
    ok(kubectl(&["-n", &ns, "label", "configmap", "two", "casc=2"]));
    ok(kubectl(&["-n", &ns, "label", "configmap", "one", "casc-"]));
    ok(kubectl(&["-n", &ns, "annotate", "configmap", "two", "note=x"]));
    ok(kubectl(&["-n", &ns, "delete", "configmap", "two"]));
    let rest: Vec<String> = std::iter::from_fn(next).collect();
    assert_eq!(rest, ["ADDED two", "DELETED one", "MODIFIED two", "DELETED two"]);
    assert!(child.wait().unwrap().success());
}

#[test]
fn get_with_chunk_size_pages_through_continue_tokens() {
    let ns = new_namespace("chunks");
    for i in 0..7 {
        ok(kubectl(&["-n", &ns, "create", "configmap", &format!("cm-{i}")]));
    }
    let r = kubectl(&["-n", &ns, "get", "configmaps", "--chunk-size=2", "-o", "name", "-v=6"]);
    assert!(r.ok, "{}", r.stderr);
    let names: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(
        names,
        [
            "configmap/cm-0",
            "configmap/cm-1",
            "configmap/cm-2",
            "configmap/cm-3",
            "configmap/cm-4",
            "configmap/cm-5",
            "configmap/cm-6",
            "configmap/kube-root-ca.crt"
        ]
    );
    let requests =
        r.stderr.lines().filter(|l| l.contains("\"Response\" verb=\"GET\"") && l.contains("limit=2")).count();
    assert_eq!(requests, 4, "8 objects in pages of 2: {}", r.stderr);
    // The table printer follows the tokens too.
    let table = ok(kubectl(&["-n", &ns, "get", "configmaps", "--chunk-size=3", "--no-headers"]));
    assert_eq!(table.lines().count(), 8, "{table}");
}

#[test]
fn raw_watches_accept_the_watch_path_and_any_true_spelling() {
    let ns = new_namespace("rawwatch");
    ok(kubectl(&["-n", &ns, "create", "configmap", "seen"]));
    let event_names = |out: &str| -> Vec<String> {
        out.lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                format!("{} {}", v["type"].as_str().unwrap(), v["object"]["metadata"]["name"].as_str().unwrap())
            })
            .collect()
    };
    let path = format!("/api/v1/watch/namespaces/{ns}/configmaps/seen?timeoutSeconds=1");
    assert_eq!(event_names(&ok(kubectl(&["get", "--raw", &path]))), ["ADDED seen"]);
    let path =
        format!("/api/v1/namespaces/{ns}/configmaps?watch=True&timeoutSeconds=1&fieldSelector=metadata.name%3Dseen");
    assert_eq!(event_names(&ok(kubectl(&["get", "--raw", &path]))), ["ADDED seen"]);
    let path = format!("/api/v1/namespaces/{ns}/configmaps?watch=False&fieldSelector=metadata.name%3Dseen");
    let list: serde_json::Value = serde_json::from_str(&ok(kubectl(&["get", "--raw", &path]))).unwrap();
    assert_eq!(list["kind"], "ConfigMapList", "watch=False is a list");
}

/// The controller's StatefulSet and Service, shaped like the Jenkins chart's.
fn jenkins_workload(ns: &str, selector: &str) -> String {
    format!(
        r#"apiVersion: v1
kind: Service
metadata:
  name: jenkins
  namespace: {ns}
spec:
  selector:
    app: jenkins
  ports:
  - name: http
    port: 8080
  - name: agent-listener
    port: 50000
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: jenkins
  namespace: {ns}
spec:
  serviceName: jenkins
  selector:
    matchLabels:
      app: {selector}
  template:
    metadata:
      labels:
        app: jenkins
    spec:
      containers:
      - name: jenkins
        image: jenkins/jenkins:lts
"#
    )
}

#[test]
fn apply_stores_a_stateful_set_and_a_service_with_server_defaults() {
    let ns = new_namespace("sts");
    let out = ok(kubectl_stdin(&["apply", "-f", "-"], &jenkins_workload(&ns, "jenkins")));
    assert!(out.contains("service/jenkins created") && out.contains("statefulset.apps/jenkins created"), "{out}");
    let again = ok(kubectl_stdin(&["apply", "-f", "-"], &jenkins_workload(&ns, "jenkins")));
    assert!(
        again.contains("service/jenkins unchanged") && again.contains("statefulset.apps/jenkins unchanged"),
        "{again}"
    );
    let svc = ok(kubectl(&[
        "-n",
        &ns,
        "get",
        "svc",
        "jenkins",
        "-o",
        "jsonpath={.spec.type} {.spec.clusterIP} {.spec.ports[1].targetPort} {.spec.ports[1].protocol}",
    ]));
    let parts: Vec<&str> = svc.split(' ').collect();
    assert_eq!((parts[0], parts[2], parts[3]), ("ClusterIP", "50000", "TCP"), "{svc}");
    assert!(parts[1].starts_with("10.100."), "a cluster IP is allocated: {svc}");
    let sts =
        ok(kubectl(&["-n", &ns, "get", "sts", "jenkins", "-o", "jsonpath={.spec.replicas} {.metadata.generation}"]));
    assert_eq!(sts, "1 1");
    let table = ok(kubectl(&["-n", &ns, "get", "sts,svc", "--no-headers"]));
    assert!(
        table.contains("statefulset.apps/jenkins") && table.contains("/1 ") && table.contains("8080/TCP,50000/TCP"),
        "{table}"
    );
    let bad = kubectl_stdin(&["apply", "-f", "-"], &jenkins_workload(&ns, "other"));
    assert!(!bad.ok, "a changed selector is refused");
    assert!(
        bad.stderr.contains("spec: Forbidden: updates to statefulset spec for fields other than"),
        "{}",
        bad.stderr
    );
    let mismatch = kubectl_stdin(&["apply", "-f", "-"], &jenkins_workload(&new_namespace("sts-bad"), "other"));
    assert!(mismatch.stderr.contains("`selector` does not match template `labels`"), "{}", mismatch.stderr);
}

/// A Deployment `web` and a StatefulSet `db`, two replicas each, running as service account `jenkins`;
/// `meta` is added to both workloads' metadata (an annotation, say).
fn rolled_workloads(ns: &str, meta: &str) -> String {
    let template = |app: &str, image: &str| {
        format!(
            "  replicas: 2\n  selector:\n    matchLabels:\n      app: {app}\n  template:\n    metadata:\n      labels:\n        app: {app}\n    spec:\n      serviceAccountName: jenkins\n      containers:\n      - name: main\n        image: {image}\n"
        )
    };
    format!(
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: jenkins\n  namespace: {ns}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: {ns}\n{meta}spec:\n{}---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: db\n  namespace: {ns}\n{meta}spec:\n  serviceName: db\n{}",
        template("web", "nginx:1.27"),
        template("db", "postgres:16")
    )
}

/// The uids of the live (not terminating) pods of `app`, sorted.
fn live_pod_uids(ns: &str, app: &str) -> Vec<String> {
    let out = ok(kubectl(&["-n", ns, "get", "pods", "-l", &format!("app={app}"), "-o", "json"]));
    let list: serde_json::Value = serde_json::from_str(&out).unwrap();
    let mut uids: Vec<String> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p.pointer("/metadata/deletionTimestamp").is_none())
        .map(|p| p["metadata"]["uid"].as_str().unwrap().to_string())
        .collect();
    uids.sort();
    uids
}

/// Real `kubectl rollout status` succeeds on both workloads.
#[track_caller]
fn both_rolled_out(ns: &str) {
    let d = ok(kubectl(&["-n", ns, "rollout", "status", "deploy/web", "--timeout=20s"]));
    assert!(d.contains("deployment \"web\" successfully rolled out"), "{d}");
    let s = ok(kubectl(&["-n", ns, "rollout", "status", "sts/db", "--timeout=20s"]));
    assert!(s.contains("roll out complete"), "{s}");
}

/// The rollout controllers as `kubectl rollout restart` and `rollout status` see them: pods from the
/// templates, owned and labelled as a real cluster's, replaced by a restart (strategic merge patch)
/// and by a JSON merge patch of the same annotation, and deleted with their workload.
#[test]
fn rollout_restart_and_status_against_the_workload_controllers() {
    let ns = new_namespace("rollout");
    ok(kubectl_stdin(&["apply", "-f", "-"], &rolled_workloads(&ns, "")));
    both_rolled_out(&ns);
    let table = ok(kubectl(&["-n", &ns, "get", "deploy,sts,pods", "--no-headers"]));
    let rows: Vec<Vec<&str>> = table.lines().map(|l| l.split_whitespace().collect()).collect();
    assert!(rows.iter().any(|r| r[..4] == ["deployment.apps/web", "2/2", "2", "2"]), "{table}");
    assert!(rows.iter().any(|r| r[..2] == ["statefulset.apps/db", "2/2"]), "{table}");
    let pods: Vec<&str> = rows.iter().filter(|r| r[0].starts_with("pod/")).map(|r| r[0]).collect();
    assert_eq!(pods.len(), 4, "{table}");
    assert!(pods.contains(&"pod/db-0") && pods.contains(&"pod/db-1"), "{table}");
    let hash = ok(kubectl(&[
        "-n",
        &ns,
        "get",
        "pods",
        "-l",
        "app=web",
        "-o",
        "jsonpath={.items[*].metadata.labels.pod-template-hash}",
    ]));
    let hash = hash.split(' ').next().unwrap().to_string();
    assert!(pods.iter().filter(|p| p.starts_with(&format!("pod/web-{hash}-"))).count() == 2, "{table}");
    let pod = ok(kubectl(&[
        "-n",
        &ns,
        "get",
        "pod",
        "db-1",
        "-o",
        "jsonpath={.metadata.labels.controller-revision-hash} {.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name} {.spec.serviceAccountName} {.status.phase}",
    ]));
    let revision = ok(kubectl(&["-n", &ns, "get", "sts", "db", "-o", "jsonpath={.status.updateRevision}"]));
    assert_eq!(pod, format!("{revision} StatefulSet/db jenkins Running"));

    let before = (live_pod_uids(&ns, "web"), live_pod_uids(&ns, "db"));
    ok(kubectl(&["-n", &ns, "rollout", "restart", "deploy/web", "sts/db"]));
    both_rolled_out(&ns);
    let restarted = (live_pod_uids(&ns, "web"), live_pod_uids(&ns, "db"));
    for (old, new) in [(&before.0, &restarted.0), (&before.1, &restarted.1)] {
        assert_eq!(new.len(), 2, "{new:?}");
        assert!(new.iter().all(|u| !old.contains(u)), "new pods: {old:?} -> {new:?}");
    }
    let revised = ok(kubectl(&["-n", &ns, "get", "sts", "db", "-o", "jsonpath={.status.updateRevision}"]));
    assert_ne!(revised, revision, "the template changed, so did its revision");

    let patch = r#"{"spec":{"template":{"metadata":{"annotations":{"kubectl.kubernetes.io/restartedAt":"2026-01-01T00:00:00Z"}}}}}"#;
    for w in ["deploy/web", "sts/db"] {
        ok(kubectl(&["-n", &ns, "patch", w, "--type", "merge", "-p", patch, "--field-manager", "restarter"]));
    }
    let generations =
        ok(kubectl(&["-n", &ns, "get", "deploy/web", "sts/db", "-o", "jsonpath={.items[*].metadata.generation}"]));
    assert_eq!(generations, "3 3", "each restart is a spec change");
    both_rolled_out(&ns);
    let patched = (live_pod_uids(&ns, "web"), live_pod_uids(&ns, "db"));
    assert!(patched.0.iter().chain(&patched.1).all(|u| !restarted.0.contains(u) && !restarted.1.contains(u)));

    ok(kubectl(&["-n", &ns, "delete", "deploy/web", "sts/db"]));
    eventually(5, || live_pod_uids(&ns, "web").is_empty().then_some(()));
    eventually(5, || live_pod_uids(&ns, "db").is_empty().then_some(()));
}

/// The stall knob: new pods run but never become Ready, so `kubectl rollout status` times out;
/// without the knob the rollout finishes; a Deployment past `progressDeadlineSeconds` fails.
#[test]
fn stalled_rollouts_time_out_until_the_knob_goes() {
    let ns = new_namespace("stall");
    ok(kubectl_stdin(
        &["apply", "-f", "-"],
        &rolled_workloads(&ns, "  annotations:\n    kube-emulator/rollout: stall\n"),
    ));
    for w in ["deploy/web", "sts/db"] {
        let r = kubectl(&["-n", &ns, "rollout", "status", w, "--timeout=3s"]);
        assert!(!r.ok && r.stderr.contains("timed out"), "{w}: {} {}", r.stdout, r.stderr);
    }
    let ready =
        ok(kubectl(&["-n", &ns, "get", "deploy/web", "sts/db", "-o", "jsonpath={.items[*].status.readyReplicas}"]));
    assert_eq!(ready, "", "no pod is ready (the counts are left out when zero)");
    let phases = ok(kubectl(&["-n", &ns, "get", "pods", "-l", "app=web", "-o", "jsonpath={.items[*].status.phase}"]));
    assert_eq!(phases, "Running Running");
    for w in ["deploy/web", "sts/db"] {
        ok(kubectl(&["-n", &ns, "annotate", w, "kube-emulator/rollout-"]));
    }
    both_rolled_out(&ns);

    // A rollout that stalls after it started: the StatefulSet's revision stays behind.
    ok(kubectl(&["-n", &ns, "annotate", "sts/db", "kube-emulator/rollout=stall"]));
    ok(kubectl(&["-n", &ns, "rollout", "restart", "sts/db"]));
    assert!(!kubectl(&["-n", &ns, "rollout", "status", "sts/db", "--timeout=3s"]).ok);
    let s = ok(kubectl(&[
        "-n",
        &ns,
        "get",
        "sts/db",
        "-o",
        "jsonpath={.status.readyReplicas} {.status.currentRevision} {.status.updateRevision}",
    ]));
    let parts: Vec<&str> = s.split(' ').collect();
    assert!(parts[0] == "1" && parts[1] != parts[2], "{s}");

    let late = format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: late\n  namespace: {ns}\n  annotations:\n    kube-emulator/rollout: stall\nspec:\n  progressDeadlineSeconds: 1\n  selector:\n    matchLabels:\n      app: late\n  template:\n    metadata:\n      labels:\n        app: late\n    spec:\n      containers:\n      - name: main\n        image: nginx\n"
    );
    ok(kubectl_stdin(&["apply", "-f", "-"], &late));
    let r = kubectl(&["-n", &ns, "rollout", "status", "deploy/late", "--timeout=10s"]);
    assert!(!r.ok && r.stderr.contains("deployment \"late\" exceeded its progress deadline"), "{}", r.stderr);
}

fn agent_pod(ns: &str, name: &str, extra_spec: &str, resources: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: {ns}\nspec:\n{extra_spec}  containers:\n  - name: jnlp\n    image: jenkins/inbound-agent\n{resources}"
    )
}

#[test]
fn server_dry_run_refuses_pods_by_pod_security_level() {
    let ns = new_namespace("psa");
    ok(kubectl(&["label", "namespace", &ns, "pod-security.kubernetes.io/enforce=restricted"]));
    let refused = kubectl_stdin(&["create", "--dry-run=server", "-f", "-"], &agent_pod(&ns, "agent", "", ""));
    assert!(!refused.ok);
    assert!(
        refused.stderr.contains(
            "pods \"agent\" is forbidden: violates PodSecurity \"restricted:latest\": allowPrivilegeEscalation != false (container \"jnlp\" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container \"jnlp\" must set securityContext.capabilities.drop=[\"ALL\"]), runAsNonRoot != true (pod or container \"jnlp\" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container \"jnlp\" must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")"
        ),
        "{}",
        refused.stderr
    );
    let hardened = agent_pod(
        &ns,
        "agent",
        "  securityContext:\n    runAsNonRoot: true\n    seccompProfile:\n      type: RuntimeDefault\n",
        "    securityContext:\n      allowPrivilegeEscalation: false\n      capabilities:\n        drop: [\"ALL\"]\n",
    );
    let out =
        ok(kubectl_stdin(&["create", "--dry-run=server", "-f", "-", "-o", "jsonpath={.status.phase}"], &hardened));
    assert_eq!(out, "Pending", "the dry run returns the admitted pod");
    assert!(!kubectl(&["-n", &ns, "get", "pod", "agent"]).ok, "a dry run stores nothing");

    ok(kubectl(&["label", "--overwrite", "namespace", &ns, "pod-security.kubernetes.io/enforce=baseline"]));
    let host = agent_pod(
        &ns,
        "docker",
        "  hostNetwork: true\n  volumes:\n  - name: sock\n    hostPath:\n      path: /var/run/docker.sock\n",
        "",
    );
    let refused = kubectl_stdin(&["create", "--dry-run=server", "-f", "-"], &host);
    assert!(
        refused.stderr.contains(
            "violates PodSecurity \"baseline:latest\": host namespaces (hostNetwork), hostPath volumes (volume \"sock\")"
        ),
        "{}",
        refused.stderr
    );
    let missing_sa = agent_pod(&ns, "agent", "  serviceAccountName: jenkins-agent\n", "");
    let refused = kubectl_stdin(&["create", "--dry-run=server", "-f", "-"], &missing_sa);
    assert!(
        refused.stderr.contains(&format!(
            "pods \"agent\" is forbidden: error looking up service account {ns}/jenkins-agent: serviceaccount \"jenkins-agent\" not found"
        )),
        "{}",
        refused.stderr
    );
}

#[test]
fn limit_range_defaults_and_limits_pods() {
    let ns = new_namespace("limits");
    let lr = format!(
        "apiVersion: v1\nkind: LimitRange\nmetadata:\n  name: agents\n  namespace: {ns}\nspec:\n  limits:\n  - type: Container\n    default:\n      cpu: 500m\n      memory: 512Mi\n    defaultRequest:\n      cpu: 250m\n    max:\n      memory: 1Gi\n"
    );
    ok(kubectl_stdin(&["apply", "-f", "-"], &lr));
    let stored =
        ok(kubectl(&["-n", &ns, "get", "limits", "agents", "-o", "jsonpath={.spec.limits[0].defaultRequest}"]));
    assert_eq!(stored, r#"{"cpu":"250m","memory":"512Mi"}"#, "defaultRequest.memory is defaulted from default");
    ok(kubectl_stdin(&["apply", "-f", "-"], &agent_pod(&ns, "agent", "", "")));
    let pod = ok(kubectl(&[
        "-n",
        &ns,
        "get",
        "pod",
        "agent",
        "-o",
        r#"jsonpath={.spec.containers[0].resources} {.metadata.annotations.kubernetes\.io/limit-ranger} {.status.qosClass}"#,
    ]));
    assert_eq!(
        pod,
        r#"{"limits":{"cpu":"500m","memory":"512Mi"},"requests":{"cpu":"250m","memory":"512Mi"}} LimitRanger plugin set: cpu, memory request for container jnlp; cpu, memory limit for container jnlp Burstable"#
    );
    let big = agent_pod(&ns, "big", "", "    resources:\n      limits:\n        memory: 2Gi\n");
    let refused = kubectl_stdin(&["create", "--dry-run=server", "-f", "-"], &big);
    assert!(
        refused
            .stderr
            .contains("pods \"big\" is forbidden: maximum memory usage per Container is 1Gi, but limit is 2Gi"),
        "{}",
        refused.stderr
    );
}

#[test]
fn resource_quota_counts_stored_pods_not_dry_runs() {
    let ns = new_namespace("quota");
    ok(kubectl(&["-n", &ns, "create", "quota", "agents", "--hard=pods=1,requests.cpu=1,limits.memory=1Gi"]));
    let sized = agent_pod(
        &ns,
        "a",
        "",
        "    resources:\n      requests:\n        cpu: 500m\n      limits:\n        memory: 512Mi\n",
    );
    for _ in 0..2 {
        ok(kubectl_stdin(&["create", "--dry-run=server", "-f", "-"], &sized));
    }
    let used = || ok(kubectl(&["-n", &ns, "get", "quota", "agents", "-o", "jsonpath={.status.used}"]));
    assert_eq!(used(), r#"{"limits.memory":"0","pods":"0","requests.cpu":"0"}"#);
    ok(kubectl_stdin(&["create", "-f", "-"], &sized));
    assert_eq!(used(), r#"{"limits.memory":"512Mi","pods":"1","requests.cpu":"500m"}"#);
    let table = ok(kubectl(&["-n", &ns, "get", "quota", "agents", "--no-headers"]));
    assert!(table.contains("pods: 1/1, requests.cpu: 500m/1") && table.contains("limits.memory: 512Mi/1Gi"), "{table}");
    let second = kubectl_stdin(&["create", "--dry-run=server", "-f", "-"], &sized.replace("name: a\n", "name: b\n"));
    assert!(
        second.stderr.contains(
            "pods \"b\" is forbidden: exceeded quota: agents, requested: pods=1, used: pods=1, limited: pods=1"
        ),
        "{}",
        second.stderr
    );
    let bare = kubectl_stdin(&["create", "--dry-run=server", "-f", "-"], &agent_pod(&ns, "c", "", ""));
    assert!(
        bare.stderr.contains("pods \"c\" is forbidden: failed quota: agents: must specify limits.memory for: jnlp; requests.cpu for: jnlp"),
        "{}",
        bare.stderr
    );
    ok(kubectl(&["-n", &ns, "delete", "pod", "a", "--timeout=10s"]));
    assert_eq!(used(), r#"{"limits.memory":"0","pods":"0","requests.cpu":"0"}"#, "a deleted pod no longer counts");
}
