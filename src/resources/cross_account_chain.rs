//! `jenkins_cross_account_chain`: one Jenkins reaching many AWS accounts through a generated,
//! validated `~/.aws/config` profile chain, delivered as a ConfigMap build pods mount.
//!
//! What it owns: the ConfigMap (server-side apply with our labels; a ConfigMap of that name
//! without them is never adopted), optionally each hop's target-role trust in the target account
//! (through an administrative role assumed per hop; one provider process serves every account),
//! and optionally one inline policy on each source role allowing `sts:AssumeRole` on its hops.
//!
//! Must not: render, parse or check the file itself (that is `awsconfig`), or build, compare or
//! retry IAM policies by itself (that is `iam` and the shared I/O layer `aws::iam`). This file maps
//! the schema onto those cores and decides which account each IAM call goes to.

mod sync;
#[cfg(test)]
mod tests;

use super::values::{blocks, boolean, check_when_known, int, set, string, string_map, strings};
use crate::awsconfig::{self, BaseIdentity, BaseProfile, Chain, CredentialSource, Finding, HopProfile, PathSegment};
use crate::cty::{AttributePath, Value};
use crate::framework::{
    Attribute, Block, Diagnostics, NestedBlock, PlanChange, PlanContext, Resource, Schema, Validator,
};
use crate::iam;
use crate::kube::{apply, errors};
use crate::provider::{ClusterRef, PendingObject, ProviderContext};
use async_trait::async_trait;
use k8s_openapi::api::core::v1::ConfigMap;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The ownership label value of objects this resource writes.
const OWNER: &str = "cross-account-chain";

/// The annotation holding what the file cannot: trust and grant settings, and what this resource
/// created or replaced in IAM, so import restores them and destroy undoes only our own changes.
const SETTINGS_ANNOTATION: &str = "jenkins-eks.io/cross-account-chain";

/// The ConfigMap annotation holding `replaced_trusts` (target role ARN → original trust, JSON).
/// Written before a trust is first replaced, so an apply killed before its state is saved leaves
/// the original where the rerun finds it, instead of taking our trust for the original.
const REPLACED_TRUSTS_ANNOTATION: &str = "jenkins-eks.io/replaced-trusts";

/// The resource type; holds the provider context for its cluster and AWS access.
pub struct CrossAccountChain {
    pub context: Arc<ProviderContext>,
}

/// Attributes computed from the others (and from IAM); everything else is configuration.
const COMPUTED: [&str; 7] = [
    "config_ini",
    "container_env",
    "mount_snippet",
    "trust_policies",
    "source_policies",
    "created_roles",
    "replaced_trusts",
];

const DESCRIPTION: &str = "\
A chained AWS shared config (`~/.aws/config`) in a ConfigMap, so one Jenkins on EKS deploys into many AWS accounts: \
a base profile authenticates as the pod (IRSA web-identity token, or EKS Pod Identity through \
`credential_source = EcsContainer`), and each `hop` profile calls `sts:AssumeRole` into another role, usually in \
another account. The file is validated at plan (exactly one source per hop, no loops, the 1-hour cap on chained \
sessions, external ids, names, ARNs, regions) and shown line by line in `config_ini`.

Optionally, per hop, the provider assumes an administrative role in the target account (`manage_trust`) and \
creates the target role or rewrites its trust so the source role may assume it; with `grant_source_permission` it \
also puts the identity policy allowing `sts:AssumeRole` on the source roles (cross-account access needs both \
sides). Destroy deletes the ConfigMap, deletes roles this resource created, restores trusts it replaced and \
removes the grant.

### Using the chain in a build container

Mount the ConfigMap as a directory (never with `subPath`: such a mount never sees updates), outside `/root` \
(agents running as uid 1000 never read `/root/.aws/config`), and set the variables of `container_env`:

```yaml
spec:
  volumes:
    - name: aws-config
      configMap:
        name: awsconfig-configmap
  containers:
    - name: build # your build container
      env:
        - name: AWS_CONFIG_FILE
          value: /etc/aws/config
        - name: AWS_PROFILE
          value: nonprod
        - name: AWS_SDK_LOAD_CONFIG
          value: \"1\"
      volumeMounts:
        - name: aws-config
          mountPath: /etc/aws
          readOnly: true
```

`mount_snippet` is this YAML for your settings. **Java SDK v2 (Jenkins plugins, Gradle, Maven):** on an IRSA pod \
the EKS webhook sets `AWS_ROLE_ARN` and `AWS_WEB_IDENTITY_TOKEN_FILE`, which the Java SDK v2 checks before the \
profile file, so `AWS_PROFILE` is silently ignored. Unset both for the JVM \
(`env -u AWS_ROLE_ARN -u AWS_WEB_IDENTITY_TOKEN_FILE java …`; the base profile still reads the token through \
`web_identity_token_file`) or select the profile in code (`ProfileCredentialsProvider.create(\"<profile>\")`).

`external_id` values are written to the ConfigMap in clear (every SDK reads them from the file), so treat the \
ConfigMap as readable by every pod that mounts it; they are marked sensitive only to keep them out of plan diffs \
of the `hop` blocks.";

fn manage_trust_block() -> Block {
    Block::new(
        "Create the hop's target role, or rewrite its trust, so the source role may `sts:AssumeRole` it (with `sts:ExternalId` when `external_id` is set). The provider assumes `admin_role_arn` in the target account for this.",
    )
    .attr(
        Attribute::string("admin_role_arn")
            .required()
            .describe("A role in the target role's account the provider may assume, allowed to create roles and update their trust.")
            .validate(role_arn_validator()),
    )
    .attr(
        Attribute::string("admin_external_id")
            .optional()
            .sensitive()
            .describe("External id the admin role's trust requires, if any."),
    )
    .attr(
        Attribute::bool("robust")
            .default(Value::Bool(true))
            .describe("Trust the source account's root with `ArnEquals aws:PrincipalArn` = the source role (survives the source role being recreated; IAM accepts it before the role exists) instead of naming the role as principal."),
    )
}

