//! `jenkins_irsa_role` through real Terraform against the local stack: the role and its trust in
//! moto, the annotation on service accounts of the emulated controller cluster (one of them owned
//! by Helm), import, drift, IAM's eventual consistency and throttling, plan-time errors, destroy.

use super::support::Env;
use acceptance_tests::stack;
use acceptance_tests::terraform::{Workdir, terraforms};
use serde_json::Value as Json;

/// The IAM OIDC provider of an emulated cluster, created as a platform team would.
pub(super) fn create_oidc_provider(env: &Env, cluster: &str) -> String {
    let out = env.aws(&["eks", "describe-cluster", "--name", cluster, "--output", "json"]);
    let json: Json = serde_json::from_str(&out).expect("describe-cluster JSON");
    let issuer = json["cluster"]["identity"]["oidc"]["issuer"].as_str().expect("issuer").to_string();
    env.aws(&["iam", "create-open-id-connect-provider", "--url", &issuer, "--client-id-list", "sts.amazonaws.com"]);
    issuer
}

/// A service account in the test's namespace; `helm` makes it look like the chart's: Helm's
/// labels and annotations, applied server-side by the `helm` field manager.
fn create_service_account(env: &Env, name: &str, helm: bool, dir: &std::path::Path) {
    let meta = if helm {
        format!(
            "  labels:\n    app.kubernetes.io/managed-by: Helm\n  annotations:\n    meta.helm.sh/release-name: jenkins\n    meta.helm.sh/release-namespace: {}\n",
            env.namespace
        )
    } else {
        String::new()
    };
    let yaml = format!(
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {name}\n  namespace: {}\n{meta}",
        env.namespace
    );
    let file = dir.join(format!("sa-{name}.yaml"));
    std::fs::write(&file, yaml).expect("write service account");
    let file = file.display().to_string();
    env.kubectl("controller", &["apply", "--server-side", "--field-manager", "helm", "-f", &file]);
}

pub(super) fn role(env: &Env, name: &str) -> Json {
    let out = env.aws(&["iam", "get-role", "--role-name", name, "--output", "json"]);
    serde_json::from_str::<Json>(&out).expect("get-role JSON")["Role"].clone()
}

pub(super) fn role_names(env: &Env) -> Vec<String> {
    let out = env.aws(&["iam", "list-roles", "--output", "json"]);
    let json: Json = serde_json::from_str(&out).expect("list-roles JSON");
    json["Roles"].as_array().into_iter().flatten().filter_map(|r| r["RoleName"].as_str().map(str::to_string)).collect()
}

fn annotation(env: &Env, sa: &str) -> Option<String> {
    let obj = env.get_json("serviceaccount", sa)?;
    obj.pointer("/metadata/annotations/eks.amazonaws.com~1role-arn").and_then(Json::as_str).map(str::to_string)
}

fn config(env: &Env, extra: &str, policy_arn: &str) -> String {
    format!(
        r#"{provider}
resource "jenkins_irsa_role" "ci" {{
  name        = "ci-{ns}"
  description = "Jenkins CI"
  clusters    = ["controller"]
  service_accounts = [
    {{ namespace = "{ns}", name = "jenkins" }},
    {{ namespace = "{ns}", name = "agents" }},
  ]
  managed_policy_arns = ["{policy_arn}"]
  inline_policies = {{
    artifacts = jsonencode({{
      Version   = "2012-10-17"
      Statement = [{{ Effect = "Allow", Action = ["s3:PutObject", "s3:GetObject"], Resource = "arn:aws:s3:::ci/*" }}]
    }})
  }}
  tags = {{ team = "ci" }}
  {extra}
}}
"#,
        provider = env.provider_block(),
        ns = env.namespace,
    )
}

fn create_policy(env: &Env, name: &str) -> String {
    let doc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}]}"#;
    let out = env.aws(&["iam", "create-policy", "--policy-name", name, "--policy-document", doc, "--output", "json"]);
    let json: Json = serde_json::from_str(&out).expect("create-policy JSON");
    json["Policy"]["Arn"].as_str().expect("policy arn").to_string()
}

/// A test's account with the controller's OIDC provider and a managed policy, and a workdir whose
/// configuration is the role without annotations: (environment, workdir, role name, policy ARN).
pub(super) fn unannotated_role(prefix: &str) -> (Env, Workdir, String, String) {
    let env = Env::new(prefix);
    let w = env.workdir(prefix, &terraforms()[0]);
    create_oidc_provider(&env, "controller");
    let policy = create_policy(&env, "ci-list");
    w.write_config(&config(&env, "annotate_service_accounts = false", &policy));
    let name = format!("ci-{}", env.namespace);
    (env, w, name, policy)
}

