//! Bad input, counted: configurations a user can write that the provider refuses, each through
//! real Terraform, each named by its diagnostic's summary and the resource it is about. All cases
//! of one phase share one working directory and one `terraform apply`, so a case costs no extra
//! provider start-up; afterwards the state is empty and nothing exists in the stack.
//!
//! `src/diagnostics_inventory_tests.rs` checks that every summary the provider can return is named
//! by some test; the cases here cover the ones only a configuration reaches.

use crate::support::Env;
use acceptance_tests::terraform::{Run, Workdir, terraforms};

/// One refused configuration: the resource (or provider) it is about, the summary Terraform must
/// show for it, and its HCL.
struct Case {
    address: &'static str,
    summary: &'static str,
    hcl: &'static str,
}

/// Each diagnostic block of Terraform's human output: its summary and the `with <address>` line.
fn diagnostics(run: &Run) -> Vec<(String, Option<String>)> {
    let text = run.text();
    let mut out = Vec::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let Some(summary) = line.trim_start_matches(['│', ' ']).strip_prefix("Error: ") else { continue };
        let mut address = None;
        while let Some(next) = lines.peek() {
            let l = next.trim_start_matches(['│', ' ']);
            if l.starts_with("Error: ") || l.starts_with("Warning: ") {
                break;
            }
            if let Some(a) = l.strip_prefix("with ") {
                address = Some(a.trim_end_matches(',').to_string());
            }
            lines.next();
        }
        out.push((summary.trim().to_string(), address));
    }
    out
}

/// Writes every case into one configuration, runs `terraform apply` on it, and requires each case's
/// summary on its address, no other error, an empty state and `nothing_written` to hold. `{ns}` in
/// a case stands for the test's Jenkins namespace.
fn refuse_all(env: &Env, name: &str, header: &str, cases: &[Case], nothing_written: impl Fn()) {
    let hcl: String = std::iter::once(header).chain(cases.iter().map(|c| c.hcl)).collect::<Vec<_>>().join("\n");
    let hcl = hcl.replace("{ns}", &env.namespace);
    for tf in terraforms() {
        let w = env.workdir(name, tf);
        w.write_config(&hcl);
        let r = w.run(&["apply", "-auto-approve", "-input=false", "-no-color"]);
        assert_ne!(r.code, 0, "[{}] apply of bad input succeeded:\n{}", tf.version, r.text());
        assert!(!r.text().contains("Provider produced") && !r.text().contains("panic"), "{}", r.text());
        let found = diagnostics(&r);
        for c in cases {
            assert!(
                found.iter().any(|(s, a)| s == c.summary && a.as_deref() == Some(c.address)),
                "[{}] no `Error: {}` on {}; Terraform said:\n{}",
                tf.version,
                c.summary,
                c.address,
                r.text()
            );
        }
        for (s, a) in &found {
            assert!(
                cases.iter().any(|c| c.summary == s && Some(c.address) == a.as_deref()),
                "[{}] unexpected `Error: {s}` on {a:?}:\n{}",
                tf.version,
                r.text()
            );
        }
        assert_state_empty(&w);
        nothing_written();
        w.cleanup();
    }
    eprintln!("bad input: {} configurations of `{name}` refused, nothing written", cases.len());
}

fn assert_state_empty(w: &Workdir) {
    let state = w.show();
    assert!(state.pointer("/values/root_module/resources").is_none(), "a refused apply left state: {state}");
}

/// Nothing in the account or the test's namespace: no IAM role, no ConfigMap or Secret we own.
fn assert_nothing_in_stack(env: &Env) {
    let roles = env.aws(&["iam", "list-roles", "--query", "Roles[].RoleName", "--output", "text"]);
    assert!(roles.trim().is_empty() || !roles.contains("bad-"), "a refused apply created roles: {roles}");
    let owned = env.kubectl(
        "controller",
        &[
            "-n",
            &env.namespace,
            "get",
            "configmaps,secrets,serviceaccounts",
            "-l",
            "app.kubernetes.io/managed-by",
            "-o",
            "name",
        ],
    );
    assert!(owned.trim().is_empty(), "a refused apply wrote objects: {owned}");
    let (ok, remote) = env.try_kubectl("remote", &["get", "namespace", "bad-ns", "-o", "name"]);
    assert!(!ok, "a refused apply created a remote namespace: {remote}");
}