fn base_block() -> Block {
    Block::new("The base profile: the pod's own identity turned into a role session.")
        .attr(Attribute::string("name").required().describe("Profile name (`default` renders as `[default]`)."))
        .attr(
            Attribute::string("role_arn")
                .required()
                .describe("The role the pod's identity becomes (the IRSA or Pod Identity role).")
                .validate(role_arn_validator()),
        )
        .attr(
            Attribute::string("binding")
                .default(Value::string("irsa"))
                .describe("`irsa` (web-identity token) or `pod_identity` (`credential_source = EcsContainer`, then `AssumeRole` into `role_arn`, which is role chaining and capped at 1 hour).")
                .validate(Validator::one_of(&["irsa", "pod_identity"])),
        )
        .attr(Attribute::string("web_identity_token_file").optional().describe(format!(
            "Where the IRSA token is projected; only with `irsa`. Null: `{}`.",
            awsconfig::DEFAULT_WEB_IDENTITY_TOKEN_FILE
        )))
        .attr(Attribute::string("role_session_name").optional().describe("Shown in CloudTrail and the assumed-role ARN."))
        .attr(Attribute::string("region").optional().describe("Region of the profile (profiles do not inherit it); the cluster's region."))
        .attr(Attribute::number("duration_seconds").optional().describe("Session length (botocore and the CLI honour it; the Rust SDK ignores it)."))
}

fn hop_block() -> Block {
    Block::new("A chained profile: `AssumeRole` into `role_arn` with credentials from `source_profile` or `credential_source` (exactly one).")
        .attr(Attribute::string("name").required().describe("Profile name."))
        .attr(
            Attribute::string("role_arn")
                .required()
                .describe("The role this hop assumes, usually in another account.")
                .validate(role_arn_validator()),
        )
        .attr(Attribute::string("source_profile").optional().describe("The profile whose credentials call `AssumeRole`: the base or another hop."))
        .attr(
            Attribute::string("credential_source")
                .optional()
                .describe("Credentials from the environment instead of a profile.")
                .validate(Validator::one_of(awsconfig::CREDENTIAL_SOURCES)),
        )
        .attr(Attribute::string("role_session_name").optional().describe("Shown in CloudTrail and the assumed-role ARN."))
        .attr(
            Attribute::string("external_id")
                .optional()
                .sensitive()
                .describe("Sent as `sts:ExternalId` (2–1,224 characters of `[\\w+=,.@:/-]`); a managed trust requires the same value."),
        )
        .attr(Attribute::string("region").optional().describe("Region of the profile."))
        .attr(Attribute::number("duration_seconds").optional().describe("Session length; at most 3,600 for a chained hop (STS refuses more)."))
        .block(NestedBlock::single("manage_trust", manage_trust_block()))
}

fn role_arn_validator() -> Validator {
    Validator::string("An IAM role ARN, `arn:aws:iam::<account>:role/<name>`.", "Invalid Role ARN", |s| {
        iam::RoleArn::parse(s).map(|_| ()).map_err(|e| format!("{e}."))
    })
}

