//! `jenkins_cross_account_chain` through real Terraform: the seed's `prod` (IRSA) and `nonprod`
//! (chained) profiles in a ConfigMap of the emulated controller cluster, the nonprod role's trust
//! managed in a second moto account through an assumed admin role, the source grant, drift of
//! both, import, bad input, destroy.

use super::support::Env;
use acceptance_tests::stack::{self, fresh_account};
use acceptance_tests::terraform::{example, terraforms};
use serde_json::Value as Json;
use std::process::Command;

const CONFIGMAP: &str = "awsconfig-configmap";

/// A role in `account`, or `None` when IAM does not have it.
pub(super) fn get_role(env: &Env, account: &str, name: &str) -> Option<Json> {
    let (ok, out) = env.aws_in(account, &["iam", "get-role", "--role-name", name, "--output", "json"]);
    if !ok {
        assert!(out.contains("NoSuchEntity"), "get-role {name}: {out}");
        return None;
    }
    serde_json::from_str::<Json>(&out).ok().map(|j| j["Role"].clone())
}

/// The trust of a role as a JSON value (the CLI decodes it already, or hands back text).
pub(super) fn trust_of(role: &Json) -> Json {
    match &role["AssumeRolePolicyDocument"] {
        Json::String(s) => serde_json::from_str(&urlencoding_decode(s)).unwrap_or(Json::Null),
        other => other.clone(),
    }
}

fn urlencoding_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
pub(super) fn create_role(env: &Env, account: &str, name: &str, trust: &str) {
    let (ok, out) =
        env.aws_in(account, &["iam", "create-role", "--role-name", name, "--assume-role-policy-document", trust]);
    assert!(ok, "create-role {name}: {out}");
}

fn configmap_file(env: &Env) -> Option<String> {
    let cm = env.get_json("configmap", CONFIGMAP)?;
    cm.pointer("/data/config").and_then(Json::as_str).map(str::to_string)
}

/// The registry example with this test's accounts and namespace.
pub(super) fn seed_config(env: &Env, target: &str) -> String {
    let body = example("resources/jenkins_cross_account_chain/resource.tf")
        .replace("111111111111", &env.account)
        .replace("222222222222", target);
    format!("{}{body}", env.provider_block())
}

pub(super) const OTHER_TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

