//! The local AWS + Kubernetes stack for the acceptance tests: one per test process.
//!
//! [`shared`] starts moto (with the launcher's EKS extensions and fault knobs) and the Kubernetes
//! emulator once, through `acceptance-tests/stack/stack.py up`, in a temp dir of its own. Rust never
//! runs destructors of statics, so the stack is stopped by a watchdog process that `stack.py` leaves
//! behind: it polls this process's pid and runs `stack.py down` (and deletes the dir) once it is gone,
//! however the test process ends.
//!
//! Tests isolate themselves from each other with [`fresh_account`]: moto keeps every account apart,
//! and the launcher maps an access key id `AKIA<account>TEST` to its account, so a Terraform run
//! needs nothing but environment variables ([`Stack::env_for`]). Fault rules are scoped to an
//! account too, so a test throttling `iam:GetRole` slows no other test.
//!
//! ```no_run
//! use acceptance_tests::stack::{self, fresh_account};
//! let stack = stack::shared();
//! let account = fresh_account();
//! stack.throttle(&account, "iam:GetRole", 2);
//! let env = stack.env_for(&account); // AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, KUBECONFIG, ...
//! let controller = stack.kube.cluster("controller");
//! println!("{} {}", controller.endpoint, env.len());
//! ```
//!
//! Environment: `TFPJ_VENV` (default `<repo>/.venv`), `TFPJ_KUBE_EMULATOR` (default
//! `<target>/debug/kube-emulator`), `TFPJ_STACK_NO_KUBE=1` (moto only), `TFPJ_KEEP_STACK=1` (keep the
//! stack dir and its logs after the process ends).

use serde::Deserialize;
use serde_json::{Value as Json, json};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The region every stack client uses (EKS state in moto is per region).
pub const REGION: &str = "us-east-1";

/// The running stack of this test process.
#[derive(Debug)]
pub struct Stack {
    /// The stack dir: logs, `env`, `stack.json`, `kube/kubeconfig`.
    pub dir: PathBuf,
    /// moto's base URL, e.g. `http://127.0.0.1:41553`.
    pub moto_url: String,
    /// The emulator's clusters (empty with `TFPJ_STACK_NO_KUBE=1`).
    pub kube: KubeClusters,
    /// The variables of `DIR/env` (default account), for a Terraform run or a CLI.
    pub env: Vec<(String, String)>,
    /// Seconds `stack.py up` took from spawning to both services answering.
    pub started_in_seconds: f64,
}

/// The Kubernetes emulator's clusters, as its `emulator.json` describes them.
#[derive(Debug, Default)]
pub struct KubeClusters {
    /// A kubeconfig with one context per cluster (admin token).
    pub kubeconfig: Option<PathBuf>,
    /// Clusters by name: `controller`, `remote`.
    pub clusters: BTreeMap<String, KubeCluster>,
}

/// One emulated cluster.
#[derive(Clone, Debug, Deserialize)]
pub struct KubeCluster {
    /// `https://127.0.0.1:PORT`.
    pub endpoint: String,
    /// The cluster CA as a file and as PEM text.
    pub ca_file: PathBuf,
    pub ca_pem: String,
    /// A bearer token with every permission, for test set-up.
    pub admin_token: String,
    /// The OIDC issuer of its service-account tokens. DescribeCluster reports EKS's issuer form
    /// (`https://oidc.eks.<region>.amazonaws.com/id/<hash of account, region, name>`) instead.
    pub issuer: String,
}

impl KubeClusters {
    /// The cluster of this name; panics with the names there are when it is missing.
    pub fn cluster(&self, name: &str) -> &KubeCluster {
        self.clusters.get(name).unwrap_or_else(|| {
            panic!(
                "no emulator cluster `{name}` (have: {:?}); TFPJ_STACK_NO_KUBE set?",
                self.clusters.keys().collect::<Vec<_>>()
            )
        })
    }
}

#[derive(Deserialize)]
struct StackJson {
    moto_url: String,
    emulator_json: Option<PathBuf>,
    kubeconfig: Option<PathBuf>,
    env: BTreeMap<String, String>,
    started_in_seconds: f64,
}

#[derive(Deserialize)]
struct EmulatorJson {
    clusters: BTreeMap<String, KubeCluster>,
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("repo root").to_path_buf()
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| repo_root().join("target"))
}

