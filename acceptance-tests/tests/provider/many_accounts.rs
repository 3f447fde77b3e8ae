//! Many accounts in one provider process: one `jenkins_cross_account_chain` with three hops into
//! three AWS accounts, each hop's trust managed through that account's own admin role (three
//! assumed sessions side by side). Applied, drifted in one account, repaired, destroyed.

use super::cross_account_chain::{OTHER_TRUST, cli_identity, create_role, get_role, trust_of};
use super::support::Env;
use acceptance_tests::stack::{self, fresh_account};
use acceptance_tests::terraform::terraforms;
use serde_json::{Value as Json, json};

const DEPLOY: &str = "jenkins-deploy-role";
const ADMIN: &str = "OrganizationAccountAccessRole";

/// The chain: base `ci` (IRSA, the source role in the provider's account), and hops `t0`..`t2`,
/// one per target account, each with `manage_trust` through that account's admin role.
fn config(env: &Env, targets: &[String], token: &std::path::Path) -> String {
    let hops: String = targets
        .iter()
        .enumerate()
        .map(|(i, t)| {
            format!(
                r#"
  hop {{
    name              = "t{i}"
    role_arn          = "arn:aws:iam::{t}:role/{DEPLOY}"
    source_profile    = "ci"
    role_session_name = "deploy{i}"
    region            = "us-east-1"
    manage_trust {{
      admin_role_arn = "arn:aws:iam::{t}:role/{ADMIN}"
    }}
  }}
"#
            )
        })
        .collect();
    format!(
        r#"{provider}
resource "jenkins_cross_account_chain" "many" {{
  grant_source_permission = true
  base {{
    name                    = "ci"
    role_arn                = "arn:aws:iam::{account}:role/jenkins-ci-role"
    region                  = "us-east-1"
    web_identity_token_file = "{token}"
  }}
{hops}}}
"#,
        provider = env.provider_block(),
        account = env.account,
        token = token.display(),
    )
}

/// The live trust of the deploy role in `account`.
fn live_trust(env: &Env, account: &str) -> Json {
    trust_of(&get_role(env, account, DEPLOY).unwrap_or_else(|| panic!("no {DEPLOY} in {account}")))
}

/// True when `trust` lets `source` assume the role: an Allow of sts:AssumeRole whose principal is
/// the source role, or its account's root constrained to the source by `aws:PrincipalArn`.
fn admits(trust: &Json, source: &str) -> bool {
    let account = source.split(':').nth(4).unwrap_or_default();
    let root = format!("arn:aws:iam::{account}:root");
    trust["Statement"].as_array().into_iter().flatten().any(|st| {
        let principal = st["Principal"]["AWS"].clone();
        let names = |p: &str| principal == json!(p) || principal.as_array().is_some_and(|a| a.contains(&json!(p)));
        let condition = st["Condition"]["ArnEquals"]["aws:PrincipalArn"].clone();
        st["Effect"] == "Allow"
            && (st["Action"] == "sts:AssumeRole"
                || st["Action"].as_array().is_some_and(|a| a.contains(&json!("sts:AssumeRole"))))
            && (names(source) || (names(&root) && (condition == json!(source) || condition == json!([source]))))
    })
}

/// The trust policies of a saved plan's chain, before and after.
fn planned_trusts(w: &acceptance_tests::terraform::Workdir) -> (Json, Json) {
    let r = w.run(&["plan", "-out=drift.plan", "-no-color", "-input=false"]);
    assert_eq!(r.code, 0, "plan failed:\n{}", r.text());
    let shown = w.run(&["show", "-json", "drift.plan"]);
    let plan: Json = serde_json::from_str(&shown.stdout).expect("plan JSON");
    let change = plan["resource_changes"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["address"] == "jenkins_cross_account_chain.many"))
        .map(|c| c["change"].clone())
        .expect("the chain in the plan");
    (change["before"]["trust_policies"].clone(), change["after"]["trust_policies"].clone())
}

/// The source role and, in each of `n` fresh target accounts, the admin role that trusts the
/// provider's account: (source role ARN, target accounts).
fn accounts(env: &Env, n: usize) -> (String, Vec<String>) {
    let source = format!("arn:aws:iam::{}:role/jenkins-ci-role", env.account);
    create_role(env, &env.account, "jenkins-ci-role", OTHER_TRUST);
    let admin_trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{}:root"}},"Action":"sts:AssumeRole"}}]}}"#,
        env.account
    );
    let targets: Vec<String> = (0..n).map(|_| fresh_account()).collect();
    for t in &targets {
        create_role(env, t, ADMIN, &admin_trust);
    }
    (source, targets)
}

fn token_file(dir: &std::path::Path) -> std::path::PathBuf {
    let token = dir.join("token");
    std::fs::write(&token, "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6amVua2luczpqZW5raW5zIn0.c2ln")
        .expect("write token");
    token
}

