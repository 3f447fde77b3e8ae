//! `jenkins_restart_pods`: a rolling restart of the StatefulSets and Deployments whose pods run
//! under one service account, so a new IRSA role annotation (read by EKS's webhook only when a
//! pod is created) reaches the controller without a manual `kubectl rollout restart`.
//!
//! Restarts and progress are `kube::rollout`'s (kubectl's own rules); this file is the I/O: find
//! the workloads, patch each one's template, then poll their status until every rollout is done,
//! one has failed, or `timeout_seconds` passed.

use crate::cty::Value;
use crate::framework::{Action, Attribute, Block, Diagnostics, Progress, Schema, Validator};
use crate::kube::rollout::{self, Rollout};
use crate::kube::{FIELD_MANAGER, errors};
use crate::provider::ProviderContext;
use crate::resources::values::{int, string};
use async_trait::async_trait;
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::core::v1::PodTemplateSpec;
use kube::api::{Api, ListParams, Patch, PatchParams};
use std::sync::Arc;
use std::time::Duration;

/// How long a restart may take when the configuration does not say.
const DEFAULT_TIMEOUT_SECONDS: i64 = 600;

/// How often the workloads' status is read while they roll.
const POLL: Duration = Duration::from_millis(500);

/// The action type; holds the provider context (the controller cluster).
pub struct RestartPods {
    pub context: Arc<ProviderContext>,
}

/// One workload being restarted.
#[derive(Clone)]
enum Workload {
    StatefulSet(String),
    Deployment(String),
}

impl Workload {
    fn describe(&self, namespace: &str) -> String {
        match self {
            Workload::StatefulSet(n) => format!("statefulset {namespace}/{n}"),
            Workload::Deployment(n) => format!("deployment {namespace}/{n}"),
        }
    }
}

fn schema() -> Schema {
    Schema::new(
        Block::new("A rolling restart, as `kubectl rollout restart` does it, of every StatefulSet and Deployment in `namespace` of the provider's controller cluster whose pods run as `service_account`; it then waits until each rollout is done, as `kubectl rollout status` judges it. Use it from the `lifecycle { action_trigger { ... } }` of a `jenkins_irsa_role`, so pods pick up a new role annotation: running pods keep the credentials they started with.")
            .attr(Attribute::string("namespace").required().describe("The namespace of the workloads, e.g. the Jenkins controller's."))
            .attr(Attribute::string("service_account").required().describe("Restart the workloads whose pod template runs as this service account (unset in a template is `default`)."))
            .attr(
                Attribute::number("timeout_seconds")
                    .optional()
                    .describe(format!("How long every rollout together may take before the action fails with `Rollout Stalled`; {DEFAULT_TIMEOUT_SECONDS} when unset."))
                    .validate(Validator::int_at_least(1)),
            ),
    )
}

impl RestartPods {
    /// The workloads of `namespace` whose pods run as `account`.
    async fn find(
        client: &kube::Client,
        namespace: &str,
        account: &str,
        diags: &mut Diagnostics,
    ) -> Option<Vec<Workload>> {
        let sets = running_as::<StatefulSet>(client, namespace, account, |s| s.spec.as_ref().map(|s| &s.template));
        let deployments =
            running_as::<Deployment>(client, namespace, account, |d| d.spec.as_ref().map(|d| &d.template));
        let mut found = Vec::new();
        match sets.await {
            Ok(names) => found.extend(names.into_iter().map(Workload::StatefulSet)),
            Err(e) => {
                errors::report(diags, None, &format!("list the StatefulSets of namespace {namespace}"), &e);
                return None;
            }
        }
        match deployments.await {
            Ok(names) => found.extend(names.into_iter().map(Workload::Deployment)),
            Err(e) => {
                errors::report(diags, None, &format!("list the Deployments of namespace {namespace}"), &e);
                return None;
            }
        }
        Some(found)
    }

    /// Sets the restart annotation of one workload's template.
    async fn restart(client: &kube::Client, namespace: &str, w: &Workload, now: &str) -> Result<(), kube::Error> {
        let params = PatchParams { field_manager: Some(FIELD_MANAGER.to_string()), ..Default::default() };
        let patch = Patch::Merge(rollout::restart_patch(now));
        match w {
            Workload::StatefulSet(n) => {
                Api::<StatefulSet>::namespaced(client.clone(), namespace).patch(n, &params, &patch).await.map(drop)
            }
            Workload::Deployment(n) => {
                Api::<Deployment>::namespaced(client.clone(), namespace).patch(n, &params, &patch).await.map(drop)
            }
        }
    }

