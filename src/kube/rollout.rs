//! Rolling restarts as `kubectl rollout restart` makes them, and their progress as
//! `kubectl rollout status` reads it.
//!
//! The restart is the pod template annotation `kubectl.kubernetes.io/restartedAt` set to the time
//! (kubernetes/kubectl `pkg/polymorphichelpers/objectrestarter.go`): a template change, so the
//! workload's controller replaces every pod, which then starts with today's service account (and
//! the IRSA role annotation the EKS webhook reads at pod creation). Progress follows kubectl's
//! status viewers (`pkg/polymorphichelpers/rollout_status.go`) field for field.
//! Must not: decide anything from the pods themselves; the workload's status is the contract.

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::core::v1::PodTemplateSpec;

/// The pod template annotation whose change restarts every pod.
pub const RESTARTED_AT: &str = "kubectl.kubernetes.io/restartedAt";

/// The reason of a Deployment's `Progressing` condition once `progressDeadlineSeconds` passed
/// (the deployment controller's `TimedOutReason`).
const TIMED_OUT: &str = "ProgressDeadlineExceeded";

/// Where a rollout stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rollout {
    /// Every pod runs the current template and is ready.
    Done(String),
    /// Still going; the text says what it waits for.
    Waiting(String),
    /// It cannot finish by waiting.
    Failed(String),
}

/// The JSON merge patch that restarts a workload's pods at `now` (RFC 3339).
pub fn restart_patch(now: &str) -> serde_json::Value {
    serde_json::json!({ "spec": { "template": { "metadata": { "annotations": { RESTARTED_AT: now } } } } })
}

/// Whether pods of `template` run as service account `name` (unset is `default`, and the
/// deprecated `serviceAccount` still counts, as the API server reads it).
pub fn runs_as(template: &PodTemplateSpec, name: &str) -> bool {
    let spec = template.spec.as_ref();
    let given = spec
        .and_then(|s| s.service_account_name.as_deref().or(s.service_account.as_deref()))
        .filter(|s| !s.is_empty())
        .unwrap_or("default");
    given == name
}

/// A Deployment's rollout, as `kubectl rollout status deployment/<name>` judges it.
pub fn deployment(d: &Deployment) -> Rollout {
    let name = d.metadata.name.as_deref().unwrap_or_default();
    let generation = d.metadata.generation.unwrap_or(0);
    let status = d.status.clone().unwrap_or_default();
    if generation > status.observed_generation.unwrap_or(0) {
        return Rollout::Waiting(format!("deployment {name}: waiting for the spec update to be observed"));
    }
    let timed_out =
        status.conditions.iter().flatten().any(|c| c.type_ == "Progressing" && c.reason.as_deref() == Some(TIMED_OUT));
    if timed_out {
        return Rollout::Failed(format!("deployment {name} exceeded its progress deadline"));
    }
    let updated = status.updated_replicas.unwrap_or(0);
    let wanted = d.spec.as_ref().and_then(|s| s.replicas);
    if let Some(wanted) = wanted
        && updated < wanted
    {
        return Rollout::Waiting(format!("deployment {name}: {updated} out of {wanted} new replicas updated"));
    }
    let replicas = status.replicas.unwrap_or(0);
    if replicas > updated {
        return Rollout::Waiting(format!("deployment {name}: {} old replicas pending termination", replicas - updated));
    }
    let available = status.available_replicas.unwrap_or(0);
    if available < updated {
        return Rollout::Waiting(format!("deployment {name}: {available} of {updated} updated replicas available"));
    }
    Rollout::Done(format!("deployment {name} successfully rolled out"))
}

