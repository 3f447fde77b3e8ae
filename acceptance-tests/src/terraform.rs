//! Drives the real `terraform` binary against the provider, the way terraform-plugin-testing does:
//! apply, then `plan -refresh=false` and `plan` must both be empty, checks on `show -json`, destroy.
//!
//! The provider is loaded through `dev_overrides` in a CLI config this module writes per working
//! directory; `init` is skipped (Terraform 1.11 refuses it under overrides). Every case runs on the
//! pinned Terraform 1.15 from the project venv and on any other Terraform ≥ 1.11 found on PATH.

use serde_json::Value as Json;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The provider's source address in every example and test.
pub const PROVIDER_SOURCE: &str = "registry.terraform.io/jenkins-eks/jenkins";

/// A Terraform binary and the version it reported.
#[derive(Clone, Debug)]
pub struct Terraform {
    pub path: PathBuf,
    pub version: String,
}

/// The repository root (the parent of this crate).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("repo root").to_path_buf()
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| repo_root().join("target"))
}

/// Directory holding the `terraform-provider-jenkins` binary the overrides point at.
pub fn provider_dir() -> PathBuf {
    let dir = std::env::var_os("TFPJ_PROVIDER_DIR").map(PathBuf::from).unwrap_or_else(|| target_dir().join("debug"));
    let bin = dir.join("terraform-provider-jenkins");
    assert!(
        bin.exists(),
        "{} is missing: run `cargo build -p terraform-provider-jenkins` (make test does)",
        bin.display()
    );
    dir
}

fn version_of(path: &Path) -> Option<String> {
    let out = Command::new(path).arg("version").arg("-json").env("CHECKPOINT_DISABLE", "1").output().ok()?;
    let json: Json = serde_json::from_slice(&out.stdout).ok()?;
    json.get("terraform_version")?.as_str().map(str::to_string)
}

fn at_least_1_11(v: &str) -> bool {
    let mut parts = v.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    major > 1 || (major == 1 && minor >= 11)
}

/// Terraform 1.15 from the venv first, then any other version ≥ 1.11 on PATH. Printed once.
pub fn terraforms() -> &'static [Terraform] {
    static ALL: OnceLock<Vec<Terraform>> = OnceLock::new();
    ALL.get_or_init(|| {
        let venv = std::env::var_os("TFPJ_VENV").map(PathBuf::from).unwrap_or_else(|| repo_root().join(".venv"));
        let pinned = venv.join("bin/terraform");
        let version = version_of(&pinned).unwrap_or_else(|| {
            panic!(
                "{} does not run: run `make venv` (make test does) to install the pinned Terraform",
                pinned.display()
            )
        });
        let mut all = vec![Terraform { path: pinned, version }];
        if let Some(paths) = std::env::var_os("PATH") {
            for dir in std::env::split_paths(&paths) {
                let cand = dir.join("terraform");
                if !cand.is_file() || all.iter().any(|t| t.path == cand) {
                    continue;
                }
                if let Some(v) = version_of(&cand)
                    && at_least_1_11(&v)
                    && !all.iter().any(|t| t.version == v)
                {
                    all.push(Terraform { path: cand, version: v });
                }
            }
        }
        let versions: Vec<_> = all.iter().map(|t| format!("{} ({})", t.version, t.path.display())).collect();
        eprintln!("acceptance: Terraform versions under test: {}", versions.join(", "));
        all
    })
}

