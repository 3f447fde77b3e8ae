//! The emulator driven by the official Python client (`kubernetes` 32.0.1 in `$TFPJ_VENV`, the
//! client the Helm chart's config-reload sidecar uses): watches and paged lists as that client
//! parses them. The scripts are in `tests/py/`; each prints one JSON line per result.

mod common;

use common::{emulator, unique};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;

fn python() -> PathBuf {
    let venv = std::env::var_os("TFPJ_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv"));
    venv.join("bin/python")
}

fn script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/py").join(name)
}

/// Creates a namespace with the admin token over plain HTTP (no client under test involved).
fn new_namespace(prefix: &str) -> String {
    let ns = unique(prefix);
    let out = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(emulator().kubeconfig())
        .args(["create", "namespace", &ns])
        .output()
        .expect("kubectl runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    ns
}

/// Scripts compact the emulator's history, which would expire the resourceVersions other scripts
/// are watching from: they run one at a time.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Runs a script with the emulator's dir and a namespace; returns its result lines.
fn run(name: &str, ns: &str) -> Vec<Value> {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let out = Command::new(python())
        .arg("-u")
        .arg(script(name))
        .arg(&emulator().dir)
        .arg(ns)
        .output()
        .expect("the venv's python runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{name} failed:\nstdout: {stdout}\nstderr: {}", String::from_utf8_lossy(&out.stderr));
    stdout.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect()
}

fn phase<'a>(lines: &'a [Value], name: &str) -> Vec<&'a Value> {
    lines.iter().filter(|l| l["phase"] == name).collect()
}

#[test]
fn watch_stream_by_label_sees_objects_enter_and_leave_the_selector() {
    let ns = new_namespace("py-watch");
    let lines = run("watch_configmaps.py", &ns);

    let initial: Vec<(&str, &str)> =
        phase(&lines, "initial").iter().map(|l| (l["type"].as_str().unwrap(), l["name"].as_str().unwrap())).collect();
    assert_eq!(initial, [("ADDED", "a"), ("ADDED", "b")]);

    let changes: Vec<String> = phase(&lines, "changes")
        .iter()
        .map(|l| {
            format!(
                "{} {} data={} labels={}",
                l["type"].as_str().unwrap(),
                l["name"].as_str().unwrap(),
                l["data"],
                l["labels"]
            )
        })
        .collect();
    assert_eq!(
        changes,
        [
            r#"MODIFIED a data={"k":"2"} labels={"casc":"1"}"#,
            r#"ADDED c data={} labels={"other":"1","casc":"yes"}"#,
            // b left the selector: sent as DELETED with its last matching state.
            r#"DELETED b data={} labels={"casc":"1"}"#,
            r#"DELETED a data={"k":"2"} labels={"casc":"1"}"#,
            r#"ADDED end data={} labels={"casc":"1"}"#,
        ]
    );

    let bookmarks = phase(&lines, "bookmarks");
    assert_eq!(bookmarks.len(), 1, "{bookmarks:?}");
    let b = bookmarks[0];
    assert_eq!(b["type"], "BOOKMARK");
    assert_eq!(
        b["object"],
        json!({"kind": "ConfigMap", "apiVersion": "v1",
               "metadata": {"resourceVersion": b["latest"], "creationTimestamp": null}})
    );
}

#[test]
fn paged_lists_follow_continue_tokens_over_a_consistent_snapshot() {
    let ns = new_namespace("py-pages");
    let lines = run("list_pages.py", &ns);

    // kube-root-ca.crt is in the namespace too: 8 objects in pages of 2.
    let all = phase(&lines, "all");
    let names: Vec<Value> = all.iter().map(|l| l["names"].clone()).collect();
    assert_eq!(
        names,
        [
            json!(["cm-0", "cm-1"]),
            json!(["cm-2", "cm-3"]),
            json!(["cm-4", "cm-5"]),
            json!(["cm-6", "kube-root-ca.crt"])
        ]
    );
    let remaining: Vec<Value> = all.iter().map(|l| l["remaining"].clone()).collect();
    assert_eq!(remaining, [json!(6), json!(4), json!(2), Value::Null]);
    assert!(all.iter().all(|l| l["rv"] == all[0]["rv"]), "every page is of the first page's snapshot: {all:?}");
    assert_eq!(all.iter().map(|l| l["more"].as_bool().unwrap()).collect::<Vec<_>>(), [true, true, true, false]);

    let selected = phase(&lines, "selected");
    let names: Vec<Value> = selected.iter().map(|l| l["names"].clone()).collect();
    assert_eq!(names, [json!(["cm-0", "cm-1"]), json!(["cm-2", "cm-3"]), json!(["cm-4", "cm-5"]), json!(["cm-6"])]);
    assert!(selected.iter().all(|l| l["remaining"].is_null()), "no remainingItemCount with a selector");

    let snapshot = phase(&lines, "snapshot");
    assert_eq!(snapshot[0]["names"], json!(["cm-0", "cm-1", "cm-2", "cm-3", "cm-4", "cm-5", "cm-6"]));

    let expired = phase(&lines, "expired");
    assert_eq!(expired[0]["code"], 410);
    assert_eq!(expired[0]["reason"], "Expired");
    assert!(
        expired[0]["message"].as_str().unwrap().starts_with("The provided continue parameter is too old"),
        "{}",
        expired[0]
    );
    let after = phase(&lines, "after-expired");
    assert_eq!(after[0]["names"], json!(["cm-0", "cm-1", "cm-2", "cm-3", "cm-4", "cm-5", "cm-6", "cm-7"]));
}

