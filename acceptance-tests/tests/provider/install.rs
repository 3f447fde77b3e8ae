//! The provider installed as users install it: `terraform init` from a filesystem mirror packed by
//! `release/pack.py` (the packing `make release` uses), with the lock file it writes checked
//! (`Workdir::assert_lock_file`: the mirror JSON's `h1:`, `providers lock` reproducing it, a second
//! `init` accepting the package). One case per resource runs this way (this module's for
//! `jenkins_pod_template`; the resources' own modules for the others), on every Terraform.

use acceptance_tests::terraform::{
    Mirror, PROVIDER_SOURCE, Workdir, apply_case_installed, example, lock_block, mirror, mirror_cli_config, pack_into,
    terraforms,
};

#[test]
fn pod_template_example_applies_through_init_from_the_mirror() {
    let hcl = example("resources/jenkins_pod_template/resource.tf");
    apply_case_installed("install-pod-template", &hcl, |w| {
        let lock = std::fs::read_to_string(w.dir.join(".terraform.lock.hcl")).expect("lock file");
        assert!(lock_block(&lock).is_some_and(|b| b.contains(&mirror().h1)), "{lock}");
        let base = w.resource("jenkins_pod_template.base");
        assert!(base["definition"].as_str().is_some_and(|d| d.contains("\"name\": \"base\"")), "{base}");
    });
}

/// With the lock file, `init` refuses a package whose contents differ from what was locked, even at
/// the same version from the same mirror path; without it, the same package installs (so the
/// refusal is the lock file's doing).
#[test]
fn a_tampered_package_is_refused_by_the_lock_file() {
    for tf in terraforms() {
        let w = Workdir::installed("install-tamper", tf);
        w.write_config("resource \"jenkins_pod_template\" \"t\" {\n  name = \"t\"\n}\n");
        // Same version, same file names, other bytes: what a swapped mirror file would be.
        let out = w.dir.join("tampered");
        std::fs::create_dir_all(&out).expect("mkdir");
        let fake = out.join("terraform-provider-jenkins");
        std::fs::write(&fake, b"#!/bin/sh\necho tampered\n").expect("write fake binary");
        pack_into(&fake, &out);
        let tampered = Mirror::read(&out);
        assert_eq!(tampered.version, mirror().version);
        assert_ne!(tampered.h1, mirror().h1);
        std::fs::write(w.dir.join("dev.tfrc"), mirror_cli_config(&tampered.root)).expect("cli config");
        std::fs::remove_dir_all(w.dir.join(".terraform")).expect("remove .terraform");
        let r = w.run(&["init", "-input=false", "-no-color"]);
        assert_ne!(r.code, 0, "[{}] init accepted a tampered package:\n{}", tf.version, r.text());
        let text = r.text().split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            text.contains("doesn't match any of the checksums previously recorded in the dependency lock file"),
            "[{}] {}",
            tf.version,
            r.text()
        );
        assert!(text.contains(PROVIDER_SOURCE), "{text}");
        std::fs::remove_file(w.dir.join(".terraform.lock.hcl")).expect("remove lock");
        let _ = std::fs::remove_dir_all(w.dir.join(".terraform"));
        let r = w.run(&["init", "-input=false", "-no-color"]);
        assert_eq!(r.code, 0, "[{}] without a lock file the package installs:\n{}", tf.version, r.text());
        w.cleanup();
    }
}

