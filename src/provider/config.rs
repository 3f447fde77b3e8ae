//! The provider block: its schema and its parsing into settings. Pure.
//!
//! ```hcl
//! provider "jenkins" {
//!   region = "eu-west-1"
//!   kubernetes { eks_cluster_name = "ci" }   # or host/cluster_ca_certificate/token, or config_path
//!   jenkins { namespace = "jenkins", helm_release = "ci", url = "https://jenkins.example.com", username = "tf" }
//! }
//! ```
//!
//! The Jenkins API token comes from `api_token` or `JENKINS_API_TOKEN` (likewise `JENKINS_URL`,
//! `JENKINS_USER`); the environment is read by the caller and passed in, so parsing stays pure.

use crate::cty::{AttributePath, Value};
use crate::framework::{Attribute, Block, Diagnostics, NestedBlock, Schema, Validator};
use crate::kube::ClusterSpec;

/// Where Jenkins runs and how the Helm chart named it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JenkinsSettings {
    /// The controller's namespace, where clouds' ConfigMaps and credentials go.
    pub namespace: String,
    /// The chart's fullname, used only when no controller StatefulSet says what the sidecar watches:
    /// the chart's sidecar then watches label `<fullname>-jenkins-config`.
    pub fullname: String,
    /// The Helm release, when configured: picks the controller when a namespace has several.
    pub release: Option<String>,
    /// Jenkins' HTTP API, when a URL and credentials are configured: plan checks and apply waits.
    pub api: Option<JenkinsApi>,
}

impl Default for JenkinsSettings {
    fn default() -> Self {
        JenkinsSettings { namespace: "jenkins".into(), fullname: "jenkins".into(), release: None, api: None }
    }
}

/// How to reach Jenkins' HTTP API. The token never prints (see `Debug`).
#[derive(Clone, PartialEq, Eq)]
pub struct JenkinsApi {
    /// The controller's URL, e.g. `https://jenkins.example.com` (any path prefix included).
    pub url: String,
    pub username: String,
    pub api_token: String,
}

impl std::fmt::Debug for JenkinsApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "JenkinsApi({} as {})", self.url, self.username)
    }
}

/// The chart's `jenkins.fullname` without `fullnameOverride`: the release name when it contains
/// `jenkins`, else `<release>-jenkins`, cut to 63 characters without a trailing `-`
/// (jenkinsci/helm-charts `charts/jenkins/templates/_helpers.tpl`, chart 5.9.53).
pub fn chart_fullname(release: &str) -> String {
    let full = if release.contains("jenkins") { release.to_string() } else { format!("{release}-jenkins") };
    let cut: String = full.chars().take(63).collect();
    cut.trim_end_matches('-').to_string()
}

/// The provider configuration, once every value is known.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Settings {
    pub region: Option<String>,
    /// The controller's cluster; `None` when the block is absent.
    pub controller: Option<ClusterSpec>,
    pub jenkins: JenkinsSettings,
    /// A pod reference the agent-cloud preflight finds missing at plan (and no resource of the plan
    /// creates): an error, or with `missing_objects_at_plan = "warning"` a warning and an error at
    /// apply, before the ConfigMap is written.
    pub missing_objects_warn_at_plan: bool,
}

fn kubernetes_block() -> Block {
    Block::new("The cluster Jenkins runs in (the controller's). Set `eks_cluster_name`, or `host` with `cluster_ca_certificate` and `token`, or `config_path`.")
        .attr(Attribute::string("eks_cluster_name").optional().describe("An EKS cluster: the endpoint and CA come from `DescribeCluster`, and the provider signs its own `k8s-aws-v1.` token (no AWS CLI), re-signed before its 15 minutes run out."))
        .attr(Attribute::string("host").optional().describe("The API server URL, e.g. `https://…`."))
        .attr(Attribute::string("cluster_ca_certificate").optional().describe("The API server's CA: PEM, or base64 of the PEM as EKS gives it."))
        .attr(Attribute::string("token").optional().sensitive().describe("A bearer token for `host`."))
        .attr(Attribute::bool("insecure").optional().describe("Skip TLS verification of `host` (tests only)."))
        .attr(Attribute::string("config_path").optional().describe("A kubeconfig file, e.g. `~/.kube/config`."))
        .attr(Attribute::string("config_context").optional().describe("The kubeconfig context; defaults to its current context."))
}