#[test]
fn lifecycle_create_import_drift_destroy() {
    for tf in terraforms() {
        let env = Env::new("irsa-life");
        let w = env.installed_workdir("irsa-life", tf);
        create_oidc_provider(&env, "controller");
        create_service_account(&env, "jenkins", true, &w.dir);
        create_service_account(&env, "agents", false, &w.dir);
        let policy = create_policy(&env, "ci-list");
        let name = format!("ci-{}", env.namespace);
        // A build pod already running under a service account the role annotates.
        let pod = w.dir.join("pod.yaml");
        std::fs::write(
            &pod,
            format!(
                "apiVersion: v1\nkind: Pod\nmetadata:\n  name: build-1\n  namespace: {}\nspec:\n  serviceAccountName: agents\n  containers:\n    - name: jnlp\n      image: jenkins/inbound-agent\n",
                env.namespace
            ),
        )
        .expect("write pod");
        env.kubectl("controller", &["apply", "-f", &pod.display().to_string()]);
        w.write_config(&config(&env, "", &policy));
        let r = w.run(&["plan", "-no-color"]);
        assert!(r.stdout.contains("sts:AssumeRoleWithWebIdentity"), "trust shown at plan:\n{}", r.text());
        // Only new pods get the webhook's token: the apply names the running one.
        let r = w.apply();
        assert!(r.text().contains("Running Pods Keep Their Old Credentials"), "{}", r.text());
        assert!(r.text().contains("build-1"), "{}", r.text());
        w.assert_plans_empty();

        // The role in IAM: our owner tag, one IRSA statement with both subjects under StringEquals.
        let live = role(&env, &name);
        let arn = live["Arn"].as_str().expect("arn").to_string();
        let tags = live["Tags"].to_string();
        assert!(tags.contains("jenkins-eks.io/resource") && tags.contains(&format!("irsa-role/{name}")), "{tags}");
        let trust = live["AssumeRolePolicyDocument"].to_string();
        for needle in [
            format!("system:serviceaccount:{}:jenkins", env.namespace),
            format!("system:serviceaccount:{}:agents", env.namespace),
            "StringEquals".to_string(),
            "sts.amazonaws.com".to_string(),
        ] {
            assert!(trust.contains(&needle), "trust lacks {needle}: {trust}");
        }
        assert!(!trust.contains("StringLike"), "{trust}");

        // Both service accounts annotated; the Helm one keeps Helm's fields and owner.
        assert_eq!(annotation(&env, "jenkins").as_deref(), Some(arn.as_str()));
        assert_eq!(annotation(&env, "agents").as_deref(), Some(arn.as_str()));
        let helm_sa = env.get_json("serviceaccount", "jenkins").expect("sa");
        assert_eq!(helm_sa["metadata"]["labels"]["app.kubernetes.io/managed-by"], "Helm", "{helm_sa}");
        assert_eq!(helm_sa["metadata"]["annotations"]["meta.helm.sh/release-name"], "jenkins", "{helm_sa}");
        let with_fields = env.kubectl(
            "controller",
            &["-n", &env.namespace, "get", "serviceaccount", "jenkins", "-o", "json", "--show-managed-fields"],
        );
        let with_fields: Json = serde_json::from_str(&with_fields).expect("JSON");
        let managers: Vec<&str> = with_fields["metadata"]["managedFields"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|m| m["manager"].as_str())
            .collect();
        assert!(managers.contains(&"helm") && managers.contains(&"terraform-provider-jenkins"), "{managers:?}");
        let state = w.resource("jenkins_irsa_role.ci");
        assert_eq!(state["arn"], arn.as_str());
        assert!(state["trust_policy"].as_str().is_some_and(|t| t.contains('\n')), "trust is pretty: {state}");

        // Import by role name round-trips.
        w.assert_import_round_trips("jenkins_irsa_role.ci", &name, &[]);

        // Drift: a policy detached by hand shows at plan; apply repairs it.
        env.aws(&["iam", "detach-role-policy", "--role-name", &name, "--policy-arn", &policy]);
        w.assert_plan_shows(&["managed_policy_arns", &policy]);
        w.apply();
        w.assert_plans_empty();
        assert!(role_policies(&env, &name).contains(&policy));

        // Drift: the annotation removed by someone, and the trust edited in the console.
        env.kubectl(
            "controller",
            &["-n", &env.namespace, "annotate", "serviceaccount", "agents", "eks.amazonaws.com/role-arn-"],
        );
        let foreign = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
        env.aws(&["iam", "update-assume-role-policy", "--role-name", &name, "--policy-document", foreign]);
        w.assert_plan_shows(&["service_account_annotations", "trust_policy", "ec2.amazonaws.com"]);
        w.apply();
        w.assert_plans_empty();
        assert_eq!(annotation(&env, "agents").as_deref(), Some(arn.as_str()));
        assert!(!role(&env, &name)["AssumeRolePolicyDocument"].to_string().contains("ec2.amazonaws.com"));

        // Destroy: the plan warns that running pods lose the role; the role goes; only our
        // annotation goes, the service accounts and Helm's fields stay.
        let r = w.run(&["plan", "-destroy", "-no-color"]);
        assert!(r.text().contains("Running Pods Keep The Role Until Restarted"), "{}", r.text());
        w.destroy();
        assert!(!role_names(&env).contains(&name));
        let helm_sa = env.get_json("serviceaccount", "jenkins").expect("Helm's service account stays");
        assert_eq!(helm_sa["metadata"]["annotations"]["meta.helm.sh/release-name"], "jenkins", "{helm_sa}");
        let dump = env.kubectl(
            "controller",
            &["-n", &env.namespace, "get", "serviceaccount", "jenkins", "-o", "json", "--show-managed-fields"],
        );
        assert_eq!(annotation(&env, "jenkins"), None, "{dump}");
        let dump = env.kubectl(
            "controller",
            &["-n", &env.namespace, "get", "serviceaccount", "agents", "-o", "json", "--show-managed-fields"],
        );
        assert_eq!(annotation(&env, "agents"), None, "{dump}");
        assert!(env.get_json("serviceaccount", "agents").is_some());
        w.cleanup();
    }
}

