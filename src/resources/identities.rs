//! The identities (protocol 6.9) of the four resources that own remote objects: which attributes
//! name the object, how a state gives them, and which import id an identity means. Pure, so an
//! import by identity is the import by id the resource already has.

use super::values::string;
use crate::cty::Value;
use crate::framework::{Diagnostics, IdentitySchema, identity_attribute as attr};

/// The import id an identity maps to, or an `Invalid Import Identity` error saying why not.
pub fn import_id(mapped: Result<String, String>, diags: &mut Diagnostics) -> Option<String> {
    mapped.map_err(|e| diags.error("Invalid Import Identity", e)).ok()
}

/// `jenkins_irsa_role`: the IAM role's name in its account.
pub fn irsa_role() -> IdentitySchema {
    IdentitySchema::new(vec![
        attr("account_id", false, "The AWS account of the role; the provider's own when left out on import."),
        attr("name", true, "The IAM role name."),
    ])
}

/// The account in a role ARN (`arn:<partition>:iam::<account>:role/<name>`).
fn arn_account(arn: &str) -> Option<String> {
    arn.split(':').nth(4).filter(|a| !a.is_empty()).map(str::to_owned)
}

pub fn irsa_role_of(state: &Value) -> Option<Value> {
    let account = string(state, "arn").as_deref().and_then(arn_account);
    irsa_role().value(&[("account_id", account), ("name", string(state, "name"))])
}

/// The import id (the role name) of an identity, for a provider working in `caller_account`.
pub fn irsa_role_import(identity: &Value, caller_account: Option<&str>) -> Result<String, String> {
    let name = IdentitySchema::get(identity, "name").ok_or("The identity needs the role's `name`.")?;
    match (IdentitySchema::get(identity, "account_id"), caller_account) {
        (Some(wanted), Some(caller)) if wanted != caller => Err(format!(
            "Role {name:?} is to be imported from account {wanted}, but the provider's credentials are in account {caller}. Use a provider configured for {wanted}."
        )),
        _ => Ok(name),
    }
}

/// `jenkins_agent_cloud`: the cloud's name in the Jenkins namespace its ConfigMap is in.
pub fn agent_cloud() -> IdentitySchema {
    IdentitySchema::new(vec![
        attr("name", true, "The cloud name."),
        attr("namespace", false, "The Jenkins namespace (the provider's `jenkins.namespace`) holding its ConfigMap."),
    ])
}

pub fn agent_cloud_of(state: &Value, namespace: Option<&str>) -> Option<Value> {
    agent_cloud().value(&[("name", string(state, "name")), ("namespace", namespace.map(str::to_owned))])
}

/// The import id (the cloud name) of an identity, for a provider whose Jenkins is in `namespace`.
pub fn agent_cloud_import(identity: &Value, namespace: &str) -> Result<String, String> {
    let name = IdentitySchema::get(identity, "name").ok_or("The identity needs the cloud's `name`.")?;
    match IdentitySchema::get(identity, "namespace") {
        Some(wanted) if wanted != namespace => Err(format!(
            "Cloud {name:?} is to be imported from Jenkins namespace {wanted:?}, but the provider's `jenkins.namespace` is {namespace:?}. Use a provider configured for {wanted:?}."
        )),
        _ => Ok(name),
    }
}

/// `jenkins_remote_cluster_access`: the service account in its namespace of the remote cluster.
pub fn remote_cluster_access() -> IdentitySchema {
    IdentitySchema::new(vec![
        attr("cluster", true, "The remote cluster: its EKS name (`cluster.eks_cluster_name`), or its `host` URL."),
        attr("namespace", true, "The agents' namespace there."),
        attr("service_account", true, "The service account Jenkins' agents use there."),
    ])
}

pub fn remote_cluster_access_of(state: &Value) -> Option<Value> {
    let cluster = state.get_attr("cluster").and_then(|c| string(c, "eks_cluster_name").or_else(|| string(c, "host")));
    remote_cluster_access().value(&[
        ("cluster", cluster),
        ("namespace", string(state, "namespace")),
        ("service_account", string(state, "service_account")),
    ])
}