#[test]
fn watch_from_a_compacted_resource_version_fails_with_410_and_recovers_by_relisting() {
    let ns = new_namespace("py-expired");
    let lines = run("watch_expired.py", &ns);
    let expired = phase(&lines, "expired");
    assert_eq!(expired.len(), 2, "{expired:?}");
    for e in &expired {
        assert_eq!(e["code"], 410, "{e}");
        assert!(e["reason"].as_str().unwrap().starts_with("Expired: too old resource version: "), "{e}");
    }
    let recovered = phase(&lines, "recovered");
    assert_eq!(recovered.len(), 1, "{recovered:?}");
    assert_eq!(recovered[0]["listed"], json!(["before", "between"]));
    assert_eq!((&recovered[0]["type"], &recovered[0]["name"]), (&json!("ADDED"), &json!("after")));
}

/// The chart's reload sidecar source (read from `shared/third_party`, beside the project).
fn sidecar_src() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/third_party/k8s-sidecar/src")
}

fn kubectl(args: &[&str], stdin: Option<&str>) {
    use std::io::Write;
    let mut child = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(emulator().kubeconfig())
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("kubectl runs");
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "kubectl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

fn casc_config_map(ns: &str, name: &str, key: &str, value: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: {ns}\n  labels:\n    jenkins-jenkins-config: \"true\"\ndata:\n  {key}: \"{value}\"\n"
    )
}

/// Kills the sidecar (a process this test started) when the test ends, passing or not.
struct Sidecar(std::process::Child);

impl Drop for Sidecar {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_charts_reload_sidecar_lists_and_watches_configmaps_into_files() {
    let ns = new_namespace("sidecar");
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let home = emulator().dir.join(format!("sidecar-home-{ns}"));
    let folder = home.join("casc_configs");
    std::fs::create_dir_all(home.join(".kube")).unwrap();
    std::fs::copy(emulator().kubeconfig(), home.join(".kube/config")).unwrap();
    let reload_log = home.join("reloads.log");
    kubectl(&["apply", "-f", "-"], Some(&casc_config_map(&ns, "jcasc-base", "base.yaml", "jenkins: {}")));

    let run = |method: Option<&str>| {
        let mut cmd = Command::new(python());
        cmd.arg("-u")
            .arg(script("sidecar_launcher.py"))
            .arg(sidecar_src())
            .arg(&ns)
            .arg(&reload_log)
            .env("HOME", &home)
            .env("LABEL", "jenkins-jenkins-config")
            .env("FOLDER", &folder)
            .env("NAMESPACE", &ns)
            .env("HEALTH_PORT", "0")
            .env("REQ_RETRY_CONNECT", "10")
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(home.join(format!("sidecar-{}.log", method.unwrap_or("WATCH")))).unwrap());
        if let Some(m) = method {
            cmd.env("METHOD", m);
        }
        cmd.spawn().expect("the sidecar starts")
    };
    let read = |name: &str| std::fs::read_to_string(folder.join(name)).ok();

    // The init container's mode: list once (in pages of 5), write the files, exit.
    let mut init = run(Some("LIST"));
    assert!(init.wait().unwrap().success(), "METHOD=LIST exits 0");
    assert_eq!(read("base.yaml").as_deref(), Some("jenkins: {}"));

    // The sidecar's mode: an initial list, then watches; each change lands in the folder.
    let _sidecar = Sidecar(run(None));
    kubectl(&["apply", "-f", "-"], Some(&casc_config_map(&ns, "jcasc-cloud", "cloud.yaml", "clouds: []")));
    common::eventually(30, || (read("cloud.yaml").as_deref() == Some("clouds: []")).then_some(()));
    kubectl(&["apply", "-f", "-"], Some(&casc_config_map(&ns, "jcasc-cloud", "cloud.yaml", "clouds: [k8s]")));
    common::eventually(30, || (read("cloud.yaml").as_deref() == Some("clouds: [k8s]")).then_some(()));
    kubectl(&["-n", &ns, "label", "configmap", "jcasc-base", "jenkins-jenkins-config-"], None);
    common::eventually(30, || read("base.yaml").is_none().then_some(()));
    kubectl(&["-n", &ns, "delete", "configmap", "jcasc-cloud"], None);
    common::eventually(30, || read("cloud.yaml").is_none().then_some(()));
    let reloads = std::fs::read_to_string(&reload_log).unwrap_or_default();
    assert!(
        reloads.lines().count() >= 4
            && reloads.lines().all(|l| l == "POST /reload-configuration-as-code/?casc-reload-token=pod"),
        "one reload per change: {reloads}"
    );
}
