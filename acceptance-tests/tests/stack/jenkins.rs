//! The Jenkins stand-in's contract (shared/reference/jenkins-api.md) and the chart's real reload
//! sidecar end to end: ConfigMaps created with kubectl become files, reloads and live clouds.
//!
//! Contract tests run a [`Standin`] on a folder of their own; the end-to-end tests a whole
//! [`Jenkins`] (chart fixture + stand-in + sidecar) in a namespace of their own.

use acceptance_tests::jenkins::{Jenkins, Options, Standin, http};
use acceptance_tests::stack;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

static NEXT: AtomicUsize = AtomicUsize::new(1);

/// A fresh empty folder under the temp dir, unique to this test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "tfpj-standin-{}-{}-{name}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir.join("casc")
}

fn write(folder: &Path, rel: &str, text: &str) {
    let path = folder.join(rel);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write casc file");
}

fn cloud(name: &str, extra: &str) -> String {
    format!("jenkins:\n  clouds:\n  - kubernetes:\n      name: {name}\n{extra}")
}

const TOKEN: &str = "ci-jenkins-0";

/// A token reload's error message, or None when it applied.
fn reload(s: &Standin) -> Option<String> {
    let r = s.token_reload(TOKEN);
    assert_eq!(r.status, 200, "{r:?}");
    if r.body.is_empty() {
        return None;
    }
    let json: serde_json::Value = serde_json::from_str(&r.body).expect("error JSON");
    assert_eq!(json["status"], "error", "{json}");
    Some(json["message"].as_str().expect("message").to_string())
}

#[test]
fn token_reload_is_404_without_a_token_and_401_for_a_wrong_one() {
    let off = Standin::start(&scratch("no-token"), None);
    assert_eq!(off.token_reload("anything").status, 404);
    assert_eq!(off.reload_count(), 0, "a refused reload is not counted");

    let on = Standin::start(&scratch("token"), Some(TOKEN));
    assert_eq!(on.token_reload("ci-jenkins-1").status, 401);
    assert_eq!(on.request("POST", "/reload-configuration-as-code/", None, None).status, 401);
    assert_eq!(on.reload_count(), 0);
    assert_eq!(reload(&on), None);
    assert_eq!(on.reload_count(), 1);
    let log = std::fs::read_to_string(on.casc_folder().with_file_name("casc.standin.log")).expect("log");
    assert!(!log.contains(TOKEN) && !log.contains(&on.admin().1), "the log carries a token:\n{log}");
}

#[test]
fn basic_auth_is_401_without_or_with_wrong_credentials_and_403_without_the_permission() {
    let s = Standin::start(&scratch("auth"), Some(TOKEN));
    let (admin, admin_token) = s.admin();
    let (reader, reader_token) = s.reader();
    let export = "/configuration-as-code/export";
    assert_eq!(s.request("POST", export, None, None).status, 401);
    assert_eq!(s.request("POST", export, Some((&admin, "wrong")), None).status, 401);
    assert_eq!(s.request("POST", export, Some(("nobody", &admin_token)), None).status, 401);
    assert_eq!(s.request("POST", export, Some((&reader, &reader_token)), None).status, 200);
    assert_eq!(s.request("GET", "/configuration-as-code/schema", Some((&reader, &reader_token)), None).status, 200);
    for (path, body) in [("/configuration-as-code/check", Some("jenkins: {}")), ("/configuration-as-code/reload", None)]
    {
        assert_eq!(s.request("POST", path, Some((&reader, &reader_token)), body).status, 403, "{path}");
    }
    assert_eq!(
        s.request("POST", "/configuration-as-code/check", Some((&admin, &admin_token)), Some("jenkins: {}")).status,
        200
    );
    assert_eq!(s.request("POST", "/configuration-as-code/reload", Some((&admin, &admin_token)), None).status, 302);
    assert_eq!(s.reload_count(), 1, "only the permitted reload counts");
}