/// Errors of `terraform validate`: one attribute or one resource's attributes together.
const VALIDATE: &[Case] = &[
    Case {
        address: "jenkins_pod_template.parent_with_space",
        summary: "Invalid Parent Name",
        hcl: r#"resource "jenkins_pod_template" "parent_with_space" {
  name         = "child"
  inherit_from = ["base helm"]
}"#,
    },
    Case {
        address: "jenkins_pod_template.id_with_space",
        summary: "Invalid Template Id",
        hcl: r#"resource "jenkins_pod_template" "id_with_space" {
  name = "spaced"
  id   = "my id"
}"#,
    },
    Case {
        address: "jenkins_pod_template.two_sources",
        summary: "Invalid Volume Source",
        hcl: r#"resource "jenkins_pod_template" "two_sources" {
  name = "twosources"
  volume {
    name       = "data"
    mount_path = "/data"
    host_path  = "/srv"
    empty_dir  = true
  }
}"#,
    },
    Case {
        address: "jenkins_pod_template.blank_mount",
        summary: "Missing Mount Path",
        hcl: r#"resource "jenkins_pod_template" "blank_mount" {
  name = "blankmount"
  volume {
    name       = "data"
    mount_path = " "
    empty_dir  = true
  }
}"#,
    },
    Case {
        address: "jenkins_pod_template.usage_mode",
        summary: "Unsupported Value",
        hcl: r#"resource "jenkins_pod_template" "usage_mode" {
  name            = "usage"
  node_usage_mode = "SOMETIMES"
}"#,
    },
    Case {
        address: "jenkins_agent_cloud.short_gc",
        summary: "Value Out Of Range",
        hcl: r#"resource "jenkins_agent_cloud" "short_gc" {
  name      = "short-gc"
  namespace = "jenkins"
  templates = []
  garbage_collection {
    namespaces      = ["jenkins"]
    timeout_seconds = 30
  }
}"#,
    },
    Case {
        address: "jenkins_agent_cloud.websocket_tunnel",
        summary: "Tunnel Without TCP",
        hcl: r#"resource "jenkins_agent_cloud" "websocket_tunnel" {
  name             = "ws-tunnel"
  namespace        = "jenkins"
  agent_connection = "websocket"
  jenkins_tunnel   = "jenkins-agent:50000"
  templates        = []
}"#,
    },
    Case {
        address: "jenkins_agent_cloud.soon",
        summary: "Invalid Duration",
        hcl: r#"resource "jenkins_agent_cloud" "soon" {
  name      = "soon"
  namespace = "jenkins"
  templates = []
  timeouts {
    create = "soon"
  }
}"#,
    },
    Case {
        address: "jenkins_irsa_role.no_service_accounts",
        summary: "No Service Accounts",
        hcl: r#"resource "jenkins_irsa_role" "no_service_accounts" {
  name             = "bad-no-sa"
  clusters         = ["controller"]
  service_accounts = []
}"#,
    },
    Case {
        address: "jenkins_irsa_role.no_clusters",
        summary: "No Clusters",
        hcl: r#"resource "jenkins_irsa_role" "no_clusters" {
  name             = "bad-no-clusters"
  clusters         = []
  service_accounts = [{ namespace = "jenkins", name = "ci" }]
}"#,
    },
    Case {
        address: "jenkins_irsa_role.create_wildcard",
        summary: "Cannot Create A Wildcard Service Account",
        hcl: r#"resource "jenkins_irsa_role" "create_wildcard" {
  name                   = "bad-wildcard"
  clusters               = ["controller"]
  service_accounts       = [{ namespace = "jenkins", name = "agent-*" }]
  create_service_account = true
}"#,
    },
    Case {
        address: "jenkins_irsa_role.policy_name",
        summary: "Invalid Policy Name",
        hcl: r#"resource "jenkins_irsa_role" "policy_name" {
  name             = "bad-policy-name"
  clusters         = ["controller"]
  service_accounts = [{ namespace = "jenkins", name = "ci" }]
  inline_policies = {
    "read artifacts" = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "s3:GetObject", Resource = "*" }] })
  }
}"#,
    },
    Case {
        address: "jenkins_irsa_role.policies_too_long",
        summary: "Inline Policies Too Long",
        hcl: r#"resource "jenkins_irsa_role" "policies_too_long" {
  name             = "bad-too-long"
  clusters         = ["controller"]
  service_accounts = [{ namespace = "jenkins", name = "ci" }]
  inline_policies = {
    big = jsonencode({ Version = "2012-10-17", Statement = [for i in range(120) : { Sid = "Read${i}", Effect = "Allow", Action = "s3:GetObject", Resource = "arn:aws:s3:::bucket-number-${i}/*" }] })
  }
}"#,
    },
    Case {
        address: "jenkins_cross_account_chain.configmap_name",
        summary: "Invalid ConfigMap Name",
        hcl: r#"resource "jenkins_cross_account_chain" "configmap_name" {
  configmap_name = "AWS_Config"
  base {
    name     = "prod"
    role_arn = "arn:aws:iam::111111111111:role/bad-ci"
  }
}"#,
    },
    Case {
        address: "jenkins_remote_cluster_access.namespace",
        summary: "Invalid Namespace",
        hcl: r#"resource "jenkins_remote_cluster_access" "namespace" {
  cluster {
    eks_cluster_name = "remote"
  }
  namespace = "Agents_NS"
}"#,
    },
    Case {
        address: "jenkins_remote_cluster_access.plain_http",
        summary: "Invalid Host",
        hcl: r#"resource "jenkins_remote_cluster_access" "plain_http" {
  cluster {
    host                   = "http://remote.example.com"
    cluster_ca_certificate = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    token                  = "t"
  }
  namespace = "bad-ns"
}"#,
    },
    Case {
        address: "jenkins_remote_cluster_access.garbled_ca",
        summary: "Invalid CA Certificate",
        hcl: r#"resource "jenkins_remote_cluster_access" "garbled_ca" {
  cluster {
    host                   = "https://remote.example.com"
    cluster_ca_certificate = "not a certificate"
    token                  = "t"
  }
  namespace = "bad-ns"
}"#,
    },
    Case {
        address: "jenkins_remote_cluster_access.host_with_region",
        summary: "Setting Needs eks_cluster_name",
        hcl: r#"resource "jenkins_remote_cluster_access" "host_with_region" {
  cluster {
    host   = "https://remote.example.com"
    token  = "t"
    region = "us-east-2"
  }
  namespace = "bad-ns"
}"#,
    },
    Case {
        address: "jenkins_remote_cluster_access.no_way_in",
        summary: "Missing Cluster Settings",
        hcl: r#"resource "jenkins_remote_cluster_access" "no_way_in" {
  cluster {
    region = "us-east-2"
  }
  namespace = "bad-ns"
}"#,
    },
    Case {
        address: "jenkins_remote_cluster_access.rules",
        summary: "Rule Without Verbs",
        hcl: r#"resource "jenkins_remote_cluster_access" "rules" {
  cluster {
    eks_cluster_name = "remote"
  }
  namespace = "bad-ns"
  extra_rules {
    resources = ["configmaps"]
    verbs     = []
  }
}"#,
    },
    Case {
        address: "jenkins_remote_cluster_access.resource_path",
        summary: "Invalid Resource",
        hcl: r#"resource "jenkins_remote_cluster_access" "resource_path" {
  cluster {
    eks_cluster_name = "remote"
  }
  namespace = "bad-ns"
  extra_rules {
    resources = ["/api/v1/configmaps"]
    verbs     = ["get"]
  }
}"#,
    },
    Case {
        address: "jenkins_cross_account_chain.trust_without_source",
        summary: "Managed Trust Needs A Source Profile",
        hcl: r#"resource "jenkins_cross_account_chain" "trust_without_source" {
  base {
    name     = "prod"
    role_arn = "arn:aws:iam::111111111111:role/bad-ci"
  }
  hop {
    name              = "node"
    role_arn          = "arn:aws:iam::222222222222:role/bad-deploy"
    credential_source = "Ec2InstanceMetadata"
    manage_trust {
      admin_role_arn = "arn:aws:iam::222222222222:role/bad-admin"
    }
  }
}"#,
    },
    Case {
        address: r#"provider["registry.terraform.io/jenkins-eks/jenkins"].context_only"#,
        summary: "Setting Needs config_path",
        hcl: r#"provider "jenkins" {
  alias  = "context_only"
  region = "us-east-1"
  kubernetes {
    eks_cluster_name = "controller"
    config_context   = "ci"
  }
}
resource "jenkins_pod_template" "via_context_only" {
  provider = jenkins.context_only
  name     = "context-only"
}"#,
    },
];

