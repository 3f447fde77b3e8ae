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