fn check_configmap_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|l| {
            !l.is_empty()
                && l.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        });
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{name}` is not a Kubernetes object name: lower-case letters, digits, `-` and `.`, starting and ending with a letter or digit, at most 253 characters."
        ))
    }
}

pub(crate) fn schema() -> Schema {
    let mut base = NestedBlock::single("base", base_block());
    base.min_items = 1;
    base.max_items = 1;
    let block = Block::new(DESCRIPTION)
        .attr(
            Attribute::string("namespace")
                .optional()
                .computed()
                .requires_replace()
                .describe("Namespace of the ConfigMap. Null: the provider's Jenkins namespace."),
        )
        .attr(
            Attribute::string("configmap_name")
                .default(Value::string(awsconfig::DEFAULT_CONFIGMAP_NAME))
                .requires_replace()
                .describe("Name of the ConfigMap; the file is its key `config`.")
                .validate(Validator::string("A Kubernetes object name.", "Invalid ConfigMap Name", check_configmap_name)),
        )
        .attr(
            Attribute::string("mount_path")
                .default(Value::string(awsconfig::DEFAULT_MOUNT_PATH))
                .describe("Where build containers mount the ConfigMap (a directory); used by `container_env` and `mount_snippet`. Keep it outside `/root`."),
        )
        .attr(Attribute::string("aws_profile").optional().describe("The profile `container_env` selects. Null: the last hop (the base when there are none)."))
        .attr(
            Attribute::bool("grant_source_permission")
                .default(Value::Bool(false))
                .describe("Put an inline policy on each hop's source role allowing `sts:AssumeRole` on its hops' roles. The source role must be in the provider's account or in an account a `manage_trust` admin role reaches."),
        )
        .attr(Attribute::string("config_ini").computed().describe("The exact file in the ConfigMap, shown line by line at plan."))
        .attr(Attribute::string_map("container_env").computed().describe("The environment a build container needs: `AWS_CONFIG_FILE`, `AWS_PROFILE`, `AWS_SDK_LOAD_CONFIG`."))
        .attr(Attribute::string("mount_snippet").computed().describe("Pod YAML mounting the ConfigMap with `container_env` set."))
        .attr(Attribute::string_map("trust_policies").computed().describe("Target role ARN → its trust policy, for hops with `manage_trust`; a hand edit shows here at plan."))
        .attr(Attribute::string_map("source_policies").computed().describe("Source role ARN → the inline policy granting `sts:AssumeRole`, with `grant_source_permission`."))
        .attr(Attribute::string_list("created_roles").computed().describe("Target roles this resource created (deleted on destroy)."))
        .attr(Attribute::string_map("replaced_trusts").computed().describe("Target role ARN → the trust it had before this resource managed it (restored on destroy)."))
        .block(base)
        .block(NestedBlock::list("hop", hop_block()));
    Schema::new(block)
}

/// The name of the inline policy `grant_source_permission` puts on source roles: one per
/// ConfigMap, so two chains never overwrite each other's grant.
pub(crate) fn grant_policy_name(namespace: &str, configmap: &str) -> String {
    let name = format!("{}{namespace}-{configmap}", crate::aws::iam::CHAIN_GRANT_PREFIX);
    name.chars().filter(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(*c)).take(128).collect()
}

/// The owner tag value of roles this resource creates.
pub(crate) fn owner_tag(namespace: &str, configmap: &str) -> String {
    format!("cross-account-chain/{namespace}/{configmap}")
}

/// True when every configured input of the rendering is known.
fn inputs_known(config: &Value) -> bool {
    super::values::known_except(config, &COMPUTED)
}

/// The chain the configuration describes; `None` without a base block.
pub(crate) fn chain_of(v: &Value) -> Option<Chain> {
    let b = v.get_attr("base").filter(|b| !b.is_null())?;
    let identity = match string(b, "binding").as_deref() {
        Some("pod_identity") => BaseIdentity::PodIdentity,
        _ => BaseIdentity::WebIdentity {
            web_identity_token_file: string(b, "web_identity_token_file")
                .unwrap_or_else(|| awsconfig::DEFAULT_WEB_IDENTITY_TOKEN_FILE.to_owned()),
        },
    };
    let base = BaseProfile {
        name: string(b, "name").unwrap_or_default(),
        role_arn: string(b, "role_arn").unwrap_or_default(),
        identity,
        role_session_name: string(b, "role_session_name"),
        region: string(b, "region"),
        duration_seconds: int(b, "duration_seconds"),
    };
    let hops = blocks(v, "hop")
        .iter()
        .map(|h| HopProfile {
            name: string(h, "name").unwrap_or_default(),
            role_arn: string(h, "role_arn").unwrap_or_default(),
            source_profile: string(h, "source_profile"),
            // The one-of validator already reported any other spelling.
            credential_source: string(h, "credential_source").and_then(|c| CredentialSource::parse(&c)),
            role_session_name: string(h, "role_session_name"),
            external_id: string(h, "external_id"),
            region: string(h, "region"),
            duration_seconds: int(h, "duration_seconds"),
        })
        .collect();
    Some(Chain { base, hops })
}

/// A finding's path as a Terraform attribute path: `hop[1].source_profile`.
pub(crate) fn attribute_path(f: &Finding) -> AttributePath {
    f.path.iter().fold(AttributePath::root(), |p, seg| match seg {
        PathSegment::Attr(a) => p.then_attr(*a),
        PathSegment::Index(i) => p.then_index(*i as i64),
    })
}

/// A hop with `manage_trust`, resolved: which role trusts which, through which admin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ManagedTrust {
    pub hop_index: usize,
    pub target_role_arn: String,
    pub source_role_arn: String,
    pub external_id: Option<String>,
    pub admin_role_arn: String,
    pub admin_external_id: Option<String>,
    pub robust: bool,
}

impl ManagedTrust {
    /// The trust policy the target role must have.
    pub fn desired(&self) -> Result<String, iam::IamError> {
        let form = if self.robust { iam::HopTrust::Robust } else { iam::HopTrust::Simple };
        iam::cross_account_trust(&self.source_role_arn, self.external_id.as_deref(), form)
    }
}

/// The role whose credentials a hop's `AssumeRole` uses: its source profile's role.
pub(crate) fn source_role_of<'a>(chain: &'a Chain, hop: &HopProfile) -> Option<&'a str> {
    let src = hop.source_profile.as_deref()?;
    if src == chain.base.name {
        return Some(&chain.base.role_arn);
    }
    chain.hops.iter().find(|h| h.name == src && h.name != hop.name).map(|h| h.role_arn.as_str())
}

/// Every hop with `manage_trust` whose source role is known.
pub(crate) fn managed_trusts(v: &Value, chain: &Chain) -> Vec<ManagedTrust> {
    let mut out = Vec::new();
    for (i, (hv, hop)) in blocks(v, "hop").iter().zip(&chain.hops).enumerate() {
        let Some(m) = hv.get_attr("manage_trust").filter(|m| !m.is_null()) else { continue };
        let Some(source) = source_role_of(chain, hop) else { continue };
        out.push(ManagedTrust {
            hop_index: i,
            target_role_arn: hop.role_arn.clone(),
            source_role_arn: source.to_owned(),
            external_id: hop.external_id.clone(),
            admin_role_arn: string(m, "admin_role_arn").unwrap_or_default(),
            admin_external_id: string(m, "admin_external_id"),
            robust: boolean(m, "robust").unwrap_or(true),
        });
    }
    out
}

/// Source role ARN → the targets it must be allowed to assume (for `grant_source_permission`).
pub(crate) fn grants(chain: &Chain) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for hop in &chain.hops {
        if let Some(src) = source_role_of(chain, hop) {
            out.entry(src.to_owned()).or_default().push(hop.role_arn.clone());
        }
    }
    out
}

/// Checks beyond `awsconfig::validate` that need the schema: the token file with Pod Identity,
/// the selected profile, the mount path, what `manage_trust` needs.
fn check_schema_rules(v: &Value, chain: &Chain, diags: &mut Diagnostics) {
    if let Some(b) = v.get_attr("base")
        && string(b, "binding").as_deref() == Some("pod_identity")
        && string(b, "web_identity_token_file").is_some()
    {
        diags.error_at(
            AttributePath::attr("base").then_attr("web_identity_token_file"),
            "Token File With Pod Identity",
            "`web_identity_token_file` applies to `binding = \"irsa\"` only; Pod Identity credentials come from the container credential provider. Remove it or use irsa.",
        );
    }
    if let Some(p) = string(v, "aws_profile")
        && !chain.profile_names().any(|n| n == p)
    {
        diags.error_at(
            AttributePath::attr("aws_profile"),
            "Unknown Profile",
            format!(
                "`aws_profile` names `{p}`, which is not a profile of this chain ({}). Name one of them, or leave it null for the last hop.",
                chain.profile_names().collect::<Vec<_>>().join(", ")
            ),
        );
    }
    for f in awsconfig::check_mount_path(&string(v, "mount_path").unwrap_or_default()) {
        push_finding(&f, diags, true);
    }
    for (i, (hv, hop)) in blocks(v, "hop").iter().zip(&chain.hops).enumerate() {
        let Some(m) = hv.get_attr("manage_trust").filter(|m| !m.is_null()) else { continue };
        let at = AttributePath::attr("hop").then_index(i as i64).then_attr("manage_trust");
        if hop.source_profile.is_none() {
            diags.error_at(
                at.clone(),
                "Managed Trust Needs A Source Profile",
                format!(
                    "Hop `{}` takes its credentials from `credential_source`, so there is no source role to trust. Use `source_profile`, or manage this role's trust elsewhere.",
                    hop.name
                ),
            );
        }
        let (Some(admin), Ok(target)) = (string(m, "admin_role_arn"), iam::RoleArn::parse(&hop.role_arn)) else {
            continue;
        };
        if let Ok(a) = iam::RoleArn::parse(&admin)
            && a.account != target.account
        {
            diags.error_at(
                at.then_attr("admin_role_arn"),
                "Admin Role In Another Account",
                format!(
                    "The admin role is in account {} but the hop's role {} is in account {}; the admin role must be in the target role's account.",
                    a.account, hop.role_arn, target.account
                ),
            );
        }
    }
}