#[test]
fn sources_merge_in_path_order_sequences_concatenated_dot_dirs_skipped_any_case_suffix() {
    let dir = scratch("merge");
    write(&dir, "b.yaml", &cloud("from-b", ""));
    write(&dir, "a/z.YML", &cloud("from-a-z", ""));
    write(&dir, "a.yaml", "jenkins:\n  numExecutors: 0\n");
    write(&dir, ".hidden/x.yaml", &cloud("hidden", ""));
    write(&dir, "sub/.git/y.yaml", "jenkins:\n  numExecutors: 0\n");
    write(&dir, "notes.txt", "jenkins: [not yaml at all");
    write(&dir, "c.yaml", "x-anchors:\n  any: thing\n");
    let s = Standin::start(&dir, Some(TOKEN));
    let state = s.state();
    assert_eq!(state.last_error, None);
    assert_eq!(state.files, ["a.yaml", "a/z.YML", "b.yaml", "c.yaml"]);
    assert_eq!(state.clouds, ["from-a-z", "from-b"], "sequences concatenated in path order");
    let live = s.export();
    assert!(live.starts_with("jenkins:\n  numExecutors: 0\n  clouds:\n"), "{live}");
    assert!(!live.contains("x-anchors") && !live.contains("hidden"), "x-* keys ignored, dot dirs skipped:\n{live}");
}

#[test]
fn clouds_are_replaced_wholesale_when_a_file_mentions_them_and_kept_when_none_does() {
    let dir = scratch("wholesale");
    write(&dir, "a.yaml", &cloud("first", ""));
    write(&dir, "b.yaml", &cloud("second", ""));
    let s = Standin::start(&dir, Some(TOKEN));
    assert_eq!(s.state().clouds, ["first", "second"]);
    std::fs::remove_file(dir.join("a.yaml")).expect("rm");
    assert_eq!(reload(&s), None);
    assert_eq!(s.state().clouds, ["second"], "the list is what the files say now");
    std::fs::write(dir.join("b.yaml"), "jenkins:\n  numExecutors: 2\n").expect("write");
    assert_eq!(reload(&s), None);
    assert_eq!(s.state().clouds, ["second"], "no file mentions clouds: the live list stays");
    assert!(s.export().contains("numExecutors: 2"));
    std::fs::write(dir.join("b.yaml"), "jenkins:\n  clouds: []\n").expect("write");
    assert_eq!(reload(&s), None);
    assert!(s.state().clouds.is_empty(), "an empty list empties it");
}

#[test]
fn a_scalar_set_in_two_files_fails_even_when_equal_and_nothing_is_applied() {
    let dir = scratch("conflict");
    write(&dir, "a.yaml", &cloud("first", ""));
    let s = Standin::start(&dir, Some(TOKEN));
    write(&dir, "b.yaml", &format!("jenkins:\n  numExecutors: 0\n{}", &cloud("second", "")["jenkins:\n".len()..]));
    write(&dir, "c.yaml", "jenkins:\n  numExecutors: 0\n");
    let message = reload(&s).expect("a conflict");
    assert!(message.starts_with("Failed to reload configuration: Found conflicting configuration at "), "{message}");
    assert!(message.contains("c.yaml"), "names the second file: {message}");
    assert_eq!(s.state().clouds, ["first"], "nothing of the failed reload is applied");
    std::fs::remove_file(dir.join("c.yaml")).expect("rm");
    assert_eq!(reload(&s), None);
    assert_eq!(s.state().clouds, ["first", "second"]);
}

#[test]
fn an_unknown_cloud_attribute_fails_like_jcasc_and_blocks_every_other_file() {
    let dir = scratch("unknown");
    write(&dir, "a.yaml", &cloud("good", ""));
    let s = Standin::start(&dir, Some(TOKEN));
    write(&dir, "b.yaml", &cloud("bad", "      jenkinsTunnel: j:50000\n      fooBar: 1\n"));
    write(&dir, "c.yaml", &cloud("other", ""));
    let message = reload(&s).expect("rejected");
    let expected = "Failed to reload configuration: Invalid configuration elements for type: \
                    class org.csanchez.jenkins.plugins.kubernetes.KubernetesCloud : fooBar.\nAvailable attributes : ";
    assert!(message.starts_with(expected), "{message}");
    for attr in ["containerCapStr", "jenkinsTunnel", "podLabels", "templates", "webSocket"] {
        assert!(message.contains(attr), "available attributes list {attr}: {message}");
    }
    let state = s.state();
    assert_eq!(state.clouds, ["good"], "nothing applied: {state:?}");
    assert_eq!((state.reloads, state.applied, state.failed), (1, 1, 1), "the boot apply and one failed reload");
    assert_eq!(state.last_error.as_deref(), Some(&message["Failed to reload configuration: ".len()..]));
}

