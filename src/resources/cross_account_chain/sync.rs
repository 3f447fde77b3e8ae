//! The IAM side of `jenkins_cross_account_chain`: which account each call goes to (the provider's
//! own, or a target account through the hop's assumed admin role), converging managed trusts and
//! the source-role grant, reading them back for drift, and the plan-time admission checks.
//!
//! Must not: build or compare policies itself (`iam`), or call IAM without the shared retrying
//! layer (`aws::iam::IamApi`, whose loop is driven by `iam::classify`).

use super::ManagedTrust;
use crate::aws::iam::{CallError, IamApi, OWNER_TAG, RoleSpec};
use crate::aws::{AssumedRole, AwsContext};
use crate::awsconfig::Chain;
use crate::cty::{AttributePath, Value};
use crate::framework::Diagnostics;
use crate::iam::{self, Admission, RoleArn};
use crate::resources::values::{set, string_map, strings};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The session name the provider uses when it assumes an admin role (shown in CloudTrail).
const ADMIN_SESSION: &str = "terraform-jenkins-cross-account-chain";

/// IAM clients per account, built on first use and reused within one call.
pub(crate) struct Accounts {
    aws: Arc<AwsContext>,
    /// Account → (admin role ARN, its external id).
    admins: BTreeMap<String, (String, Option<String>)>,
    apis: BTreeMap<String, IamApi>,
    provider_account: Option<Option<String>>,
}

impl Accounts {
    /// Clients reaching the provider's account and each managed hop's target account.
    pub fn new(aws: Arc<AwsContext>, trusts: &[ManagedTrust]) -> Self {
        let mut a = Accounts { aws, admins: BTreeMap::new(), apis: BTreeMap::new(), provider_account: None };
        a.add_admins(trusts);
        a
    }

    /// Also reach the accounts of these hops (e.g. ones removed from the configuration).
    pub fn add_admins(&mut self, trusts: &[ManagedTrust]) {
        for t in trusts {
            if let Ok(arn) = RoleArn::parse(&t.admin_role_arn) {
                self.admins
                    .entry(arn.account)
                    .or_insert_with(|| (t.admin_role_arn.clone(), t.admin_external_id.clone()));
            }
        }
    }

    /// The IAM client for `account`: its admin role when a hop names one, else the provider's own
    /// credentials when they act in that account; `Ok(None)` when no way in is configured.
    pub async fn api_for(&mut self, account: &str) -> Result<Option<IamApi>, String> {
        if let Some(api) = self.apis.get(account) {
            return Ok(Some(api.clone()));
        }
        if let Some((role_arn, external_id)) = self.admins.get(account).cloned() {
            let role =
                AssumedRole { role_arn: role_arn.clone(), session_name: Some(ADMIN_SESSION.into()), external_id };
            let ctx = self.aws.assuming(&role).await?;
            // Fail fast (no retry budget) when the admin role cannot be assumed.
            ctx.credentials().await.map_err(|e| format!("cannot assume admin role {role_arn}: {e}"))?;
            let api = IamApi::new(ctx.sdk().await);
            self.apis.insert(account.to_owned(), api.clone());
            return Ok(Some(api));
        }
        if self.provider_account.is_none() {
            let api = IamApi::new(self.aws.sdk().await);
            let caller = api.caller().await.map_err(|e| e.to_string())?;
            self.apis.insert(caller.account.clone(), api);
            self.provider_account = Some(Some(caller.account));
        }
        Ok(self.apis.get(account).cloned())
    }
}

/// What this resource changed in IAM: roles it created and trusts it replaced.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct IamState {
    pub created_roles: Vec<String>,
    pub replaced_trusts: BTreeMap<String, String>,
}

impl IamState {
    /// From a state value (empty for a create).
    pub fn from_state(v: &Value) -> Self {
        IamState { created_roles: strings(v, "created_roles"), replaced_trusts: string_map(v, "replaced_trusts") }
    }