fn push_finding(f: &Finding, diags: &mut Diagnostics, warnings: bool) {
    match f.severity {
        awsconfig::Severity::Error => diags.error_at(attribute_path(f), f.summary.clone(), f.detail.clone()),
        awsconfig::Severity::Warning if warnings => {
            diags.warning_at(attribute_path(f), f.summary.clone(), f.detail.clone())
        }
        awsconfig::Severity::Warning => {}
    }
}

/// Every plan-time check that needs no I/O; the chain when there is no error.
pub(crate) fn check(v: &Value, diags: &mut Diagnostics, warnings: bool) -> Option<Chain> {
    let chain = chain_of(v)?;
    let mut local = Diagnostics::new();
    for f in awsconfig::validate(&chain) {
        push_finding(&f, &mut local, warnings);
    }
    check_schema_rules(v, &chain, &mut local);
    let bad = local.has_error();
    diags.extend(local);
    (!bad).then_some(chain)
}

fn string_map_value(m: impl IntoIterator<Item = (String, String)>) -> Value {
    Value::Map(m.into_iter().map(|(k, v)| (k, Value::String(v))).collect())
}

/// Sets the computed attributes that follow from the configuration alone.
pub(crate) fn render_into(v: &Value, chain: &Chain, target: &mut Value) {
    let mount_path = string(v, "mount_path").unwrap_or_else(|| awsconfig::DEFAULT_MOUNT_PATH.to_owned());
    let configmap = string(v, "configmap_name").unwrap_or_else(|| awsconfig::DEFAULT_CONFIGMAP_NAME.to_owned());
    let env = awsconfig::container_env(chain, &mount_path, string(v, "aws_profile").as_deref());
    set(target, "config_ini", Value::String(awsconfig::render(chain)));
    set(target, "mount_snippet", Value::String(awsconfig::pod_snippet(&configmap, &mount_path, &env)));
    set(target, "container_env", string_map_value(env));
}

/// The desired trust of every managed hop, keyed by target role ARN.
pub(crate) fn desired_trusts(trusts: &[ManagedTrust], diags: &mut Diagnostics) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for t in trusts {
        match t.desired() {
            Ok(doc) => {
                out.insert(t.target_role_arn.clone(), doc);
            }
            Err(e) => diags.error_at(
                AttributePath::attr("hop").then_index(t.hop_index as i64).then_attr("manage_trust"),
                "Cannot Build The Trust Policy",
                format!("{e}."),
            ),
        }
    }
    out
}

/// The desired grant policy per source role.
pub(crate) fn desired_grants(chain: &Chain) -> BTreeMap<String, String> {
    grants(chain)
        .into_iter()
        .filter_map(|(src, targets)| {
            let refs: Vec<&str> = targets.iter().map(String::as_str).collect();
            iam::assume_role_permission(&refs).ok().map(|doc| (src, doc))
        })
        .collect()
}