#[test]
fn bad_attributes_are_refused_at_validate_and_nothing_is_written() {
    let env = Env::new("bad-validate");
    let header = env.provider_block();
    refuse_all(&env, "bad-validate", &header, VALIDATE, || assert_nothing_in_stack(&env));
}

/// Provider settings that are only wrong together, refused when Terraform configures the provider
/// at plan. `{ns}` is the test's Jenkins namespace.
const PROVIDER: &[Case] = &[
    Case {
        address: r#"provider["registry.terraform.io/jenkins-eks/jenkins"].user_without_url"#,
        summary: "Jenkins URL Missing",
        hcl: r#"provider "jenkins" {
  alias  = "user_without_url"
  region = "us-east-1"
  kubernetes {
    eks_cluster_name = "controller"
  }
  jenkins {
    namespace = "{ns}"
    username  = "terraform"
  }
}
resource "jenkins_pod_template" "via_user_without_url" {
  provider = jenkins.user_without_url
  name     = "user-without-url"
}"#,
    },
    Case {
        address: r#"provider["registry.terraform.io/jenkins-eks/jenkins"].url_without_token"#,
        summary: "Jenkins Credentials Missing",
        hcl: r#"provider "jenkins" {
  alias  = "url_without_token"
  region = "us-east-1"
  kubernetes {
    eks_cluster_name = "controller"
  }
  jenkins {
    namespace = "{ns}"
    url       = "http://jenkins.example.com:8080"
    username  = "terraform"
  }
}
resource "jenkins_pod_template" "via_url_without_token" {
  provider = jenkins.url_without_token
  name     = "url-without-token"
}"#,
    },
    Case {
        address: "jenkins_remote_cluster_access.credential_without_controller",
        summary: "Missing Kubernetes Settings",
        hcl: r#"provider "jenkins" {
  alias  = "no_kubernetes"
  region = "us-east-1"
  jenkins {
    namespace = "{ns}"
  }
}
resource "jenkins_remote_cluster_access" "credential_without_controller" {
  provider = jenkins.no_kubernetes
  cluster {
    eks_cluster_name = "remote"
  }
  namespace = "bad-ns"
  jenkins_credential {
    id = "bad-credential"
  }
}"#,
    },
    Case {
        address: "jenkins_agent_cloud.via_unusable_url",
        summary: "Unusable Jenkins URL",
        hcl: r#"provider "jenkins" {
  alias  = "unusable_url"
  region = "us-east-1"
  kubernetes {
    eks_cluster_name = "controller"
  }
  jenkins {
    namespace = "{ns}"
    url       = "http://jenkins example.com"
    username  = "terraform"
    api_token = "not-a-real-token"
  }
}
resource "jenkins_agent_cloud" "via_unusable_url" {
  provider  = jenkins.unusable_url
  name      = "unusable-url"
  namespace = "{ns}"
  templates = []
}"#,
    },
];