/// A StatefulSet's rollout, as `kubectl rollout status statefulset/<name>` judges it.
pub fn stateful_set(s: &StatefulSet) -> Rollout {
    let name = s.metadata.name.as_deref().unwrap_or_default();
    let spec = s.spec.clone().unwrap_or_default();
    let strategy = spec.update_strategy.clone().unwrap_or_default();
    if strategy.type_.as_deref().unwrap_or("RollingUpdate") != "RollingUpdate" {
        return Rollout::Failed(format!(
            "statefulset {name} uses update strategy {:?}: its pods are replaced only when deleted, so a restart cannot roll them (use RollingUpdate)",
            strategy.type_.unwrap_or_default()
        ));
    }
    let status = s.status.clone().unwrap_or_default();
    let observed = status.observed_generation.unwrap_or(0);
    if observed == 0 || s.metadata.generation.unwrap_or(0) > observed {
        return Rollout::Waiting(format!("statefulset {name}: waiting for the spec update to be observed"));
    }
    let ready = status.ready_replicas.unwrap_or(0);
    if let Some(wanted) = spec.replicas
        && ready < wanted
    {
        return Rollout::Waiting(format!("statefulset {name}: waiting for {} pods to be ready", wanted - ready));
    }
    if let Some(rolling) = strategy.rolling_update {
        let updated = status.updated_replicas.unwrap_or(0);
        if let (Some(wanted), Some(partition)) = (spec.replicas, rolling.partition)
            && updated < wanted - partition
        {
            return Rollout::Waiting(format!(
                "statefulset {name}: {updated} out of {} new pods updated",
                wanted - partition
            ));
        }
        return Rollout::Done(format!("statefulset {name} successfully rolled out ({updated} pods updated)"));
    }
    let (current, update) = (status.current_revision.unwrap_or_default(), status.update_revision.unwrap_or_default());
    if update != current {
        return Rollout::Waiting(format!(
            "statefulset {name}: {} pods at revision {update}, waiting for the rest",
            status.updated_replicas.unwrap_or(0)
        ));
    }
    Rollout::Done(format!(
        "statefulset {name} successfully rolled out ({} pods at revision {current})",
        status.current_replicas.unwrap_or(0)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deploy(generation: i64, status: serde_json::Value) -> Deployment {
        serde_json::from_value(json!({
            "metadata": { "name": "web", "generation": generation },
            "spec": { "replicas": 2, "selector": {}, "template": {} },
            "status": status,
        }))
        .expect("a Deployment")
    }

    fn sts(generation: i64, rolling: serde_json::Value, status: serde_json::Value) -> StatefulSet {
        serde_json::from_value(json!({
            "metadata": { "name": "jenkins", "generation": generation },
            "spec": { "replicas": 1, "selector": {}, "serviceName": "jenkins", "template": {}, "updateStrategy": rolling },
            "status": status,
        }))
        .expect("a StatefulSet")
    }

    #[test]
    fn a_deployment_is_done_once_every_new_replica_is_available() {
        let waiting = |s| matches!(deployment(&s), Rollout::Waiting(_));
        assert!(waiting(deploy(
            3,
            json!({ "observedGeneration": 2, "replicas": 2, "updatedReplicas": 2, "availableReplicas": 2 })
        )));
        assert!(waiting(deploy(
            3,
            json!({ "observedGeneration": 3, "replicas": 3, "updatedReplicas": 1, "availableReplicas": 2 })
        )));
        assert!(waiting(deploy(
            3,
            json!({ "observedGeneration": 3, "replicas": 3, "updatedReplicas": 2, "availableReplicas": 2 })
        )));
        assert!(waiting(deploy(
            3,
            json!({ "observedGeneration": 3, "replicas": 2, "updatedReplicas": 2, "availableReplicas": 1 })
        )));
        assert_eq!(
            deployment(&deploy(
                3,
                json!({ "observedGeneration": 3, "replicas": 2, "updatedReplicas": 2, "availableReplicas": 2 })
            )),
            Rollout::Done("deployment web successfully rolled out".into())
        );
        let stalled = deploy(
            3,
            json!({ "observedGeneration": 3, "replicas": 3, "updatedReplicas": 1,
                    "conditions": [{ "type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded" }] }),
        );
        assert!(matches!(deployment(&stalled), Rollout::Failed(m) if m.contains("progress deadline")));
    }

    #[test]
    fn a_statefulset_follows_kubectl_with_and_without_a_partition() {
        let partitioned = json!({ "type": "RollingUpdate", "rollingUpdate": { "partition": 0 } });
        let plain = json!({ "type": "RollingUpdate" });
        let unobserved = sts(2, partitioned.clone(), json!({ "observedGeneration": 1, "readyReplicas": 1 }));
        assert!(matches!(stateful_set(&unobserved), Rollout::Waiting(m) if m.contains("observed")));
        let not_ready = sts(2, partitioned.clone(), json!({ "observedGeneration": 2, "readyReplicas": 0 }));
        assert!(matches!(stateful_set(&not_ready), Rollout::Waiting(m) if m.contains("1 pods to be ready")));
        let not_updated =
            sts(2, partitioned.clone(), json!({ "observedGeneration": 2, "readyReplicas": 1, "updatedReplicas": 0 }));
        assert!(matches!(stateful_set(&not_updated), Rollout::Waiting(_)));
        let updated = sts(2, partitioned, json!({ "observedGeneration": 2, "readyReplicas": 1, "updatedReplicas": 1 }));
        assert!(matches!(stateful_set(&updated), Rollout::Done(_)));
        let revisions = |current: &str| {
            sts(
                2,
                plain.clone(),
                json!({ "observedGeneration": 2, "readyReplicas": 1, "currentRevision": current, "updateRevision": "jenkins-b" }),
            )
        };
        assert!(matches!(stateful_set(&revisions("jenkins-a")), Rollout::Waiting(_)));
        assert!(matches!(stateful_set(&revisions("jenkins-b")), Rollout::Done(_)));
        let on_delete = sts(2, json!({ "type": "OnDelete" }), json!({ "observedGeneration": 2 }));
        assert!(matches!(stateful_set(&on_delete), Rollout::Failed(m) if m.contains("RollingUpdate")));
    }

    #[test]
    fn the_service_account_of_a_template_defaults_to_default() {
        let t = |spec: serde_json::Value| -> PodTemplateSpec {
            serde_json::from_value(json!({ "spec": spec })).expect("a template")
        };
        assert!(runs_as(&t(json!({ "containers": [], "serviceAccountName": "jenkins" })), "jenkins"));
        assert!(runs_as(&t(json!({ "containers": [], "serviceAccount": "jenkins" })), "jenkins"));
        assert!(runs_as(&t(json!({ "containers": [] })), "default"));
        assert!(!runs_as(&t(json!({ "containers": [] })), "jenkins"));
        assert_eq!(
            restart_patch("2026-12-07T15:00:00Z"),
            json!({ "spec": { "template": { "metadata": { "annotations": { "kubectl.kubernetes.io/restartedAt": "2026-12-07T15:00:00Z" } } } } })
        );
    }
}