    /// Into a state value.
    pub fn write_into(&self, v: &mut Value) {
        let mut created = self.created_roles.clone();
        created.sort();
        created.dedup();
        set(v, "created_roles", Value::List(created.into_iter().map(Value::String).collect()));
        set(
            v,
            "replaced_trusts",
            Value::Map(self.replaced_trusts.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect()),
        );
    }
}

fn trust_path(t: &ManagedTrust) -> AttributePath {
    AttributePath::attr("hop").then_index(t.hop_index as i64).then_attr("manage_trust")
}

/// The client for the account of `role_arn`, or an error diagnostic at `path`.
async fn api_or_report(
    accounts: &mut Accounts,
    role_arn: &str,
    path: AttributePath,
    diags: &mut Diagnostics,
) -> Option<(IamApi, RoleArn)> {
    let arn = match RoleArn::parse(role_arn) {
        Ok(a) => a,
        Err(e) => {
            diags.error_at(path, "Invalid Role ARN", format!("{e}."));
            return None;
        }
    };
    match accounts.api_for(&arn.account).await {
        Ok(Some(api)) => Some((api, arn)),
        Ok(None) => {
            diags.error_at(
                path,
                "No Way Into The Account",
                format!(
                    "Role {role_arn} is in account {}, which the provider's credentials do not act in and no hop's `manage_trust.admin_role_arn` reaches. Add a `manage_trust` with an admin role in that account, or manage this role elsewhere.",
                    arn.account
                ),
            );
            None
        }
        Err(e) => {
            diags.error_at(path, "Cannot Reach The Account", format!("{e}. Check the admin role's trust and ARN."));
            None
        }
    }
}

fn report(diags: &mut Diagnostics, path: AttributePath, action: &str, e: &CallError) {
    crate::aws::errors::report(diags, Some(path), action, e);
}

/// Creates or updates each desired target role's trust, and undoes what this resource did to
/// roles no longer managed (deletes the ones it created, restores the trusts it replaced).
/// Returns false when a diagnostic says why it stopped; `state` records what IAM holds either way.
pub(crate) async fn converge_trusts(
    accounts: &mut Accounts,
    desired: &[ManagedTrust],
    prior: &[ManagedTrust],
    owner: &str,
    state: &mut IamState,
    diags: &mut Diagnostics,
) -> bool {
    for t in desired {
        let path = trust_path(t);
        let Some((api, arn)) = api_or_report(accounts, &t.target_role_arn, path.clone(), diags).await else {
            return false;
        };
        let doc = match t.desired() {
            Ok(d) => d,
            Err(e) => {
                diags.error_at(path, "Cannot Build The Trust Policy", format!("{e}."));
                return false;
            }
        };
        let key = arn.to_string();
        match api.read_role(&arn.name, false).await {
            Ok(None) => {
                let spec = RoleSpec {
                    name: arn.name.clone(),
                    path: arn.path.clone(),
                    description: Some(format!("Assumed by {} through a Jenkins AWS profile chain.", t.source_role_arn)),
                    max_session_duration: 3600,
                    permissions_boundary: None,
                    trust_policy: doc,
                    tags: BTreeMap::from([(OWNER_TAG.to_string(), owner.to_string())]),
                };
                if let Err(e) = api.create_role(&spec).await {
                    report(diags, path, &format!("create role {key}"), &e);
                    return false;
                }
                state.created_roles.push(key);
            }
            Ok(Some(live)) => {
                if !state.created_roles.contains(&key) && !state.replaced_trusts.contains_key(&key) {
                    if live.owner() == Some(owner) {
                        state.created_roles.push(key.clone());
                    } else {
                        state.replaced_trusts.insert(key.clone(), live.trust_policy.clone());
                    }
                }
                if !iam::equivalent(&live.trust_policy, &doc).unwrap_or(false)
                    && let Err(e) = api.update_trust(&arn.name, &doc).await
                {
                    report(diags, path, &format!("update the trust of {key}"), &e);
                    return false;
                }
            }
            Err(e) => {
                report(diags, path, &format!("read role {key}"), &e);
                return false;
            }
        }
    }
    let kept: Vec<&str> = desired.iter().map(|t| t.target_role_arn.as_str()).collect();
    for t in prior.iter().filter(|t| !kept.contains(&t.target_role_arn.as_str())) {
        if !undo_trust(accounts, t, owner, state, diags).await {
            return false;
        }
    }
    true
}