#[test]
fn deprecated_template_attributes_and_duplicate_cloud_names_are_rejected() {
    let dir = scratch("deprecated");
    let s = Standin::start(&dir, Some(TOKEN));
    write(&dir, "a.yaml", &cloud("c", "      templates:\n      - name: t\n        command: sleep\n"));
    let message = reload(&s).expect("deprecated");
    assert!(message.ends_with("'command' is deprecated"), "{message}");
    assert!(message.contains("Failed to configure 'templates'"), "{message}");

    write(&dir, "a.yaml", &cloud("c", "      templates:\n      - name: t\n        volumes:\n        - nope: {}\n"));
    let message = reload(&s).expect("unknown volume type");
    assert!(message.contains("implementation found for nope"), "{message}");

    write(&dir, "a.yaml", &cloud("same", ""));
    write(&dir, "b.yaml", &cloud("same", ""));
    let message = reload(&s).expect("duplicate");
    assert!(message.contains("more than one cloud is named 'same'"), "{message}");
    assert!(s.state().clouds.is_empty());
}

#[test]
fn nested_template_attributes_are_checked_and_a_template_without_id_gets_a_random_one() {
    let dir = scratch("templates");
    let template = "      templates:\n      - name: t\n        label: a b\n        nodeUsageMode: NORMAL\n        podRetention: never\n\
                    \x20       workspaceVolume:\n          emptyDirWorkspaceVolume: {memory: false}\n\
                    \x20       volumes:\n        - configMapVolume: {configMapName: cm, mountPath: /cm}\n\
                    \x20       envVars:\n        - envVar: {key: A, value: \"^${HOME}\"}\n\
                    \x20       containers:\n        - name: maven\n          image: maven:3\n          ttyEnabled: true\n\
                    \x20         envVars:\n          - secretEnvVar: {key: S, secretName: s, secretKey: k, optional: true}\n\
                    \x20       yamlMergeStrategy: merge\n";
    write(&dir, "a.yaml", &cloud("c", template));
    let s = Standin::start(&dir, Some(TOKEN));
    assert_eq!(s.state().last_error, None);
    let id = |export: &str| {
        let line = export.lines().find(|l| l.trim_start().starts_with("id: ")).expect("an id in the export");
        line.trim_start()["id: ".len()..].to_string()
    };
    let first = id(&s.export());
    assert_eq!(first.len(), 36, "a UUID: {first}");
    assert_eq!(reload(&s), None);
    assert_ne!(id(&s.export()), first, "a new random id on every apply (JENKINS-64628)");
    assert!(s.export().contains("^${HOME}"), "a literal ${{ is exported escaped:\n{}", s.export());

    write(&dir, "a.yaml", &cloud("c", &format!("{template}        id: fixed-1\n")));
    assert_eq!(reload(&s), None);
    assert_eq!(id(&s.export()), "fixed-1");

    write(
        &dir,
        "a.yaml",
        &cloud("c", "      templates:\n      - name: t\n        containers:\n        - name: x\n          imag: y\n"),
    );
    let message = reload(&s).expect("typo");
    assert!(message.contains("class org.csanchez.jenkins.plugins.kubernetes.ContainerTemplate : imag."), "{message}");
}