/// The result of one terraform command.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(out: Output) -> Self {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
    /// stdout and stderr together, for assertions on messages.
    pub fn text(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

/// A working directory with its own CLI config, state and configuration.
pub struct Workdir {
    pub dir: PathBuf,
    pub tf: Terraform,
    env: Vec<(String, String)>,
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

impl Workdir {
    /// A fresh directory for `name` under the cargo target dir, using Terraform `tf`.
    pub fn new(name: &str, tf: &Terraform) -> Self {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let dir = target_dir().join("acceptance").join(format!("{name}-{}-{}-{n}", tf.version, std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create workdir");
        let rc = dir.join("dev.tfrc");
        let cfg = format!(
            "provider_installation {{\n  dev_overrides {{\n    \"{PROVIDER_SOURCE}\" = \"{}\"\n  }}\n  direct {{}}\n}}\n",
            provider_dir().display()
        );
        std::fs::write(&rc, cfg).expect("write cli config");
        let env = vec![
            ("TF_CLI_CONFIG_FILE".to_string(), rc.display().to_string()),
            ("TF_IN_AUTOMATION".into(), "1".into()),
            ("TF_INPUT".into(), "0".into()),
            ("CHECKPOINT_DISABLE".into(), "1".into()),
        ];
        Workdir { dir, tf: tf.clone(), env }
    }

    /// Adds environment variables for every later command (e.g. the local stack's).
    pub fn with_env<I, K, V>(mut self, vars: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        self.env.extend(vars.into_iter().map(|(k, v)| (k.into(), v.into())));
        self
    }

    /// Writes the configuration, with the provider requirement added.
    pub fn write_config(&self, hcl: &str) {
        let header = format!(
            "terraform {{\n  required_providers {{\n    jenkins = {{ source = \"{PROVIDER_SOURCE}\" }}\n  }}\n}}\n\n"
        );
        std::fs::write(self.dir.join("main.tf"), format!("{header}{hcl}")).expect("write main.tf");
    }

    /// Runs terraform with these arguments.
    pub fn run(&self, args: &[&str]) -> Run {
        let mut cmd = Command::new(&self.tf.path);
        cmd.args(args).current_dir(&self.dir).env_remove("TF_LOG");
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        if let Ok(path) = std::env::var("TFPJ_TF_LOG_DIR") {
            cmd.env("TF_LOG", "trace").env("TF_LOG_PATH", format!("{path}/tf.log"));
        }
        Run::from(cmd.output().expect("run terraform"))
    }

    /// Starts terraform in a process group of its own (the provider it starts joins it), so a
    /// test can SIGKILL the whole command mid-apply.
    pub fn spawn(&self, args: &[&str]) -> std::process::Child {
        use std::os::unix::process::CommandExt;
        let mut cmd = Command::new(&self.tf.path);
        cmd.args(args).current_dir(&self.dir).env_remove("TF_LOG").process_group(0);
        cmd.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null());
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd.spawn().expect("start terraform")
    }

    /// `apply`, which must succeed.
    pub fn apply(&self) -> Run {
        let r = self.run(&["apply", "-auto-approve", "-input=false", "-no-color"]);
        assert_eq!(r.code, 0, "[{}] apply failed:\n{}", self.tf.version, r.text());
        r
    }

    /// Both `plan -refresh=false` and `plan` must report no changes.
    pub fn assert_plans_empty(&self) {
        for args in [
            &["plan", "-refresh=false", "-detailed-exitcode", "-no-color"][..],
            &["plan", "-detailed-exitcode", "-no-color"],
        ] {
            let r = self.run(args);
            assert_eq!(
                r.code,
                0,
                "[{}] `terraform {}` is not empty after apply:\n{}",
                self.tf.version,
                args.join(" "),
                r.text()
            );
        }
    }

    /// `plan -detailed-exitcode`, which must show changes (exit 2); returns its output.
    pub fn plan_changes(&self) -> Run {
        let r = self.run(&["plan", "-detailed-exitcode", "-no-color"]);
        assert_eq!(r.code, 2, "[{}] expected a non-empty plan:\n{}", self.tf.version, r.text());
        r
    }

    /// `show -json` of the current state.
    pub fn show(&self) -> Json {
        let r = self.run(&["show", "-json", "-no-color"]);
        assert_eq!(r.code, 0, "show failed:\n{}", r.text());
        serde_json::from_str(&r.stdout).expect("show -json output")
    }

    /// The state's attribute values of one resource address.
    pub fn resource(&self, address: &str) -> Json {
        let state = self.show();
        let resources =
            state.pointer("/values/root_module/resources").and_then(Json::as_array).cloned().unwrap_or_default();
        resources
            .into_iter()
            .find(|r| r.get("address").and_then(Json::as_str) == Some(address))
            .and_then(|r| r.get("values").cloned())
            .unwrap_or_else(|| panic!("{address} not in state"))
    }

    /// `destroy`, which must succeed and leave an empty state.
    pub fn destroy(&self) {
        let r = self.run(&["destroy", "-auto-approve", "-input=false", "-no-color"]);
        assert_eq!(r.code, 0, "[{}] destroy failed:\n{}", self.tf.version, r.text());
        let state = self.show();
        assert!(state.pointer("/values/root_module/resources").is_none(), "state not empty after destroy: {state}");
    }

    /// A command that must fail, with output matching every needle.
    pub fn expect_error(&self, args: &[&str], needles: &[&str]) -> Run {
        let r = self.run(args);
        assert_ne!(r.code, 0, "[{}] `terraform {}` should fail:\n{}", self.tf.version, args.join(" "), r.text());
        let text = r.text();
        // Terraform word-wraps a diagnostic's detail at its own width, so a needle matches across
        // line breaks: both sides are compared with whitespace runs folded to one space.
        let flat = fold_whitespace(&text);
        for n in needles {
            assert!(
                flat.contains(&fold_whitespace(n)),
                "[{}] output of `terraform {}` lacks {n:?}:\n{text}",
                self.tf.version,
                args.join(" ")
            );
        }
        assert!(!text.contains("Provider produced inconsistent"), "{text}");
        r
    }

    /// Removes the directory (kept when the test panicked, for inspection).
    pub fn cleanup(self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// The standard case, on every Terraform: apply, two empty plans, `check` on the state, destroy.
pub fn apply_case(name: &str, hcl: &str, check: impl Fn(&Workdir)) {
    for tf in terraforms() {
        let w = Workdir::new(name, tf);
        w.write_config(hcl);
        let r = w.apply();
        assert!(!r.text().contains("Provider produced"), "{}", r.text());
        w.assert_plans_empty();
        check(&w);
        w.destroy();
        w.cleanup();
    }
}

/// The HCL of a registry example under `examples/`.
pub fn example(rel: &str) -> String {
    std::fs::read_to_string(repo_root().join("examples").join(rel)).expect("read example")
}

impl Workdir {
    /// Import round trip, like terraform-plugin-testing's ImportStateVerify: forget `address`,
    /// `terraform import` it by `id`, require the imported attributes to equal the applied ones
    /// (except `ignore`), then require both plans to be empty again.
    pub fn assert_import_round_trips(&self, address: &str, id: &str, ignore: &[&str]) {
        let before = self.resource(address);
        let r = self.run(&["state", "rm", "-no-color", address]);
        assert_eq!(r.code, 0, "state rm failed:\n{}", r.text());
        let r = self.run(&["import", "-no-color", "-input=false", address, id]);
        assert_eq!(r.code, 0, "[{}] import of {address} by {id:?} failed:\n{}", self.tf.version, r.text());
        let after = self.resource(address);
        let (Some(b), Some(a)) = (before.as_object(), after.as_object()) else { panic!("{address} has no attributes") };
        for (k, v) in b {
            if ignore.contains(&k.as_str()) {
                continue;
            }
            assert_eq!(
                a.get(k),
                Some(v),
                "[{}] imported {address}.{k} differs from the applied value",
                self.tf.version
            );
        }
        self.assert_plans_empty();
    }

    /// A plan that must show changes and mention every needle (drift shown before apply repairs it).
    pub fn assert_plan_shows(&self, needles: &[&str]) -> Run {
        let r = self.plan_changes();
        for n in needles {
            assert!(r.stdout.contains(n), "[{}] plan lacks {n:?}:\n{}", self.tf.version, r.stdout);
        }
        r
    }
}

/// `text` with every run of whitespace (line breaks included) folded to one space.
fn fold_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
