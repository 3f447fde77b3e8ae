//! Long applies: the emulator's token clock moves past EKS's 15 minutes between two Kubernetes
//! calls of one apply (`POST /emulator/clock` ages the tokens the test account signed so far, while
//! a held request keeps the apply in the middle of its writes). The provider's own clock still
//! calls its cached token fresh, so the next call meets a 401, as it would on EKS; the provider
//! re-signs and the apply converges.

use super::support::Env;
use acceptance_tests::stack::{self, access_key_for};
use acceptance_tests::terraform::terraforms;
use serde_json::{Value as Json, json};
use std::time::{Duration, Instant};

/// Past EKS's 15-minute token lifetime.
const SIXTEEN_MINUTES: i64 = 16 * 60;

/// Whether a fault rule under `path` of `cluster` is still armed (its request has not come yet).
fn armed(env: &Env, cluster: &str, path: &str) -> bool {
    let out = env.kubectl(cluster, &["get", "--raw", "/emulator/faults"]);
    let list: Json = serde_json::from_str(&out).expect("fault list JSON");
    list["faults"].as_array().expect("faults").iter().any(|f| f["path_prefix"].as_str() == Some(path))
}

/// Posts `body` to the emulator's control path `path` of `cluster` as the admin.
fn post(env: &Env, dir: &std::path::Path, cluster: &str, path: &str, body: &Json) {
    let file = dir.join("control.json");
    std::fs::write(&file, body.to_string()).expect("write control body");
    env.kubectl(cluster, &["create", "--raw", path, "-f", &file.display().to_string()]);
}

/// Lines of the emulator's log saying it refused an EKS token of `access_key` as aged by the knob.
fn refusals(access_key: &str) -> usize {
    let log = std::fs::read_to_string(stack::shared().dir.join("kube.log")).unwrap_or_default();
    let needle = format!("EKS token of {access_key} rejected: token expired (clock knob)");
    log.lines().filter(|l| l.contains(&needle)).count()
}

#[test]
fn a_token_aged_past_15_minutes_mid_apply_is_re_signed() {
    let tf = &terraforms()[0];
    let env = Env::new("long-apply");
    let ns = format!("{}-agents", env.namespace);
    let w = env.workdir("long-apply", tf);
    w.write_config(&format!(
        r#"{provider}
resource "jenkins_remote_cluster_access" "remote" {{
  cluster {{
    eks_cluster_name = "remote"
  }}
  namespace = "{ns}"
}}
"#,
        provider = env.provider_block(),
    ));
    // The service account's write is carried out and its answer held: the apply has made its
    // first calls with the token it signed, and more (Role, binding, token Secret) are to come.
    let held = format!("/api/v1/namespaces/{ns}/serviceaccounts");
    post(&env, &w.dir, "remote", "/emulator/faults", &json!({"path_prefix": held, "count": 1, "after_ms": 3000}));
    let key = access_key_for(&env.account);
    let before = refusals(&key);
    let run = std::thread::scope(|scope| {
        let apply = scope.spawn(|| w.run(&["apply", "-auto-approve", "-input=false", "-no-color"]));
        let start = Instant::now();
        while armed(&env, "remote", &held) && !apply.is_finished() {
            assert!(start.elapsed() < Duration::from_secs(120), "apply never reached {held}");
            std::thread::sleep(Duration::from_millis(100));
        }
        // Strictly after the signing second of the token in use, so the knob ages it.
        std::thread::sleep(Duration::from_millis(1100));
        post(
            &env,
            &w.dir,
            "remote",
            "/emulator/clock",
            &json!({"access_key": key, "advance_seconds": SIXTEEN_MINUTES}),
        );
        apply.join().expect("apply thread")
    });
    let refused = refusals(&key) - before;
    env.kubectl("remote", &["delete", "--raw", "/emulator/clock"]);
    assert_eq!(run.code, 0, "the apply converged across the expired token:\n{}", run.text());
    assert!(refused > 0, "the old token met a 401 after the clock moved (the knob fired)");
    let (ok, out) = env.try_kubectl("remote", &["-n", &ns, "get", "rolebinding", "jenkins-agent-controller"]);
    assert!(ok, "the writes after the clock moved landed: {out}");
    w.assert_plans_empty();
    w.destroy();
    w.cleanup();
}