#[test]
fn seed_profiles_lifecycle_with_managed_trust_in_a_second_account() {
    for tf in terraforms() {
        let env = Env::new("chain-life");
        let target = fresh_account();
        create_role(&env, &env.account, "jenkins-ci-role", OTHER_TRUST);
        let w = env.installed_workdir("cross-account-chain-life", tf);
        w.write_config(&seed_config(&env, &target));
        let r = w.run(&["plan", "-no-color"]);
        assert!(r.text().contains("[profile nonprod]"), "config_ini shown line by line at plan:\n{}", r.text());
        w.apply();
        w.assert_plans_empty();

        // The ConfigMap holds exactly config_ini: the seed's two profiles.
        let state = w.resource("jenkins_cross_account_chain.deploy");
        let ini = state["config_ini"].as_str().expect("config_ini").to_string();
        assert_eq!(configmap_file(&env).as_deref(), Some(ini.as_str()));
        let prod_arn = format!("arn:aws:iam::{}:role/jenkins-ci-role", env.account);
        let nonprod_arn = format!("arn:aws:iam::{target}:role/jenkins-deploy-role");
        for needle in [
            "[profile prod]".to_string(),
            format!("role_arn = {prod_arn}"),
            "web_identity_token_file = /var/run/secrets/eks.amazonaws.com/serviceaccount/token".into(),
            "[profile nonprod]".into(),
            format!("role_arn = {nonprod_arn}"),
            "source_profile = prod".into(),
            "role_session_name = jenkinssession".into(),
        ] {
            assert!(ini.contains(&needle), "config_ini lacks {needle:?}:\n{ini}");
        }
        assert_eq!(state["namespace"], env.namespace.as_str());
        assert_eq!(state["container_env"]["AWS_CONFIG_FILE"], "/etc/aws/config");
        assert_eq!(state["container_env"]["AWS_PROFILE"], "nonprod");
        let snippet = state["mount_snippet"].as_str().expect("mount_snippet");
        assert!(snippet.contains("name: awsconfig-configmap") && !snippet.contains("subPath:"), "{snippet}");
        let cm = env.get_json("configmap", CONFIGMAP).expect("ConfigMap");
        assert_eq!(cm["metadata"]["labels"]["app.kubernetes.io/managed-by"], "terraform-provider-jenkins");

        // The target role was created in the second account, trusting the prod role.
        let role = get_role(&env, &target, "jenkins-deploy-role").expect("target role created");
        let trust = trust_of(&role).to_string();
        assert!(trust.contains(&prod_arn) && trust.contains("aws:PrincipalArn"), "{trust}");
        assert_eq!(state["created_roles"], serde_json::json!([nonprod_arn]));
        // The prod role got the identity permission.
        let (ok, policy) = env
            .aws_in(&env.account, &["iam", "list-role-policies", "--role-name", "jenkins-ci-role", "--output", "json"]);
        assert!(ok && policy.contains("jenkins-chain-"), "grant policy on the source role: {policy}");

        // Import by namespace/name round-trips.
        w.assert_import_round_trips(
            "jenkins_cross_account_chain.deploy",
            &format!("{}/{CONFIGMAP}", env.namespace),
            &[],
        );

        // A hand edit of the ConfigMap shows at plan; apply repairs it.
        env.kubectl(
            "controller",
            &[
                "-n",
                &env.namespace,
                "patch",
                "configmap",
                CONFIGMAP,
                "--type",
                "merge",
                "-p",
                r#"{"data":{"config":"[profile prod]\nregion = eu-west-1\n"}}"#,
            ],
        );
        w.assert_plan_shows(&["config_ini", "will be updated in-place"]);
        w.apply();
        w.assert_plans_empty();
        assert_eq!(configmap_file(&env).as_deref(), Some(ini.as_str()));

        // A hand edit of the managed trust shows at plan; apply repairs it.
        let (ok, out) = env.aws_in(
            &target,
            &[
                "iam",
                "update-assume-role-policy",
                "--role-name",
                "jenkins-deploy-role",
                "--policy-document",
                OTHER_TRUST,
            ],
        );
        assert!(ok, "{out}");
        w.assert_plan_shows(&["trust_policies", "ec2.amazonaws.com"]);
        w.apply();
        w.assert_plans_empty();
        let trust = trust_of(&get_role(&env, &target, "jenkins-deploy-role").expect("role")).to_string();
        assert!(trust.contains(&prod_arn) && !trust.contains("ec2.amazonaws.com"), "{trust}");

        // Destroy removes the ConfigMap, the role it created and the grant; the prod role stays.
        w.destroy();
        assert!(env.get_json("configmap", CONFIGMAP).is_none(), "ConfigMap left behind");
        assert!(get_role(&env, &target, "jenkins-deploy-role").is_none(), "created role left behind");
        let (_, policy) = env
            .aws_in(&env.account, &["iam", "list-role-policies", "--role-name", "jenkins-ci-role", "--output", "json"]);
        assert!(!policy.contains("jenkins-chain-"), "grant left behind: {policy}");
        assert!(get_role(&env, &env.account, "jenkins-ci-role").is_some(), "the source role is not ours");
        w.cleanup();
    }
}

/// A target role that already exists keeps existing: its trust is replaced while managed and
/// restored on destroy.
#[test]
fn an_existing_target_role_gets_its_trust_back_on_destroy() {
    let tf = &terraforms()[0];
    let env = Env::new("chain-existing");
    let target = fresh_account();
    create_role(&env, &target, "jenkins-deploy-role", OTHER_TRUST);
    let w = env.workdir("cross-account-chain-existing", tf);
    let config = seed_config(&env, &target)
        .replace("grant_source_permission = true", "grant_source_permission = false")
        .replace(
            "role_session_name = \"jenkinssession\"",
            "role_session_name = \"jenkinssession\"\n    external_id = \"ci-42\"",
        );
    w.write_config(&config);
    w.apply();
    w.assert_plans_empty();
    let trust = trust_of(&get_role(&env, &target, "jenkins-deploy-role").expect("role")).to_string();
    assert!(trust.contains("sts:ExternalId") && trust.contains("ci-42"), "{trust}");
    let state = w.resource("jenkins_cross_account_chain.deploy");
    assert_eq!(state["created_roles"], serde_json::json!([]));
    let nonprod_arn = format!("arn:aws:iam::{target}:role/jenkins-deploy-role");
    assert!(state["replaced_trusts"][&nonprod_arn].as_str().is_some_and(|t| t.contains("ec2.amazonaws.com")));
    w.destroy();
    let role = get_role(&env, &target, "jenkins-deploy-role").expect("a role we did not create is kept");
    assert!(trust_of(&role).to_string().contains("ec2.amazonaws.com"), "trust restored: {role}");
    w.cleanup();
}