fn env_path(var: &str, default: PathBuf) -> PathBuf {
    std::env::var_os(var).filter(|v| !v.is_empty()).map(PathBuf::from).unwrap_or(default)
}

fn env_flag(var: &str) -> bool {
    std::env::var(var).is_ok_and(|v| !v.is_empty() && v != "0")
}

/// The stack of this test process, started on first use and stopped when the process exits.
pub fn shared() -> &'static Stack {
    static STACK: OnceLock<Stack> = OnceLock::new();
    STACK.get_or_init(start)
}

fn start() -> Stack {
    let venv = env_path("TFPJ_VENV", repo_root().join(".venv"));
    let python = venv.join("bin/python");
    assert!(python.exists(), "{} is missing: run `make venv` (make test does)", python.display());
    let emulator = env_path("TFPJ_KUBE_EMULATOR", target_dir().join("debug/kube-emulator"));
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let dir = std::env::temp_dir().join(format!("tfpj-stack-{}-{nanos:08x}", std::process::id()));

    let mut cmd = Command::new(&python);
    cmd.arg(repo_root().join("acceptance-tests/stack/stack.py"))
        .arg("up")
        .arg("--dir")
        .arg(&dir)
        .arg("--emulator")
        .arg(&emulator)
        .arg("--parent-pid")
        .arg(std::process::id().to_string());
    if env_flag("TFPJ_STACK_NO_KUBE") {
        cmd.arg("--no-kube");
    }
    if !env_flag("TFPJ_KEEP_STACK") {
        cmd.arg("--remove-dir-on-exit");
    }
    let out = cmd.output().unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
    assert!(
        out.status.success(),
        "stack.py up failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("acceptance: {}", String::from_utf8_lossy(&out.stdout).trim());

    let state: StackJson = read_json(&dir.join("stack.json"));
    let clusters = state.emulator_json.as_deref().map(|p| read_json::<EmulatorJson>(p).clusters).unwrap_or_default();
    Stack {
        dir,
        moto_url: state.moto_url,
        kube: KubeClusters { kubeconfig: state.kubeconfig, clusters },
        env: state.env.into_iter().collect(),
        started_in_seconds: state.started_in_seconds,
    }
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> T {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not what stack.py writes: {e}", path.display()))
}

/// A 12-digit account id no other test of this process uses.
///
/// moto creates accounts on first use; `111…` prefixes keep them apart from moto's default
/// `123456789012` and from the ids people type in examples.
pub fn fresh_account() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!("1111{:08}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// The access key id the moto launcher maps to `account` (`AKIA` + account + `TEST`).
pub fn access_key_for(account: &str) -> String {
    assert!(account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()), "not an account id: {account}");
    format!("AKIA{account}TEST")
}

impl Stack {
    /// The environment of a process (Terraform, the provider, the AWS CLI) acting in `account`.
    pub fn env_for(&self, account: &str) -> Vec<(String, String)> {
        let key = access_key_for(account);
        self.env
            .iter()
            .map(|(k, v)| if k == "AWS_ACCESS_KEY_ID" { (k.clone(), key.clone()) } else { (k.clone(), v.clone()) })
            .collect()
    }

    /// Wipes all of moto (every account) and every fault rule: only for tests that own the stack,
    /// since tests run in parallel; the others use [`fresh_account`] instead.
    pub fn reset(&self) {
        self.request("POST", "/moto-api/reset", None);
    }

    /// Adds fault rules; see `acceptance-tests/stack/motoext/faults.py` for the spec. Returns the
    /// rules now armed.
    pub fn faults(&self, spec: &Json) -> Json {
        let body = self.request("POST", "/_stack/faults", Some(spec));
        serde_json::from_str(&body).expect("fault API answers JSON")
    }

    /// The next `n` calls of `operation` (`iam:GetRole`, `eks:*`) in `account` get a throttling error.
    pub fn throttle(&self, account: &str, operation: &str, n: u32) {
        self.faults(&json!({"account": account, "throttle": {operation: n}}));
    }

    /// The next `n` calls of `operation` in `account` get HTTP 500.
    pub fn server_errors(&self, account: &str, operation: &str, n: u32) {
        self.faults(&json!({"account": account, "server_error": {operation: n}}));
    }

    /// The next `n` calls of `operation` in `account` fail with HTTP `status` and AWS error `code`
    /// (`AccessDenied` stops an apply halfway, as a missing permission does; `DeleteConflict` is
    /// what IAM answers while a detach propagates).
    pub fn fail(&self, account: &str, operation: &str, n: u32, status: u16, code: &str) {
        self.faults(&json!({"account": account, "errors": {operation: {"count": n, "status": status, "code": code}}}));
    }

    /// Roles created in `account` from now on answer `NoSuchEntity` to their first `k` GetRole calls.
    pub fn new_role_not_found_reads(&self, account: &str, k: u32) {
        self.faults(&json!({"account": account, "new_role_not_found_reads": k}));
    }

    /// In `account`, a trust policy naming a role created less than `seconds` ago is rejected with
    /// `MalformedPolicyDocument: Invalid principal`.
    pub fn invalid_principal_for(&self, account: &str, seconds: f64) {
        self.faults(&json!({"account": account, "invalid_principal_seconds": seconds}));
    }

    /// The counted rules and pending role reads of `account` that have not fired yet (other
    /// tests' accounts, armed in parallel, are left out).
    pub fn armed(&self, account: &str) -> Vec<Json> {
        let all = self.faults(&json!({"account": account}));
        ["counted", "pending_role_reads"]
            .iter()
            .flat_map(|k| all[*k].as_array().cloned().unwrap_or_default())
            .filter(|rule| rule["account"] == account)
            .collect()
    }

    /// Drops the fault rules of `account`.
    pub fn clear_faults(&self, account: &str) {
        self.request("DELETE", &format!("/_stack/faults?account={account}"), None);
    }

    /// The next call of `operation` in `account` is carried out, and its answer held back for
    /// `after_ms` (or until the account's rules are cleared): a client killed meanwhile never
    /// learns what the call did.
    pub fn hold_reply(&self, account: &str, operation: &str, after_ms: u64) {
        self.faults(&json!({"account": account, "hold": {operation: {"count": 1, "after_ms": after_ms}}}));
    }

    /// True while the hold on `operation` in `account` waits for its call (it has not been made).
    pub fn hold_armed(&self, account: &str, operation: &str) -> bool {
        let all = self.faults(&json!({"account": account}));
        all["holds"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|h| h["account"] == account && h["operation"] == operation && h["remaining"].as_u64().unwrap_or(0) > 0)
    }

    /// A minimal HTTP/1.1 exchange with moto's control API (no client crate needed for three calls).
    fn request(&self, method: &str, path: &str, body: Option<&Json>) -> String {
        let addr = self.moto_url.trim_start_matches("http://");
        let body = body.map(Json::to_string).unwrap_or_default();
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut stream = TcpStream::connect(addr).unwrap_or_else(|e| panic!("moto at {addr}: {e}"));
        stream.set_read_timeout(Some(deadline - Instant::now())).expect("timeout");
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).and_then(|()| stream.write_all(body.as_bytes())).expect("write to moto");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("read from moto");
        let (status_line, rest) = response.split_once("\r\n").unwrap_or((&response, ""));
        assert!(status_line.contains(" 200 "), "{method} {path} -> {status_line}\n{rest}");
        rest.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default()
    }
}

/// How often the fault rules fired: a fault test asserts its fault was met, or it proves nothing.
impl Stack {
    /// Every rule of `account` that fired, as `{account, kind, operation, count}` (kind `throttle`,
    /// `server_error`, `error <Code>`, `new_role_not_found_reads`, `invalid_principal`).
    pub fn fired(&self, account: &str) -> Vec<Json> {
        let body = self.request("GET", &format!("/_stack/fired?account={account}"), None);
        let all: Json = serde_json::from_str(&body).expect("fault API answers JSON");
        all["fired"].as_array().cloned().unwrap_or_default()
    }

    /// How often rules of `kind` whose operation pattern is `operation` fired in `account`.
    pub fn fired_count(&self, account: &str, kind: &str, operation: &str) -> u64 {
        self.fired(account)
            .iter()
            .filter(|r| r["kind"] == kind && r["operation"] == operation)
            .map(|r| r["count"].as_u64().unwrap_or(0))
            .sum()
    }

    /// Panics unless a rule of `kind` on `operation` fired in `account` at least `at_least` times.
    pub fn assert_fired(&self, account: &str, kind: &str, operation: &str, at_least: u64) {
        let n = self.fired_count(account, kind, operation);
        assert!(
            n >= at_least,
            "the {kind} fault on {operation} fired {n} times, expected at least {at_least}; all fired: {:?}",
            self.fired(account)
        );
    }
}