fn jenkins_block() -> Block {
    Block::new("Where the Jenkins controller runs and how its Helm release is named.")
        .attr(Attribute::string("namespace").optional().describe("The controller's namespace. Defaults to `jenkins`."))
        .attr(Attribute::string("helm_release").optional().describe("The Helm release name. Used only when the namespace has no controller StatefulSet to read the sidecar's settings from: the chart's fullname is then derived as the chart does (the release name if it contains `jenkins`, else `<release>-jenkins`) and the sidecar is assumed to watch label `<fullname>-jenkins-config`. Defaults to `jenkins`."))
        .attr(Attribute::string("fullname").optional().describe("The chart's `fullnameOverride`, when the release sets one; wins over `helm_release`. Only used when no controller StatefulSet is found."))
        .attr(Attribute::string("url").optional().describe("The controller's URL (with any path prefix), e.g. `https://jenkins.example.com`. With `username` and `api_token` the provider asks Jenkins at plan whether it accepts a cloud's file, and waits at apply until Jenkins runs it. Defaults to env `JENKINS_URL`."))
        .attr(Attribute::string("username").optional().describe("The Jenkins user the API token belongs to. Defaults to env `JENKINS_USER`."))
        .attr(Attribute::string("api_token").optional().sensitive().describe("A Jenkins API token of `username` (not a password: API tokens need no CSRF crumb). `/configuration-as-code/check` needs Overall/Administer, `/configuration-as-code/export` Overall/SystemRead, and `/configuration-as-code/reload` (asked once when an apply's change does not show) Overall/Manage. Defaults to env `JENKINS_API_TOKEN`."))
}

/// The provider block's schema.
pub fn schema() -> Schema {
    Schema::new(
        Block::new(
            "Jenkins on EKS: pod templates and Kubernetes-plugin clouds as code, keyless AWS access, remote clusters.",
        )
        .attr(
            Attribute::string("region")
                .optional()
                .describe("The AWS region. Defaults to the SDK's resolution (`AWS_REGION`, the profile)."),
        )
        .attr(
            Attribute::string("missing_objects_at_plan")
                .optional()
                .describe("What the agent-cloud preflight does at plan when a template's pod names an object (service account, ConfigMap, Secret, PVC, namespace) that does not exist and that no resource of this plan creates: `error` (the default) fails the plan; `warning` warns and checks again at apply, failing it before the cloud's ConfigMap is written. Use `warning` where a plan runs before another configuration has created those objects, e.g. `terragrunt run --all plan` with `mock_outputs`.")
                .validate(Validator::one_of(&["error", "warning"])),
        )
        .block(NestedBlock::single("kubernetes", kubernetes_block()))
        .block(NestedBlock::single("jenkins", jenkins_block())),
    )
}

fn string(v: &Value, name: &str) -> Option<String> {
    v.get_attr(name).and_then(Value::as_str).map(str::to_string)
}

/// Checks that need several attributes: exactly one way to reach the cluster.
pub fn validate(config: &Value, diags: &mut Diagnostics) {
    let Some(k) = config.get_attr("kubernetes").filter(|k| !k.is_null() && !k.is_unknown()) else { return };
    let set = |n: &str| k.get_attr(n).is_some_and(|v| !v.is_null());
    let ways: Vec<&str> = [("eks_cluster_name", "eks_cluster_name"), ("host", "host"), ("config_path", "config_path")]
        .into_iter()
        .filter(|(attr, _)| set(attr))
        .map(|(_, w)| w)
        .collect();
    let path = AttributePath::attr("kubernetes");
    if ways.len() > 1 {
        diags.error_at(
            path.clone(),
            "Conflicting Cluster Settings",
            format!(
                "`kubernetes` sets {}; set exactly one of `eks_cluster_name`, `host` or `config_path`.",
                ways.join(" and ")
            ),
        );
    } else if ways.is_empty() && k.is_wholly_known() {
        diags.error_at(
            path.clone(),
            "Missing Cluster Settings",
            "`kubernetes` needs one of `eks_cluster_name`, `host` (with `cluster_ca_certificate` and `token`) or `config_path`.",
        );
    }
    for attr in ["cluster_ca_certificate", "token", "insecure"] {
        if set(attr) && !set("host") && ways.len() == 1 {
            diags.error_at(
                path.then_attr(attr),
                "Setting Needs host",
                format!("`kubernetes.{attr}` applies to `host` only; remove it or use `host`."),
            );
        }
    }
    if set("config_context") && !set("config_path") && ways.len() == 1 {
        diags.error_at(
            path.then_attr("config_context"),
            "Setting Needs config_path",
            "`kubernetes.config_context` applies to `config_path` only.",
        );
    }
}

