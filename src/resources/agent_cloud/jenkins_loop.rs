//! Jenkins in the loop for `jenkins_agent_cloud`: where the config-reload sidecar looks (read from
//! the controller's StatefulSet, the release name only as a fallback), the plan-time checks (the
//! merged JCasC view, Jenkins' own `check`), and an apply that returns only when Jenkins' export
//! shows the cloud with its planned templates (or gone, on destroy).
//!
//! How a failed reload surfaces: real Jenkins answers the sidecar's reload POST with the error and
//! keeps nothing of it on its API (the sidecar logs the answer), so the apply asks `check` for the
//! document right after writing it (a rejection fails at once with Jenkins' message), polls
//! `export`, and on timeout says what the export shows, with `check`'s answer and where the
//! sidecar's log is. A failed apply saves the state with a note after the file's hash in
//! `casc_sha256` (kept by refresh while the ConfigMap is unchanged), so the next plan shows the
//! file as to be written again instead of "no changes".

use crate::cty::{AttributePath, Value};
use crate::framework::{Attribute, Block, Diagnostics, Validator};
use crate::jenkins::casc_merge::{self, Conflict, Source};
use crate::jenkins_http::endpoints::{self, LiveCloud, Presence, Refusal};
use crate::jenkins_http::{CallError, CheckMessage, JenkinsClient};
use crate::kube::controller::WatchedNamespaces;
use crate::provider::Configured;
use crate::resources::values::{set, string, string_map};
use k8s_openapi::api::core::v1::ConfigMap;
use std::time::Duration;

/// How long an apply waits for Jenkins unless `timeouts` says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

/// How an apply waits: in all, between two looks at the export, and before the provider asks
/// Jenkins to reload itself to learn why the export does not change.
#[derive(Clone, Copy, Debug)]
pub struct Pace {
    pub timeout: Duration,
    pub poll: Duration,
    pub grace: Duration,
}

impl Pace {
    /// Polls every 2 s; reloads after 15 s (the sidecar's own reload comes within seconds), or
    /// half the timeout when that is shorter.
    pub fn new(timeout: Duration) -> Self {
        Pace { timeout, poll: Duration::from_secs(2), grace: (timeout / 2).min(Duration::from_secs(15)) }
    }
}

/// What a failed apply adds to `casc_sha256` in state; the plan shows it next to the new hash.
const UNLOADED_NOTE: &str = "(Jenkins did not load this file at the last apply; the next apply writes it again)";

/// The `timeouts` block.
pub(super) fn timeouts_block() -> Block {
    let duration = |name: &str, what: &str| {
        Attribute::string(name)
            .optional()
            .describe(format!("How long {what} waits for Jenkins' export to confirm the change, e.g. `30s`, `5m`, `1h`. Defaults to `5m`. Only with `jenkins.url` and credentials in the provider."))
            .validate(Validator::string("A duration such as `90s`, `5m` or `1h30m`.", "Invalid Duration", |s| {
                parse_duration(s).map(|_| ())
            }))
    };
    Block::new("How long applies wait for Jenkins.")
        .attr(duration("create", "create"))
        .attr(duration("update", "update"))
        .attr(duration("delete", "destroy"))
}

/// `1h30m`, `90s`, `5m`: Terraform's duration spelling (units h, m, s; at least one).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let bad = || format!("{s:?} is not a duration like `90s`, `5m` or `1h30m`");
    let (mut total, mut digits, mut any) = (0u64, String::new(), false);
    for ch in s.trim().chars() {
        if ch.is_ascii_digit() {
            digits.push(ch);
            continue;
        }
        let unit = match ch {
            'h' => 3600,
            'm' => 60,
            's' => 1,
            _ => return Err(bad()),
        };
        let n: u64 = digits.parse().map_err(|_| bad())?;
        total = total.checked_add(n.checked_mul(unit).ok_or_else(bad)?).ok_or_else(bad)?;
        digits.clear();
        any = true;
    }
    if !any || !digits.is_empty() {
        return Err(bad());
    }
    Ok(Duration::from_secs(total))
}

fn timeout(v: &Value, op: &str) -> Duration {
    v.get_attr("timeouts").and_then(|t| string(t, op)).and_then(|s| parse_duration(&s).ok()).unwrap_or(DEFAULT_TIMEOUT)
}