/// Each bad input fails at plan, naming the attribute, with nothing written.
#[test]
fn bad_input_gets_a_clear_diagnostic_and_writes_nothing() {
    let tf = &terraforms()[0];
    let env = Env::new("chain-bad");
    let base = r#"
  base {
    name     = "prod"
    role_arn = "arn:aws:iam::111111111111:role/jenkins-ci-role"
    region   = "us-east-1"
  }
"#;
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "loop",
            r#"
  hop {
    name           = "a"
    role_arn       = "arn:aws:iam::222222222222:role/a"
    source_profile = "b"
  }
  hop {
    name           = "b"
    role_arn       = "arn:aws:iam::222222222222:role/b"
    source_profile = "a"
  }
"#,
            &["Profile Chain Loop", "source_profile"],
        ),
        (
            "duration",
            r#"
  hop {
    name             = "nonprod"
    role_arn         = "arn:aws:iam::222222222222:role/deploy"
    source_profile   = "prod"
    duration_seconds = 7200
  }
"#,
            &["Chained Session Over One Hour", "duration_seconds"],
        ),
        (
            "two-sources",
            r#"
  hop {
    name              = "nonprod"
    role_arn          = "arn:aws:iam::222222222222:role/deploy"
    source_profile    = "prod"
    credential_source = "Environment"
  }
"#,
            &["Both Source Profile And Credential Source", "credential_source"],
        ),
        (
            "external-id",
            r#"
  hop {
    name           = "nonprod"
    role_arn       = "arn:aws:iam::222222222222:role/deploy"
    source_profile = "prod"
    external_id    = "x"
  }
"#,
            &["Invalid External ID", "external_id"],
        ),
        (
            "admin-elsewhere",
            r#"
  hop {
    name           = "nonprod"
    role_arn       = "arn:aws:iam::222222222222:role/deploy"
    source_profile = "prod"
    manage_trust {
      admin_role_arn = "arn:aws:iam::333333333333:role/admin"
    }
  }
"#,
            &["Admin Role In Another Account", "admin_role_arn"],
        ),
        (
            "unknown-source",
            r#"
  hop {
    name           = "nonprod"
    role_arn       = "arn:aws:iam::222222222222:role/deploy"
    source_profile = "staging"
  }
"#,
            &["Unknown Source Profile", "source_profile"],
        ),
        (
            "no-source",
            r#"
  hop {
    name     = "nonprod"
    role_arn = "arn:aws:iam::222222222222:role/deploy"
  }
"#,
            &["Missing Credential Source", "hop[0]"],
        ),
        (
            "profile-name",
            r#"
  hop {
    name           = "non prod"
    role_arn       = "arn:aws:iam::222222222222:role/deploy"
    source_profile = "prod"
  }
"#,
            &["Invalid Profile Name", "hop[0].name"],
        ),
        (
            "role-arn",
            r#"
  hop {
    name           = "nonprod"
    role_arn       = "arn:aws:iam::2222:role/deploy"
    source_profile = "prod"
  }
"#,
            &["Invalid Role ARN", "hop[0].role_arn"],
        ),
        (
            "region",
            r#"
  hop {
    name           = "nonprod"
    role_arn       = "arn:aws:iam::222222222222:role/deploy"
    source_profile = "prod"
    region         = "mars-1"
  }
"#,
            &["Invalid Region", "hop[0].region"],
        ),
    ];
    for (name, hops, needles) in cases {
        let w = env.workdir(&format!("cross-account-chain-bad-{name}"), tf);
        w.write_config(&format!(
            "{}resource \"jenkins_cross_account_chain\" \"c\" {{{base}{hops}}}\n",
            env.provider_block()
        ));
        w.expect_error(&["plan", "-no-color"], needles);
        w.expect_error(&["apply", "-auto-approve", "-no-color"], needles);
        assert!(env.get_json("configmap", CONFIGMAP).is_none(), "{name}: nothing written");
        w.cleanup();
    }
}

