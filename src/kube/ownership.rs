//! Who owns an object: the field manager every write uses, and the labels that mark an object as
//! ours. A write to an existing object without these labels is refused, never forced.

use std::collections::BTreeMap;

/// The server-side-apply field manager of every write this provider makes.
pub const FIELD_MANAGER: &str = "terraform-provider-jenkins";

/// The standard label naming the tool that manages an object.
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";

/// Its value on our objects.
pub const MANAGED_BY: &str = "terraform-provider-jenkins";

/// Which resource type of ours owns the object (e.g. `agent-cloud`), so two resources never fight.
pub const RESOURCE_LABEL: &str = "jenkins-eks.io/resource";

/// The ownership labels for an object owned by resource kind `kind`.
pub fn labels(kind: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (MANAGED_BY_LABEL.to_string(), MANAGED_BY.to_string()),
        (RESOURCE_LABEL.to_string(), kind.to_string()),
    ])
}

/// The label selector for the objects resource kind `kind` of this provider owns.
pub fn selector(kind: &str) -> String {
    format!("{MANAGED_BY_LABEL}={MANAGED_BY},{RESOURCE_LABEL}={kind}")
}

/// True when `existing` labels say resource kind `kind` of this provider owns the object.
pub fn is_ours(existing: Option<&BTreeMap<String, String>>, kind: &str) -> bool {
    existing.is_some_and(|l| {
        l.get(MANAGED_BY_LABEL).map(String::as_str) == Some(MANAGED_BY)
            && l.get(RESOURCE_LABEL).map(String::as_str) == Some(kind)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ownership_needs_both_labels() {
        let ours = labels("agent-cloud");
        assert!(is_ours(Some(&ours), "agent-cloud"));
        assert!(!is_ours(Some(&ours), "irsa-role"));
        assert!(!is_ours(None, "agent-cloud"));
        let helm = BTreeMap::from([(MANAGED_BY_LABEL.to_string(), "Helm".to_string())]);
        assert!(!is_ours(Some(&helm), "agent-cloud"));
    }

    /// The selector matches exactly the labels `labels` writes.
    #[test]
    fn selector_names_both_labels() {
        let expected: Vec<String> = labels("remote-access").iter().map(|(k, v)| format!("{k}={v}")).collect();
        assert_eq!(selector("remote-access"), expected.join(","));
    }
}
