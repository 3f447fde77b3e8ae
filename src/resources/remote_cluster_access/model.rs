//! The pure half of `jenkins_remote_cluster_access`: what the configuration asks for, the objects it
//! becomes in both clusters, names, fingerprints and checks. No I/O, so all of it is unit-tested.

use super::super::values::{blocks, boolean, set, string, string_map, strings, strings_opt};
use crate::cty::Value;
use crate::kube::ownership;
use crate::kube::rbac::{self, Rule};
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::{Namespace, Secret, ServiceAccount};
use k8s_openapi::api::rbac::v1::{Role, RoleBinding, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The ownership label value of every object this resource writes, in both clusters.
pub const OWNER: &str = "remote-cluster-access";

/// The service account's name when the configuration leaves it out.
pub const DEFAULT_SERVICE_ACCOUNT: &str = "jenkins-agent-controller";

/// On the token Secret: the `rotate_token_when` it was made for (JSON), so import recovers it.
pub const ROTATION_ANNOTATION: &str = "jenkins-eks.io/rotate-token-when";

/// On the credential Secret: the access (`cluster/namespace/service_account`) it carries a token of.
pub const ACCESS_ANNOTATION: &str = "jenkins-eks.io/remote-cluster-access";

/// The annotation the token controller reads to know whose token to issue.
pub const SA_NAME_ANNOTATION: &str = "kubernetes.io/service-account.name";

/// The Secret type the token controller fills.
pub const TOKEN_SECRET_TYPE: &str = "kubernetes.io/service-account-token";

/// kubernetes-credentials-provider: the label that makes a Secret a Jenkins credential, and its type.
pub const CREDENTIALS_TYPE_LABEL: &str = "jenkins.io/credentials-type";
/// kubernetes-credentials-provider: the credential's scope (`global` or `system`).
pub const CREDENTIALS_SCOPE_LABEL: &str = "jenkins.io/credentials-scope";
/// kubernetes-credentials-provider: the credential's description.
pub const CREDENTIALS_DESCRIPTION_ANNOTATION: &str = "jenkins.io/credentials-description";

/// The description of the credential when the configuration leaves it out.
pub const DEFAULT_DESCRIPTION: &str = "Service-account token of a remote agent cluster (managed by Terraform)";

/// How the resource reaches the remote cluster. `Debug` leaves the token out.
#[derive(Clone, PartialEq, Eq)]
pub enum Cluster {
    /// An EKS cluster by name; endpoint and CA from `DescribeCluster`, token signed in-process.
    Eks { name: String, region: Option<String>, role_arn: Option<String> },
    /// An endpoint with an optional CA and a bearer token.
    Direct { host: String, ca: Option<String>, token: Option<String> },
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cluster::Eks { name, region, role_arn } => write!(f, "Eks({name}, {region:?}, {role_arn:?})"),
            Cluster::Direct { host, .. } => write!(f, "Direct({host})"),
        }
    }
}

impl Cluster {
    /// How the import id and `id` name the cluster: the EKS cluster name, or the host.
    pub fn key(&self) -> &str {
        match self {
            Cluster::Eks { name, .. } => name,
            Cluster::Direct { host, .. } => host,
        }
    }

    /// A short name for messages.
    pub fn describe(&self) -> String {
        match self {
            Cluster::Eks { name, .. } => format!("EKS cluster {name:?}"),
            Cluster::Direct { host, .. } => format!("cluster at {host}"),
        }
    }

    /// The `cluster` block, when it is known and names exactly one way in.
    pub fn from_value(v: &Value) -> Option<Cluster> {
        let c = v.get_attr("cluster").filter(|c| !c.is_null() && c.is_wholly_known())?;
        if let Some(name) = string(c, "eks_cluster_name") {
            return Some(Cluster::Eks { name, region: string(c, "region"), role_arn: string(c, "role_arn") });
        }
        let host = string(c, "host")?;
        Some(Cluster::Direct { host, ca: string(c, "cluster_ca_certificate"), token: string(c, "token") })
    }
}

/// The Jenkins credential the token becomes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credential {
    pub id: String,
    pub description: String,
    pub scope: String,
}

/// Everything the configuration (or state) asks for, once known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Access {
    pub cluster: Cluster,
    pub namespace: String,
    pub create_namespace: bool,
    pub service_account: String,
    pub extra_rules: Vec<Rule>,
    pub rotate_token_when: BTreeMap<String, String>,
    pub credential: Option<Credential>,
    pub expose_token: bool,
}

