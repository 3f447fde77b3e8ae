//! Reading a cloud back from its JCasC file: the inverse of `cloud::render_cloud`, for import.
//! Template definitions come back byte-identical to what `jenkins_pod_template` renders, because
//! both go through the same emitter. Pure.

use super::cloud::{
    AgentConnection, CloudSpec, DEFAULT_CONNECT_TIMEOUT_SECONDS, DEFAULT_GC_TIMEOUT_SECONDS,
    DEFAULT_MAX_REQUESTS_PER_HOST, DEFAULT_READ_TIMEOUT_SECONDS, DEFAULT_RETENTION_TIMEOUT_MINUTES,
    DEFAULT_WAIT_FOR_POD_SECONDS, GarbageCollection,
};
use super::escape::unescape_casc;
use super::yaml::to_yaml;
use serde_yaml_ng::{Mapping, Value};
use std::collections::BTreeMap;

fn text(m: &Mapping, key: &str) -> Option<String> {
    m.get(key).and_then(Value::as_str).map(unescape_casc)
}

fn flag(m: &Mapping, key: &str) -> bool {
    m.get(key).and_then(Value::as_bool).unwrap_or(false)
}

fn number(m: &Mapping, key: &str, default: i64) -> i64 {
    m.get(key).and_then(Value::as_i64).unwrap_or(default)
}

/// The retention in Terraform's spelling from the plugin's symbol.
fn retention(symbol: Option<&str>) -> String {
    match symbol {
        Some("onFailure") => "on_failure".into(),
        Some(s @ ("always" | "evicted")) => s.into(),
        _ => "never".into(),
    }
}

/// The names of every Kubernetes cloud a JCasC file defines (empty when it is not YAML).
pub fn cloud_names_in(casc_yaml: &str) -> Vec<String> {
    let Ok(doc) = serde_yaml_ng::from_str::<Value>(casc_yaml) else { return Vec::new() };
    doc.get("jenkins")
        .and_then(|j| j.get("clouds"))
        .and_then(Value::as_sequence)
        .map(|clouds| {
            clouds.iter().filter_map(|c| c.get("kubernetes")?.get("name")?.as_str().map(unescape_casc)).collect()
        })
        .unwrap_or_default()
}

/// Parses the JCasC file of one cloud (as written by `render_cloud`) into its settings.
pub fn parse_cloud(casc_yaml: &str) -> Result<CloudSpec, String> {
    let doc: Value = serde_yaml_ng::from_str(casc_yaml).map_err(|e| format!("the file is not YAML: {e}"))?;
    let cloud = doc
        .get("jenkins")
        .and_then(|j| j.get("clouds"))
        .and_then(Value::as_sequence)
        .and_then(|s| s.first())
        .and_then(|c| c.get("kubernetes"))
        .and_then(Value::as_mapping)
        .ok_or("the file holds no `jenkins.clouds[0].kubernetes`")?;
    let name = text(cloud, "name").ok_or("the cloud has no name")?;
    let connection = if flag(cloud, "webSocket") {
        AgentConnection::WebSocket
    } else if flag(cloud, "directConnection") {
        AgentConnection::Direct
    } else {
        AgentConnection::Tcp { tunnel: text(cloud, "jenkinsTunnel") }
    };
    let labels: BTreeMap<String, String> = cloud
        .get("podLabels")
        .and_then(Value::as_sequence)
        .map(|s| {
            s.iter()
                .filter_map(|e| {
                    Some((e.get("key")?.as_str().map(unescape_casc)?, e.get("value")?.as_str().map(unescape_casc)?))
                })
                .collect()
        })
        .unwrap_or_default();
    let default_labels = BTreeMap::from([("jenkins/cloud".to_string(), name.clone())]);
    let garbage_collection = cloud.get("garbageCollection").and_then(Value::as_mapping).map(|g| GarbageCollection {
        namespaces: text(g, "namespaces").map(|n| n.lines().map(str::to_string).collect()).unwrap_or_default(),
        timeout_seconds: number(g, "timeout", DEFAULT_GC_TIMEOUT_SECONDS),
    });
    let templates = cloud
        .get("templates")
        .and_then(Value::as_sequence)
        .map(|s| s.iter().map(to_yaml).collect())
        .unwrap_or_default();
    Ok(CloudSpec {
        server_url: text(cloud, "serverUrl"),
        server_ca_certificate: text(cloud, "serverCertificate"),
        skip_tls_verify: flag(cloud, "skipTlsVerify"),
        namespace: text(cloud, "namespace"),
        credentials_id: text(cloud, "credentialsId"),
        jenkins_url: text(cloud, "jenkinsUrl"),
        connection,
        container_cap: cloud.get("containerCap").and_then(Value::as_i64),
        max_requests_per_host: number(cloud, "maxRequestsPerHost", DEFAULT_MAX_REQUESTS_PER_HOST),
        connect_timeout_seconds: number(cloud, "connectTimeout", DEFAULT_CONNECT_TIMEOUT_SECONDS),
        read_timeout_seconds: number(cloud, "readTimeout", DEFAULT_READ_TIMEOUT_SECONDS),
        retention_timeout_minutes: number(cloud, "retentionTimeout", DEFAULT_RETENTION_TIMEOUT_MINUTES),
        wait_for_pod_seconds: number(cloud, "waitForPodSec", DEFAULT_WAIT_FOR_POD_SECONDS),
        pod_retention: retention(cloud.get("podRetention").and_then(Value::as_str)),
        pod_labels: (labels != default_labels).then_some(labels),
        usage_restricted: flag(cloud, "usageRestricted"),
        use_jenkins_proxy: flag(cloud, "useJenkinsProxy"),
        add_controller_proxy_env_vars: flag(cloud, "addMasterProxyEnvVars"),
        restricted_pss_security_context: flag(cloud, "restrictedPssSecurityContext"),
        jnlp_registry: text(cloud, "jnlpregistry"),
        defaults_provider_template: text(cloud, "defaultsProviderTemplate"),
        garbage_collection,
        templates,
        name,
    })
}

