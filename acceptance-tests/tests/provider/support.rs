//! Fixtures for provider tests against the local stack: an AWS account of its own, the EKS
//! clusters the emulator serves registered in it, and a Jenkins namespace of its own.

use acceptance_tests::stack::{self, fresh_account};
use acceptance_tests::terraform::{Terraform, Workdir};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// One test's slice of the stack.
pub struct Env {
    pub account: String,
    /// The Jenkins namespace in the controller cluster, unique to this test.
    pub namespace: String,
    vars: Vec<(String, String)>,
}

static NEXT: AtomicUsize = AtomicUsize::new(1);

impl Env {
    /// A fresh account with EKS clusters `controller` and `remote`, and a fresh Jenkins namespace.
    pub fn new(prefix: &str) -> Env {
        Env::with_clusters(prefix, &["controller", "remote"])
    }

    /// A fresh account in which only `clusters` are registered with EKS yet (a test creates the
    /// others itself, e.g. in its own apply), and a fresh Jenkins namespace.
    pub fn with_clusters(prefix: &str, clusters: &[&str]) -> Env {
        let s = stack::shared();
        let account = fresh_account();
        let vars = s.env_for(&account);
        let env = Env {
            namespace: format!("{prefix}-{}-{}", std::process::id() % 100_000, NEXT.fetch_add(1, Ordering::Relaxed)),
            account,
            vars,
        };
        for cluster in clusters {
            env.create_cluster(cluster);
        }
        env.kubectl("controller", &["create", "namespace", &env.namespace]);
        env
    }

    /// Registers EKS cluster `name` in this account (the emulator serves `controller` and `remote`).
    pub fn create_cluster(&self, name: &str) {
        self.aws(&[
            "eks",
            "create-cluster",
            "--name",
            name,
            "--role-arn",
            &format!("arn:aws:iam::{}:role/eks-cluster", self.account),
            "--resources-vpc-config",
            "subnetIds=subnet-1",
        ]);
    }

    /// The environment a Terraform run in this account needs.
    pub fn vars(&self) -> Vec<(String, String)> {
        self.vars.clone()
    }

    /// A Terraform working directory with this environment.
    pub fn workdir(&self, name: &str, tf: &Terraform) -> Workdir {
        Workdir::new(name, tf).with_env(self.vars())
    }

    /// `workdir`, with the provider installed by `terraform init` from the test mirror (lock file
    /// checked) instead of dev_overrides: one case per resource runs this way (see `install.rs`).
    pub fn installed_workdir(&self, name: &str, tf: &Terraform) -> Workdir {
        Workdir::installed(name, tf).with_env(self.vars())
    }

    /// The provider block for the controller cluster by EKS name, and this test's namespace.
    pub fn provider_block(&self) -> String {
        format!(
            "provider \"jenkins\" {{\n  region = \"us-east-1\"\n  kubernetes {{\n    eks_cluster_name = \"controller\"\n  }}\n  jenkins {{\n    namespace = \"{}\"\n  }}\n}}\n",
            self.namespace
        )
    }

    /// Runs the venv's AWS CLI in this account; it must succeed.
    pub fn aws(&self, args: &[&str]) -> String {
        let venv = std::env::var("TFPJ_VENV").unwrap_or_else(|_| format!("{}/../.venv", env!("CARGO_MANIFEST_DIR")));
        let out = Command::new(format!("{venv}/bin/aws"))
            .args(args)
            .envs(self.vars.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env_remove("AWS_PROFILE")
            .output()
            .expect("run aws");
        assert!(out.status.success(), "aws {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The venv's AWS CLI acting in `account` (the stack maps each access key to its account):
    /// whether it succeeded, and its stdout or else its stderr.
    pub fn aws_in(&self, account: &str, args: &[&str]) -> (bool, String) {
        let venv = std::env::var("TFPJ_VENV").unwrap_or_else(|_| format!("{}/../.venv", env!("CARGO_MANIFEST_DIR")));
        let key = acceptance_tests::stack::access_key_for(account);
        let out = Command::new(format!("{venv}/bin/aws"))
            .args(args)
            .envs(self.vars.iter().map(|(k, v)| {
                if k == "AWS_ACCESS_KEY_ID" { (k.as_str(), key.as_str()) } else { (k.as_str(), v.as_str()) }
            }))
            .env_remove("AWS_PROFILE")
            .output()
            .expect("run aws");
        let text = if out.status.success() { &out.stdout } else { &out.stderr };
        (out.status.success(), String::from_utf8_lossy(text).into_owned())
    }

    /// Runs kubectl as the cluster admin against `cluster` of the emulator; it must succeed.
    pub fn kubectl(&self, cluster: &str, args: &[&str]) -> String {
        let (ok, out) = self.try_kubectl(cluster, args);
        assert!(ok, "kubectl {args:?} failed: {out}");
        out
    }

    /// Runs kubectl; returns whether it succeeded and its output (stdout, or stderr on failure).
    pub fn try_kubectl(&self, cluster: &str, args: &[&str]) -> (bool, String) {
        let kubeconfig = stack::shared().kube.kubeconfig.clone().expect("the stack runs the emulator");
        let out = Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(kubeconfig)
            .arg("--context")
            .arg(cluster)
            .args(args)
            .output()
            .expect("run kubectl");
        let text = if out.status.success() { &out.stdout } else { &out.stderr };
        (out.status.success(), String::from_utf8_lossy(text).into_owned())
    }

    /// An object of the controller cluster in this test's namespace as JSON, or `None` if absent.
    pub fn get_json(&self, kind: &str, name: &str) -> Option<serde_json::Value> {
        let (ok, out) = self.try_kubectl("controller", &["-n", &self.namespace, "get", kind, name, "-o", "json"]);
        if !ok {
            assert!(out.contains("NotFound") || out.contains("not found"), "kubectl get {kind}/{name}: {out}");
            return None;
        }
        Some(serde_json::from_str(&out).expect("kubectl JSON"))
    }
}

/// SHA-256 (hex) of `text`, by coreutils' `sha256sum`: what the provider hashes is checked by a
/// tool of its own.
pub fn sha256(text: &str) -> String {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = Command::new("sha256sum").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().expect("sha256sum");
    child.stdin.take().expect("stdin").write_all(text.as_bytes()).expect("write");
    let out = child.wait_with_output().expect("sha256sum output");
    String::from_utf8_lossy(&out.stdout).split_whitespace().next().unwrap_or_default().to_string()
}

/// The first Terraform under test at version `major.minor` or later (a feature's minimum).
pub fn terraform_at_least(major: u32, minor: u32) -> Option<&'static Terraform> {
    acceptance_tests::terraform::terraforms().iter().find(|t| {
        let mut parts = t.version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
        let (ma, mi) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
        ma > major || (ma == major && mi >= minor)
    })
}