impl Access {
    /// The access an object (planned, or state) describes; `None` while an input is unknown.
    pub fn from_value(v: &Value) -> Option<Access> {
        let inputs = ["cluster", "namespace", "create_namespace", "service_account", "extra_rules"];
        let more = ["rotate_token_when", "jenkins_credential", "expose_token"];
        for n in inputs.iter().chain(more.iter()) {
            if n != &"jenkins_credential" && !v.get_attr(n).is_none_or(Value::is_wholly_known) {
                return None;
            }
        }
        let credential = match v.get_attr("jenkins_credential") {
            None | Some(Value::Null) => None,
            Some(c) => {
                let known =
                    ["id", "description", "scope"].iter().all(|n| c.get_attr(n).is_none_or(Value::is_wholly_known));
                if !known {
                    return None;
                }
                Some(Credential {
                    id: string(c, "id")?,
                    description: string(c, "description").unwrap_or_else(|| DEFAULT_DESCRIPTION.into()),
                    scope: string(c, "scope").unwrap_or_else(|| "global".into()),
                })
            }
        };
        Some(Access {
            cluster: Cluster::from_value(v)?,
            namespace: string(v, "namespace")?,
            create_namespace: boolean(v, "create_namespace").unwrap_or(true),
            service_account: string(v, "service_account").unwrap_or_else(|| DEFAULT_SERVICE_ACCOUNT.into()),
            extra_rules: extra_rules(v),
            rotate_token_when: string_map(v, "rotate_token_when"),
            credential,
            expose_token: boolean(v, "expose_token").unwrap_or(false),
        })
    }

    /// `cluster/namespace/service_account`: the import id and `id`.
    pub fn id(&self) -> String {
        format!("{}/{}/{}", self.cluster.key(), self.namespace, self.service_account)
    }

    /// The owner mark on every object this access writes: another access (another cluster,
    /// namespace or service account) never adopts or deletes them.
    pub fn owner_mark(&self) -> String {
        ownership::owner_mark(OWNER, &self.id())
    }

    /// The token Secret's name: fixed per `rotate_token_when`, so a change makes a new Secret.
    pub fn token_secret_name(&self) -> String {
        token_secret_name(&self.service_account, &self.rotate_token_when)
    }

    /// The Role's rules: the plugin's, then the extra ones.
    pub fn role_rules(&self) -> Vec<Rule> {
        let mut rules = rbac::plugin_rules();
        rules.extend(self.extra_rules.iter().cloned());
        rules
    }

    /// Every object this access owns, as `managed_objects` lists them. `jenkins_namespace` is the
    /// controller's Jenkins namespace (needed only with a credential).
    pub fn managed_objects(&self, jenkins_namespace: &str) -> Vec<String> {
        let (ns, sa) = (&self.namespace, &self.service_account);
        let mut out = Vec::new();
        if self.create_namespace {
            out.push(format!("remote Namespace {ns}"));
        }
        out.push(format!("remote ServiceAccount {ns}/{sa}"));
        out.push(format!("remote Role {ns}/{sa}"));
        out.push(format!("remote RoleBinding {ns}/{sa}"));
        out.push(format!("remote Secret {ns}/{}", self.token_secret_name()));
        if let Some(c) = &self.credential {
            out.push(format!("controller Secret {jenkins_namespace}/{}", c.id));
        }
        out
    }
}

/// The `extra_rules` blocks as rules.
pub fn extra_rules(v: &Value) -> Vec<Rule> {
    blocks(v, "extra_rules")
        .iter()
        .map(|r| Rule {
            api_groups: strings_opt(r, "api_groups").unwrap_or_else(|| vec![String::new()]),
            resources: strings(r, "resources"),
            verbs: strings(r, "verbs"),
            resource_names: strings(r, "resource_names"),
        })
        .collect()
}

/// `<sa>-token`, or `<sa>-token-<8 hex of the rotation map>` once `rotate_token_when` is set.
pub fn token_secret_name(service_account: &str, rotate: &BTreeMap<String, String>) -> String {
    if rotate.is_empty() {
        return format!("{service_account}-token");
    }
    let digest = fingerprint(&rotation_json(rotate));
    format!("{service_account}-token-{}", &digest[..8])
}

/// The canonical JSON of a rotation map (keys sorted).
pub fn rotation_json(rotate: &BTreeMap<String, String>) -> String {
    serde_json::to_string(rotate).unwrap_or_default()
}

/// The rotation map a token Secret was made for; empty when it carries none.
pub fn rotation_of(secret: &Secret) -> BTreeMap<String, String> {
    secret
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(ROTATION_ANNOTATION))
        .and_then(|j| serde_json::from_str(j).ok())
        .unwrap_or_default()
}