/// A source role whose identity policies (read from IAM at plan) do not allow `sts:AssumeRole`
/// on the hop's role gets a warning naming the hop; nothing else is blocked. A managed policy
/// attached to the role that grants it counts as much as an inline one.
#[test]
fn a_source_role_without_the_identity_permission_is_warned_about_at_plan() {
    let tf = &terraforms()[0];
    let env = Env::new("chain-perm");
    let target = fresh_account();
    create_role(&env, &env.account, "jenkins-ci-role", OTHER_TRUST);
    let w = env.workdir("cross-account-chain-perm", tf);
    w.write_config(
        &seed_config(&env, &target).replace("grant_source_permission = true", "grant_source_permission = false"),
    );
    let r = w.run(&["plan", "-no-color"]);
    assert_eq!(r.code, 0, "a warning, not an error:\n{}", r.text());
    let text = r.text();
    assert!(text.contains("Source Role May Not Assume The Target") && text.contains("nonprod"), "{text}");

    // An unrelated managed policy changes nothing; one granting the assume silences the warning.
    let attach = |name: &str, action: &str, resource: &str| {
        let doc = format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"{action}","Resource":"{resource}"}}]}}"#
        );
        let (ok, out) =
            env.aws_in(&env.account, &["iam", "create-policy", "--policy-name", name, "--policy-document", &doc]);
        assert!(ok, "create-policy {name}: {out}");
        let arn = format!("arn:aws:iam::{}:policy/{name}", env.account);
        let (ok, out) = env.aws_in(
            &env.account,
            &["iam", "attach-role-policy", "--role-name", "jenkins-ci-role", "--policy-arn", &arn],
        );
        assert!(ok, "attach-role-policy {name}: {out}");
    };
    attach("list-buckets", "s3:ListBucket", "*");
    let text = w.run(&["plan", "-no-color"]).text();
    assert!(text.contains("Source Role May Not Assume The Target"), "{text}");
    attach("assume-deploy", "sts:AssumeRole", &format!("arn:aws:iam::{target}:role/*"));
    let r = w.run(&["plan", "-no-color"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(!r.text().contains("Source Role May Not Assume The Target"), "{}", r.text());
    w.cleanup();
}

/// A ConfigMap of that name someone else made is refused, untouched, and no IAM change is made.
#[test]
fn a_foreign_configmap_is_never_adopted() {
    let tf = &terraforms()[0];
    let env = Env::new("chain-foreign");
    let target = fresh_account();
    create_role(&env, &env.account, "jenkins-ci-role", OTHER_TRUST);
    env.kubectl("controller", &["-n", &env.namespace, "create", "configmap", CONFIGMAP, "--from-literal=config=x"]);
    let w = env.workdir("cross-account-chain-foreign", tf);
    w.write_config(&seed_config(&env, &target));
    w.expect_error(
        &["apply", "-auto-approve", "-no-color"],
        &["Error: ConfigMap Owned By Someone Else", "never adopts"],
    );
    assert_eq!(configmap_file(&env).as_deref(), Some("x"), "the foreign ConfigMap is untouched");
    assert!(get_role(&env, &target, "jenkins-deploy-role").is_none(), "no IAM change before the refusal");
    w.cleanup();
}

/// The generated file works with real SDKs' profile resolution: botocore (the AWS CLI) and
/// aws-config for Rust each read it, authenticate the base profile with a web-identity token and
/// assume the chained hop against the local stand-in, landing in the target account.
#[test]
fn the_generated_file_resolves_with_a_real_sdk() {
    let tf = &terraforms()[0];
    let env = Env::new("chain-sdk");
    let target = fresh_account();
    create_role(&env, &env.account, "jenkins-ci-role", OTHER_TRUST);
    let w = env.workdir("cross-account-chain-sdk", tf);
    let token = w.dir.join("token");
    std::fs::write(&token, "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6amVua2luczpqZW5raW5zIn0.c2ln")
        .expect("write token");
    let config = seed_config(&env, &target).replace(
        "    region   = \"us-east-1\"\n  }",
        &format!("    region   = \"us-east-1\"\n    web_identity_token_file = \"{}\"\n  }}", token.display()),
    );
    w.write_config(&config);
    w.apply();
    let ini = w.resource("jenkins_cross_account_chain.deploy")["config_ini"].as_str().expect("config_ini").to_string();
    let file = w.dir.join("aws-config");
    std::fs::write(&file, &ini).expect("write config");
    let id = cli_identity(&env, &w.dir, &file, "nonprod", &ini);
    assert_eq!(id["Account"], target.as_str(), "{id}");
    assert!(id["Arn"].as_str().is_some_and(|a| a.contains("jenkins-deploy-role/jenkinssession")), "{id}");

    // The same file through aws-config for Rust: its profile chain reads the file, exchanges the
    // web-identity token and assumes the hop, against the local stand-in.
    let (account, arn) = resolve_with_rust_sdk(&file, &w.dir.join("no-credentials"), "nonprod");
    assert_eq!(account, target, "aws-config resolved profile nonprod into the wrong account ({arn})");
    assert!(arn.contains("jenkins-deploy-role/jenkinssession"), "{arn}");
    w.destroy();
    w.cleanup();
}

/// The caller identity of `profile` of the config file `file` as the AWS CLI (botocore) resolves
/// it, with no credentials but the file's (home and CLI cache in `dir`); `ini` is shown on failure.
pub(super) fn cli_identity(env: &Env, dir: &std::path::Path, file: &std::path::Path, profile: &str, ini: &str) -> Json {
    let venv = std::env::var("TFPJ_VENV").unwrap_or_else(|_| format!("{}/../.venv", env!("CARGO_MANIFEST_DIR")));
    let out = Command::new(format!("{venv}/bin/aws"))
        .args(["sts", "get-caller-identity", "--profile", profile, "--output", "json"])
        .envs(env.vars().into_iter().filter(|(k, _)| {
            !k.starts_with("AWS_ACCESS_KEY") && !k.starts_with("AWS_SECRET") && k != "AWS_SESSION_TOKEN"
        }))
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .env("AWS_CONFIG_FILE", file)
        .env("AWS_SHARED_CREDENTIALS_FILE", dir.join("no-credentials"))
        // The CLI caches assumed-role credentials under ~/.aws/cli/cache by role ARN; account ids
        // repeat across test runs while each stack is new, so a stale cache would answer instead.
        .env("HOME", dir)
        .output()
        .expect("run aws");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "profile {profile} does not resolve:\n{text}\n{ini}");
    let id: Json = serde_json::from_slice(&out.stdout).expect("caller identity JSON");
    id
}