#[test]
fn provider_settings_are_refused_at_plan_and_nothing_is_written() {
    let env = Env::new("bad-provider");
    let header = env.provider_block();
    refuse_all(&env, "bad-provider", &header, PROVIDER, || assert_nothing_in_stack(&env));
}

/// Import ids that name nothing a resource could import, and a resource with nothing to import.
const IMPORTS: &[(&str, &str, &str)] = &[
    ("jenkins_pod_template.t", "anything", "Nothing To Import"),
    ("jenkins_agent_cloud.c", "Not A Cloud!", "Invalid Import Id"),
    ("jenkins_irsa_role.r", "role name with spaces", "Invalid Import Id"),
    ("jenkins_cross_account_chain.k", "no-namespace", "Invalid Import Id"),
    ("jenkins_remote_cluster_access.a", "only-one-part", "Invalid Import Id"),
];

#[test]
fn bad_import_ids_are_refused_and_nothing_is_imported() {
    let env = Env::new("bad-import");
    let hcl = format!(
        r#"{}
resource "jenkins_pod_template" "t" {{
  name = "t"
}}
resource "jenkins_agent_cloud" "c" {{
  name      = "c"
  namespace = "jenkins"
  templates = []
}}
resource "jenkins_irsa_role" "r" {{
  name             = "bad-import"
  clusters         = ["controller"]
  service_accounts = [{{ namespace = "jenkins", name = "ci" }}]
}}
resource "jenkins_cross_account_chain" "k" {{
  base {{
    name     = "prod"
    role_arn = "arn:aws:iam::111111111111:role/bad-ci"
  }}
}}
resource "jenkins_remote_cluster_access" "a" {{
  cluster {{
    eks_cluster_name = "remote"
  }}
  namespace = "bad-ns"
}}
"#,
        env.provider_block()
    );
    for tf in terraforms() {
        let w = env.workdir("bad-import", tf);
        w.write_config(&hcl);
        for (address, id, summary) in IMPORTS {
            let r =
                w.expect_error(&["import", "-no-color", "-input=false", address, id], &[&format!("Error: {summary}")]);
            let found = diagnostics(&r);
            assert!(found.iter().all(|(s, _)| s == summary), "[{}] import {address} {id:?}: {found:?}", tf.version);
            assert_state_empty(&w);
        }
        assert_nothing_in_stack(&env);
        w.cleanup();
    }
    eprintln!("bad input: {} import ids refused, nothing imported", IMPORTS.len());
}