/// The live trust of each desired target role that exists, is not ours (owner tag) and whose
/// original `state` does not hold yet: what [`converge_trusts`] is about to replace first. Roles
/// that cannot be read are left out; converge_trusts reports them before changing anything.
pub(crate) async fn trusts_to_replace(
    accounts: &mut Accounts,
    desired: &[ManagedTrust],
    owner: &str,
    state: &IamState,
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for t in desired {
        let Ok(arn) = RoleArn::parse(&t.target_role_arn) else { continue };
        let key = arn.to_string();
        if state.created_roles.contains(&key) || state.replaced_trusts.contains_key(&key) {
            continue;
        }
        let Ok(Some(api)) = accounts.api_for(&arn.account).await else { continue };
        if let Ok(Some(live)) = api.read_role(&arn.name, false).await
            && live.owner() != Some(owner)
        {
            out.insert(key, live.trust_policy);
        }
    }
    out
}

/// Undoes what this resource did to one target role.
async fn undo_trust(
    accounts: &mut Accounts,
    t: &ManagedTrust,
    owner: &str,
    state: &mut IamState,
    diags: &mut Diagnostics,
) -> bool {
    let path = trust_path(t);
    let Ok(parsed) = RoleArn::parse(&t.target_role_arn) else { return true };
    let key = parsed.to_string();
    let created = state.created_roles.contains(&key);
    let replaced = state.replaced_trusts.get(&key).cloned();
    if !created && replaced.is_none() {
        return true;
    }
    let Some((api, arn)) = api_or_report(accounts, &key, path.clone(), diags).await else { return false };
    let live = match api.read_role(&arn.name, false).await {
        Ok(l) => l,
        Err(e) => {
            report(diags, path, &format!("read role {key}"), &e);
            return false;
        }
    };
    if created {
        // Delete only a role that still carries our owner tag.
        if let Some(l) = live.filter(|l| l.owner() == Some(owner))
            && let Err(e) = api.delete_role(&l.name).await
        {
            report(diags, path, &format!("delete role {key}"), &e);
            return false;
        }
        state.created_roles.retain(|r| r != &key);
    } else if let Some(original) = replaced {
        if live.is_some()
            && let Err(e) = api.update_trust(&arn.name, &original).await
        {
            report(diags, path, &format!("restore the trust of {key}"), &e);
            return false;
        }
        state.replaced_trusts.remove(&key);
    }
    true
}