/// Half a Jenkins API setting is an error: a configured `url` without a user and token (from the
/// block or the environment) would silently skip every check the user asked for.
pub fn check_jenkins_api(config: &Value, env: &dyn Fn(&str) -> Option<String>, diags: &mut Diagnostics) {
    let Some(j) = config.get_attr("jenkins").filter(|j| !j.is_null() && j.is_wholly_known()) else { return };
    let path = AttributePath::attr("jenkins");
    let Some(url) = string(j, "url").or_else(|| env("JENKINS_URL")).filter(|u| !u.is_empty()) else {
        for attr in ["username", "api_token"] {
            if string(j, attr).is_some() {
                diags.error_at(
                    path.then_attr(attr),
                    "Jenkins URL Missing",
                    format!("`jenkins.{attr}` is set but no `jenkins.url` (or env JENKINS_URL); set the controller's URL or remove `{attr}`."),
                );
            }
        }
        return;
    };
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        diags.error_at(
            path.then_attr("url"),
            "Invalid Jenkins URL",
            format!("`jenkins.url` {url:?} must start with `http://` or `https://`."),
        );
    }
    for (attr, var) in [("username", "JENKINS_USER"), ("api_token", "JENKINS_API_TOKEN")] {
        if string(j, attr).or_else(|| env(var)).is_none_or(|v| v.is_empty()) {
            diags.error_at(
                path.then_attr(attr),
                "Jenkins Credentials Missing",
                format!("`jenkins.url` is set but `jenkins.{attr}` is not (nor env {var}); set it, or remove `url` to manage clouds without asking Jenkins."),
            );
        }
    }
}