#[test]
fn check_validates_one_document_alone() {
    let dir = scratch("check");
    write(&dir, "a.yaml", "jenkins:\n  numExecutors: 0\n");
    let s = Standin::start(&dir, Some(TOKEN));
    assert_eq!(s.check(&cloud("ok", "      containerCapStr: \"10\"\n")), (200, serde_json::json!([])));
    // numExecutors is set in the folder too, but check does not merge with the folder.
    assert_eq!(s.check("jenkins:\n  numExecutors: 1\n").0, 200);
    let (status, body) = s.check(&cloud("bad", "      capOnlyOnAlivePods: true\n"));
    assert_eq!(status, 400);
    assert_eq!(body[0]["line"], -1);
    assert_eq!(body[0]["message"], "'capOnlyOnAlivePods' is deprecated");
    assert_eq!(s.check("jenkins: [unclosed").0, 400);
    assert_eq!(s.reload_count(), 0, "check applies nothing and is no reload");
}

#[test]
fn schema_lists_the_plugin_attributes_jcasc_accepts() {
    let s = Standin::start(&scratch("schema"), None);
    let (user, token) = s.reader();
    let r = s.request("GET", "/configuration-as-code/schema", Some((&user, &token)), None);
    assert_eq!(r.status, 200);
    let schema: serde_json::Value = serde_json::from_str(&r.body).expect("JSON schema");
    let cloud = &schema["definitions"]["org.csanchez.jenkins.plugins.kubernetes.KubernetesCloud"]["properties"];
    for attr in ["name", "jenkinsTunnel", "templates", "podLabels", "restrictedPssSecurityContext"] {
        assert!(cloud.get(attr).is_some(), "{attr} in {cloud}");
    }
    assert!(cloud.get("capOnlyOnAlivePods").is_none(), "deprecated attributes are not offered");
    let template = &schema["definitions"]["org.csanchez.jenkins.plugins.kubernetes.PodTemplate"]["properties"];
    assert!(template.get("yamlMergeStrategy").is_some() && template.get("command").is_none(), "{template}");
    assert_eq!(schema["x-kubernetes-plugin"]["commit"], "a82d78a0087e9eaa10ec2339b48891549345c1a4");
}

#[test]
fn reject_next_fails_that_many_reloads_with_the_message_and_slow_delays_them() {
    let dir = scratch("knobs");
    write(&dir, "a.yaml", &cloud("one", ""));
    let s = Standin::start(&dir, Some(TOKEN));
    write(&dir, "b.yaml", &cloud("two", ""));
    s.reject_next(2, "controller is restarting");
    for _ in 0..2 {
        assert_eq!(reload(&s).as_deref(), Some("Failed to reload configuration: controller is restarting"));
    }
    assert_eq!(s.state().clouds, ["one"]);
    s.slow(150);
    assert_eq!(s.state().delay_ms, 150);
    assert_eq!(reload(&s), None);
    assert_eq!(s.state().clouds, ["one", "two"]);
    let state = s.state();
    assert_eq!((state.reloads, state.applied, state.failed), (3, 2, 2), "applied counts the boot apply");
}

// --- the sidecar end to end ---------------------------------------------------------------------