pub(super) fn role_policies(env: &Env, name: &str) -> Vec<String> {
    let out = env.aws(&["iam", "list-attached-role-policies", "--role-name", name, "--output", "json"]);
    let json: Json = serde_json::from_str(&out).expect("JSON");
    json["AttachedPolicies"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["PolicyArn"].as_str().map(str::to_string))
        .collect()
}

/// `manage_oidc_provider` creates the missing provider; `create_service_account` creates the
/// service account as ours and destroy deletes it.
#[test]
fn creates_oidc_provider_and_service_account() {
    let env = Env::new("irsa-create");
    let w = env.workdir("irsa-create", &terraforms()[0]);
    let policy = create_policy(&env, "ci-list");
    w.write_config(&config(&env, "manage_oidc_provider = true\n  create_service_account = true", &policy));
    w.apply();
    w.assert_plans_empty();
    let providers = env.aws(&["iam", "list-open-id-connect-providers", "--output", "json"]);
    assert!(providers.contains("oidc-provider/oidc.eks."), "{providers}");
    let sa = env.get_json("serviceaccount", "jenkins").expect("created");
    assert_eq!(sa["metadata"]["labels"]["jenkins-eks.io/resource"], "irsa-role", "{sa}");
    assert!(annotation(&env, "agents").is_some());
    w.destroy();
    assert!(env.get_json("serviceaccount", "jenkins").is_none(), "the service account we created is deleted");
    w.cleanup();
}

/// IAM's eventual consistency and throttling, armed in the AWS stand-in, fire during apply and the
/// apply still succeeds.
#[test]
fn retries_propagation_and_throttling() {
    // The apply creates the OIDC provider itself, so the trust's `Federated` principal is seconds
    // old when CreateRole names it (one created beforehand may be older than the window by then).
    let env = Env::new("irsa-retry");
    let w = env.workdir("irsa-retry", &terraforms()[0]);
    let policy = create_policy(&env, "ci-list");
    w.write_config(&config(&env, "manage_oidc_provider = true\n  annotate_service_accounts = false", &policy));
    let s = stack::shared();
    s.new_role_not_found_reads(&env.account, 3);
    s.invalid_principal_for(&env.account, 3.0);
    s.throttle(&env.account, "iam:GetRole", 2);
    s.throttle(&env.account, "iam:AttachRolePolicy", 1);
    w.apply();
    let left = s.armed(&env.account);
    let refused = s.fired_count(&env.account, "invalid_principal", "iam:CreateRole");
    s.clear_faults(&env.account);
    // Throttles and NoSuchEntity reads were all used up during apply. The OIDC provider was created
    // just before, so CreateRole first met "Invalid principal" for its `Federated` principal and
    // the provider retried until the stand-in let it through (counted by the stand-in).
    assert!(left.is_empty(), "every armed fault fired: {left:?}");
    assert!(refused > 0, "CreateRole met \"Invalid principal\" at least once, and was retried");
    w.assert_plans_empty();
    w.destroy();
    w.cleanup();
}