/// What only the apply finds out, before it writes anything: a role of that name someone else
/// made, and a cluster (`remote`) without the IAM OIDC provider the trust needs (`controller` has
/// one, so the first case gets past that check).
const APPLY: &[Case] = &[
    Case {
        address: "jenkins_irsa_role.existing",
        summary: "Role Already Exists",
        hcl: r#"resource "jenkins_irsa_role" "existing" {
  name                      = "bad-existing"
  clusters                  = ["controller"]
  service_accounts          = [{ namespace = "jenkins", name = "ci" }]
  annotate_service_accounts = false
}"#,
    },
    Case {
        address: "jenkins_irsa_role.no_oidc",
        summary: "OIDC Provider Missing",
        hcl: r#"resource "jenkins_irsa_role" "no_oidc" {
  name                      = "bad-no-oidc"
  clusters                  = ["remote"]
  service_accounts          = [{ namespace = "jenkins", name = "ci" }]
  annotate_service_accounts = false
}"#,
    },
];

#[test]
fn what_only_the_apply_finds_is_refused_before_anything_is_written() {
    let env = Env::new("bad-apply");
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    env.aws(&["iam", "create-role", "--role-name", "bad-existing", "--assume-role-policy-document", trust]);
    let out = env.aws(&[
        "eks",
        "describe-cluster",
        "--name",
        "controller",
        "--query",
        "cluster.identity.oidc.issuer",
        "--output",
        "text",
    ]);
    env.aws(&["iam", "create-open-id-connect-provider", "--url", out.trim(), "--client-id-list", "sts.amazonaws.com"]);
    let header = env.provider_block();
    refuse_all(&env, "bad-apply", &header, APPLY, || {
        let roles = env.aws(&["iam", "list-roles", "--query", "Roles[].RoleName", "--output", "text"]);
        assert_eq!(roles.split_whitespace().collect::<Vec<_>>(), ["bad-existing"], "only the foreign role exists");
        let tags = env.aws(&["iam", "list-role-tags", "--role-name", "bad-existing", "--output", "json"]);
        assert!(!tags.contains("jenkins-eks.io"), "the foreign role was not tagged: {tags}");
        let doc = env.aws(&[
            "iam",
            "get-role",
            "--role-name",
            "bad-existing",
            "--query",
            "Role.AssumeRolePolicyDocument",
            "--output",
            "json",
        ]);
        assert!(
            doc.contains("ec2.amazonaws.com") && !doc.contains("oidc"),
            "the foreign role's trust is untouched: {doc}"
        );
    });
}