/// The import id (`<eks_cluster_name>/<namespace>/<service_account>`) of an identity.
pub fn remote_cluster_access_import(identity: &Value) -> Result<String, String> {
    let part = |n: &str| IdentitySchema::get(identity, n).ok_or(format!("The identity needs `{n}`."));
    let cluster = part("cluster")?;
    if cluster.contains("://") {
        return Err(format!(
            "Cluster {cluster:?} is a `host` connection: an import reaches the remote cluster through EKS, since an identity cannot carry a token. Give its EKS name."
        ));
    }
    Ok(format!("{cluster}/{}/{}", part("namespace")?, part("service_account")?))
}

/// `jenkins_cross_account_chain`: the ConfigMap holding the shared config file.
pub fn cross_account_chain() -> IdentitySchema {
    IdentitySchema::new(vec![
        attr("configmap_name", true, "The ConfigMap holding the shared AWS config file."),
        attr("namespace", true, "Its namespace."),
    ])
}

pub fn cross_account_chain_of(state: &Value) -> Option<Value> {
    cross_account_chain()
        .value(&[("configmap_name", string(state, "configmap_name")), ("namespace", string(state, "namespace"))])
}

/// The import id (`<namespace>/<configmap name>`) of an identity.
pub fn cross_account_chain_import(identity: &Value) -> Result<String, String> {
    let part = |n: &str| IdentitySchema::get(identity, n).ok_or(format!("The identity needs `{n}`."));
    Ok(format!("{}/{}", part("namespace")?, part("configmap_name")?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::values::set;
    use std::collections::BTreeMap;

    fn object(pairs: &[(&str, &str)]) -> Value {
        Value::Object(pairs.iter().map(|(k, v)| (k.to_string(), Value::string(*v))).collect::<BTreeMap<_, _>>())
    }

    #[test]
    fn a_role_is_named_in_its_account() {
        let state = object(&[("name", "ci"), ("arn", "arn:aws:iam::123456789012:role/ci")]);
        assert_eq!(irsa_role_of(&state), Some(object(&[("account_id", "123456789012"), ("name", "ci")])));
        assert_eq!(irsa_role_of(&object(&[("name", "ci")])), None, "no ARN yet: no identity");
        let id = object(&[("name", "ci"), ("account_id", "123456789012")]);
        assert_eq!(irsa_role_import(&id, Some("123456789012")).as_deref(), Ok("ci"));
        assert_eq!(irsa_role_import(&object(&[("name", "ci")]), Some("999999999999")).as_deref(), Ok("ci"));
        let e = irsa_role_import(&id, Some("999999999999")).unwrap_err();
        assert!(e.contains("123456789012") && e.contains("999999999999"), "{e}");
    }

    #[test]
    fn a_cloud_is_named_in_its_jenkins_namespace() {
        let state = object(&[("name", "eks")]);
        assert_eq!(agent_cloud_of(&state, Some("jenkins")), Some(object(&[("name", "eks"), ("namespace", "jenkins")])));
        assert_eq!(agent_cloud_of(&state, None), None);
        assert_eq!(agent_cloud_import(&object(&[("name", "eks")]), "jenkins").as_deref(), Ok("eks"));
        assert!(
            agent_cloud_import(&object(&[("name", "eks"), ("namespace", "ci")]), "jenkins")
                .unwrap_err()
                .contains("\"ci\"")
        );
    }

    #[test]
    fn a_remote_access_is_its_service_account_and_an_import_goes_through_eks() {
        let mut state = object(&[("namespace", "agents"), ("service_account", "jenkins-agent")]);
        set(&mut state, "cluster", object(&[("eks_cluster_name", "east")]));
        let id = remote_cluster_access_of(&state).expect("identity");
        assert_eq!(remote_cluster_access_import(&id).as_deref(), Ok("east/agents/jenkins-agent"));
        set(&mut state, "cluster", object(&[("host", "https://k8s.example")]));
        let host = remote_cluster_access_of(&state).expect("identity");
        assert!(remote_cluster_access_import(&host).unwrap_err().contains("EKS name"));
    }

    #[test]
    fn a_chain_is_its_configmap() {
        let state = object(&[("namespace", "jenkins"), ("configmap_name", "awsconfig-configmap")]);
        let id = cross_account_chain_of(&state).expect("identity");
        assert_eq!(cross_account_chain_import(&id).as_deref(), Ok("jenkins/awsconfig-configmap"));
        assert!(cross_account_chain_import(&object(&[("namespace", "jenkins")])).is_err());
    }
}