    /// Where one workload's rollout stands; a workload deleted meanwhile has nothing left to roll.
    async fn progress(client: &kube::Client, namespace: &str, w: &Workload) -> Result<Rollout, kube::Error> {
        let gone = |what: &Workload| Rollout::Done(format!("{} is gone", what.describe(namespace)));
        match w {
            Workload::StatefulSet(n) => Ok(Api::<StatefulSet>::namespaced(client.clone(), namespace)
                .get_opt(n)
                .await?
                .map_or_else(|| gone(w), |s| rollout::stateful_set(&s))),
            Workload::Deployment(n) => Ok(Api::<Deployment>::namespaced(client.clone(), namespace)
                .get_opt(n)
                .await?
                .map_or_else(|| gone(w), |d| rollout::deployment(&d))),
        }
    }
}

#[async_trait]
impl Action for RestartPods {
    fn type_name(&self) -> &'static str {
        "jenkins_restart_pods"
    }

    fn schema(&self) -> Schema {
        schema()
    }

    async fn invoke(&self, config: &Value, progress: &Progress, diags: &mut Diagnostics) {
        let namespace = string(config, "namespace").unwrap_or_default();
        let account = string(config, "service_account").unwrap_or_default();
        let timeout =
            Duration::from_secs(int(config, "timeout_seconds").unwrap_or(DEFAULT_TIMEOUT_SECONDS).max(1) as u64);
        let Some((_, client)) = self.context.controller_client(diags, "jenkins_restart_pods").await else { return };
        let Some(workloads) = Self::find(&client, &namespace, &account, diags).await else { return };
        if workloads.is_empty() {
            diags.warning(
                "No Workloads To Restart",
                format!("No StatefulSet or Deployment in namespace {namespace:?} runs its pods as service account {account:?}, so nothing was restarted. Check `namespace` and `service_account` (a template without `serviceAccountName` runs as `default`)."),
            );
            return;
        }
        let now = k8s_openapi::jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
        for w in &workloads {
            progress.say(format!("restarting {}", w.describe(&namespace)));
            if let Err(e) = Self::restart(&client, &namespace, w, &now).await {
                errors::report(diags, None, &format!("restart {}", w.describe(&namespace)), &e);
                return;
            }
        }
        let deadline = tokio::time::Instant::now() + timeout;
        let mut last: Vec<Option<Rollout>> = vec![None; workloads.len()];
        loop {
            for (w, seen) in workloads.iter().zip(last.iter_mut()) {
                if matches!(seen, Some(Rollout::Done(_))) {
                    continue;
                }
                let stands = match Self::progress(&client, &namespace, w).await {
                    Ok(r) => r,
                    Err(e) => {
                        errors::report(diags, None, &format!("read {}", w.describe(&namespace)), &e);
                        return;
                    }
                };
                if seen.as_ref() != Some(&stands) {
                    let (Rollout::Done(m) | Rollout::Waiting(m) | Rollout::Failed(m)) = &stands;
                    progress.say(m.clone());
                }
                if let Rollout::Failed(m) = &stands {
                    diags.error(
                        "Rollout Failed",
                        format!(
                            "{m}. `kubectl -n {namespace} describe {}` and the namespace's events say why.",
                            kind_and_name(w)
                        ),
                    );
                    return;
                }
                *seen = Some(stands);
            }
            if last.iter().all(|r| matches!(r, Some(Rollout::Done(_)))) {
                return;
            }
            if tokio::time::Instant::now() >= deadline {
                let pending: Vec<String> = last
                    .iter()
                    .filter_map(|r| match r {
                        Some(Rollout::Waiting(m)) => Some(m.clone()),
                        _ => None,
                    })
                    .collect();
                diags.error(
                    "Rollout Stalled",
                    format!("Not every rollout finished within {} s: {}. The restart annotation is set, so the workloads' controllers keep rolling; `kubectl -n {namespace} rollout status` and `kubectl -n {namespace} get events` show why the new pods do not become ready (an image that does not pull, a failing readiness probe, a quota). Run the action again once they are fixed, or raise `timeout_seconds`.", timeout.as_secs(), pending.join("; ")),
                );
                return;
            }
            tokio::time::sleep(POLL).await;
        }
    }
}

/// The names of the `K`s of `namespace` whose pod template (`template`) runs as `account`.
async fn running_as<K>(
    client: &kube::Client,
    namespace: &str,
    account: &str,
    template: fn(&K) -> Option<&PodTemplateSpec>,
) -> Result<Vec<String>, kube::Error>
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug,
{
    let api: Api<K> = Api::namespaced(client.clone(), namespace);
    let items = api.list(&ListParams::default()).await?.items;
    Ok(items
        .iter()
        .filter(|o| template(o).is_some_and(|t| rollout::runs_as(t, account)))
        .filter_map(|o| o.meta().name.clone())
        .collect())
}

/// `kind/name` as kubectl takes it.
fn kind_and_name(w: &Workload) -> String {
    match w {
        Workload::StatefulSet(n) => format!("statefulset/{n}"),
        Workload::Deployment(n) => format!("deployment/{n}"),
    }
}