/// A ConfigMap carrying this provider's ownership labels whose file is not one it wrote (a hand edit,
/// another tool): importing it is refused with what is wrong, and the ConfigMap is left as it was.
#[test]
fn an_unreadable_configmap_is_not_imported_and_left_untouched() {
    let env = Env::new("bad-unreadable");
    let ns = env.namespace.clone();
    let manifest = format!(
        r#"apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: tf-jcasc-cloud-garbled
    namespace: {ns}
    labels: {{app.kubernetes.io/managed-by: terraform-provider-jenkins, jenkins-eks.io/resource: agent-cloud}}
  data:
    cloud-garbled.yaml: "jenkins: [not, a, cloud"
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: garbled-chain
    namespace: {ns}
    labels: {{app.kubernetes.io/managed-by: terraform-provider-jenkins, jenkins-eks.io/resource: cross-account-chain}}
  data:
    config: "[profile prod\nrole_arn = nonsense\n"
"#
    );
    let tf = &terraforms()[0];
    let w = env.workdir("bad-unreadable", tf);
    std::fs::write(w.dir.join("objects.yaml"), &manifest).expect("write manifest");
    env.kubectl("controller", &["create", "--validate=false", "-f", &w.dir.join("objects.yaml").display().to_string()]);
    let before = |name: &str| env.get_json("configmap", name).expect("ConfigMap")["data"].clone();
    let (cloud_before, chain_before) = (before("tf-jcasc-cloud-garbled"), before("garbled-chain"));
    w.write_config(&format!(
        r#"{}
resource "jenkins_agent_cloud" "c" {{
  name      = "garbled"
  namespace = "jenkins"
  templates = []
}}
resource "jenkins_cross_account_chain" "k" {{
  configmap_name = "garbled-chain"
  base {{
    name     = "prod"
    role_arn = "arn:aws:iam::111111111111:role/bad-ci"
  }}
}}
"#,
        env.provider_block()
    ));
    for (address, id, summary) in [
        ("jenkins_agent_cloud.c", "garbled".to_string(), "Cannot Import The Cloud"),
        ("jenkins_cross_account_chain.k", format!("{ns}/garbled-chain"), "Cannot Import The Chain"),
    ] {
        let r = w.expect_error(&["import", "-no-color", "-input=false", address, &id], &[&format!("Error: {summary}")]);
        assert!(diagnostics(&r).iter().all(|(s, _)| s == summary), "{}", r.text());
        assert_state_empty(&w);
    }
    assert_eq!(before("tf-jcasc-cloud-garbled"), cloud_before, "the cloud's ConfigMap is untouched");
    assert_eq!(before("garbled-chain"), chain_before, "the chain's ConfigMap is untouched");
    w.cleanup();
}