/// An apply that fails in the second account after it replaced the first account's trust keeps
/// the original trust in state (the create is saved as tainted), so destroy gives it back.
#[test]
fn a_trust_replaced_before_a_failure_in_another_account_is_restored() {
    let env = Env::new("many-failed");
    let (_, targets) = accounts(&env, 2);
    create_role(&env, &targets[0], DEPLOY, OTHER_TRUST);
    stack::shared().fail(&targets[1], "iam:CreateRole", 1, 403, "AccessDenied");
    let w = env.workdir("many-failed", &terraforms()[0]);
    w.write_config(&config(&env, &targets, &token_file(&w.dir)));
    w.expect_error(&["apply", "-auto-approve", "-input=false", "-no-color"], &["AccessDenied", "CreateRole"]);
    stack::shared().clear_faults(&targets[1]);
    let replaced = live_trust(&env, &targets[0]);
    assert!(replaced.to_string().contains("aws:PrincipalArn"), "the first trust was replaced: {replaced}");
    let state = w.resource("jenkins_cross_account_chain.many");
    let original = state["replaced_trusts"][format!("arn:aws:iam::{}:role/{DEPLOY}", targets[0])].as_str();
    assert!(original.is_some_and(|t| t.contains("ec2.amazonaws.com")), "the original trust is kept: {state}");
    w.destroy();
    assert_eq!(live_trust(&env, &targets[0]), serde_json::from_str::<Json>(OTHER_TRUST).expect("JSON"), "restored");
    assert!(get_role(&env, &targets[1], DEPLOY).is_none(), "nothing was created in the second account");
    w.cleanup();
}

#[test]
fn three_target_accounts_applied_drifted_in_one_repaired_and_destroyed() {
    let env = Env::new("many-accounts");
    let (source, targets) = accounts(&env, 3);
    // The third account already has the deploy role: its trust is replaced, and restored on destroy.
    create_role(&env, &targets[2], DEPLOY, OTHER_TRUST);

    let w = env.workdir("many-accounts", &terraforms()[0]);
    w.write_config(&config(&env, &targets, &token_file(&w.dir)));
    w.apply();
    w.assert_plans_empty();

    let arn = |t: &str| format!("arn:aws:iam::{t}:role/{DEPLOY}");
    let state = w.resource("jenkins_cross_account_chain.many");
    assert_eq!(state["created_roles"], json!([arn(&targets[0]), arn(&targets[1])]), "two created");
    assert_eq!(
        state["replaced_trusts"].as_object().map(|m| m.keys().cloned().collect::<Vec<_>>()),
        Some(vec![arn(&targets[2])])
    );
    let ini = state["config_ini"].as_str().expect("config_ini").to_string();
    let file = w.dir.join("aws-config");
    std::fs::write(&file, &ini).expect("write config");
    for (i, t) in targets.iter().enumerate() {
        assert!(admits(&live_trust(&env, t), &source), "the trust in {t} admits {source}: {}", live_trust(&env, t));
        // Each role lives in its own account: the admin session of that account made it.
        let (_, roles) = env.aws_in(t, &["iam", "list-roles", "--query", "Roles[].RoleName", "--output", "text"]);
        let mut roles: Vec<&str> = roles.split_whitespace().collect();
        roles.sort();
        assert_eq!(roles, [ADMIN, DEPLOY], "roles of {t}");
        // botocore follows the file: web identity into the source role, then AssumeRole into the target.
        let id = cli_identity(&env, &w.dir, &file, &format!("t{i}"), &ini);
        assert_eq!(id["Account"], t.as_str(), "profile t{i}: {id}");
        assert!(id["Arn"].as_str().is_some_and(|a| a.contains(&format!("{DEPLOY}/deploy{i}"))), "{id}");
    }
    let (_, grant) =
        env.aws_in(&env.account, &["iam", "list-role-policies", "--role-name", "jenkins-ci-role", "--output", "json"]);
    assert!(grant.contains("jenkins-chain-"), "grant on the source role: {grant}");

    // Drift in the second account only: the plan changes that account's trust and no other.
    let untouched = [live_trust(&env, &targets[0]), live_trust(&env, &targets[2])];
    let (ok, out) = env.aws_in(
        &targets[1],
        &["iam", "update-assume-role-policy", "--role-name", DEPLOY, "--policy-document", OTHER_TRUST],
    );
    assert!(ok, "{out}");
    let (before, after) = planned_trusts(&w);
    let changed: Vec<&String> = before
        .as_object()
        .expect("trust_policies before")
        .iter()
        .filter(|(k, v)| after.get(k.as_str()) != Some(*v))
        .map(|(k, _)| k)
        .collect();
    assert_eq!(changed, [&arn(&targets[1])], "only the drifted account's trust changes:\n{before}\n{after}");
    assert!(before[arn(&targets[1])].as_str().is_some_and(|t| t.contains("ec2.amazonaws.com")), "{before}");
    w.apply();
    w.assert_plans_empty();
    assert!(admits(&live_trust(&env, &targets[1]), &source), "repaired: {}", live_trust(&env, &targets[1]));
    assert_eq!([live_trust(&env, &targets[0]), live_trust(&env, &targets[2])], untouched, "the others untouched");

    // Destroy: the two roles it created are gone, the third has its own trust back; admins stay.
    w.destroy();
    assert!(get_role(&env, &targets[0], DEPLOY).is_none() && get_role(&env, &targets[1], DEPLOY).is_none());
    assert_eq!(live_trust(&env, &targets[2]), serde_json::from_str::<Json>(OTHER_TRUST).expect("JSON"), "restored");
    for t in &targets {
        assert!(get_role(&env, t, ADMIN).is_some(), "the admin role in {t} is not ours");
    }
    let (_, grant) =
        env.aws_in(&env.account, &["iam", "list-role-policies", "--role-name", "jenkins-ci-role", "--output", "json"]);
    assert!(!grant.contains("jenkins-chain-"), "grant removed: {grant}");
    w.cleanup();
}