/// An apply stopped halfway (the role created, then a permission missing for the attachment)
/// fails with the AWS error; the rerun converges on the same role, nothing is orphaned, and
/// destroy retries through `DeleteConflict` and leaves nothing behind.
#[test]
fn an_interrupted_apply_converges_on_rerun() {
    let (env, w, name, policy) = unannotated_role("irsa-rerun");
    let s = stack::shared();
    s.fail(&env.account, "iam:AttachRolePolicy", 1, 403, "AccessDenied");
    w.expect_error(&["apply", "-auto-approve", "-no-color"], &["AccessDenied", "AttachRolePolicy"]);
    s.clear_faults(&env.account);
    assert!(role_names(&env).contains(&name), "the role was created before the failure");

    w.apply();
    w.assert_plans_empty();
    assert_eq!(role_names(&env).iter().filter(|n| **n == name).count(), 1);
    assert!(role_policies(&env, &name).contains(&policy), "the rerun attached the policy");

    // IAM answers DeleteConflict while the detach propagates: destroy retries through it.
    s.fail(&env.account, "iam:DeleteRole", 2, 409, "DeleteConflict");
    w.destroy();
    let left = s.armed(&env.account);
    s.clear_faults(&env.account);
    assert!(left.is_empty(), "both conflicts were met: {left:?}");
    assert!(!role_names(&env).contains(&name), "destroy removes the role");
    w.cleanup();
}

/// A trust in which IAM shows a principal as its unique id (`AROA…`: the role it named was
/// deleted) is reported at plan and written again at apply, once: no flapping afterwards.
#[test]
fn a_deleted_principal_in_the_trust_is_reported_and_repaired() {
    let (env, w, name, _) = unannotated_role("irsa-aroa");
    w.apply();
    let mut trust: Json =
        serde_json::from_str(w.resource("jenkins_irsa_role.ci")["trust_policy"].as_str().expect("trust"))
            .expect("trust JSON");
    let statements = trust["Statement"].as_array_mut().expect("statements");
    statements.push(serde_json::json!({
        "Effect": "Allow",
        "Principal": {"AWS": "AROA3EXAMPLEDELETED01"},
        "Action": "sts:AssumeRole"
    }));
    env.aws(&["iam", "update-assume-role-policy", "--role-name", &name, "--policy-document", &trust.to_string()]);
    let r = w.assert_plan_shows(&["trust_policy", "AROA3EXAMPLEDELETED01"]);
    assert!(r.text().contains("Trust Names A Deleted Principal"), "{}", r.text());
    w.apply();
    w.assert_plans_empty();
    assert!(!role(&env, &name)["AssumeRolePolicyDocument"].to_string().contains("AROA"));
    w.destroy();
    w.cleanup();
}