/// Puts the grant policy on each source role that needs it and removes it from the ones that no
/// longer do; other inline policies of those roles are never touched. `had` starts as the grants
/// in state and ends as what IAM holds, also when a diagnostic stops it halfway.
pub(crate) async fn converge_grants(
    accounts: &mut Accounts,
    policy: &str,
    want: &BTreeMap<String, String>,
    had: &mut BTreeMap<String, String>,
    diags: &mut Diagnostics,
) -> bool {
    let path = AttributePath::attr("grant_source_permission");
    let removed = had.keys().filter(|k| !want.contains_key(*k)).map(|k| (k.clone(), None));
    let wanted = want.iter().map(|(k, d)| (k.clone(), Some(d.clone())));
    for (source, doc) in wanted.chain(removed).collect::<Vec<_>>() {
        let Some((api, arn)) = api_or_report(accounts, &source, path.clone(), diags).await else { return false };
        let live = match api.read_role(&arn.name, false).await {
            Ok(Some(l)) => l,
            Ok(None) if doc.is_none() => {
                had.remove(&source);
                continue;
            }
            Ok(None) => {
                diags.error_at(
                    path,
                    "Source Role Not Found",
                    format!("Source role {source} does not exist, so it cannot be granted sts:AssumeRole. Create it first (e.g. with jenkins_irsa_role)."),
                );
                return false;
            }
            Err(e) => {
                report(diags, path, &format!("read role {source}"), &e);
                return false;
            }
        };
        let ours: BTreeMap<String, String> = live
            .inline_policies
            .iter()
            .filter(|(k, _)| k.as_str() == policy)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let desired: BTreeMap<String, String> = doc.iter().map(|d| (policy.to_owned(), d.clone())).collect();
        if let Err(e) = api.sync_inline_policies(&arn.name, &ours, &desired).await {
            report(diags, path, &format!("put the grant policy on {source}"), &e);
            return false;
        }
        match doc {
            Some(d) => had.insert(source, d),
            None => had.remove(&source),
        };
    }
    true
}

/// The live trust of each managed target role, keeping the prior text when equivalent; a role
/// that is gone is left out (the plan then shows it to be created).
pub(crate) async fn read_trusts(
    accounts: &mut Accounts,
    trusts: &[ManagedTrust],
    prior: &BTreeMap<String, String>,
    diags: &mut Diagnostics,
) -> Option<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for t in trusts {
        let path = trust_path(t);
        let (api, arn) = api_or_report(accounts, &t.target_role_arn, path.clone(), diags).await?;
        match api.read_role(&arn.name, false).await {
            Ok(Some(live)) => {
                let key = arn.to_string();
                let kept = iam::keep_prior_if_equivalent(prior.get(&key).map(String::as_str), &live.trust_policy)
                    .unwrap_or(live.trust_policy);
                out.insert(key, kept);
            }
            Ok(None) => {}
            Err(e) => {
                report(diags, path, &format!("read role {}", t.target_role_arn), &e);
                return None;
            }
        }
    }
    Some(out)
}

/// The live grant policy on each source role that should have it.
pub(crate) async fn read_grants(
    accounts: &mut Accounts,
    policy: &str,
    sources: &[String],
    prior: &BTreeMap<String, String>,
    diags: &mut Diagnostics,
) -> Option<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    let path = AttributePath::attr("grant_source_permission");
    for source in sources.iter().chain(prior.keys().filter(|k| !sources.contains(k))) {
        // A grant never made in an account with no way in is left to apply to report: a failing
        // read would also block the destroy that undoes the failed apply.
        if !prior.contains_key(source)
            && let Ok(arn) = RoleArn::parse(source)
            && matches!(accounts.api_for(&arn.account).await, Ok(None))
        {
            continue;
        }
        let (api, arn) = api_or_report(accounts, source, path.clone(), diags).await?;
        match api.read_role(&arn.name, false).await {
            Ok(Some(live)) => {
                if let Some(doc) = live.inline_policies.get(policy) {
                    let kept = iam::keep_prior_if_equivalent(prior.get(source).map(String::as_str), doc)
                        .unwrap_or_else(|_| doc.clone());
                    out.insert(source.clone(), kept);
                }
            }
            Ok(None) => {}
            Err(e) => {
                report(diags, path, &format!("read role {source}"), &e);
                return None;
            }
        }
    }
    Some(out)
}

/// A managed trust must admit the hop's source (with its external id); an error otherwise.
pub(crate) fn check_admission(t: &ManagedTrust, doc: Option<&String>, diags: &mut Diagnostics) {
    let Some(doc) = doc else { return };
    match iam::trust_admits(doc, &t.source_role_arn, t.external_id.as_deref()) {
        Ok(Admission::Allowed) | Ok(Admission::Unknown { .. }) => {}
        Ok(Admission::Denied { reason }) => diags.error_at(
            trust_path(t),
            "Managed Trust Does Not Admit The Source",
            format!(
                "The trust planned for {} would not let {} assume it: {reason}.",
                t.target_role_arn, t.source_role_arn
            ),
        ),
        Err(e) => diags.error_at(trust_path(t), "Cannot Check The Trust Policy", format!("{e}.")),
    }
}