/// Resolves `profile` of the config file `config` with aws-config for Rust, in a helper process of
/// its own with no environment credentials, and returns the caller identity's account and ARN.
fn resolve_with_rust_sdk(config: &std::path::Path, credentials: &std::path::Path, profile: &str) -> (String, String) {
    std::fs::write(credentials, "").expect("empty credentials file");
    let moto = acceptance_tests::stack::shared().moto_url.clone();
    let home = config.parent().expect("workdir");
    let out = Command::new(env!("CARGO_BIN_EXE_aws-profile-identity"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("AWS_CONFIG_FILE", config)
        .env("AWS_SHARED_CREDENTIALS_FILE", credentials)
        .env("AWS_PROFILE", profile)
        .env("AWS_ENDPOINT_URL", &moto)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .expect("run aws-profile-identity");
    assert!(
        out.status.success(),
        "aws-config could not resolve profile {profile}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let id: Json = serde_json::from_slice(&out.stdout).expect("identity JSON");
    (id["Account"].as_str().unwrap_or_default().to_string(), id["Arn"].as_str().unwrap_or_default().to_string())
}

/// A source role that does not exist: planned without `grant_source_permission`, a warning at
/// the hop's `source_profile` (builds would fail, the plan does not); applied with it, an error
/// at `grant_source_permission`, since there is no role to grant `sts:AssumeRole` to.
#[test]
fn a_missing_source_role_warns_at_plan_and_fails_the_grant() {
    let tf = &terraforms()[0];
    let env = Env::new("chain-nosrc");
    let target = fresh_account();
    let w = env.workdir("cross-account-chain-nosrc", tf);
    let granting = seed_config(&env, &target);
    w.write_config(&granting.replace("grant_source_permission = true", "grant_source_permission = false"));
    let r = w.run(&["plan", "-no-color"]);
    assert_eq!(r.code, 0, "a warning, not an error:\n{}", r.text());
    let text = r.text();
    assert!(
        text.contains("Warning: Source Role Not Found")
            && text.contains("jenkins-ci-role")
            && text.contains("source_profile"),
        "{text}"
    );

    w.write_config(&granting);
    w.expect_error(
        &["apply", "-auto-approve", "-no-color"],
        &["Error: Source Role Not Found", "grant_source_permission", "jenkins-ci-role", "Create it first"],
    );
    assert!(get_role(&env, &env.account, "jenkins-ci-role").is_none(), "no source role was made up");
    w.destroy();
    assert!(get_role(&env, &target, "jenkins-deploy-role").is_none(), "destroy removed the target role it made");
    w.cleanup();
}

/// A source role in an account the provider has no way into (its credentials act elsewhere and no
/// hop's admin role is there) cannot be granted: the apply names the account and what to add.
#[test]
fn a_source_role_in_an_unreachable_account_cannot_be_granted() {
    let tf = &terraforms()[0];
    let env = Env::new("chain-noway");
    let (elsewhere, target) = (fresh_account(), fresh_account());
    create_role(&env, &elsewhere, "jenkins-ci-role", OTHER_TRUST);
    let w = env.workdir("cross-account-chain-noway", tf);
    let body = example("resources/jenkins_cross_account_chain/resource.tf")
        .replace("111111111111", &elsewhere)
        .replace("222222222222", &target);
    w.write_config(&format!("{}{body}", env.provider_block()));
    w.expect_error(
        &["apply", "-auto-approve", "-no-color"],
        &["Error: No Way Into The Account", "grant_source_permission", &elsewhere, "manage_trust"],
    );
    let (_, policies) =
        env.aws_in(&elsewhere, &["iam", "list-role-policies", "--role-name", "jenkins-ci-role", "--output", "json"]);
    assert!(!policies.contains("jenkins-chain-"), "nothing granted in the other account: {policies}");
    // The failed apply recorded the target role it made (and no grant), so destroy undoes it.
    w.destroy();
    assert!(get_role(&env, &target, "jenkins-deploy-role").is_none(), "destroy removed the target role it made");
    w.cleanup();
}

/// An admin role the provider may not assume fails the apply naming the account's admin role and
/// what to check, before any IAM change in that account; the fault is asserted to have fired.
#[test]
fn an_admin_role_that_refuses_the_provider_fails_the_apply_naming_it() {
    let tf = &terraforms()[0];
    let env = Env::new("chain-refused");
    let target = fresh_account();
    create_role(&env, &env.account, "jenkins-ci-role", OTHER_TRUST);
    let w = env.workdir("cross-account-chain-refused", tf);
    w.write_config(&seed_config(&env, &target));
    let s = stack::shared();
    s.fail(&env.account, "sts:AssumeRole", 20, 403, "AccessDenied");
    let r = w.expect_error(
        &["apply", "-auto-approve", "-no-color"],
        &["Error: Cannot Reach The Account", "OrganizationAccountAccessRole", "Check the admin role's trust"],
    );
    s.assert_fired(&env.account, "error AccessDenied", "sts:AssumeRole", 1);
    let retried = s.fired_count(&env.account, "error AccessDenied", "sts:AssumeRole");
    s.clear_faults(&env.account);
    assert!(retried <= 3, "an access denial is not retried through the budget ({retried} calls):\n{}", r.text());
    assert!(get_role(&env, &target, "jenkins-deploy-role").is_none(), "no IAM change in the target account");
    // With the admin role assumable again, a rerun converges.
    w.apply();
    assert!(get_role(&env, &target, "jenkins-deploy-role").is_some(), "the rerun made the target role");
    w.assert_plans_empty();
    w.destroy();
    w.cleanup();
}