/// `release/pack.py` (what `make release` runs) writes the registry's artifact set, byte-identical
/// on a second run, and a detached signature the real `gpg` verifies; the sums file passes the real
/// `sha256sum -c`.
#[test]
fn release_artifacts_are_reproducible_checksummed_and_signed() {
    use std::process::Command;
    let dir = std::env::temp_dir().join(format!("tfpj-pack-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    let bin = dir.join("terraform-provider-jenkins");
    std::fs::write(&bin, b"\x7fELF not really a provider\n").expect("write binary");
    let v = &mirror().version;
    let (a, b) = (dir.join("a"), dir.join("b"));
    pack_into(&bin, &a);
    std::thread::sleep(std::time::Duration::from_millis(1100)); // another second: no clock in the zip
    pack_into(&bin, &b);
    let files = [
        format!("terraform-provider-jenkins_{v}_linux_amd64.zip"),
        format!("terraform-provider-jenkins_{v}_SHA256SUMS"),
        format!("terraform-provider-jenkins_{v}_manifest.json"),
        format!("mirror/{PROVIDER_SOURCE}/terraform-provider-jenkins_{v}_linux_amd64.zip"),
        format!("mirror/{PROVIDER_SOURCE}/index.json"),
        format!("mirror/{PROVIDER_SOURCE}/{v}.json"),
    ];
    for f in &files {
        let (x, y) = (std::fs::read(a.join(f)), std::fs::read(b.join(f)));
        assert!(x.is_ok() && x.as_ref().ok() == y.as_ref().ok(), "{f} missing or differs between two packs");
    }
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(a.join(&files[2])).expect("manifest")).expect("json");
    assert_eq!(manifest, serde_json::json!({"version": 1, "metadata": {"protocol_versions": ["6.0"]}}));
    let o = Command::new("sha256sum").arg("-c").arg(&files[1]).current_dir(&a).output().expect("sha256sum");
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success() && out.contains(&format!("{}: OK", files[0])), "{out}");
    // The binary inside is named as the registry's releases name it.
    let o = Command::new("unzip").arg("-Z1").arg(a.join(&files[0])).output().expect("unzip");
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), format!("terraform-provider-jenkins_v{v}"));
    // RELEASE_GPG_KEY: a throwaway key in a keyring of this test's own.
    let gnupg = dir.join("gnupg");
    std::fs::create_dir_all(&gnupg).expect("mkdir");
    let gpg = |args: &[&str]| Command::new("gpg").env("GNUPGHOME", &gnupg).args(args).output().expect("run gpg");
    let o = gpg(&[
        "--batch",
        "--pinentry-mode",
        "loopback",
        "--passphrase",
        "",
        "--quick-gen-key",
        "t@example.invalid",
        "ed25519",
        "sign",
        "never",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let signed = dir.join("signed");
    let o = Command::new(acceptance_tests::terraform::python())
        .arg(acceptance_tests::terraform::pack_script())
        .args(["pack", "--gpg-key", "t@example.invalid", "--binary"])
        .arg(&bin)
        .arg("--out")
        .arg(&signed)
        .env("GNUPGHOME", &gnupg)
        .output()
        .expect("pack.py");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let sums = signed.join(&files[1]);
    let sig = signed.join(format!("{}.sig", files[1]));
    let o = gpg(&["--verify", &sig.display().to_string(), &sums.display().to_string()]);
    assert!(o.status.success(), "signature does not verify: {}", String::from_utf8_lossy(&o.stderr));
    std::fs::write(&sums, b"0000  tampered\n").expect("tamper");
    let o = gpg(&["--verify", &sig.display().to_string(), &sums.display().to_string()]);
    assert!(!o.status.success(), "a changed sums file still verifies");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The README's quick start as a user runs it: `pack.py install` (what `make install` runs) into the
/// implied local mirror of a home directory of the test's own, no CLI configuration at all, the
/// README's HCL as it is (only the namespace made the test's own), `init` then `apply`.
#[test]
fn readme_quick_start_installs_from_the_implied_local_mirror() {
    use crate::support::Env;
    let readme = std::fs::read_to_string(acceptance_tests::terraform::repo_root().join("README.md")).expect("README");
    let block = readme
        .split("<!-- quick-start:begin")
        .nth(1)
        .and_then(|r| r.split("<!-- quick-start:end -->").next())
        .and_then(|r| r.split("```hcl\n").nth(1))
        .and_then(|r| r.split("```").next())
        .expect("README has the quick-start block");
    for tf in terraforms() {
        let env = Env::new("quick-start");
        let w = Workdir::new("install-quick-start", tf).with_env(env.vars());
        let home = w.dir.join("home");
        let dist = mirror().root.parent().expect("dist dir").to_path_buf();
        let o = std::process::Command::new(acceptance_tests::terraform::python())
            .arg(acceptance_tests::terraform::pack_script())
            .args(["install", "--dist"])
            .arg(&dist)
            .arg("--plugins")
            .arg(home.join(".terraform.d/plugins"))
            .output()
            .expect("pack.py install");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let unpacked = home.join(format!(
            ".terraform.d/plugins/{PROVIDER_SOURCE}/{}/linux_amd64/terraform-provider-jenkins_v{}",
            mirror().version,
            mirror().version
        ));
        assert!(unpacked.is_file(), "{} missing", unpacked.display());
        let hcl = block
            .replace("namespace    = \"jenkins\"", &format!("namespace    = {:?}", env.namespace))
            .replace("namespace = \"jenkins\"", &format!("namespace = {:?}", env.namespace));
        std::fs::write(w.dir.join("main.tf"), hcl).expect("write main.tf");
        // No CLI config: an empty TF_CLI_CONFIG_FILE falls back to $HOME/.terraformrc, absent here.
        let w = w.with_env([("TF_CLI_CONFIG_FILE", ""), ("HOME", &home.display().to_string())]);
        let r = w.init();
        assert!(r.text().contains(&format!("Installed jenkins-eks/jenkins v{}", mirror().version)), "{}", r.text());
        let lock = std::fs::read_to_string(w.dir.join(".terraform.lock.hcl")).expect("init writes the lock file");
        assert!(lock_block(&lock).is_some_and(|b| b.contains(&mirror().h1)), "[{}] {lock}", tf.version);
        let r = w.apply();
        assert!(!r.text().contains("development overrides"), "{}", r.text());
        let cm = w.resource("jenkins_agent_cloud.eks")["configmap_name"].as_str().expect("configmap_name").to_string();
        assert!(env.get_json("configmap", &cm).is_some(), "the cloud's ConfigMap {cm} exists");
        w.assert_plans_empty();
        w.destroy();
        w.cleanup();
    }
}

/// What `make demo` applies: the files `examples/demo/run.sh` concatenates (read from its `parts`
/// list, so the test follows the script).
fn demo_parts() -> Vec<String> {
    let script = std::fs::read_to_string(acceptance_tests::terraform::repo_root().join("examples/demo/run.sh"))
        .expect("examples/demo/run.sh");
    let list = script.split("parts=(\n").nth(1).and_then(|r| r.split("\n)").next()).expect("run.sh has parts=( ... )");
    let parts: Vec<String> = list.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_string).collect();
    assert!(parts.iter().any(|p| p == "examples/demo/stack.tf"), "{parts:?}");
    parts
}

/// `make demo` as a test, on every Terraform: run.sh's configuration (the provider block, the seed's
/// templates and cloud, the demo stack) with the test's accounts and namespaces, the chart's Jenkins
/// with its API credentials in the environment, the provider installed by `terraform init` from the
/// mirror (lock file checked), one saved plan applied, every check run during the apply; then what
/// the demo prints as created is looked up where it lives (IAM, both clusters, Jenkins' own list of
/// clouds), both plans are empty, and destroy removes it.
#[test]
fn the_demo_runs_through_init_on_every_terraform() {
    use crate::support::Env;
    use acceptance_tests::jenkins::{Jenkins, Options};
    use serde_json::Value as Json;
    let root = acceptance_tests::terraform::repo_root();
    for tf in terraforms() {
        let env = Env::new("demo");
        let target = acceptance_tests::stack::fresh_account();
        let remote_ns = format!("{}-agents", env.namespace);
        let jenkins = Jenkins::start(&env.namespace, "jenkins", Options::default());
        let (user, token) = jenkins.admin();
        let mut hcl = String::new();
        for p in demo_parts() {
            let text = std::fs::read_to_string(root.join(&p)).unwrap_or_else(|e| panic!("{p}: {e}"));
            hcl.push_str(&format!("# --- {p}\n{text}\n"));
        }
        let source = format!("source = \"{PROVIDER_SOURCE}\"");
        assert!(hcl.contains(&source), "the demo requires {PROVIDER_SOURCE}");
        let hcl = crate::terragrunt::replace_namespace(&hcl, "jenkins", &env.namespace)
            .replace("123456789012", &env.account)
            .replace("222222222222", &target)
            .replace("\"jenkins-agents\"", &format!("{remote_ns:?}"));
        let w = Workdir::installed("demo", tf).with_env(env.vars()).with_env([
            ("JENKINS_URL", jenkins.url().to_string()),
            ("JENKINS_USER", user),
            ("JENKINS_API_TOKEN", token),
        ]);
        std::fs::write(w.dir.join("main.tf"), &hcl).expect("write main.tf");
        let r = w.init();
        assert!(r.text().contains(&format!("Installed jenkins-eks/jenkins v{}", mirror().version)), "{}", r.text());
        w.assert_lock_file();

        let r = w.run(&["plan", "-input=false", "-no-color", "-out=stack.tfplan"]);
        assert_eq!(r.code, 0, "[{}] the demo's plan failed:\n{}", tf.version, r.text());
        let r = w.run(&["apply", "-input=false", "-no-color", "stack.tfplan"]);
        let applied = r.text();
        assert_eq!(r.code, 0, "[{}] the demo's apply failed:\n{applied}", tf.version);
        for bad in ["development overrides", "Provider produced", "Warning: Agent Pods Not Checked"] {
            assert!(!applied.contains(bad), "[{}] {bad}:\n{applied}", tf.version);
        }

        // What the demo lists as created.
        let state = w.run(&["state", "list"]);
        let mut listed: Vec<&str> = state.stdout.lines().collect();
        listed.sort_unstable();
        assert_eq!(
            listed,
            [
                "jenkins_agent_cloud.eks",
                "jenkins_agent_cloud.remote",
                "jenkins_cross_account_chain.deploy",
                "jenkins_irsa_role.ci",
                "jenkins_pod_template.base",
                "jenkins_pod_template.helm",
                "jenkins_pod_template.remote",
                "jenkins_remote_cluster_access.remote",
            ],
            "[{}]",
            tf.version
        );
        // Each cloud's pods passed the preflight during the apply, and the sidecar loaded both
        // clouds into Jenkins.
        for cloud in ["eks", "remote"] {
            let v = w.resource(&format!("jenkins_agent_cloud.{cloud}"));
            assert!(v["template_ids"].as_object().is_some_and(|m| !m.is_empty()), "{v}");
            let cm = v["configmap_name"].as_str().expect("configmap_name");
            let labels = env.get_json("configmap", cm).expect("the cloud's ConfigMap")["metadata"]["labels"].clone();
            assert_eq!(labels["jenkins-jenkins-config"], "true", "{labels}");
            let name = v["name"].as_str().expect("name");
            assert!(jenkins.state().clouds.iter().any(|c| c == name), "Jenkins runs {name}: {:?}", jenkins.state());
        }
        // The IRSA role in IAM, annotated on the service account it created.
        let arn = w.resource("jenkins_irsa_role.ci")["arn"].as_str().expect("arn").to_string();
        assert_eq!(arn, format!("arn:aws:iam::{}:role/jenkins-ci-role", env.account));
        let role: Json = serde_json::from_str(&env.aws(&["iam", "get-role", "--role-name", "jenkins-ci-role"]))
            .expect("get-role JSON");
        assert_eq!(role["Role"]["Arn"], arn.as_str());
        let sa = env.get_json("serviceaccount", "jenkins-serviceaccount").expect("the IRSA service account");
        assert_eq!(sa["metadata"]["annotations"]["eks.amazonaws.com/role-arn"], arn.as_str());
        // The profile chain's ConfigMap, and the deploy role it manages in the other account.
        let ini = w.resource("jenkins_cross_account_chain.deploy")["config_ini"].as_str().expect("ini").to_string();
        let cm = env.get_json("configmap", "awsconfig-configmap").expect("the chain's ConfigMap");
        assert_eq!(cm["data"]["config"].as_str(), Some(ini.as_str()));
        let deploy = crate::cross_account_chain::get_role(&env, &target, "jenkins-deploy-role").expect("deploy role");
        let trust = crate::cross_account_chain::trust_of(&deploy).to_string();
        assert!(trust.contains(&arn), "the deploy role trusts {arn}: {trust}");
        // The remote cluster's service account, Role and binding; the credential Secret here.
        for kind in ["serviceaccount", "role", "rolebinding"] {
            env.kubectl("remote", &["-n", &remote_ns, "get", kind, "jenkins-agent-controller"]);
        }
        assert!(env.get_json("secret", "remote-agents").is_some(), "the remote credential Secret");

        w.assert_plans_empty();
        w.destroy();
        let (ok, out) = env.aws_in(&env.account, &["iam", "get-role", "--role-name", "jenkins-ci-role"]);
        assert!(!ok && out.contains("NoSuchEntity"), "{out}");
        assert!(env.get_json("configmap", "awsconfig-configmap").is_none());
        assert!(env.get_json("secret", "remote-agents").is_none());
        w.cleanup();
    }
}