/// `casc_sha256`: the SHA-256 (hex) of a cloud's file. State keeps the hash, not the file, so a
/// plan shows one line for it; Read hashes the live file, so a hand edit still shows.
pub fn file_hash(casc: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(casc.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// `casc_sha256` for a state whose file Jenkins did not load.
pub fn mark_unloaded(hash: &str) -> String {
    format!("{hash} {UNLOADED_NOTE}")
}

/// The marker line a failed apply appended to the file that schema versions 0 and 1 kept in state.
const STORED_MARK_LINE: &str =
    "# terraform-provider-jenkins: Jenkins did not load this file at the last apply; the next apply writes it again.\n";

/// `casc_sha256` of a state that kept the file (`casc_yaml`, schema versions 0 and 1).
pub fn hash_of_stored_file(casc: &str) -> String {
    match casc.strip_suffix(STORED_MARK_LINE) {
        Some(file) => mark_unloaded(&file_hash(file)),
        None => file_hash(casc),
    }
}

/// `casc_sha256` after a refresh read `live` from the ConfigMap: the note of a failed apply stays
/// while the file is unchanged, so the next plan still writes it again.
pub fn refreshed_hash(state_hash: Option<&str>, live: &str) -> String {
    let live = file_hash(live);
    match state_hash {
        Some(s) if s == mark_unloaded(&live) => s.to_string(),
        _ => live,
    }
}

/// Where the sidecar looks, as far as the provider can tell.
pub(super) struct Watch {
    /// The label key our ConfigMap carries (value `"true"`).
    pub label: String,
    /// The selector the sidecar lists with.
    pub selector: String,
    /// Where it lists.
    pub namespaces: WatchedNamespaces,
    /// Why the sidecar would not load our ConfigMap.
    pub refusal: Option<String>,
    /// Why the StatefulSet could not be read (the fallback was used).
    pub unread: Option<String>,
}

/// What the controller's StatefulSet says the sidecar watches, or the chart's default for the
/// configured release when there is no StatefulSet.
pub(super) async fn watch(configured: &Configured, client: kube::Client) -> Watch {
    let jenkins = configured.jenkins();
    let fallback = format!("{}-jenkins-config", jenkins.fullname);
    let ours = WatchedNamespaces::Some(vec![jenkins.namespace.clone()]);
    match configured.jenkins_controller(client).await {
        Ok(Some(c)) => {
            let refusal = c.refusal(&jenkins.namespace);
            let (label, selector, namespaces) = match &c.sidecar {
                Some(w) => (
                    w.label.clone(),
                    w.label_value.as_ref().map(|v| format!("{}={v}", w.label)).unwrap_or_else(|| w.label.clone()),
                    w.namespaces.clone(),
                ),
                None => (fallback.clone(), fallback, ours),
            };
            Watch { label, selector, namespaces, refusal, unread: None }
        }
        Ok(None) => {
            Watch { label: fallback.clone(), selector: fallback, namespaces: ours, refusal: None, unread: None }
        }
        Err(e) => Watch {
            label: fallback.clone(),
            selector: fallback.clone(),
            namespaces: ours,
            refusal: None,
            unread: Some(format!(
                "the controller's StatefulSets in namespace {:?} could not be listed ({}), so the provider assumes the chart's default label {fallback:?} for release-derived fullname {:?}.",
                jenkins.namespace,
                crate::kube::errors::describe("list StatefulSets", &e).1,
                jenkins.fullname
            )),
        },
    }
}

/// The labelled ConfigMaps the sidecar lists, in each namespace it watches (all of them with
/// `ALL`); a namespace that cannot be listed is left out.
pub(super) async fn sidecar_configmaps(client: kube::Client, w: &Watch) -> Vec<ConfigMap> {
    let params = kube::api::ListParams::default().labels(&w.selector);
    match &w.namespaces {
        WatchedNamespaces::All => {
            let api: kube::Api<ConfigMap> = kube::Api::all(client);
            api.list(&params).await.map(|l| l.items).unwrap_or_default()
        }
        WatchedNamespaces::Some(list) => {
            let mut out = Vec::new();
            for ns in list {
                let api = crate::kube::apply::api::<ConfigMap>(client.clone(), ns);
                out.extend(api.list(&params).await.map(|l| l.items).unwrap_or_default());
            }
            out
        }
    }
}

/// The files the sidecar would write: every labelled ConfigMap but this cloud's own
/// (`own`: namespace and name), then the planned file (last).
pub fn sources(configmaps: &[ConfigMap], own: (&str, &str), planned: Source) -> Vec<Source> {
    let mut out: Vec<Source> = configmaps
        .iter()
        .filter(|cm| (cm.metadata.namespace.as_deref(), cm.metadata.name.as_deref()) != (Some(own.0), Some(own.1)))
        .flat_map(|cm| {
            let origin = format!(
                "ConfigMap {}/{}",
                cm.metadata.namespace.clone().unwrap_or_default(),
                cm.metadata.name.clone().unwrap_or_default()
            );
            let dir = cm
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get("k8s-sidecar-target-directory"))
                .cloned()
                .unwrap_or_default();
            cm.data.iter().flatten().map(move |(key, text)| Source {
                origin: origin.clone(),
                dir: dir.clone(),
                key: key.clone(),
                text: text.clone(),
            })
        })
        .collect();
    out.push(planned);
    out
}

/// The diagnostics of merge conflicts: errors for those involving the planned file (the last
/// source), a warning for a folder that already conflicts without it.
pub fn report_conflicts(sources: &[Source], conflicts: &[Conflict], diags: &mut Diagnostics) {
    let ours = sources.len().saturating_sub(1);
    for c in conflicts {
        let detail = c.explain(sources);
        match c {
            _ if !c.involves(ours) => diags.warning("The Sidecar's Files Already Conflict", detail),
            Conflict::DuplicateCloud { .. } => {
                diags.error_at(AttributePath::attr("name"), "Cloud Name Already Defined", detail)
            }
            Conflict::DataKey { .. } => diags.error_at(AttributePath::attr("data_key"), "ConfigMap Key Clash", detail),
            _ => diags.error("JCasC Would Refuse The Reload", detail),
        }
    }
}

/// The attribute a message of Jenkins' `check` is about.
fn check_path(m: &CheckMessage) -> AttributePath {
    let text = m.message.to_ascii_lowercase();
    if text.contains("template") || text.contains("container") || text.contains("podtemplate") {
        AttributePath::attr("templates")
    } else {
        AttributePath::attr("name")
    }
}

fn quote(messages: &[CheckMessage]) -> String {
    messages
        .iter()
        .map(|m| if m.line > 0 { format!("line {}: {}", m.line, m.message) } else { m.message.clone() })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Jenkins' `check` of the planned file, as diagnostics.
pub async fn plan_check(client: &JenkinsClient, casc: &str, cloud: &str, diags: &mut Diagnostics) {
    match client.check(casc).await {
        Ok(Ok(messages)) => {
            for m in &messages {
                diags.error_at(
                    check_path(m),
                    "Jenkins Rejects The Cloud",
                    format!(
                        "Jenkins at {} refuses the JCasC file of cloud {cloud:?}: {}. Fix the cloud or its templates; the reload would fail and load nothing.",
                        client.url(),
                        quote(std::slice::from_ref(m))
                    ),
                );
            }
        }
        Ok(Err(Refusal::Forbidden)) => diags.warning(
            "Jenkins Did Not Check The Cloud",
            format!(
                "The check of cloud {cloud:?} was skipped: {} Grant the user Overall/Administer to have plans verify clouds, or ignore this warning.",
                Refusal::Forbidden.explain(endpoints::CHECK, "Overall/Administer")
            ),
        ),
        Ok(Err(r)) => diags.warning(
            "Jenkins Did Not Check The Cloud",
            format!("The check of cloud {cloud:?} was skipped: {}", r.explain(endpoints::CHECK, "Overall/Administer")),
        ),
        Err(e) => diags.warning(
            "Jenkins Did Not Check The Cloud",
            format!("The check of cloud {cloud:?} was skipped: {e}. The plan could not verify that Jenkins accepts the file."),
        ),
    }
}

/// The warning of a provider without Jenkins' API, once per process.
pub(super) fn warn_unverified(configured: &Configured, diags: &mut Diagnostics, at_apply: bool) {
    if configured.jenkins().api.is_some() || !configured.first_warning(if at_apply { "apply" } else { "plan" }) {
        return;
    }
    // Distinct summaries: Terraform folds warnings of one summary into the first.
    let (summary, when) = if at_apply {
        ("Apply Not Confirmed By Jenkins", "This apply wrote the clouds' ConfigMaps but did not wait for Jenkins")
    } else {
        ("Jenkins Not Asked", "This plan checked the clouds' files against the sidecar's other files only")
    };
    diags.warning(
        summary,
        format!(
            "{when}: without `jenkins.url`, `jenkins.username` and `jenkins.api_token` (or env JENKINS_URL, JENKINS_USER, JENKINS_API_TOKEN) in the provider, nothing verifies that Jenkins accepts the files and runs the clouds."
        ),
    );
}

/// Plan-time checks of a cloud whose file changes: the sidecar would load it, the merged view has
/// no conflict, and Jenkins (when configured) accepts it.
pub(super) async fn plan_checks(configured: &Configured, planned: &Value, casc: &str, diags: &mut Diagnostics) {
    let name = string(planned, "name").unwrap_or_default();
    if let Some(connector) = configured.controller.clone()
        && let Ok(client) = connector.client().await
    {
        let w = watch(configured, client.clone()).await;
        if let Some(why) = &w.refusal {
            diags.error(
                "The Sidecar Would Not Load This Cloud",
                format!("{why} Cloud {name:?} would be written but never reach Jenkins."),
            );
            return;
        }
        if let Some(note) = w.unread.as_ref().filter(|_| configured.first_warning("controller-unread")) {
            diags.warning("Controller Not Read", note.clone());
        }
        let namespace = &configured.jenkins().namespace;
        let listed = sidecar_configmaps(client, &w).await;
        let own = string(planned, "configmap_name").unwrap_or_default();
        let planned_source = Source {
            origin: format!("this cloud's ConfigMap {namespace}/{own}"),
            dir: crate::jenkins::cloud::SIDECAR_SUBDIR.to_string(),
            key: string(planned, "data_key").unwrap_or_default(),
            text: casc.to_string(),
        };
        let all = sources(&listed, (namespace, &own), planned_source);
        report_conflicts(&all, &casc_merge::check(&all), diags);
    }
    match configured.jenkins_api() {
        Some(Ok(client)) => plan_check(&client, casc, &name, diags).await,
        Some(Err(e)) => diags.error_at(AttributePath::attr("name"), "Unusable Jenkins URL", format!("{e}.")),
        None => warn_unverified(configured, diags, false),
    }
}

/// What an apply waits for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expect {
    /// The cloud runs with these template ids and, when it ran before the write (`before`), with
    /// the file's content: the export covers `want` (see `endpoints::covers`) or, where Jenkins
    /// spells things its own way, at least no longer shows `before`. On create (`before` is
    /// `None`) the cloud's appearance is the change.
    Runs { name: String, ids: Vec<String>, want: Option<serde_yaml_ng::Value>, before: Option<serde_yaml_ng::Value> },
    /// The cloud is gone.
    Gone { name: String },
}

impl Expect {
    fn met(&self, clouds: &[LiveCloud]) -> bool {
        match self {
            Expect::Runs { name, ids, want, before } => {
                let Some(live) = clouds.iter().find(|c| &c.name == name) else { return false };
                let content = match before {
                    None => true,
                    Some(b) => want.as_ref().is_some_and(|w| endpoints::covers(&live.body, w)) || *b != live.body,
                };
                endpoints::presence(clouds, name, ids) == Presence::Matches && content
            }
            Expect::Gone { name } => endpoints::presence(clouds, name, &[]) == Presence::Absent,
        }
    }
}

/// How a wait ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Confirmed,
    /// Jenkins refused the document (from `check`).
    Rejected(String),
    /// The export never showed the change; what it showed last.
    TimedOut(String),
    /// The API could not be asked; why.
    Unverified(String),
}

