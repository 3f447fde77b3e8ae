//! Drives the real `terraform` binary against the provider, the way terraform-plugin-testing does:
//! apply, then `plan -refresh=false` and `plan` must both be empty, checks on `show -json`, destroy.
//!
//! The provider is loaded through `dev_overrides` in a CLI config this module writes per working
//! directory; `init` is skipped (Terraform 1.11 refuses it under overrides). Every case runs on the
//! pinned Terraform 1.15 from the project venv and on any other Terraform ≥ 1.11 found on PATH.
//! `Workdir::installed` (mirror mode, at the end) instead installs it as users do: `terraform init`
//! from a filesystem mirror packed by `release/pack.py`, with the lock file checked.

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
    /// Installed by `terraform init` from the test mirror (`Workdir::installed`), not dev_overrides.
    installed: bool,
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
        Workdir { dir, tf: tf.clone(), env, installed: false }
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
        if self.installed {
            return self.write_installed_config(hcl);
        }
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

    /// The value of root output `name` (`output -json`).
    pub fn output(&self, name: &str) -> Json {
        let r = self.run(&["output", "-json", "-no-color", name]);
        assert_eq!(r.code, 0, "output {name} failed:\n{}", r.text());
        serde_json::from_str(&r.stdout).expect("output -json")
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

// ---------------------------------------------------------------------------------------------
// Mirror mode: the provider installed by `terraform init` from a packed filesystem mirror, as users
// install it, with the lock file checked. Used by the demo and one case per resource; every other
// case keeps dev_overrides (no init, no 150 MB unpack per working directory).

/// The filesystem mirror packed once per test process from the debug binary, by the same
/// `release/pack.py` that `make release` uses.
pub struct Mirror {
    /// The mirror root (`<root>/registry.terraform.io/jenkins-eks/jenkins/...`).
    pub root: PathBuf,
    /// The provider version (from the root Cargo.toml, via pack.py).
    pub version: String,
    /// The `h1:` and `zh:` hashes the mirror's `<version>.json` lists.
    pub h1: String,
    pub zh: String,
}

/// The repository's packing script, shared with the Makefile.
pub fn pack_script() -> PathBuf {
    repo_root().join("release/pack.py")
}

/// The venv's Python (any Python ≥ 3.11 runs pack.py; this one is there whenever tests run).
pub fn python() -> PathBuf {
    std::env::var_os("TFPJ_VENV").map(PathBuf::from).unwrap_or_else(|| repo_root().join(".venv")).join("bin/python")
}

/// Runs `pack.py pack` for `binary` into `out` (fast compression: tests only need the layout).
pub fn pack_into(binary: &Path, out: &Path) {
    let o = Command::new(python())
        .arg(pack_script())
        .args(["pack", "--compress-level", "1", "--binary"])
        .arg(binary)
        .arg("--out")
        .arg(out)
        .output()
        .expect("run release/pack.py");
    assert!(o.status.success(), "pack.py failed:\n{}", String::from_utf8_lossy(&o.stderr));
}

impl Mirror {
    /// Reads a packed mirror under `out/mirror` (what `pack_into(_, out)` wrote).
    pub fn read(out: &Path) -> Mirror {
        let root = out.join("mirror");
        let dir = root.join(PROVIDER_SOURCE);
        let index: Json =
            serde_json::from_str(&std::fs::read_to_string(dir.join("index.json")).expect("index.json")).expect("json");
        let version = index["versions"].as_object().and_then(|v| v.keys().next().cloned()).expect("a version");
        let doc: Json =
            serde_json::from_str(&std::fs::read_to_string(dir.join(format!("{version}.json"))).expect("json"))
                .expect("version json");
        let hashes: Vec<String> = doc["archives"]["linux_amd64"]["hashes"]
            .as_array()
            .expect("hashes")
            .iter()
            .filter_map(|h| h.as_str().map(str::to_string))
            .collect();
        let pick = |p: &str| hashes.iter().find(|h| h.starts_with(p)).cloned().unwrap_or_else(|| panic!("no {p} hash"));
        Mirror { h1: pick("h1:"), zh: pick("zh:"), root, version }
    }
}

/// The test process's mirror of the debug provider binary, packed on first use.
pub fn mirror() -> &'static Mirror {
    static MIRROR: OnceLock<Mirror> = OnceLock::new();
    MIRROR.get_or_init(|| {
        let out = target_dir().join("acceptance").join(format!("mirror-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&out);
        pack_into(&provider_dir().join("terraform-provider-jenkins"), &out);
        Mirror::read(&out)
    })
}

/// A CLI config installing the provider from the filesystem mirror at `root` only.
pub fn mirror_cli_config(root: &Path) -> String {
    format!(
        "provider_installation {{\n  filesystem_mirror {{\n    path    = \"{}\"\n    include = [\"{PROVIDER_SOURCE}\"]\n  }}\n  direct {{\n    exclude = [\"{PROVIDER_SOURCE}\"]\n  }}\n}}\n",
        root.display()
    )
}

impl Workdir {
    /// Like `new`, but the provider comes from `terraform init` against the test mirror: the first
    /// `write_config` runs `init` and checks the lock file it writes (`assert_lock_file`).
    pub fn installed(name: &str, tf: &Terraform) -> Self {
        let mut w = Workdir::new(name, tf);
        w.installed = true;
        std::fs::write(w.dir.join("dev.tfrc"), mirror_cli_config(&mirror().root)).expect("write cli config");
        w
    }

    fn write_installed_config(&self, hcl: &str) {
        let m = mirror();
        let header = format!(
            "terraform {{\n  required_providers {{\n    jenkins = {{\n      source  = \"{PROVIDER_SOURCE}\"\n      version = \"~> {}\"\n    }}\n  }}\n}}\n\n",
            m.version
        );
        let first = !self.dir.join(".terraform.lock.hcl").exists();
        std::fs::write(self.dir.join("main.tf"), format!("{header}{hcl}")).expect("write main.tf");
        if first {
            self.init();
            self.assert_lock_file();
        }
    }

    /// `terraform init`, which must succeed without the development-overrides warning.
    pub fn init(&self) -> Run {
        let r = self.run(&["init", "-input=false", "-no-color"]);
        assert_eq!(r.code, 0, "[{}] init failed:\n{}", self.tf.version, r.text());
        assert!(!r.text().contains("development overrides"), "{}", r.text());
        r
    }

    /// The lock file `init` wrote pins the mirror's version with the mirror JSON's `h1:` hash;
    /// `terraform providers lock -fs-mirror=<mirror> -platform=linux_amd64` writes the same file; a
    /// second `init` with the lock file (read-only) accepts the package.
    pub fn assert_lock_file(&self) {
        let m = mirror();
        let path = self.dir.join(".terraform.lock.hcl");
        let lock = std::fs::read_to_string(&path).expect("init writes .terraform.lock.hcl");
        let block = lock_block(&lock).unwrap_or_else(|| panic!("no {PROVIDER_SOURCE} block in:\n{lock}"));
        // Terraform aligns the `=` of a block's attributes, so the spacing follows the block.
        let version = block.lines().find_map(|l| l.trim().strip_prefix("version")).map(|v| v.trim_start());
        assert_eq!(version, Some(format!("= \"{}\"", m.version).as_str()), "[{}] {lock}", self.tf.version);
        let h1: Vec<&str> = lock_hashes(block).into_iter().filter(|h| h.starts_with("h1:")).collect();
        assert_eq!(h1, vec![m.h1.as_str()], "[{}] lock h1 differs from the mirror JSON's:\n{lock}", self.tf.version);
        std::fs::rename(&path, self.dir.join("init.lock.hcl")).expect("set the lock aside");
        let mirror_arg = format!("-fs-mirror={}", m.root.display());
        let r = self.run(&["providers", "lock", "-no-color", &mirror_arg, "-platform=linux_amd64"]);
        assert_eq!(r.code, 0, "[{}] providers lock failed:\n{}", self.tf.version, r.text());
        let relocked = std::fs::read_to_string(&path).expect("providers lock writes the lock file");
        assert_eq!(relocked, lock, "[{}] `providers lock` does not reproduce init's lock file", self.tf.version);
        let r = self.run(&["init", "-input=false", "-no-color", "-lockfile=readonly"]);
        assert_eq!(r.code, 0, "[{}] init with the lock file refused the package:\n{}", self.tf.version, r.text());
        let _ = std::fs::remove_file(self.dir.join("init.lock.hcl"));
    }
}

/// The lock file's block for the provider.
pub fn lock_block(lock: &str) -> Option<&str> {
    let start = lock.find(&format!("provider \"{PROVIDER_SOURCE}\""))?;
    let rest = &lock[start..];
    Some(&rest[..rest.find("\n}").map(|i| i + 2).unwrap_or(rest.len())])
}

/// The quoted hashes of a lock block, in order.
pub fn lock_hashes(block: &str) -> Vec<&str> {
    block
        .lines()
        .map(str::trim)
        .filter_map(|l| l.strip_prefix('"').and_then(|l| l.strip_suffix("\",")))
        .filter(|h| h.starts_with("h1:") || h.starts_with("zh:"))
        .collect()
}

/// `apply_case` through `terraform init` from the mirror (lock file checked) instead of dev_overrides.
pub fn apply_case_installed(name: &str, hcl: &str, check: impl Fn(&Workdir)) {
    for tf in terraforms() {
        let w = Workdir::installed(name, tf);
        w.write_config(hcl);
        let r = w.apply();
        assert!(!r.text().contains("Provider produced"), "{}", r.text());
        assert!(!r.text().contains("development overrides"), "{}", r.text());
        w.assert_plans_empty();
        check(&w);
        w.destroy();
        w.cleanup();
    }
}