fn kubectl(args: &[&str], stdin: Option<&str>) -> (bool, String) {
    let kubeconfig = stack::shared().kube.kubeconfig.clone().expect("the stack runs the emulator");
    let mut child = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(["--context", "controller"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run kubectl");
    if let Some(text) = stdin {
        use std::io::Write;
        child.stdin.take().expect("stdin").write_all(text.as_bytes()).expect("write stdin");
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().expect("kubectl output");
    // `auth can-i` answers "no" on stdout with a failure status; other failures speak on stderr.
    let text = if out.stdout.is_empty() { &out.stderr } else { &out.stdout };
    (out.status.success(), String::from_utf8_lossy(text).into_owned())
}

fn namespace(prefix: &str) -> String {
    format!("{prefix}-{}-{}", std::process::id() % 100_000, NEXT.fetch_add(1, Ordering::Relaxed))
}

/// A ConfigMap with the sidecar's label key and one data key holding a cloud.
fn cloud_configmap(ns: &str, label: &str, name: &str, target_dir: Option<&str>, cloud_yaml: &str) -> String {
    let annotations =
        target_dir.map(|d| format!("  annotations:\n    k8s-sidecar-target-directory: {d}\n")).unwrap_or_default();
    let data: String = cloud_yaml.lines().map(|l| format!("    {l}\n")).collect();
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: {ns}\n  labels:\n    {label}: \"true\"\n\
         {annotations}data:\n  {name}.yaml: |\n{data}"
    )
}

#[test]
fn the_chart_fixture_installs_what_helm_would_for_release_ci() {
    let ns = namespace("jk-chart");
    let jenkins = Jenkins::start(&ns, "ci", Options::default());
    assert_eq!(
        (jenkins.fullname(), jenkins.label(), jenkins.pod()),
        ("ci-jenkins", "ci-jenkins-jenkins-config", "ci-jenkins-0")
    );
    let (ok, out) = kubectl(&["-n", &ns, "get", "configmap", "ci-jenkins-jenkins-jcasc-config", "-o", "json"], None);
    assert!(ok, "{out}");
    let cm: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(cm["metadata"]["labels"]["ci-jenkins-jenkins-config"], "true");
    let casc = cm["data"]["jcasc-default-config.yaml"].as_str().expect("default config");
    assert!(casc.contains("jenkinsTunnel: \"ci-jenkins-agent."), "{casc}");
    for (kind, name) in [
        ("serviceaccount", "ci-jenkins"),
        ("role", "ci-jenkins-casc-reload"),
        ("rolebinding", "ci-jenkins-watch-configmaps"),
        ("pod", "ci-jenkins-0"),
    ] {
        let (ok, out) = kubectl(&["-n", &ns, "get", kind, name], None);
        assert!(ok, "{kind}/{name}: {out}");
    }
    // The controller pod as the StatefulSet makes it: the chart's service account and reload containers.
    let (ok, out) = kubectl(&["-n", &ns, "get", "pod", "ci-jenkins-0", "-o", "json"], None);
    assert!(ok, "{out}");
    let pod: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(pod["spec"]["serviceAccountName"], "ci-jenkins");
    let env_of = |list: &str, name: &str| -> std::collections::BTreeMap<String, serde_json::Value> {
        let containers = pod["spec"][list].as_array().expect("containers");
        let c = containers.iter().find(|c| c["name"] == name).unwrap_or_else(|| panic!("{name} in {pod}"));
        let env = c["env"].as_array().expect("env");
        env.iter().map(|e| (e["name"].as_str().expect("name").to_string(), e["value"].clone())).collect()
    };
    let init = env_of("initContainers", "config-reload-init");
    let sidecar = env_of("containers", "config-reload");
    for env in [&init, &sidecar] {
        assert_eq!(env["LABEL"], "ci-jenkins-jenkins-config");
        assert_eq!(env["FOLDER"], "/var/jenkins_home/casc_configs");
        assert_eq!(env["NAMESPACE"], ns.as_str());
        assert_eq!(env["HEALTH_PORT"], "8060");
        assert!(env.contains_key("POD_NAME") && !env.contains_key("LABEL_VALUE") && !env.contains_key("RESOURCE"));
    }
    assert_eq!(init["METHOD"], "LIST");
    assert!(!sidecar.contains_key("METHOD"), "the sidecar watches");
    assert_eq!(sidecar["REQ_URL"], "http://localhost:8080/reload-configuration-as-code/?casc-reload-token=$(POD_NAME)");
    assert_eq!((&sidecar["REQ_METHOD"], &sidecar["REQ_RETRY_CONNECT"]), (&"POST".into(), &"10".into()));
    // The chart's Role is what lets the controller's service account read ConfigMaps, and only those.
    let sa = format!("system:serviceaccount:{ns}:ci-jenkins");
    assert_eq!(kubectl(&["-n", &ns, "auth", "can-i", "watch", "configmaps", "--as", &sa], None).1.trim(), "yes");
    assert_eq!(kubectl(&["-n", &ns, "auth", "can-i", "list", "secrets", "--as", &sa], None).1.trim(), "no");
    // The init pass wrote the default file before Jenkins booted, and Jenkins applied it.
    assert_eq!(jenkins.files().keys().collect::<Vec<_>>(), ["jcasc-default-config.yaml"]);
    let state = jenkins.state();
    assert_eq!((state.applied, state.clouds.as_slice()), (1, ["kubernetes".to_string()].as_slice()), "{state:?}");
    let live = jenkins.export();
    assert!(live.contains("url: http://ci-jenkins:8080"), "{live}");
    // ${chart-admin-username} resolved from the chart's Secret; the password is never exported.
    assert!(live.contains("id: admin") && !live.contains("password"), "{live}");
}

#[test]
fn the_sidecar_turns_labelled_configmaps_into_files_and_reloads() {
    let ns = namespace("jk-sidecar");
    let jenkins = Jenkins::start(&ns, "ci", Options::default());
    let label = jenkins.label().to_string();
    let before = jenkins.reload_count();
    // Seven ConfigMaps: more than the sidecar's list page of 5; four into the `terraform` subfolder.
    let mut all = String::new();
    for i in 0..7 {
        let dir = (i % 2 == 0).then_some("terraform");
        all.push_str(&cloud_configmap(&ns, &label, &format!("cloud-{i}"), dir, &cloud(&format!("eks-{i}"), "")));
        all.push_str("---\n");
    }
    // One without the label is not the sidecar's business.
    all.push_str("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: unlabelled\ndata:\n  x.yaml: 'jenkins: {}'\n");
    let (ok, out) = kubectl(&["-n", &ns, "apply", "-f", "-"], Some(&all));
    assert!(ok, "{out}");
    let expected: Vec<String> = (0..7)
        .map(|i| if i % 2 == 0 { format!("terraform/cloud-{i}.yaml") } else { format!("cloud-{i}.yaml") })
        .chain(["jcasc-default-config.yaml".to_string()])
        .collect();
    jenkins.wait_until(
        || {
            let files = jenkins.files();
            expected.iter().all(|f| files.contains_key(f)) && jenkins.state().clouds.len() == 8
        },
        "seven cloud files and eight live clouds",
    );
    assert!(!jenkins.files().contains_key("x.yaml"));
    assert!(jenkins.reload_count() > before, "the sidecar POSTed the token reload");
    let live = jenkins.export();
    for i in 0..7 {
        assert!(live.contains(&format!("name: eks-{i}")), "eks-{i} live:\n{live}");
    }

    // A changed ConfigMap is rewritten and reloaded.
    let before = jenkins.reload_count();
    let changed = cloud_configmap(&ns, &label, "cloud-1", None, &cloud("eks-1", "      containerCapStr: \"42\"\n"));
    let (ok, out) = kubectl(&["-n", &ns, "apply", "-f", "-"], Some(&changed));
    assert!(ok, "{out}");
    jenkins.wait_until(
        || jenkins.files().get("cloud-1.yaml").is_some_and(|t| t.contains("\"42\"")) && jenkins.reload_count() > before,
        "cloud-1.yaml rewritten and a reload",
    );
    jenkins.wait_until(|| jenkins.export().contains("containerCapStr: '42'"), "the change live");

    // A deleted ConfigMap's file goes, and so does its cloud.
    let (ok, out) = kubectl(&["-n", &ns, "delete", "configmap", "cloud-2"], None);
    assert!(ok, "{out}");
    jenkins.wait_until(
        || !jenkins.files().contains_key("terraform/cloud-2.yaml") && !jenkins.state().clouds.contains(&"eks-2".into()),
        "terraform/cloud-2.yaml removed and eks-2 gone",
    );
}

#[test]
fn a_bad_configmap_blocks_reloads_until_fixed_and_jenkins_can_go_down_and_come_back() {
    let ns = namespace("jk-down");
    let jenkins = Jenkins::start(&ns, "ci", Options::default());
    let label = jenkins.label().to_string();
    let bad = cloud_configmap(&ns, &label, "bad", None, &cloud("bad", "      notAnAttribute: 1\n"));
    assert!(kubectl(&["-n", &ns, "apply", "-f", "-"], Some(&bad)).0);
    jenkins.wait_until(
        || jenkins.state().last_error.is_some_and(|e| e.contains("KubernetesCloud : notAnAttribute.")),
        "the reload to fail on the unknown attribute",
    );
    assert_eq!(jenkins.state().clouds, ["kubernetes"], "nothing applied");
    let fixed = cloud_configmap(&ns, &label, "bad", None, &cloud("fixed", ""));
    assert!(kubectl(&["-n", &ns, "apply", "-f", "-"], Some(&fixed)).0);
    // Files are read in path order: bad.yaml before jcasc-default-config.yaml.
    jenkins.wait_until(|| jenkins.state().clouds == ["fixed", "kubernetes"], "the fixed cloud live");

    jenkins.stop();
    assert!(jenkins.try_request("GET", "/_standin/state", None, None).is_err(), "Jenkins is down");
    assert!(http(jenkins.url(), "POST", "/configuration-as-code/export", None, None).is_err());
    jenkins.resume();
    let state = jenkins.state();
    assert_eq!(
        (state.applied, state.clouds.as_slice()),
        (1, ["fixed".to_string(), "kubernetes".to_string()].as_slice())
    );
}

/// Runs `stack.py jenkins-up` directly (for what `Jenkins::start` would turn into a panic).
fn jenkins_up(dir: &Path, ns: &str, extra: &[&str]) -> std::process::Output {
    let venv = std::env::var("TFPJ_VENV").unwrap_or_else(|_| format!("{}/../.venv", env!("CARGO_MANIFEST_DIR")));
    Command::new(format!("{venv}/bin/python"))
        .arg(format!("{}/stack/stack.py", env!("CARGO_MANIFEST_DIR")))
        .args(["jenkins-up", "--release", "ci", "--namespace", ns, "--dir"])
        .arg(dir)
        .arg("--stack-dir")
        .arg(&stack::shared().dir)
        .args(extra)
        .output()
        .expect("run stack.py")
}

#[test]
fn the_sidecar_reads_configmaps_as_the_controller_service_account_so_the_charts_role_bounds_it() {
    // searchNamespace elsewhere: the chart's Role only covers the release namespace, so the init
    // pass is forbidden to list there and fails, as the pod's init container would.
    let ns = namespace("jk-rbac");
    let other = namespace("jk-rbac-other");
    assert!(kubectl(&["create", "namespace", &other], None).0);
    let dir = scratch("rbac").with_file_name("jenkins");
    let out = jenkins_up(&dir, &ns, &["--search-namespace", &other]);
    assert!(!out.status.success(), "jenkins-up should fail");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("config-reload-init exited"), "{stderr}");
    let init_log = std::fs::read_to_string(dir.join("sidecar-init.log")).expect("init log");
    assert!(
        init_log.contains("403") && init_log.contains(&format!("system:serviceaccount:{ns}:ci-jenkins")),
        "{init_log}"
    );
}

#[test]
fn a_jenkins_stops_when_the_process_that_started_it_dies() {
    let ns = namespace("jk-orphan");
    let mut parent = Command::new("sleep").arg("600").spawn().expect("sleep");
    let dir = scratch("orphan").with_file_name("jenkins");
    let out = jenkins_up(&dir, &ns, &["--parent-pid", &parent.id().to_string()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let state: serde_json::Value = serde_json::from_slice(&out.stdout).expect("jenkins.json");
    let url = state["url"].as_str().expect("url").to_string();
    let pids: Vec<u64> =
        ["standin", "sidecar"].iter().map(|p| state["processes"][p]["pid"].as_u64().expect("pid")).collect();
    assert_eq!(http(&url, "GET", "/_standin/state", None, None).expect("running").status, 200);
    parent.kill().expect("kill the parent");
    parent.wait().expect("reap");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while pids.iter().any(|pid| Path::new(&format!("/proc/{pid}")).exists()) {
        assert!(std::time::Instant::now() < deadline, "the watchdog did not stop {pids:?}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(http(&url, "GET", "/_standin/state", None, None).is_err(), "the stand-in is gone");
}