fn describe_live(clouds: &[LiveCloud], name: &str) -> String {
    match clouds.iter().find(|c| c.name == name) {
        None => format!("no cloud {name:?}"),
        Some(c) => format!("cloud {name:?} with templates {:?}", c.template_ids),
    }
}

/// Waits until the export meets `expect`, checking `document` first. When the export has not
/// changed after `pace.grace`, asks Jenkins once to reload (`/configuration-as-code/reload`, Overall/Manage):
/// its error page is how real Jenkins tells why a reload fails, and a file the sidecar does not
/// re-send (unchanged since a failed reload) gets loaded.
pub async fn wait_for(client: &JenkinsClient, expect: &Expect, document: Option<&str>, pace: Pace) -> Outcome {
    if let Some(doc) = document {
        match client.check(doc).await {
            Ok(Ok(messages)) if !messages.is_empty() => return Outcome::Rejected(quote(&messages)),
            Err(e) => return Outcome::Unverified(e.to_string()),
            _ => {}
        }
    }
    let start = tokio::time::Instant::now();
    let deadline = start + pace.timeout;
    let mut reloaded = false;
    let mut last;
    loop {
        match client.export().await {
            Ok(Ok(yaml)) => match endpoints::live_clouds(&yaml) {
                Ok(clouds) if expect.met(&clouds) => return Outcome::Confirmed,
                Ok(clouds) => {
                    let name = match expect {
                        Expect::Runs { name, .. } | Expect::Gone { name } => name,
                    };
                    last = describe_live(&clouds, name);
                }
                Err(e) => return Outcome::Unverified(e),
            },
            Ok(Err(r)) => return Outcome::Unverified(r.explain(endpoints::EXPORT, "Overall/SystemRead")),
            Err(e @ CallError::Unreachable { .. }) => return Outcome::Unverified(e.to_string()),
            Err(e @ CallError::TimedOut { .. }) => last = e.to_string(),
        }
        if !reloaded && tokio::time::Instant::now() >= start + pace.grace {
            reloaded = true;
            if let Ok(Ok(Some(error))) = client.reload().await {
                return Outcome::Rejected(error);
            }
            continue;
        }
        if tokio::time::Instant::now() + pace.poll > deadline {
            return Outcome::TimedOut(last);
        }
        tokio::time::sleep(pace.poll).await;
    }
}