/// Warns for each hop whose source role's identity policies, as IAM has them (inline, then the
/// attached managed ones when the inline ones do not grant it), do not allow `sts:AssumeRole` on
/// the hop's role. Skipped with `grant_source_permission` (apply grants it),
/// and for source roles in accounts the provider cannot read; I/O failures never fail the plan.
pub(crate) async fn check_identity_policies(
    aws: Arc<AwsContext>,
    chain: &Chain,
    trusts: &[ManagedTrust],
    grant: bool,
    diags: &mut Diagnostics,
) {
    if grant {
        return;
    }
    let mut accounts = Accounts::new(aws, trusts);
    let mut roles: BTreeMap<String, Option<crate::aws::iam::LiveRole>> = BTreeMap::new();
    // Source role → (its managed policy documents, the ARNs that could not be read).
    let mut managed: BTreeMap<String, (Vec<String>, Vec<String>)> = BTreeMap::new();
    for (i, hop) in chain.hops.iter().enumerate() {
        let Some(source) = super::source_role_of(chain, hop) else { continue };
        let Ok(arn) = RoleArn::parse(source) else { continue };
        if !roles.contains_key(source) {
            let Ok(Some(api)) = accounts.api_for(&arn.account).await else { continue };
            let Ok(live) = api.read_role(&arn.name, false).await else { continue };
            roles.insert(source.to_owned(), live);
        }
        let path = AttributePath::attr("hop").then_index(i as i64).then_attr("source_profile");
        let Some(live) = roles.get(source) else { continue };
        let Some(live) = live else {
            diags.warning_at(
                path,
                "Source Role Not Found",
                format!(
                    "Hop `{}` assumes {} with the credentials of {source}, which does not exist in IAM yet; create it (e.g. with jenkins_irsa_role) before builds use this profile.",
                    hop.name, hop.role_arn
                ),
            );
            continue;
        };
        let mut docs: Vec<String> = live.inline_policies.values().cloned().collect();
        let mut unread = Vec::new();
        if matches!(iam::identity_allows_assume(&docs, &hop.role_arn), Ok(Admission::Denied { .. })) {
            // Only when the inline policies do not grant it: each managed policy costs two reads,
            // made once per source role however many hops it serves.
            if !managed.contains_key(source) {
                let mut read = (Vec::new(), Vec::new());
                for policy in &live.managed_policy_arns {
                    let doc = match accounts.api_for(&arn.account).await {
                        Ok(Some(api)) => api.managed_policy_document(policy).await.ok(),
                        _ => None,
                    };
                    match doc {
                        Some(doc) => read.0.push(doc),
                        None => read.1.push(policy.clone()),
                    }
                }
                managed.insert(source.to_owned(), read);
            }
            let (more, missing) = &managed[source];
            docs.extend(more.iter().cloned());
            unread.extend(missing.iter().cloned());
        }
        if let Ok(Admission::Denied { reason }) = iam::identity_allows_assume(&docs, &hop.role_arn) {
            let unread_note = if unread.is_empty() {
                String::new()
            } else {
                format!(" Attached managed policies that could not be read ({}) were not evaluated.", unread.join(", "))
            };
            diags.warning_at(
                path,
                "Source Role May Not Assume The Target",
                format!(
                    "Hop `{}`: {reason}; cross-account AssumeRole needs this identity permission as well as the target's trust. Set `grant_source_permission = true` or attach the policy.{unread_note}",
                    hop.name
                ),
            );
        }
    }
}
