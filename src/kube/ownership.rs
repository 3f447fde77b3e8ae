//! Who owns an object: the field manager every write uses, the labels that mark an object as
//! ours, and the annotation naming the one resource that made it. A write to an existing object
//! without these labels, or made by another resource, is refused, never forced; an object carrying
//! the writer's own mark is adopted, so an apply killed half-way converges when it runs again.

use std::collections::BTreeMap;

/// The server-side-apply field manager of every write this provider makes.
pub const FIELD_MANAGER: &str = "terraform-provider-jenkins";

/// The standard label naming the tool that manages an object.
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";

/// Its value on our objects.
pub const MANAGED_BY: &str = "terraform-provider-jenkins";

/// Which resource type of ours owns the object (e.g. `agent-cloud`), so two resources never fight.
pub const RESOURCE_LABEL: &str = "jenkins-eks.io/resource";

/// The annotation naming the resource that owns the object: its kind and its identity (what its
/// import id says), e.g. `remote-cluster-access/eks:remote/agents/jenkins`. Terraform never tells a
/// provider a resource's address, so the identity is the resource's own key. An annotation, since
/// the value holds `/` and may pass a label value's 63 characters.
pub const OWNER_ANNOTATION: &str = "jenkins-eks.io/owner";

/// The owner mark of the resource of kind `kind` whose identity is `identity`.
pub fn owner_mark(kind: &str, identity: &str) -> String {
    format!("{kind}/{identity}")
}

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

/// Who owns an object by its labels and annotations, seen from resource kind `kind` with owner
/// mark `mark` (`None` for kinds that write no mark).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owned {
    /// Ours: our labels, and our mark or none (objects written before marks existed).
    Ours,
    /// Our labels, but another resource's mark.
    ByAnother(String),
    /// Not ours at all.
    Foreign,
}

/// Decides [`Owned`] for an object with `labels` and `annotations`.
pub fn owned(
    labels: Option<&BTreeMap<String, String>>,
    annotations: Option<&BTreeMap<String, String>>,
    kind: &str,
    mark: Option<&str>,
) -> Owned {
    if !is_ours(labels, kind) {
        return Owned::Foreign;
    }
    match (mark, annotations.and_then(|a| a.get(OWNER_ANNOTATION))) {
        (Some(want), Some(have)) if want != have => Owned::ByAnother(have.clone()),
        _ => Owned::Ours,
    }
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

    /// A mark decides between resources of one kind; an unmarked object of ours is still ours.
    #[test]
    fn the_owner_mark_names_one_resource() {
        let ours = labels("remote-access");
        let mark = owner_mark("remote-access", "eks:remote/agents/a");
        let marked = BTreeMap::from([(OWNER_ANNOTATION.to_string(), mark.clone())]);
        assert_eq!(owned(Some(&ours), Some(&marked), "remote-access", Some(&mark)), Owned::Ours);
        assert_eq!(owned(Some(&ours), None, "remote-access", Some(&mark)), Owned::Ours);
        let other = owner_mark("remote-access", "eks:remote/agents/b");
        assert_eq!(owned(Some(&ours), Some(&marked), "remote-access", Some(&other)), Owned::ByAnother(mark.clone()));
        assert_eq!(owned(None, Some(&marked), "remote-access", Some(&mark)), Owned::Foreign);
        assert_eq!(owned(Some(&ours), Some(&marked), "agent-cloud", Some(&mark)), Owned::Foreign);
    }
}