/// The settings kept in the ConfigMap's annotation.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Settings {
    #[serde(default)]
    pub mount_path: Option<String>,
    #[serde(default)]
    pub aws_profile: Option<String>,
    #[serde(default)]
    pub grant_source_permission: bool,
    /// Hop name → its `manage_trust` (without the admin external id, which is a secret).
    #[serde(default)]
    pub manage_trust: BTreeMap<String, TrustSettings>,
    #[serde(default)]
    pub created_roles: Vec<String>,
    #[serde(default)]
    pub replaced_trusts: BTreeMap<String, String>,
}

/// One hop's `manage_trust` settings in the annotation.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct TrustSettings {
    pub admin_role_arn: String,
    pub robust: bool,
}

pub(crate) fn settings_of(state: &Value) -> Settings {
    let mut manage_trust = BTreeMap::new();
    for h in blocks(state, "hop") {
        if let (Some(name), Some(m)) = (string(h, "name"), h.get_attr("manage_trust").filter(|m| !m.is_null())) {
            manage_trust.insert(
                name,
                TrustSettings {
                    admin_role_arn: string(m, "admin_role_arn").unwrap_or_default(),
                    robust: boolean(m, "robust").unwrap_or(true),
                },
            );
        }
    }
    Settings {
        mount_path: string(state, "mount_path"),
        aws_profile: string(state, "aws_profile"),
        grant_source_permission: boolean(state, "grant_source_permission").unwrap_or(false),
        manage_trust,
        created_roles: strings(state, "created_roles"),
        replaced_trusts: string_map(state, "replaced_trusts"),
    }
}

/// The originals of replaced trusts recorded in our ConfigMap `cm` (empty when none or unreadable).
fn recorded_replacements(cm: &ConfigMap) -> BTreeMap<String, String> {
    let text = cm.metadata.annotations.as_ref().and_then(|a| a.get(REPLACED_TRUSTS_ANNOTATION));
    text.and_then(|t| serde_json::from_str(t).ok()).unwrap_or_default()
}

/// The ConfigMap: the file under `config`, our labels, the settings annotation, and the originals
/// of the trusts it replaced.
fn desired_configmap(state: &Value, namespace: &str) -> ConfigMap {
    let name = string(state, "configmap_name").unwrap_or_default();
    let settings = serde_json::to_string(&settings_of(state)).unwrap_or_default();
    let mut annotations = BTreeMap::from([(SETTINGS_ANNOTATION.to_string(), settings)]);
    let replaced = string_map(state, "replaced_trusts");
    if !replaced.is_empty() {
        annotations
            .insert(REPLACED_TRUSTS_ANNOTATION.to_string(), serde_json::to_string(&replaced).unwrap_or_default());
    }
    ConfigMap {
        metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
            name: Some(name),
            namespace: Some(namespace.to_string()),
            labels: Some(crate::kube::ownership::labels(OWNER)),
            annotations: Some(annotations),
            ..Default::default()
        },
        data: Some(BTreeMap::from([(
            awsconfig::CONFIG_KEY.to_string(),
            string(state, "config_ini").unwrap_or_default(),
        )])),
        ..Default::default()
    }
}

fn opt(v: &Option<String>) -> Value {
    v.as_ref().map(|s| Value::string(s.clone())).unwrap_or(Value::Null)
}

fn opt_int(v: Option<i64>) -> Value {
    v.map(Value::int).unwrap_or(Value::Null)
}

/// The configuration an imported ConfigMap stands for (the inverse of [`chain_of`] plus the
/// annotation's settings). Secrets (the admin external id) cannot be recovered.
pub(crate) fn imported_state(namespace: &str, configmap: &str, chain: &Chain, settings: &Settings) -> Value {
    let schema = schema();
    let mut v = schema.block.null_object();
    set(&mut v, "namespace", Value::string(namespace));
    set(&mut v, "configmap_name", Value::string(configmap));
    set(
        &mut v,
        "mount_path",
        Value::string(settings.mount_path.clone().unwrap_or_else(|| awsconfig::DEFAULT_MOUNT_PATH.to_owned())),
    );
    set(&mut v, "aws_profile", opt(&settings.aws_profile));
    set(&mut v, "grant_source_permission", Value::Bool(settings.grant_source_permission));
    let b = &chain.base;
    let (binding, token) = match &b.identity {
        BaseIdentity::WebIdentity { web_identity_token_file } => {
            ("irsa", Some(web_identity_token_file.clone()).filter(|t| t != awsconfig::DEFAULT_WEB_IDENTITY_TOKEN_FILE))
        }
        BaseIdentity::PodIdentity => ("pod_identity", None),
    };
    let base = Value::Object(BTreeMap::from([
        ("name".to_string(), Value::string(b.name.clone())),
        ("role_arn".to_string(), Value::string(b.role_arn.clone())),
        ("binding".to_string(), Value::string(binding)),
        ("web_identity_token_file".to_string(), opt(&token)),
        ("role_session_name".to_string(), opt(&b.role_session_name)),
        ("region".to_string(), opt(&b.region)),
        ("duration_seconds".to_string(), opt_int(b.duration_seconds)),
    ]));
    set(&mut v, "base", base);
    let hops = chain
        .hops
        .iter()
        .map(|h| {
            let trust = settings.manage_trust.get(&h.name).map(|t| {
                Value::Object(BTreeMap::from([
                    ("admin_role_arn".to_string(), Value::string(t.admin_role_arn.clone())),
                    ("admin_external_id".to_string(), Value::Null),
                    ("robust".to_string(), Value::Bool(t.robust)),
                ]))
            });
            Value::Object(BTreeMap::from([
                ("name".to_string(), Value::string(h.name.clone())),
                ("role_arn".to_string(), Value::string(h.role_arn.clone())),
                ("source_profile".to_string(), opt(&h.source_profile)),
                ("credential_source".to_string(), opt(&h.credential_source.map(|c| c.as_str().to_owned()))),
                ("role_session_name".to_string(), opt(&h.role_session_name)),
                ("external_id".to_string(), opt(&h.external_id)),
                ("region".to_string(), opt(&h.region)),
                ("duration_seconds".to_string(), opt_int(h.duration_seconds)),
                ("manage_trust".to_string(), trust.unwrap_or(Value::Null)),
            ]))
        })
        .collect();
    set(&mut v, "hop", Value::List(hops));
    let mut rendered = v.clone();
    render_into(&v, chain, &mut rendered);
    set(
        &mut rendered,
        "created_roles",
        Value::List(settings.created_roles.iter().cloned().map(Value::String).collect()),
    );
    set(&mut rendered, "replaced_trusts", string_map_value(settings.replaced_trusts.clone()));
    rendered
}