#[cfg(test)]
mod tests {
    use super::super::cloud::render_cloud;
    use super::super::{PodTemplateSpec, ToolContainer, render_pod_template};
    use super::*;

    fn template(name: &str, parent: Option<&str>) -> String {
        let spec = PodTemplateSpec {
            name: name.into(),
            labels: vec![name.into()],
            inherit_from: parent.map(|p| vec![p.to_string()]).unwrap_or_default(),
            tool_containers: vec![ToolContainer {
                name: "maven".into(),
                image: "maven:3.9".into(),
                command: vec!["cat".into()],
                tty: true,
                env: BTreeMap::from([("OPTS".to_string(), "${HOME}/x".to_string())]),
                requests: BTreeMap::from([("cpu".to_string(), "1".to_string())]),
                ..Default::default()
            }],
            node_usage_mode: "NORMAL".into(),
            pod_retention: "default".into(),
            show_raw_yaml: true,
            agent_container: "jnlp".into(),
            ..Default::default()
        };
        render_pod_template(&spec).0.expect("renders").definition
    }

    fn spec() -> CloudSpec {
        CloudSpec {
            name: "eks".into(),
            server_url: Some("https://remote.example:443".into()),
            server_ca_certificate: Some("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n".into()),
            skip_tls_verify: false,
            namespace: Some("agents".into()),
            credentials_id: Some("remote-token".into()),
            jenkins_url: Some("https://jenkins.example".into()),
            connection: AgentConnection::WebSocket,
            container_cap: Some(20),
            max_requests_per_host: 64,
            connect_timeout_seconds: 10,
            read_timeout_seconds: 15,
            retention_timeout_minutes: 5,
            wait_for_pod_seconds: 300,
            pod_retention: "on_failure".into(),
            pod_labels: Some(BTreeMap::from([("team".to_string(), "ci".to_string())])),
            usage_restricted: true,
            use_jenkins_proxy: false,
            add_controller_proxy_env_vars: false,
            restricted_pss_security_context: true,
            jnlp_registry: Some("registry.example/mirror".into()),
            defaults_provider_template: None,
            garbage_collection: Some(GarbageCollection {
                namespaces: vec!["a".into(), "b".into()],
                timeout_seconds: 300,
            }),
            templates: vec![template("base", None), template("child", Some("base"))],
        }
    }

    #[test]
    fn a_rendered_cloud_parses_back_to_the_same_settings() {
        let original = spec();
        let (rendered, findings) = render_cloud(&original);
        let rendered = rendered.unwrap_or_else(|| panic!("{findings:?}"));
        assert_eq!(parse_cloud(&rendered.casc_yaml).expect("parses"), original);
    }

    #[test]
    fn the_agent_image_comes_from_the_cloud_registry() {
        let (rendered, findings) = render_cloud(&spec());
        let rendered = rendered.unwrap_or_else(|| panic!("{findings:?}"));
        assert!(rendered.casc_yaml.contains("jnlpregistry: registry.example/mirror"), "{}", rendered.casc_yaml);
        let pod = &rendered.effective_pods["base"];
        assert!(pod.contains("registry.example/mirror/jenkins/inbound-agent:"), "{pod}");
    }

    #[test]
    fn a_remote_cloud_on_tcp_gets_a_warning() {
        let warnings = |connection: AgentConnection| {
            let mut s = spec();
            s.connection = connection;
            let (rendered, findings) = render_cloud(&s);
            assert!(rendered.is_some(), "warnings only: {findings:?}");
            findings.into_iter().map(|f| f.summary).collect::<Vec<_>>()
        };
        assert!(warnings(AgentConnection::WebSocket).iter().all(|s| !s.contains("Remote")));
        assert!(
            warnings(AgentConnection::Tcp { tunnel: None }).contains(&"TCP Agents In A Remote Cluster".to_string())
        );
        let svc = AgentConnection::Tcp { tunnel: Some("jenkins-agent.jenkins.svc.cluster.local:50000".into()) };
        assert!(warnings(svc).contains(&"Tunnel Not Reachable From The Remote Cluster".to_string()));
        let lb = AgentConnection::Tcp { tunnel: Some("agents.example.com:50000".into()) };
        assert!(warnings(lb).iter().all(|s| !s.contains("Remote")));
    }

    #[test]
    fn default_labels_and_tcp_come_back_as_unset() {
        let mut original = spec();
        original.pod_labels = None;
        original.connection = AgentConnection::Tcp { tunnel: Some("jenkins-agent:50000".into()) };
        let (rendered, _) = render_cloud(&original);
        assert_eq!(parse_cloud(&rendered.expect("renders").casc_yaml).expect("parses"), original);
    }

    #[test]
    fn cloud_names_of_the_charts_file() {
        let chart =
            "jenkins:\n  clouds:\n  - kubernetes:\n      name: kubernetes\n  - kubernetes:\n      name: extra\n";
        assert_eq!(cloud_names_in(chart), vec!["kubernetes".to_string(), "extra".to_string()]);
        assert!(cloud_names_in("not: [yaml").is_empty());
    }

    #[test]
    fn foreign_files_are_refused_with_a_reason() {
        assert!(parse_cloud("jenkins:\n  systemMessage: hi\n").unwrap_err().contains("clouds[0]"));
        assert!(parse_cloud(": : :").is_err());
    }
}