/// Policies compare by meaning: an out-of-band rewrite of the inline policy and of the trust into
/// an equivalent form (other order, one-element lists, whitespace) is not drift, and the state
/// keeps the configuration's spelling; a rewrite that changes the meaning is drift.
#[test]
fn equivalent_rewrites_are_not_drift() {
    let (env, w, name, _) = unannotated_role("irsa-equiv");
    w.apply();
    let before = w.resource("jenkins_irsa_role.ci");

    let equivalent = r#"{ "Statement": [ { "Resource": ["arn:aws:s3:::ci/*"],
        "Action": ["s3:GetObject", "s3:PutObject"], "Effect": "Allow" } ], "Version": "2012-10-17" }"#;
    env.aws(&[
        "iam",
        "put-role-policy",
        "--role-name",
        &name,
        "--policy-name",
        "artifacts",
        "--policy-document",
        equivalent,
    ]);
    let mut trust: Json = serde_json::from_str(before["trust_policy"].as_str().expect("trust")).expect("trust JSON");
    for statement in trust["Statement"].as_array_mut().expect("statements") {
        statement["Action"] = serde_json::json!([statement["Action"].clone()]);
    }
    trust["Statement"].as_array_mut().expect("statements").reverse();
    env.aws(&["iam", "update-assume-role-policy", "--role-name", &name, "--policy-document", &trust.to_string()]);
    w.assert_plans_empty();
    let after = w.resource("jenkins_irsa_role.ci");
    assert_eq!(after["inline_policies"], before["inline_policies"], "the configuration's spelling stays");
    assert_eq!(after["trust_policy"], before["trust_policy"]);

    let wider =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::ci/*"}]}"#;
    env.aws(&[
        "iam",
        "put-role-policy",
        "--role-name",
        &name,
        "--policy-name",
        "artifacts",
        "--policy-document",
        wider,
    ]);
    w.assert_plan_shows(&["inline_policies", "s3:*"]);
    w.apply();
    w.assert_plans_empty();
    w.destroy();
    w.cleanup();
}

/// `import` blocks with `-generate-config-out`: the configuration Terraform writes from an
/// imported role applies with no change and then plans empty.
#[test]
fn import_blocks_generate_configuration_that_round_trips() {
    let env = Env::new("irsa-gen");
    let made = env.workdir("irsa-gen-made", &terraforms()[0]);
    create_oidc_provider(&env, "controller");
    create_service_account(&env, "jenkins", true, &made.dir);
    create_service_account(&env, "agents", false, &made.dir);
    let policy = create_policy(&env, "ci-list");
    let name = format!("ci-{}", env.namespace);
    made.write_config(&config(&env, "", &policy));
    made.apply();

    let w = env.workdir("irsa-gen", &terraforms()[0]);
    w.write_config(&format!("{}import {{\n  to = jenkins_irsa_role.ci\n  id = \"{name}\"\n}}\n", env.provider_block()));
    let r = w.run(&["plan", "-no-color", "-generate-config-out=generated.tf"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(r.stdout.contains("1 to import, 0 to add, 0 to change, 0 to destroy"), "{}", r.stdout);
    let generated = std::fs::read_to_string(w.dir.join("generated.tf")).expect("generated.tf");
    assert!(generated.contains(&policy) && generated.contains("artifacts"), "{generated}");
    let r = w.apply();
    assert!(r.stdout.contains("1 imported, 0 added, 0 changed, 0 destroyed"), "{}", r.stdout);
    w.assert_plans_empty();
    w.destroy();
    assert!(!role_names(&env).contains(&name));
    w.cleanup();
    made.cleanup();
}

/// Bad input fails at plan with the attribute named, and nothing is created.
#[test]
fn bad_input_fails_at_plan() {
    let env = Env::new("irsa-bad");
    let w = env.workdir("irsa-bad", &terraforms()[0]);
    let policy = create_policy(&env, "ci-list");
    let principal_in_identity_policy = config(&env, "", &policy)
        .replace("Effect = \"Allow\", Action", "Effect = \"Allow\", Principal = \"*\", Action");
    let cases: [(String, &[&str]); 9] = [
        (config(&env, "trust_policy_quota = 300", &policy), &["Trust Policy Too Long", "trust_policy_quota", "fit"]),
        (config(&env, "path = \"ci\"", &policy), &["Invalid Role Path", "path"]),
        (config(&env, "max_session_duration = 60", &policy), &["max_session_duration", "3600"]),
        (principal_in_identity_policy, &["Invalid Policy Document", "inline_policies", "Principal"]),
        (config(&env, "", "arn:aws:s3:::not-a-policy"), &["Invalid Policy ARN", "managed_policy_arns"]),
        (
            config(&env, "", &policy).replace(
                &format!("namespace = \"{}\", name = \"jenkins\"", env.namespace),
                "namespace = \"Bad_NS\", name = \"jenkins\"",
            ),
            &["Invalid Service Account", "service_accounts", "Bad_NS"],
        ),
        (
            config(&env, "", &policy)
                .replace("artifacts = jsonencode(", "broken = \"{not json\"\n    artifacts = jsonencode("),
            &["Invalid Policy Document", "inline_policies"],
        ),
        (config(&env, "", &policy).replace("name        = \"ci-", "name        = \"bad name!"), &["Invalid Role Name"]),
        (
            config(&env, "", &policy).replace("name = \"agents\"", "name = \"Agents_X\""),
            &["Invalid Service Account", "service_accounts"],
        ),
    ];
    for (hcl, needles) in cases {
        w.write_config(&hcl);
        w.expect_error(&["plan", "-no-color"], needles);
    }
    assert!(role_names(&env).is_empty(), "nothing created");
    w.cleanup();
}

/// `binding = "pod_identity"`: the trust of `pods.eks.amazonaws.com` and one association per
/// cluster and service account instead of the annotation; import finds the clusters and service
/// accounts through the associations; an association deleted by hand is drift.
#[test]
fn pod_identity_binding() {
    let env = Env::new("irsa-pod");
    let w = env.workdir("irsa-pod", &terraforms()[0]);
    let policy = create_policy(&env, "ci-list");
    w.write_config(&config(&env, "binding = \"pod_identity\"", &policy));
    w.apply();
    w.assert_plans_empty();
    let name = format!("ci-{}", env.namespace);
    w.assert_import_round_trips("jenkins_irsa_role.ci", &name, &[]);
    let trust = role(&env, &name)["AssumeRolePolicyDocument"].to_string();
    assert!(trust.contains("pods.eks.amazonaws.com") && trust.contains("sts:TagSession"), "{trust}");
    let state = w.resource("jenkins_irsa_role.ci");
    let ids = state["pod_identity_association_ids"].as_object().cloned().unwrap_or_default();
    assert_eq!(ids.len(), 2, "{state}");
    assert_eq!(annotation(&env, "jenkins"), None, "no annotation with Pod Identity");
    let (key, id) = ids.iter().next().expect("one association");
    let id = id.as_str().expect("id");
    env.aws(&["eks", "delete-pod-identity-association", "--cluster-name", "controller", "--association-id", id]);
    w.assert_plan_shows(&["pod_identity_association_ids", key.as_str()]);
    w.apply();
    w.assert_plans_empty();
    w.destroy();
    let left = env.aws(&["eks", "list-pod-identity-associations", "--cluster-name", "controller", "--output", "json"]);
    assert!(!left.contains(&env.namespace), "associations deleted: {left}");

    // A Pod Identity role that no association points at: import cannot tell its clusters, and
    // says so instead of importing a role bound to nothing.
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"]}]}"#;
    env.aws(&["iam", "create-role", "--role-name", &name, "--assume-role-policy-document", trust]);
    w.expect_error(
        &["import", "-no-color", "-input=false", "jenkins_irsa_role.ci", &name],
        &["Cannot Import The Role", "association"],
    );
    env.aws(&["iam", "delete-role", "--role-name", &name]);
    w.cleanup();
}

/// A stand-in for EKS's `DescribeCluster`, for answers moto cannot give (every cluster it makes
/// has an `https://` OIDC issuer): each named cluster answers with its `identity` (`Json::Null`:
/// none at all, as an EKS local cluster on Outposts has), every other one is a 404. Terraform
/// reaches it through `AWS_ENDPOINT_URL_EKS`, while IAM and STS stay with moto.
fn fake_eks(account: &str, clusters: Vec<(&'static str, Json)>) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the EKS stand-in");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let clusters = std::sync::Arc::new(clusters);
    let account = account.to_string();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let (clusters, account) = (clusters.clone(), account.clone());
            std::thread::spawn(move || serve_eks(conn, &account, &clusters));
        }
    });
    url
}

/// One keep-alive connection of [`fake_eks`].
fn serve_eks(conn: std::net::TcpStream, account: &str, clusters: &[(&str, Json)]) {
    use std::io::{BufRead, Read, Write};
    let mut reader = std::io::BufReader::new(conn.try_clone().expect("clone the connection"));
    let mut conn = conn;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let path = line.split_whitespace().nth(1).unwrap_or_default().to_string();
        let mut length = 0;
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                return;
            }
            if header == "\r\n" {
                break;
            }
            if let Some((k, v)) = header.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                length = v.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let name = path.strip_prefix("/clusters/").unwrap_or_default().split(['?', '/']).next().unwrap_or_default();
        let (status, error, json) = match clusters.iter().find(|(n, _)| *n == name) {
            Some((n, identity)) => {
                let mut cluster = serde_json::json!({
                    "name": n,
                    "arn": format!("arn:aws:eks:us-east-1:{account}:cluster/{n}"),
                    "status": "ACTIVE",
                    "version": "1.33",
                    "endpoint": "https://127.0.0.1:1",
                    "certificateAuthority": {"data": ""},
                    "createdAt": 1.7e9
                });
                if !identity.is_null() {
                    cluster["identity"] = identity.clone();
                }
                ("200 OK", None, serde_json::json!({ "cluster": cluster }))
            }
            None => (
                "404 Not Found",
                Some("ResourceNotFoundException"),
                serde_json::json!({"message": format!("No cluster found for name: {name}.")}),
            ),
        };
        let text = json.to_string();
        let error = error.map(|e| format!("x-amzn-errortype: {e}\r\n")).unwrap_or_default();
        let reply = format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\n{error}content-length: {}\r\n\r\n{text}",
            text.len()
        );
        if conn.write_all(reply.as_bytes()).is_err() {
            return;
        }
    }
}

/// A cluster whose `DescribeCluster` names no OIDC issuer (EKS local clusters on Outposts have
/// none), or one that no IAM OIDC provider ARN can be made from (an `http://` issuer), fails the
/// apply at `clusters` with what to do, before any role is created; the plan had left the trust
/// unknown rather than fail on it.
#[test]
fn a_cluster_without_a_usable_oidc_issuer_fails_the_apply_before_any_role_exists() {
    let env = Env::with_clusters("irsa-issuer", &[]);
    let eks = fake_eks(
        &env.account,
        vec![
            ("outpost", Json::Null),
            ("plain-http", serde_json::json!({"oidc": {"issuer": "http://oidc.example.internal/id/0A1B2C"}})),
        ],
    );
    let w = env.workdir("irsa-issuer", &terraforms()[0]).with_env([("AWS_ENDPOINT_URL_EKS", eks)]);
    let policy = create_policy(&env, "ci-list");
    let cases: [(&str, &str, &[&str]); 2] = [
        (
            "outpost",
            "Error: Cluster Has No OIDC Issuer\n",
            &["EKS cluster \"outpost\" reports no OIDC issuer", "binding = \"pod_identity\""],
        ),
        (
            "plain-http",
            // The irsa role's own summary, not the chain's "Cannot Build The Trust Policy".
            "Error: Cannot Build The Trust\n",
            &["http://oidc.example.internal/id/0A1B2C", "expected https://<host>[/<path>]"],
        ),
    ];
    for (cluster, summary, details) in cases {
        let hcl = config(&env, "annotate_service_accounts = false", &policy)
            .replace("clusters    = [\"controller\"]", &format!("clusters    = [\"{cluster}\"]"));
        w.write_config(&hcl);
        let r = w.run(&["plan", "-no-color"]);
        assert_eq!(r.code, 0, "the plan leaves the trust unknown:\n{}", r.text());
        assert!(
            r.stdout.lines().any(|l| l.contains("trust_policy") && l.contains("(known after apply)")),
            "{}",
            r.stdout
        );
        // Reported at `clusters`: Terraform quotes that line of the configuration.
        let at = format!("clusters = [\"{cluster}\"]");
        let needles: Vec<&str> = details.iter().copied().chain([at.as_str()]).collect();
        let r = w.expect_error(&["apply", "-auto-approve", "-no-color"], &needles);
        let text = r.text().replace("│ ", "");
        assert!(text.contains(summary), "{summary:?} missing:\n{}", r.text());
        assert!(role_names(&env).is_empty(), "no role was created for {cluster}");
        let listed = w.run(&["state", "list"]);
        assert!(listed.stdout.trim().is_empty(), "nothing in state: {}", listed.stdout);
    }
    w.cleanup();
}

/// The apply of an IRSA role and a remote access with a `jenkins_credential`, with the provider
/// pointed at a controller cluster EKS does not know: both fail with "Cannot Reach The Controller
/// Cluster". Pointed at the right one, the role is still refused while a service account it
/// annotates is missing ("Service Account Not Found", at `service_accounts`), and once the
/// service accounts exist the rerun converges on the one role created before: nothing orphaned,
/// nothing duplicated, and destroy leaves nothing behind.
#[test]
fn an_unreachable_controller_or_a_missing_service_account_fails_the_apply_and_the_rerun_converges() {
    let env = Env::new("irsa-reach");
    let w = env.workdir("irsa-reach", &terraforms()[0]);
    create_oidc_provider(&env, "controller");
    let policy = create_policy(&env, "ci-list");
    let name = format!("ci-{}", env.namespace);
    let remote_ns = format!("{}-agents", env.namespace);
    let remote = format!(
        r#"
resource "jenkins_remote_cluster_access" "remote" {{
  cluster {{
    eks_cluster_name = "remote"
  }}
  namespace = "{remote_ns}"
  jenkins_credential {{
    id = "remote-agents"
  }}
}}
"#
    );
    let good = format!("{}{remote}", config(&env, "", &policy));
    let retired = good.replace("eks_cluster_name = \"controller\"", "eks_cluster_name = \"retired\"");
    assert_ne!(good, retired);

    w.write_config(&retired);
    let r = w.expect_error(
        &["apply", "-auto-approve", "-no-color"],
        &["EKS cluster \"retired\"", "with jenkins_irsa_role.ci", "with jenkins_remote_cluster_access.remote"],
    );
    let text = r.text();
    assert_eq!(text.matches("Error: Cannot Reach The Controller Cluster").count(), 2, "both resources:\n{text}");
    assert!(env.get_json("secret", "remote-agents").is_none(), "no credential written");
    assert!(w.run(&["state", "list"]).stdout.trim().is_empty(), "nothing in state");

    w.write_config(&good);
    let r = w.expect_error(
        &["apply", "-auto-approve", "-no-color"],
        &[
            "Error: Service Account Not Found",
            "does not exist in the controller cluster",
            "create_service_account = true",
            "with jenkins_irsa_role.ci",
        ],
    );
    assert!(r.text().contains(&format!("Service account {}/", env.namespace)), "{}", r.text());
    assert!(!r.text().contains("Cannot Reach The Controller Cluster"), "{}", r.text());
    let listed = w.run(&["state", "list"]).stdout;
    assert_eq!(listed.trim(), "jenkins_remote_cluster_access.remote", "only the access was created: {listed}");
    assert!(env.get_json("secret", "remote-agents").is_some(), "the access converged with the right cluster");
    assert_eq!(annotation(&env, "jenkins"), None);

    create_service_account(&env, "jenkins", true, &w.dir);
    create_service_account(&env, "agents", false, &w.dir);
    w.apply();
    w.assert_plans_empty();
    assert_eq!(role_names(&env).iter().filter(|n| **n == name).count(), 1, "the role made before is reused");
    let arn = role(&env, &name)["Arn"].as_str().expect("arn").to_string();
    assert_eq!(annotation(&env, "jenkins").as_deref(), Some(arn.as_str()));
    assert_eq!(annotation(&env, "agents").as_deref(), Some(arn.as_str()));
    w.destroy();
    assert!(!role_names(&env).contains(&name), "role left behind");
    assert!(env.get_json("secret", "remote-agents").is_none(), "credential left behind");
    let (gone, _) = env.try_kubectl("remote", &["get", "namespace", &remote_ns]);
    assert!(!gone, "remote namespace left behind");
    w.cleanup();
}

/// A cluster that does not exist yet at plan (created by another configuration, or a mocked name
/// in a Terragrunt plan): the plan succeeds with a warning saying the trust was not rendered and
/// why; once the cluster exists the apply renders it and the role trusts that cluster's issuer.
#[test]
fn a_cluster_missing_at_plan_warns_and_the_apply_renders_the_trust_once_it_exists() {
    let tf = &terraforms()[0];
    let env = Env::with_clusters("irsa-later", &["controller"]);
    let w = env.workdir("irsa-later", tf);
    w.write_config(&format!(
        r#"{provider}
resource "jenkins_irsa_role" "later" {{
  name                      = "later-{ns}"
  clusters                  = ["later"]
  service_accounts          = [{{ namespace = "{ns}", name = "jenkins" }}]
  annotate_service_accounts = false
  manage_oidc_provider      = true
}}
"#,
        provider = env.provider_block(),
        ns = env.namespace,
    ));
    let r = w.run(&["plan", "-no-color", "-input=false"]);
    assert_eq!(r.code, 0, "a warning, not an error:\n{}", r.text());
    let flat = r.text().replace('│', " ").split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains("Warning: Trust Not Rendered At Plan") && flat.contains("\"later\""), "{}", r.text());
    assert!(flat.contains("known only after apply"), "{flat}");
    assert!(role_names(&env).iter().all(|n| !n.starts_with("later-")), "a plan created nothing");

    env.create_cluster("later");
    w.apply();
    let described: Json =
        serde_json::from_str(&env.aws(&["eks", "describe-cluster", "--name", "later", "--output", "json"]))
            .expect("JSON");
    let issuer =
        described["cluster"]["identity"]["oidc"]["issuer"].as_str().expect("issuer").trim_start_matches("https://");
    let trust = role(&env, &format!("later-{}", env.namespace))["AssumeRolePolicyDocument"].to_string();
    assert!(trust.contains(issuer), "the role trusts the new cluster's issuer {issuer}: {trust}");
    w.assert_plans_empty();
    w.destroy();
    w.cleanup();
}