/// The ConfigMap `state` stands for, in the controller cluster; `None` while its name is unknown.
fn configmap_object(state: &Value) -> Option<PendingObject> {
    Some(PendingObject {
        cluster: ClusterRef::Controller,
        kind: "ConfigMap",
        namespace: string(state, "namespace")?,
        name: string(state, "configmap_name")?,
        by: "jenkins_cross_account_chain",
    })
}

/// The ConfigMap this plan creates: a new chain, or one that moves to another name or namespace.
pub(crate) fn created_configmap(prior: &Value, planned: &Value) -> Option<PendingObject> {
    let object = configmap_object(planned)?;
    let same = |attr: &str| !prior.is_null() && string(prior, attr) == string(planned, attr);
    (!(same("namespace") && same("configmap_name"))).then_some(object)
}

impl CrossAccountChain {
    /// The namespace of the ConfigMap: configured, or the provider's Jenkins namespace.
    fn namespace_of(&self, v: &Value) -> Option<String> {
        string(v, "namespace").or_else(|| self.context.get().map(|c| c.jenkins().namespace.clone()))
    }

    async fn client(
        &self,
        diags: &mut Diagnostics,
    ) -> Option<(Arc<crate::provider::context::Configured>, kube::Client)> {
        self.context.controller_client(diags, "jenkins_cross_account_chain").await
    }

    /// After the apply, written or not, the ConfigMap is no longer pending.
    fn settle(&self, planned: &Value) {
        if let (Some(configured), Some(object)) = (self.context.get(), configmap_object(planned)) {
            configured.settled(&[object]);
        }
    }

    /// The state as this resource's ConfigMap `cm` says: the whole of it on import, else `state`
    /// with the live file.
    fn read_configmap(
        state: &Value,
        cm: &ConfigMap,
        namespace: &str,
        name: &str,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let live = cm.data.as_ref().and_then(|d| d.get(awsconfig::CONFIG_KEY)).cloned().unwrap_or_default();
        if state.get_attr("config_ini").is_none_or(Value::is_null) {
            let settings: Settings = cm
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(SETTINGS_ANNOTATION))
                .and_then(|s| serde_json::from_str(s).ok())
                .unwrap_or_default();
            let chain = match awsconfig::parse(&live) {
                Ok(c) => c,
                Err(e) => {
                    diags.error(
                        "Cannot Import The Chain",
                        format!("ConfigMap {namespace}/{name} does not hold a chain this provider can read:\n{e}"),
                    );
                    return None;
                }
            };
            Some(imported_state(namespace, name, &chain, &settings))
        } else {
            // Drift in the file shows as a diff of config_ini, which the plan re-renders.
            let mut next = state.clone();
            set(&mut next, "config_ini", Value::String(live));
            Some(next)
        }
    }

    async fn write(&self, prior: &Value, planned: &Value, diags: &mut Diagnostics) -> Option<Value> {
        let (configured, client) = self.client(diags).await?;
        let mut state = planned.clone();
        let namespace = self.namespace_of(planned)?;
        set(&mut state, "namespace", Value::string(namespace.clone()));
        let chain = check(&state, diags, false)?;
        render_into(&state.clone(), &chain, &mut state);
        let name = string(&state, "configmap_name").unwrap_or_default();
        let api = apply::api::<ConfigMap>(client, &namespace);

        // Refuse a foreign ConfigMap before touching IAM, so a refused apply changes nothing.
        let existing = match apply::get(&api, &name).await {
            Ok(Some(cm)) if !crate::kube::ownership::is_ours(cm.metadata.labels.as_ref(), OWNER) => {
                let e = apply::ApplyError::Foreign {
                    kind: "ConfigMap".into(),
                    namespace: namespace.clone(),
                    name: name.clone(),
                };
                diags.error_at(AttributePath::attr("configmap_name"), "ConfigMap Owned By Someone Else", e.to_string());
                return None;
            }
            Ok(cm) => cm,
            Err(e) => {
                errors::report(diags, None, &format!("read ConfigMap {namespace}/{name}"), &e);
                return None;
            }
        };

        let mut iam_state = sync::IamState::from_state(prior);
        let owner = owner_tag(&namespace, &name);
        let trusts = managed_trusts(&state, &chain);
        let desired = desired_trusts(&trusts, diags);
        // Originals an earlier, killed apply recorded in the ConfigMap before replacing them.
        for (arn, original) in existing.as_ref().map(recorded_replacements).unwrap_or_default() {
            if desired.contains_key(&arn) && !iam_state.created_roles.contains(&arn) {
                iam_state.replaced_trusts.entry(arn).or_insert(original);
            }
        }
        let mut accounts = sync::Accounts::new(configured.aws.clone(), &trusts);
        let prior_trusts = match chain_of(prior) {
            Some(c) if !prior.is_null() => managed_trusts(prior, &c),
            _ => Vec::new(),
        };
        accounts.add_admins(&prior_trusts);
        // Trusts about to be replaced for the first time: their originals go to the ConfigMap
        // before IAM changes, the one record that survives a kill.
        let first = sync::trusts_to_replace(&mut accounts, &trusts, &owner, &iam_state).await;
        if !first.is_empty() {
            iam_state.replaced_trusts.extend(first);
            let mut early = state.clone();
            iam_state.write_into(&mut early);
            if let Err(e) = apply::apply_owned(&api, &name, OWNER, &desired_configmap(&early, &namespace)).await {
                let action = format!("record the replaced trusts in ConfigMap {namespace}/{name}");
                apply::report(diags, AttributePath::attr("configmap_name"), &action, &e);
                return None;
            }
        }
        let ok = sync::converge_trusts(&mut accounts, &trusts, &prior_trusts, &owner, &mut iam_state, diags).await;
        set(&mut state, "trust_policies", string_map_value(desired));
        let grant = boolean(&state, "grant_source_permission").unwrap_or(false);
        let want_grants = if grant { desired_grants(&chain) } else { BTreeMap::new() };
        let mut grants_held = string_map(prior, "source_policies");
        let policy = grant_policy_name(&namespace, &name);
        let ok = ok && sync::converge_grants(&mut accounts, &policy, &want_grants, &mut grants_held, diags).await;
        // A failed apply still saves the state when IAM now holds something of this resource's it
        // did not before (a role it created, a trust it replaced, with the original text): without
        // it the original trust would be lost and destroy could not restore it. Terraform keeps a
        // failed create as tainted, so the next apply undoes it all and starts again.
        let recorded = iam_state != sync::IamState::from_state(prior);
        iam_state.write_into(&mut state);
        // What IAM holds: the wanted grants after a full converge, the ones made so far otherwise.
        set(&mut state, "source_policies", string_map_value(grants_held));
        if !ok {
            return recorded.then_some(state);
        }

        let cm = desired_configmap(&state, &namespace);
        match apply::apply_owned(&api, &name, OWNER, &cm).await {
            Ok(_) => Some(state),
            Err(e) => {
                let action = format!("apply ConfigMap {namespace}/{name}");
                apply::report(diags, AttributePath::attr("configmap_name"), &action, &e);
                recorded.then_some(state)
            }
        }
    }
}