/// The settings, or `None` while a value is still unknown (a plan before its inputs exist).
/// `env` looks up `JENKINS_URL`, `JENKINS_USER` and `JENKINS_API_TOKEN`.
pub fn parse(config: &Value, env: &dyn Fn(&str) -> Option<String>) -> Option<Settings> {
    if !config.is_wholly_known() {
        return None;
    }
    let controller = config.get_attr("kubernetes").filter(|k| !k.is_null()).and_then(|k| {
        if let Some(name) = string(k, "eks_cluster_name") {
            Some(ClusterSpec::Eks { cluster_name: name })
        } else if let Some(host) = string(k, "host") {
            Some(ClusterSpec::Direct {
                host,
                ca_pem: string(k, "cluster_ca_certificate"),
                token: string(k, "token"),
                insecure: k.get_attr("insecure").and_then(Value::as_bool).unwrap_or(false),
            })
        } else {
            string(k, "config_path").map(|path| ClusterSpec::Kubeconfig { path, context: string(k, "config_context") })
        }
    });
    let mut jenkins = JenkinsSettings::default();
    let j = config.get_attr("jenkins").filter(|j| !j.is_null()).cloned().unwrap_or(Value::Null);
    if let Some(ns) = string(&j, "namespace") {
        jenkins.namespace = ns;
    }
    if let Some(release) = string(&j, "helm_release") {
        jenkins.fullname = chart_fullname(&release);
        jenkins.release = Some(release);
    }
    if let Some(fullname) = string(&j, "fullname") {
        jenkins.fullname = fullname;
    }
    let setting = |attr: &str, var: &str| string(&j, attr).or_else(|| env(var)).filter(|s| !s.is_empty());
    if let (Some(url), Some(username), Some(api_token)) =
        (setting("url", "JENKINS_URL"), setting("username", "JENKINS_USER"), setting("api_token", "JENKINS_API_TOKEN"))
    {
        jenkins.api = Some(JenkinsApi { url, username, api_token });
    }
    Some(Settings {
        region: string(config, "region"),
        controller,
        jenkins,
        missing_objects_warn_at_plan: string(config, "missing_objects_at_plan").as_deref() == Some("warning"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn obj(pairs: &[(&str, Value)]) -> Value {
        Value::Object(pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect::<BTreeMap<_, _>>())
    }

    fn kube(pairs: &[(&str, Value)]) -> Value {
        let mut all: BTreeMap<String, Value> = [
            "eks_cluster_name",
            "host",
            "cluster_ca_certificate",
            "token",
            "insecure",
            "config_path",
            "config_context",
        ]
        .iter()
        .map(|n| (n.to_string(), Value::Null))
        .collect();
        for (k, v) in pairs {
            all.insert(k.to_string(), v.clone());
        }
        Value::Object(all)
    }

    fn config(k: Value) -> Value {
        obj(&[("region", Value::Null), ("kubernetes", k), ("jenkins", Value::Null)])
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn jenkins(pairs: &[(&str, Value)]) -> Value {
        let mut all: BTreeMap<String, Value> =
            ["namespace", "helm_release", "fullname", "url", "username", "api_token"]
                .iter()
                .map(|n| (n.to_string(), Value::Null))
                .collect();
        for (k, v) in pairs {
            all.insert(k.to_string(), v.clone());
        }
        obj(&[("region", Value::Null), ("kubernetes", Value::Null), ("jenkins", Value::Object(all))])
    }

    #[test]
    fn fullname_is_derived_as_the_chart_does() {
        assert_eq!(chart_fullname("jenkins"), "jenkins");
        assert_eq!(chart_fullname("ci"), "ci-jenkins");
        assert_eq!(chart_fullname("my-jenkins-prod"), "my-jenkins-prod");
        let long = format!("{}-", "a".repeat(62));
        assert_eq!(chart_fullname(&long), "a".repeat(62), "cut to 63 and the trailing dash trimmed");
        let s = parse(&jenkins(&[("helm_release", Value::string("ci"))]), &no_env).unwrap();
        assert_eq!(s.jenkins.fullname, "ci-jenkins");
        let s =
            parse(&jenkins(&[("helm_release", Value::string("ci")), ("fullname", Value::string("build"))]), &no_env)
                .unwrap();
        assert_eq!(s.jenkins.fullname, "build", "fullnameOverride wins");
    }

    #[test]
    fn api_settings_come_from_the_block_or_the_environment() {
        let env = |k: &str| match k {
            "JENKINS_URL" => Some("http://env:8080".to_string()),
            "JENKINS_USER" => Some("env-user".to_string()),
            "JENKINS_API_TOKEN" => Some("s3cr3t-token".to_string()),
            _ => None,
        };
        let s = parse(&jenkins(&[("username", Value::string("tf"))]), &env).unwrap();
        let api = s.jenkins.api.expect("api configured");
        assert_eq!((api.url.as_str(), api.username.as_str()), ("http://env:8080", "tf"));
        assert_eq!(api.api_token, "s3cr3t-token");
        assert!(!format!("{api:?}").contains("s3cr3t"), "the token never prints");
        assert_eq!(parse(&jenkins(&[("url", Value::string("http://j"))]), &no_env).unwrap().jenkins.api, None);
    }

    #[test]
    fn half_an_api_setting_is_an_error_naming_what_is_missing() {
        let mut d = Diagnostics::new();
        check_jenkins_api(
            &jenkins(&[("url", Value::string("http://j")), ("username", Value::string("tf"))]),
            &no_env,
            &mut d,
        );
        assert!(
            d.iter().any(|x| x.detail.contains("`jenkins.api_token`") && x.detail.contains("JENKINS_API_TOKEN")),
            "{d:?}"
        );
        let mut d = Diagnostics::new();
        check_jenkins_api(&jenkins(&[("url", Value::string("jenkins:8080"))]), &|_| Some("x".into()), &mut d);
        assert!(d.iter().any(|x| x.summary == "Invalid Jenkins URL"), "{d:?}");
        let mut d = Diagnostics::new();
        check_jenkins_api(&jenkins(&[]), &no_env, &mut d);
        assert!(d.is_empty(), "{d:?}");
    }

    #[test]
    fn eks_cluster_by_name() {
        let s = parse(&config(kube(&[("eks_cluster_name", Value::string("ci"))])), &no_env).unwrap();
        assert_eq!(s.controller, Some(ClusterSpec::Eks { cluster_name: "ci".into() }));
        assert_eq!(s.jenkins, JenkinsSettings::default());
    }

    #[test]
    fn two_ways_to_one_cluster_is_an_error() {
        let mut d = Diagnostics::new();
        validate(
            &config(kube(&[("eks_cluster_name", Value::string("ci")), ("host", Value::string("https://x"))])),
            &mut d,
        );
        assert!(d.has_error());
        assert!(d.iter().any(|x| x.detail.contains("exactly one")));
    }

    #[test]
    fn unknown_configuration_parses_later() {
        assert_eq!(parse(&config(kube(&[("eks_cluster_name", Value::unknown())])), &no_env), None);
        let mut d = Diagnostics::new();
        validate(&config(kube(&[("eks_cluster_name", Value::unknown())])), &mut d);
        assert!(!d.has_error(), "{d:?}");
    }
}