/// The SHA-256 of a token, lowercase hex: state keeps this, never the token.
pub fn fingerprint(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

fn meta(mark: String, name: &str, namespace: Option<&str>) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_string()),
        namespace: namespace.map(str::to_string),
        labels: Some(ownership::labels(OWNER)),
        annotations: Some(BTreeMap::from([(ownership::OWNER_ANNOTATION.to_string(), mark)])),
        ..Default::default()
    }
}

/// The agent namespace, when this resource creates it.
pub fn namespace_object(a: &Access) -> Namespace {
    Namespace { metadata: meta(a.owner_mark(), &a.namespace, None), ..Default::default() }
}

/// The service account the controller authenticates as. Its token is the Secret's, so no automount.
pub fn service_account_object(a: &Access) -> ServiceAccount {
    ServiceAccount {
        metadata: meta(a.owner_mark(), &a.service_account, Some(&a.namespace)),
        automount_service_account_token: Some(false),
        ..Default::default()
    }
}

/// The Role: the plugin's rules plus `extra_rules`.
pub fn role_object(a: &Access) -> Role {
    Role {
        metadata: meta(a.owner_mark(), &a.service_account, Some(&a.namespace)),
        rules: Some(a.role_rules().iter().map(Rule::to_policy_rule).collect()),
    }
}

/// The RoleBinding of the Role to the service account.
pub fn role_binding_object(a: &Access) -> RoleBinding {
    RoleBinding {
        metadata: meta(a.owner_mark(), &a.service_account, Some(&a.namespace)),
        role_ref: RoleRef {
            api_group: "rbac.authorization.k8s.io".into(),
            kind: "Role".into(),
            name: a.service_account.clone(),
        },
        subjects: Some(vec![Subject {
            kind: "ServiceAccount".into(),
            name: a.service_account.clone(),
            namespace: Some(a.namespace.clone()),
            api_group: None,
        }]),
    }
}

/// The long-lived token Secret the token controller fills; it records its rotation map.
pub fn token_secret_object(a: &Access) -> Secret {
    let mut m = meta(a.owner_mark(), &a.token_secret_name(), Some(&a.namespace));
    let annotations = m.annotations.get_or_insert_with(BTreeMap::new);
    annotations.insert(SA_NAME_ANNOTATION.to_string(), a.service_account.clone());
    annotations.insert(ROTATION_ANNOTATION.to_string(), rotation_json(&a.rotate_token_when));
    Secret { metadata: m, type_: Some(TOKEN_SECRET_TYPE.into()), ..Default::default() }
}

/// The credential Secret in kubernetes-credentials-provider's `secretText` format: id = name,
/// `text` = the token. The only object that ever holds the token outside the remote cluster.
pub fn credential_secret_object(c: &Credential, jenkins_namespace: &str, access_id: &str, token: &str) -> Secret {
    let mut m = meta(ownership::owner_mark(OWNER, access_id), &c.id, Some(jenkins_namespace));
    let labels = m.labels.get_or_insert_with(BTreeMap::new);
    labels.insert(CREDENTIALS_TYPE_LABEL.into(), "secretText".into());
    labels.insert(CREDENTIALS_SCOPE_LABEL.into(), c.scope.clone());
    let annotations = m.annotations.get_or_insert_with(BTreeMap::new);
    annotations.insert(CREDENTIALS_DESCRIPTION_ANNOTATION.to_string(), c.description.clone());
    annotations.insert(ACCESS_ANNOTATION.to_string(), access_id.to_string());
    Secret {
        metadata: m,
        type_: Some("Opaque".into()),
        data: Some(BTreeMap::from([("text".to_string(), ByteString(token.as_bytes().to_vec()))])),
        ..Default::default()
    }
}

/// The credential a live Secret describes, and the fingerprint of its `text`.
pub fn credential_of(secret: &Secret) -> (Credential, Option<String>) {
    let labels = secret.metadata.labels.clone().unwrap_or_default();
    let annotations = secret.metadata.annotations.clone().unwrap_or_default();
    let credential = Credential {
        id: secret.metadata.name.clone().unwrap_or_default(),
        description: annotations.get(CREDENTIALS_DESCRIPTION_ANNOTATION).cloned().unwrap_or_default(),
        scope: labels.get(CREDENTIALS_SCOPE_LABEL).cloned().unwrap_or_else(|| "global".into()),
    };
    let text = secret
        .data
        .as_ref()
        .and_then(|d| d.get("text"))
        .and_then(|b| String::from_utf8(b.0.clone()).ok())
        .map(|t| fingerprint(&t));
    (credential, text)
}

