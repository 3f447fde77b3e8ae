//! The provider block: its schema and its parsing into settings. Pure.
//!
//! ```hcl
//! provider "jenkins" {
//!   region = "eu-west-1"
//!   kubernetes { eks_cluster_name = "ci" }   # or host/cluster_ca_certificate/token, or config_path
//!   jenkins { namespace = "jenkins", helm_release = "jenkins" }
//! }
//! ```

use crate::cty::{AttributePath, Value};
use crate::framework::{Attribute, Block, Diagnostics, NestedBlock, Schema};
use crate::kube::ClusterSpec;

/// Where Jenkins runs and how the Helm chart named it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JenkinsSettings {
    /// The controller's namespace, where clouds' ConfigMaps and credentials go.
    pub namespace: String,
    /// The chart's fullname: the config-reload sidecar watches label `<fullname>-jenkins-config`.
    pub fullname: String,
}

impl Default for JenkinsSettings {
    fn default() -> Self {
        JenkinsSettings { namespace: "jenkins".into(), fullname: "jenkins".into() }
    }
}

/// The provider configuration, once every value is known.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Settings {
    pub region: Option<String>,
    /// The controller's cluster; `None` when the block is absent.
    pub controller: Option<ClusterSpec>,
    pub jenkins: JenkinsSettings,
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
        .attr(Attribute::string("helm_release").optional().describe("The Helm chart's fullname (usually the release name): the config-reload sidecar watches ConfigMaps labelled `<fullname>-jenkins-config`. Defaults to `jenkins`."))
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

/// The settings, or `None` while a value is still unknown (a plan before its inputs exist).
pub fn parse(config: &Value) -> Option<Settings> {
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
    if let Some(j) = config.get_attr("jenkins").filter(|j| !j.is_null()) {
        if let Some(ns) = string(j, "namespace") {
            jenkins.namespace = ns;
        }
        if let Some(release) = string(j, "helm_release") {
            jenkins.fullname = release;
        }
    }
    Some(Settings { region: string(config, "region"), controller, jenkins })
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

    #[test]
    fn eks_cluster_by_name() {
        let s = parse(&config(kube(&[("eks_cluster_name", Value::string("ci"))]))).unwrap();
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
        assert_eq!(parse(&config(kube(&[("eks_cluster_name", Value::unknown())]))), None);
        let mut d = Diagnostics::new();
        validate(&config(kube(&[("eks_cluster_name", Value::unknown())])), &mut d);
        assert!(!d.has_error(), "{d:?}");
    }
}