fn human(d: Duration) -> String {
    let s = d.as_secs();
    match (s / 60, s % 60) {
        (0, s) => format!("{s}s"),
        (m, 0) => format!("{m}m"),
        (m, s) => format!("{m}m{s}s"),
    }
}

fn sidecar_hint(configured: &Configured) -> String {
    format!(
        "The config-reload sidecar's log shows Jenkins' answer to the reload: `kubectl logs -n {} <controller pod> -c config-reload`.",
        configured.jenkins().namespace
    )
}

/// After the ConfigMap of `state` was written with file `casc`: waits for Jenkins to run it.
/// Returns the state to save; on failure it carries the note and `diags` an error with Jenkins'
/// message.
pub(super) async fn after_write(
    configured: &Configured,
    state: Value,
    casc: &str,
    before: Option<serde_yaml_ng::Value>,
    op: &str,
    diags: &mut Diagnostics,
) -> Value {
    let client = match configured.jenkins_api() {
        None => {
            warn_unverified(configured, diags, true);
            return state;
        }
        Some(Err(e)) => {
            diags.warning("Jenkins Not Asked", format!("{e}; the apply did not wait for Jenkins."));
            return state;
        }
        Some(Ok(c)) => c,
    };
    let name = string(&state, "name").unwrap_or_default();
    let ids: Vec<String> = string_map(&state, "template_ids").into_values().collect();
    let wait = timeout(&state, op);
    let expect = Expect::Runs { name: name.clone(), ids, want: endpoints::cloud_body(casc), before };
    let failed = |mut s: Value| {
        set(&mut s, "casc_sha256", Value::String(mark_unloaded(&file_hash(casc))));
        s
    };
    match wait_for(&client, &expect, Some(casc), Pace::new(wait)).await {
        Outcome::Confirmed => state,
        Outcome::Rejected(msg) => {
            diags.error_at(
                AttributePath::attr("templates"),
                "Jenkins Rejected The Cloud",
                format!(
                    "The ConfigMap of cloud {name:?} was written, but Jenkins at {} refuses it: {msg}. Until it is fixed, Jenkins loads none of the sidecar's files. Fix the configuration and apply again.",
                    client.url()
                ),
            );
            failed(state)
        }
        Outcome::TimedOut(last) => {
            diags.error(
                "Jenkins Did Not Load The Cloud",
                format!(
                    "The ConfigMap of cloud {name:?} was written, but after {} Jenkins' export at {} still shows {last}. {} Apply again once the cause is fixed (or raise `timeouts.{op}`).",
                    human(wait),
                    client.url(),
                    sidecar_hint(configured)
                ),
            );
            failed(state)
        }
        Outcome::Unverified(why) => {
            diags.warning(
                "Jenkins Did Not Confirm The Cloud",
                format!(
                    "The ConfigMap of cloud {name:?} was written, but it is not confirmed that Jenkins accepts it and runs the cloud: {why}. The sidecar loads it when Jenkins answers again."
                ),
            );
            state
        }
    }
}