/// A list of strings as a value.
pub fn string_list(items: &[String]) -> Value {
    Value::List(items.iter().cloned().map(Value::String).collect())
}

/// Rules as the `role_rules` value (every list present, empty when the API leaves it out).
pub fn rules_value(rules: &[Rule]) -> Value {
    Value::List(
        rules
            .iter()
            .map(|r| {
                Value::Object(BTreeMap::from([
                    ("api_groups".to_string(), string_list(&r.api_groups)),
                    ("resources".to_string(), string_list(&r.resources)),
                    ("verbs".to_string(), string_list(&r.verbs)),
                    ("resource_names".to_string(), string_list(&r.resource_names)),
                ]))
            })
            .collect(),
    )
}

/// Rules as `extra_rules` blocks (absent `resource_names` null, as configured).
pub fn extra_rules_value(rules: &[Rule]) -> Value {
    Value::List(
        rules
            .iter()
            .map(|r| {
                let names = if r.resource_names.is_empty() { Value::Null } else { string_list(&r.resource_names) };
                Value::Object(BTreeMap::from([
                    ("api_groups".to_string(), string_list(&r.api_groups)),
                    ("resources".to_string(), string_list(&r.resources)),
                    ("verbs".to_string(), string_list(&r.verbs)),
                    ("resource_names".to_string(), names),
                ]))
            })
            .collect(),
    )
}

/// The extra rules of a live Role: what follows the plugin's rules (all of it if they are not first).
pub fn extra_of_live(live: &[Rule]) -> Vec<Rule> {
    let plugin = rbac::plugin_rules();
    if live.len() >= plugin.len() && live[..plugin.len()] == plugin[..] {
        live[plugin.len()..].to_vec()
    } else {
        live.to_vec()
    }
}

/// The credential block value.
pub fn credential_value(c: &Credential, token_sha256: Value) -> Value {
    Value::Object(BTreeMap::from([
        ("id".to_string(), Value::string(c.id.clone())),
        ("description".to_string(), Value::string(c.description.clone())),
        ("scope".to_string(), Value::string(c.scope.clone())),
        ("token_sha256".to_string(), token_sha256),
    ]))
}

/// Sets an attribute of the nested `jenkins_credential` object, if there is one.
pub fn set_credential_attr(v: &mut Value, name: &str, new: Value) {
    if let Some(c) = v.get_attr_mut("jenkins_credential")
        && !c.is_null()
    {
        set(c, name, new);
    }
}

/// Splits an import id `cluster/namespace/service_account`; the cluster is an EKS cluster name.
pub fn parse_import_id(id: &str) -> Result<(String, String, String), String> {
    let parts: Vec<&str> = id.split('/').collect();
    let [cluster, namespace, sa] = parts.as_slice() else {
        return Err(format!(
            "{id:?} is not `<eks_cluster_name>/<namespace>/<service_account>` (e.g. `ci-east/jenkins-agents/{DEFAULT_SERVICE_ACCOUNT}`). Import reaches the remote cluster through EKS; a `host` connection cannot be imported, since the id cannot carry its token."
        ));
    };
    check_dns_label(namespace, "Namespace")?;
    check_subdomain(sa, 253 - 16, "Service account name")?;
    if cluster.is_empty() {
        return Err("The EKS cluster name is empty.".into());
    }
    Ok((cluster.to_string(), namespace.to_string(), sa.to_string()))
}

fn dns_label_chars(s: &str) -> bool {
    !s.is_empty()
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// A DNS-1123 label: what namespaces must be.
pub fn check_dns_label(s: &str, what: &str) -> Result<(), String> {
    if s.len() <= 63 && dns_label_chars(s) {
        Ok(())
    } else {
        Err(format!(
            "{what} {s:?} must be a DNS-1123 label: at most 63 lowercase letters, digits and `-`, starting and ending with a letter or digit."
        ))
    }
}

/// A DNS-1123 subdomain of at most `max` characters: service accounts, Secrets, credential ids.
pub fn check_subdomain(s: &str, max: usize, what: &str) -> Result<(), String> {
    if s.len() <= max && s.split('.').all(dns_label_chars) {
        Ok(())
    } else {
        Err(format!(
            "{what} {s:?} must be a DNS-1123 subdomain: at most {max} lowercase letters, digits, `-` and `.`, each dot-separated part starting and ending with a letter or digit."
        ))
    }
}