#[async_trait]
impl Resource for CrossAccountChain {
    fn type_name(&self) -> &'static str {
        "jenkins_cross_account_chain"
    }

    fn schema(&self) -> Schema {
        schema()
    }

    fn validate(&self, schema: &Schema, config: &Value, diags: &mut Diagnostics) {
        check_when_known(&schema.block, config, &COMPUTED, diags, |object, local| {
            check(object, local, false);
        });
    }

    async fn modify_plan(&self, ctx: PlanContext<'_>, change: &mut PlanChange, diags: &mut Diagnostics) {
        if string(&change.planned, "namespace").is_none()
            && let Some(ns) = self.namespace_of(ctx.config)
        {
            set(&mut change.planned, "namespace", Value::string(ns));
        }
        // Before anything else may return: a cloud planned after this chain waits for its ConfigMap.
        if let Some(configured) = self.context.get()
            && let Some(object) = created_configmap(ctx.prior, &change.planned)
        {
            configured.will_create(object);
        }
        if !inputs_known(&change.planned) {
            return;
        }
        let input = change.planned.clone();
        let Some(chain) = check(&input, diags, true) else { return };
        render_into(&input, &chain, &mut change.planned);
        let trusts = managed_trusts(&input, &chain);
        let mut desired = desired_trusts(&trusts, diags);
        // Keep the prior text when it means the same, so IAM's reordering never shows as a diff.
        let prior_trusts = string_map(ctx.prior, "trust_policies");
        for (arn, doc) in desired.iter_mut() {
            if let Ok(kept) = iam::keep_prior_if_equivalent(prior_trusts.get(arn).map(String::as_str), doc) {
                *doc = kept;
            }
        }
        set(&mut change.planned, "trust_policies", string_map_value(desired.clone()));
        let grant = boolean(&input, "grant_source_permission").unwrap_or(false);
        let grants = if grant { desired_grants(&chain) } else { BTreeMap::new() };
        let prior_grants = string_map(ctx.prior, "source_policies");
        let grants = grants
            .into_iter()
            .map(|(k, doc)| {
                let kept = iam::keep_prior_if_equivalent(prior_grants.get(&k).map(String::as_str), &doc).unwrap_or(doc);
                (k, kept)
            })
            .collect::<BTreeMap<_, _>>();
        set(&mut change.planned, "source_policies", string_map_value(grants));
        // What IAM holds of ours changes only when the managed set does.
        let same_set = !ctx.prior.is_null()
            && string_map(ctx.prior, "trust_policies").keys().eq(desired.keys())
            && strings(ctx.prior, "created_roles").iter().all(|r| desired.contains_key(r))
            && string_map(ctx.prior, "replaced_trusts").keys().all(|r| desired.contains_key(r));
        for attr in ["created_roles", "replaced_trusts"] {
            let value =
                if same_set { ctx.prior.get_attr(attr).cloned().unwrap_or(Value::Null) } else { Value::unknown() };
            set(&mut change.planned, attr, value);
        }
        for t in &trusts {
            sync::check_admission(t, desired.get(&t.target_role_arn), diags);
        }
        if let Some(configured) = self.context.get() {
            sync::check_identity_policies(configured.aws.clone(), &chain, &trusts, grant, diags).await;
        }
    }

    fn identity_schema(&self) -> Option<crate::framework::IdentitySchema> {
        Some(super::identities::cross_account_chain())
    }

    fn identity(&self, state: &Value) -> Option<Value> {
        super::identities::cross_account_chain_of(state)
    }

    async fn import_identity(&self, identity: &Value, diags: &mut Diagnostics) -> Option<Value> {
        let id = super::identities::import_id(super::identities::cross_account_chain_import(identity), diags)?;
        self.import(&id, diags).await
    }

    async fn import(&self, id: &str, diags: &mut Diagnostics) -> Option<Value> {
        let Some((namespace, name)) = id.split_once('/').filter(|(n, c)| !n.is_empty() && !c.is_empty()) else {
            diags.error(
                "Invalid Import Id",
                format!(
                    "Import a chain by `<namespace>/<configmap name>`, e.g. `jenkins/{}`.",
                    awsconfig::DEFAULT_CONFIGMAP_NAME
                ),
            );
            return None;
        };
        if let Err(e) = check_configmap_name(name) {
            diags.error("Invalid Import Id", e);
            return None;
        }
        // Only the keys; read() finds the ConfigMap and fills every attribute from it.
        let mut state = schema().block.null_object();
        set(&mut state, "namespace", Value::string(namespace));
        set(&mut state, "configmap_name", Value::string(name));
        Some(state)
    }

    async fn create(&self, planned: &Value, _config: &Value, diags: &mut Diagnostics) -> Option<Value> {
        let state = self.write(&Value::Null, planned, diags).await;
        self.settle(planned);
        state
    }

    async fn read(&self, state: &Value, diags: &mut Diagnostics) -> Option<Option<Value>> {
        let (configured, client) = self.client(diags).await?;
        let namespace = self.namespace_of(state)?;
        let name = string(state, "configmap_name").unwrap_or_default();
        let api = apply::api::<ConfigMap>(client, &namespace);
        let cm = match apply::get(&api, &name).await {
            Ok(Some(cm)) if crate::kube::ownership::is_ours(cm.metadata.labels.as_ref(), OWNER) => Some(cm),
            Ok(_) => None,
            Err(e) => {
                errors::report(diags, None, &format!("read ConfigMap {namespace}/{name}"), &e);
                return None;
            }
        };
        let mut next = match cm {
            Some(cm) => Self::read_configmap(state, &cm, &namespace, &name, diags)?,
            // The ConfigMap is gone (never written by a failed create, or deleted by hand), but IAM
            // still holds roles this resource made or trusts it replaced: the resource stays, so
            // destroy can undo them and a rerun does not take our trust for the original.
            None if sync::IamState::from_state(state) != sync::IamState::default() => {
                let mut next = state.clone();
                set(&mut next, "config_ini", Value::string(""));
                next
            }
            None => return Some(None),
        };
        // Managed trusts and grants as IAM has them now; a hand edit shows as a diff.
        if let Some(chain) = chain_of(&next) {
            let trusts = managed_trusts(&next, &chain);
            let mut accounts = sync::Accounts::new(configured.aws.clone(), &trusts);
            let prior_trusts = string_map(state, "trust_policies");
            let live_trusts = sync::read_trusts(&mut accounts, &trusts, &prior_trusts, diags).await?;
            set(&mut next, "trust_policies", string_map_value(live_trusts));
            let policy = grant_policy_name(&namespace, &name);
            let grant = boolean(&next, "grant_source_permission").unwrap_or(false);
            let wanted: Vec<String> = if grant { grants(&chain).into_keys().collect() } else { Vec::new() };
            let prior_grants = string_map(state, "source_policies");
            let live_grants = sync::read_grants(&mut accounts, &policy, &wanted, &prior_grants, diags).await?;
            set(&mut next, "source_policies", string_map_value(live_grants));
        }
        Some(Some(next))
    }

    async fn update(&self, prior: &Value, planned: &Value, _config: &Value, diags: &mut Diagnostics) -> Option<Value> {
        let state = self.write(prior, planned, diags).await;
        self.settle(planned);
        state
    }

    async fn delete(&self, prior: &Value, diags: &mut Diagnostics) {
        let Some((configured, client)) = self.client(diags).await else { return };
        let Some(namespace) = self.namespace_of(prior) else { return };
        let name = string(prior, "configmap_name").unwrap_or_default();
        if let Some(chain) = chain_of(prior) {
            let trusts = managed_trusts(prior, &chain);
            let mut accounts = sync::Accounts::new(configured.aws.clone(), &trusts);
            let mut iam_state = sync::IamState::from_state(prior);
            let owner = owner_tag(&namespace, &name);
            if !sync::converge_trusts(&mut accounts, &[], &trusts, &owner, &mut iam_state, diags).await {
                return;
            }
            let mut had = string_map(prior, "source_policies");
            let policy = grant_policy_name(&namespace, &name);
            if !sync::converge_grants(&mut accounts, &policy, &BTreeMap::new(), &mut had, diags).await {
                return;
            }
        }
        let api = apply::api::<ConfigMap>(client, &namespace);
        match apply::delete_owned(&api, &name, OWNER).await {
            Ok(()) => {}
            Err(apply::ApplyError::Api(e)) => {
                errors::report(diags, None, &format!("delete ConfigMap {namespace}/{name}"), &e)
            }
            Err(e) => diags.error("ConfigMap Owned By Someone Else", e.to_string()),
        }
    }
}