/// What Jenkins runs of cloud `name` before a write, for [`Expect::Runs`]; `None` without the API.
pub(super) async fn before_write(configured: &Configured, name: &str) -> Option<serde_yaml_ng::Value> {
    let client = configured.jenkins_api()?.ok()?;
    let yaml = client.export().await.ok()?.ok()?;
    endpoints::live_clouds(&yaml).ok()?.into_iter().find(|c| c.name == name).map(|c| c.body)
}

/// After the ConfigMap of `prior` was deleted: waits for the cloud to leave Jenkins. A cloud that
/// stays is a warning: the ConfigMap is gone either way. When no other file of the sidecar's sets
/// `jenkins.clouds`, JCasC leaves the cloud list as it is, so there is nothing to wait for.
pub(super) async fn after_delete(
    configured: &Configured,
    cluster: kube::Client,
    prior: &Value,
    diags: &mut Diagnostics,
) {
    let Some(Ok(client)) = configured.jenkins_api() else {
        warn_unverified(configured, diags, true);
        return;
    };
    let name = string(prior, "name").unwrap_or_default();
    let w = watch(configured, cluster.clone()).await;
    let others = sidecar_configmaps(cluster, &w).await;
    let own = string(prior, "configmap_name").unwrap_or_default();
    let defines = others
        .iter()
        .filter(|cm| cm.metadata.name.as_deref() != Some(own.as_str()))
        .flat_map(|cm| cm.data.iter().flatten())
        .any(|(_, text)| casc_merge::defines_clouds(text));
    if !defines {
        diags.warning(
            "Jenkins Keeps The Cloud",
            format!(
                "The ConfigMap of cloud {name:?} was deleted, but no other file the sidecar loads sets `jenkins.clouds`, so JCasC leaves Jenkins' clouds as they are and {name:?} stays until Jenkins restarts or a file sets `jenkins.clouds` (the Helm chart's default config does)."
            ),
        );
        return;
    }
    let wait = timeout(prior, "delete");
    match wait_for(&client, &Expect::Gone { name: name.clone() }, None, Pace::new(wait)).await {
        Outcome::Confirmed => {}
        Outcome::TimedOut(_) => diags.warning(
            "Jenkins Still Runs The Cloud",
            format!(
                "The ConfigMap of cloud {name:?} was deleted, but after {} Jenkins' export at {} still shows the cloud. Jenkins drops it only when another file still defines `jenkins.clouds`. {}",
                human(wait),
                client.url(),
                sidecar_hint(configured)
            ),
        ),
        Outcome::Rejected(why) | Outcome::Unverified(why) => diags.warning(
            "Jenkins Did Not Confirm The Removal",
            format!("The ConfigMap of cloud {name:?} was deleted; that Jenkins dropped the cloud is not confirmed: {why}."),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jenkins_http::client::tests::{TestServer, api};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
    use std::collections::BTreeMap;

    #[test]
    fn durations_parse_as_terraform_spells_them() {
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        for bad in ["", "5", "m", "5x", "1.5m"] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
        assert_eq!(human(Duration::from_secs(90)), "1m30s");
    }

    #[test]
    fn the_marker_of_a_failed_apply_survives_refresh_until_the_file_changes() {
        let live = "jenkins:\n  clouds: []\n";
        let hash = file_hash(live);
        assert_eq!(hash.len(), 64);
        let marked = mark_unloaded(&hash);
        assert!(marked.starts_with(&hash) && marked != hash, "{marked}");
        assert_eq!(refreshed_hash(Some(&marked), live), marked);
        assert_eq!(refreshed_hash(Some(&marked), "other: 1\n"), file_hash("other: 1\n"));
        assert_eq!(refreshed_hash(Some(&hash), live), hash);
        assert_eq!(refreshed_hash(None, live), hash);
        assert_eq!(refreshed_hash(Some(&hash), "edited: by hand\n"), file_hash("edited: by hand\n"));
    }

    fn cm(name: &str, dir: Option<&str>, data: &[(&str, &str)]) -> ConfigMap {
        ConfigMap {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some("jenkins".into()),
                annotations: dir.map(|d| BTreeMap::from([("k8s-sidecar-target-directory".to_string(), d.to_string())])),
                ..Default::default()
            },
            data: Some(data.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()),
            ..Default::default()
        }
    }

    #[test]
    fn the_planned_file_replaces_its_own_configmap_in_the_merged_view() {
        let chart = cm(
            "ci-jenkins-jcasc-config",
            None,
            &[(
                "jcasc-default-config.yaml",
                "jenkins:\n  numExecutors: 0\n  clouds:\n  - kubernetes:\n      name: kubernetes\n",
            )],
        );
        let old = cm(
            "tf-jcasc-cloud-eks",
            Some("terraform"),
            &[("cloud-eks.yaml", "jenkins:\n  clouds:\n  - kubernetes:\n      name: eks\n")],
        );
        let planned = |text: &str| Source {
            origin: "this cloud".into(),
            dir: "terraform".into(),
            key: "cloud-eks.yaml".into(),
            text: text.into(),
        };
        let all = sources(
            &[chart.clone(), old.clone()],
            ("jenkins", "tf-jcasc-cloud-eks"),
            planned("jenkins:\n  clouds:\n  - kubernetes:\n      name: eks\n"),
        );
        assert_eq!(all.len(), 2);
        let mut d = Diagnostics::new();
        report_conflicts(&all, &casc_merge::check(&all), &mut d);
        assert!(d.is_empty(), "{d:?}");

        let clash = planned("jenkins:\n  numExecutors: 2\n  clouds:\n  - kubernetes:\n      name: kubernetes\n");
        let all = sources(&[chart, old], ("jenkins", "tf-jcasc-cloud-eks"), clash);
        let mut d = Diagnostics::new();
        report_conflicts(&all, &casc_merge::check(&all), &mut d);
        let summaries: Vec<&str> = d.iter().map(|x| x.summary.as_str()).collect();
        assert!(
            summaries.contains(&"Cloud Name Already Defined") && summaries.contains(&"JCasC Would Refuse The Reload"),
            "{d:?}"
        );
        assert!(
            d.iter().any(|x| x
                .detail
                .contains("ConfigMap jenkins/ci-jenkins-jcasc-config (key jcasc-default-config.yaml)")),
            "{d:?}"
        );
    }

    fn pace(timeout: Duration, grace: Duration) -> Pace {
        Pace { timeout, poll: Duration::from_millis(1), grace }
    }

    const LONG: Duration = Duration::from_secs(600);

    const WITH_EKS: &str = "jenkins:\n  clouds:\n  - kubernetes:\n      name: eks\n      templates:\n      - id: t1\n";

    #[tokio::test]
    async fn the_wait_ends_when_the_export_shows_the_planned_templates() {
        let server = TestServer::start(|req, n| match req.path.as_str() {
            endpoints::CHECK => (200, "[]".into()),
            _ if n < 4 => (200, "jenkins:\n  clouds: []\n".into()),
            _ => (200, WITH_EKS.into()),
        })
        .await;
        let client = JenkinsClient::new(&api(&server.url)).unwrap();
        let expect = Expect::Runs { name: "eks".into(), ids: vec!["t1".into()], want: None, before: None };
        let outcome = wait_for(&client, &expect, Some(WITH_EKS), pace(LONG, LONG)).await;
        assert_eq!(outcome, Outcome::Confirmed);
        let paths: Vec<String> = server.seen.lock().unwrap().iter().map(|s| s.path.clone()).collect();
        assert_eq!(paths[0], endpoints::CHECK);
        assert_eq!(paths.iter().filter(|p| *p == endpoints::EXPORT).count(), 3);

        let gone = wait_for(&client, &Expect::Gone { name: "gke".into() }, None, pace(Duration::ZERO, LONG)).await;
        assert_eq!(gone, Outcome::Confirmed);
        let stays = wait_for(&client, &Expect::Gone { name: "eks".into() }, None, pace(Duration::ZERO, LONG)).await;
        assert_eq!(stays, Outcome::TimedOut("cloud \"eks\" with templates [\"t1\"]".into()));
    }

    #[test]
    fn an_update_is_met_when_the_export_shows_the_new_content() {
        let old = "jenkins:\n  clouds:\n  - kubernetes:\n      name: eks\n      containerCap: 5\n      templates:\n      - id: t1\n";
        let new = old.replace("containerCap: 5", "containerCap: 6");
        let clouds = |text: &str| endpoints::live_clouds(text).unwrap();
        let expect = Expect::Runs {
            name: "eks".into(),
            ids: vec!["t1".into()],
            want: endpoints::cloud_body(&new),
            before: endpoints::cloud_body(old),
        };
        assert!(!expect.met(&clouds(old)), "the old cloud still runs");
        assert!(expect.met(&clouds(&new)));
        let respelled = new.replace("containerCap: 6", "containerCapStr: \"6\"");
        assert!(expect.met(&clouds(&respelled)), "changed from before, though spelled otherwise");
        assert!(!expect.met(&clouds("jenkins:\n  clouds: []\n")));
    }

    #[tokio::test]
    async fn a_rejected_document_fails_at_once_with_jenkins_message() {
        let server = TestServer::start(|req, _| match req.path.as_str() {
            endpoints::CHECK => (
                200,
                r#"[{"line": 4, "message": "Invalid configuration elements for type: class PodTemplate : bogus"}]"#
                    .into(),
            ),
            _ => (200, "jenkins: {}\n".into()),
        })
        .await;
        let client = JenkinsClient::new(&api(&server.url)).unwrap();
        let expect = Expect::Runs { name: "eks".into(), ids: vec![], want: None, before: None };
        let outcome = wait_for(&client, &expect, Some("x"), pace(LONG, LONG)).await;
        assert_eq!(
            outcome,
            Outcome::Rejected("line 4: Invalid configuration elements for type: class PodTemplate : bogus".into())
        );
        assert_eq!(server.seen.lock().unwrap().len(), 1, "no export polling after a rejection");

        let mut d = Diagnostics::new();
        plan_check(&client, "x", "eks", &mut d).await;
        let e = d.iter().next().expect("diagnostic");
        assert_eq!(e.summary, "Jenkins Rejects The Cloud");
        assert!(e.detail.contains("class PodTemplate : bogus"), "{}", e.detail);
    }

    #[tokio::test]
    async fn a_failing_reload_is_asked_for_its_error_once_the_export_stalls() {
        let server = TestServer::start(|req, _| match req.path.as_str() {
            endpoints::CHECK => (200, "[]".into()),
            endpoints::RELOAD => (200, "<html><body><h1>Error</h1><p>Failed: boom</p></body></html>".into()),
            _ => (200, "jenkins:\n  clouds: []\n".into()),
        })
        .await;
        let client = JenkinsClient::new(&api(&server.url)).unwrap();
        let expect = Expect::Runs { name: "eks".into(), ids: vec![], want: None, before: None };
        let outcome = wait_for(&client, &expect, Some("x"), pace(LONG, Duration::ZERO)).await;
        assert_eq!(outcome, Outcome::Rejected("Failed: boom".into()));

        // A reload that applies (a redirect) lets the wait go on and see the cloud.
        let server = TestServer::start(|req, _| match req.path.as_str() {
            endpoints::RELOAD => (302, String::new()),
            _ if req.path == endpoints::EXPORT => (200, WITH_EKS.into()),
            _ => (200, "[]".into()),
        })
        .await;
        let client = JenkinsClient::new(&api(&server.url)).unwrap();
        let expect = Expect::Runs { name: "eks".into(), ids: vec!["t1".into()], want: None, before: None };
        assert_eq!(wait_for(&client, &expect, None, pace(LONG, Duration::ZERO)).await, Outcome::Confirmed);
    }

    #[tokio::test]
    async fn a_forbidden_check_is_a_warning_and_an_unreachable_jenkins_is_unverified() {
        let server = TestServer::start(|_, _| (403, "<html>Forbidden</html>".into())).await;
        let client = JenkinsClient::new(&api(&server.url)).unwrap();
        let mut d = Diagnostics::new();
        plan_check(&client, "x", "eks", &mut d).await;
        assert!(!d.has_error(), "{d:?}");
        assert!(d.iter().any(|x| x.detail.contains("skipped") && x.detail.contains("Overall/Administer")), "{d:?}");

        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut down = JenkinsClient::new(&api(&format!("http://127.0.0.1:{port}"))).unwrap();
        down.backoff = Duration::from_millis(1);
        let expect = Expect::Runs { name: "eks".into(), ids: vec![], want: None, before: None };
        let outcome = wait_for(&down, &expect, Some("x"), pace(LONG, LONG)).await;
        assert!(matches!(&outcome, Outcome::Unverified(why) if why.contains("unreachable")), "{outcome:?}");
    }
}
