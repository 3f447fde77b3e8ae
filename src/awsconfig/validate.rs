//! Checks a [`Chain`] before anything is written: every rule the SDKs or STS would otherwise
//! enforce at build time, reported at plan with the attribute it comes from and what to change.
//!
//! Must not: talk to IAM or STS (trust and identity-policy checks need I/O and belong to the
//! resource), or know Terraform's attribute types; paths are plain `("hop", index, "field")`
//! segments that the resource maps onto its schema.

use super::model::{BaseIdentity, Chain};
use std::collections::HashMap;
use std::fmt;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// The file would not work, or STS would refuse it.
    Error,
    /// It works, but probably not as meant.
    Warning,
}

/// One step of a [`Finding`]'s path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathSegment {
    /// A field or block name: `base`, `hop`, `role_arn`.
    Attr(&'static str),
    /// A position in the `hop` list.
    Index(usize),
}

/// One problem, at the attribute it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Error or warning.
    pub severity: Severity,
    /// Where: `[Attr("hop"), Index(2), Attr("source_profile")]`, shown as `hop[2].source_profile`.
    pub path: Vec<PathSegment>,
    /// A short Title Case summary.
    pub summary: String,
    /// What is wrong and what to change.
    pub detail: String,
}

impl Finding {
    /// The path as text: `base.role_arn`, `hop[1].external_id`.
    pub fn path_string(&self) -> String {
        let mut s = String::new();
        for seg in &self.path {
            match seg {
                PathSegment::Attr(a) => {
                    if !s.is_empty() {
                        s.push('.');
                    }
                    s.push_str(a);
                }
                PathSegment::Index(i) => s.push_str(&format!("[{i}]")),
            }
        }
        s
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{sev} at {}: {}: {}", self.path_string(), self.summary, self.detail)
    }
}

/// Shortest session STS grants.
pub const MIN_DURATION_SECONDS: i64 = 900;
/// Longest session any role can allow (`MaxSessionDuration` of 12 hours).
pub const MAX_DURATION_SECONDS: i64 = 43_200;
/// STS refuses longer sessions for role chaining (assuming a role with role credentials).
pub const MAX_CHAINED_DURATION_SECONDS: i64 = 3_600;

/// Every finding for the chain: errors first-to-last by position (base, then each hop, fields
/// in render order), then chain-wide ones (duplicate names, unknown sources, loops).
pub fn validate(chain: &Chain) -> Vec<Finding> {
    let mut f = Findings::default();
    let base = &chain.base;
    let at = |field: &'static str| vec![PathSegment::Attr("base"), PathSegment::Attr(field)];

    profile_name(&mut f, at("name"), &base.name);
    role_arn(&mut f, at("role_arn"), &base.role_arn);
    if let BaseIdentity::WebIdentity { web_identity_token_file } = &base.identity {
        token_file(&mut f, at("web_identity_token_file"), web_identity_token_file);
    }
    if let Some(n) = &base.role_session_name {
        session_name(&mut f, at("role_session_name"), n);
    }
    match &base.region {
        Some(r) => region(&mut f, at("region"), r),
        None => f.warning(
            at("region"),
            "Base Profile Without Region",
            format!(
                "Profile `{}` sets no region, so SDKs fall back to AWS_REGION or fail, and SDKs released before \
                 mid-2022 send its STS call to the global endpoint. Set `region` on the base (the cluster's region).",
                base.name
            ),
        ),
    }
    if let Some(d) = base.duration_seconds {
        let chained = matches!(base.identity, BaseIdentity::PodIdentity);
        duration(&mut f, at("duration_seconds"), d, chained.then_some(DurationCap::Error(POD_IDENTITY_CHAINED)));
    }

    for (i, hop) in chain.hops.iter().enumerate() {
        let at = |field: &'static str| vec![PathSegment::Attr("hop"), PathSegment::Index(i), PathSegment::Attr(field)];
        profile_name(&mut f, at("name"), &hop.name);
        role_arn(&mut f, at("role_arn"), &hop.role_arn);
        match (&hop.source_profile, hop.credential_source) {
            (Some(_), Some(_)) => f.error(
                at("credential_source"),
                "Both Source Profile And Credential Source",
                format!(
                    "Hop `{}` sets both source_profile and credential_source; the SDKs refuse the profile \
                     (InvalidCredentialSource). Keep source_profile to chain from another profile, or \
                     credential_source to use the environment's credentials, not both.",
                    hop.name
                ),
            ),
            (None, None) => f.error(
                at("source_profile"),
                "Missing Credential Source",
                format!(
                    "Hop `{}` sets neither source_profile nor credential_source, so nothing can call AssumeRole; \
                     the SDKs refuse the profile (InvalidCredentialSource). Set source_profile to `{}` (the base) \
                     or another hop.",
                    hop.name, base.name
                ),
            ),
            _ => {}
        }
        if let Some(n) = &hop.role_session_name {
            session_name(&mut f, at("role_session_name"), n);
        }
        if let Some(e) = &hop.external_id {
            external_id(&mut f, at("external_id"), e);
        }
        if let Some(r) = &hop.region {
            region(&mut f, at("region"), r);
        }
        if let Some(d) = hop.duration_seconds {
            let cap = match (&hop.source_profile, hop.credential_source) {
                (Some(_), _) | (None, None) => DurationCap::Error(HOP_CHAINED),
                (None, Some(c)) => match c.is_role_session() {
                    Some(_) => DurationCap::Error(HOP_ROLE_SOURCE),
                    None => DurationCap::Warning,
                },
            };
            duration(&mut f, at("duration_seconds"), d, Some(cap));
        }
    }

    unique_names(&mut f, chain);
    sources(&mut f, chain);
    f.0
}

/// Why a duration above one hour is refused, for the detail.
const POD_IDENTITY_CHAINED: &str = "Pod Identity credentials are already a role session, so assuming the base role \
                                    is role chaining";
const HOP_CHAINED: &str = "its source profile yields role credentials, so this AssumeRole is role chaining";
const HOP_ROLE_SOURCE: &str = "credentials from Ec2InstanceMetadata or EcsContainer are a role session, so this \
                               AssumeRole is role chaining";

/// What happens above one hour.
enum DurationCap {
    /// A chained session: STS refuses it; the reason goes into the detail.
    Error(&'static str),
    /// Chained only if the environment holds role credentials.
    Warning,
}

#[derive(Default)]
struct Findings(Vec<Finding>);

impl Findings {
    fn error(&mut self, path: Vec<PathSegment>, summary: &str, detail: String) {
        self.0.push(Finding { severity: Severity::Error, path, summary: summary.to_owned(), detail });
    }

    fn warning(&mut self, path: Vec<PathSegment>, summary: &str, detail: String) {
        self.0.push(Finding { severity: Severity::Warning, path, summary: summary.to_owned(), detail });
    }
}

/// Whether a profile name is one the SDKs read. The Rust SDK silently ignores sections whose name
/// is outside `[A-Za-z0-9_\-/.%@:+]` (smithy-rs `validate_identifier`); that set also keeps
/// whitespace, `]` and the comment characters `#`/`;` out of the section header.
pub fn is_valid_profile_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || "_-/.%@:+".contains(c))
}

fn profile_name(f: &mut Findings, path: Vec<PathSegment>, name: &str) {
    if name.is_empty() {
        f.error(
            path,
            "Empty Profile Name",
            "The profile name is empty. Give the profile a name such as `prod`.".into(),
        );
    } else if !is_valid_profile_name(name) {
        f.error(
            path,
            "Invalid Profile Name",
            format!(
                "Profile name `{name}` has characters the SDKs do not accept in a section header (whitespace, `]`, \
                 `#`, `;` or others; the Rust SDK silently ignores such profiles). Use only letters, digits and \
                 `_-/.%@:+`."
            ),
        );
    }
}

/// Whether `arn` is an IAM role ARN: `arn:<partition>:iam::<12 digits>:role/<path/>name`, with a
/// role name of 1–64 of `[\w+=,.@-]` and path segments of printable ASCII.
pub fn is_valid_role_arn(arn: &str) -> bool {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(partition), Some("iam"), Some(""), Some(account), Some(resource)) =
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let Some(role) = resource.strip_prefix("role/") else { return false };
    // `role/name` or `role/a/b/name`: every path segment non-empty.
    let (path, name) = match role.rsplit_once('/') {
        Some((path, name)) => (Some(path), name),
        None => (None, role),
    };
    is_partition(partition)
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && (1..=64).contains(&name.len())
        && name.chars().all(|c| is_word(c) || "+=,.@-".contains(c))
        && path.is_none_or(|p| p.split('/').all(|s| !s.is_empty() && s.bytes().all(|b| (0x21..=0x7e).contains(&b))))
        && role.len() <= 512 + 64
}

/// `aws`, `aws-cn`, `aws-us-gov`, `aws-iso-b` …: `aws` then dash-separated lower-case words.
fn is_partition(p: &str) -> bool {
    let mut words = p.split('-');
    words.next() == Some("aws") && words.all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase()))
}

fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

fn role_arn(f: &mut Findings, path: Vec<PathSegment>, arn: &str) {
    if !is_valid_role_arn(arn) {
        f.error(
            path,
            "Invalid Role ARN",
            format!(
                "`{arn}` is not an IAM role ARN. Use `arn:<partition>:iam::<12-digit account id>:role/<path/>name`, \
                 e.g. `arn:aws:iam::123456789012:role/jenkins-deploy`."
            ),
        );
    }
}

/// Whether `r` looks like a region: `[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d+` (`eu-west-1`,
/// `us-gov-west-1`, `us-isob-east-1`).
pub fn is_valid_region(r: &str) -> bool {
    let parts: Vec<&str> = r.split('-').collect();
    let lower = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase());
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let country = |s: &str| s.len() == 2 && lower(s);
    match parts.as_slice() {
        [c, dir, n] => country(c) && lower(dir) && digits(n),
        [c, qualifier, dir, n] => {
            let qualified = *qualifier == "gov"
                || qualifier
                    .strip_prefix("iso")
                    .is_some_and(|rest| rest.len() <= 1 && rest.bytes().all(|b| b.is_ascii_lowercase()));
            country(c) && qualified && lower(dir) && digits(n)
        }
        _ => false,
    }
}

fn region(f: &mut Findings, path: Vec<PathSegment>, r: &str) {
    if !is_valid_region(r) {
        f.error(
            path,
            "Invalid Region",
            format!("`{r}` is not an AWS region name. Use a region such as `eu-west-1` or `us-gov-west-1`."),
        );
    }
}

fn token_file(f: &mut Findings, path: Vec<PathSegment>, file: &str) {
    if !file.starts_with('/') || file.chars().any(|c| c.is_whitespace() || c.is_control()) {
        f.error(
            path,
            "Invalid Token File",
            format!(
                "`{file}` must be an absolute path without whitespace. IRSA projects the token at `{}`; leave the \
                 default unless the pod mounts it elsewhere.",
                super::model::DEFAULT_WEB_IDENTITY_TOKEN_FILE
            ),
        );
    }
}

fn session_name(f: &mut Findings, path: Vec<PathSegment>, name: &str) {
    let ok = (2..=64).contains(&name.len()) && name.chars().all(|c| is_word(c) || "+=,.@-".contains(c));
    if !ok {
        f.error(
            path,
            "Invalid Role Session Name",
            format!(
                "`{name}` is not a role session name STS accepts: use 2 to 64 characters of letters, digits and \
                 `_+=,.@-`, e.g. `jenkins-prod`."
            ),
        );
    }
}

fn external_id(f: &mut Findings, path: Vec<PathSegment>, id: &str) {
    let ok = (2..=1224).contains(&id.len()) && id.chars().all(|c| is_word(c) || "+=,.@:/-".contains(c));
    if !ok {
        f.error(
            path,
            "Invalid External ID",
            format!(
                "The external ID ({} characters) is not one STS accepts: use 2 to 1224 characters of letters, \
                 digits and `_+=,.@:/-`, and the same value in the target role's `sts:ExternalId` condition.",
                id.chars().count()
            ),
        );
    }
}

fn duration(f: &mut Findings, path: Vec<PathSegment>, d: i64, cap: Option<DurationCap>) {
    if !(MIN_DURATION_SECONDS..=MAX_DURATION_SECONDS).contains(&d) {
        f.error(
            path,
            "Invalid Session Duration",
            format!(
                "duration_seconds is {d}; STS accepts {MIN_DURATION_SECONDS} to {MAX_DURATION_SECONDS} seconds, and \
                 no more than the role's MaxSessionDuration. Set a value in that range or remove it (1 hour default)."
            ),
        );
        return;
    }
    if d <= MAX_CHAINED_DURATION_SECONDS {
        return;
    }
    match cap {
        Some(DurationCap::Error(why)) => f.error(
            path,
            "Chained Session Over One Hour",
            format!(
                "duration_seconds is {d}, but {why}, and STS refuses role-chaining sessions over \
                 {MAX_CHAINED_DURATION_SECONDS} seconds (\"exceeds the 1 hour session limit for roles assumed by \
                 role chaining\"). Set duration_seconds to {MAX_CHAINED_DURATION_SECONDS} or less; SDKs refresh \
                 the session before it expires."
            ),
        ),
        Some(DurationCap::Warning) => f.warning(
            path,
            "Session May Be Chained",
            format!(
                "duration_seconds is {d}. With credential_source = Environment, STS refuses more than \
                 {MAX_CHAINED_DURATION_SECONDS} seconds if the environment holds role credentials (role chaining). \
                 Set {MAX_CHAINED_DURATION_SECONDS} or less unless the environment holds IAM user keys."
            ),
        ),
        None => {}
    }
}

/// Profile names must be unique across the base and all hops; the SDKs merge duplicate sections.
fn unique_names(f: &mut Findings, chain: &Chain) {
    let mut seen: HashMap<&str, String> = HashMap::new();
    seen.insert(chain.base.name.as_str(), "the base".to_owned());
    for (i, hop) in chain.hops.iter().enumerate() {
        if hop.name.is_empty() {
            continue;
        }
        if let Some(first) = seen.get(hop.name.as_str()) {
            f.error(
                vec![PathSegment::Attr("hop"), PathSegment::Index(i), PathSegment::Attr("name")],
                "Duplicate Profile Name",
                format!(
                    "Profile name `{}` is already used by {first}; the SDKs would merge the two sections. Give this \
                     hop its own name.",
                    hop.name
                ),
            );
        } else {
            seen.insert(hop.name.as_str(), format!("hop[{i}]"));
        }
    }
}

/// Each `source_profile` names an existing profile, no hop reaches itself, and hops sourcing
/// hops get a warning.
fn sources(f: &mut Findings, chain: &Chain) {
    // First occurrence wins; duplicates are reported by `unique_names`.
    let mut index: HashMap<&str, Option<usize>> = HashMap::new();
    for (i, hop) in chain.hops.iter().enumerate().rev() {
        index.insert(hop.name.as_str(), Some(i));
    }
    index.insert(chain.base.name.as_str(), None);
    let hop_path =
        |i: usize| vec![PathSegment::Attr("hop"), PathSegment::Index(i), PathSegment::Attr("source_profile")];

    let mut in_reported_loop = vec![false; chain.hops.len()];
    for (i, hop) in chain.hops.iter().enumerate() {
        let Some(src) = hop.source_profile.as_deref() else { continue };
        match index.get(src) {
            None => {
                let known: Vec<&str> = chain.profile_names().filter(|n| *n != hop.name).collect();
                f.error(
                    hop_path(i),
                    "Unknown Source Profile",
                    format!(
                        "Hop `{}` sources `{src}`, which is not a profile of this chain (MissingProfile at build \
                         time). Use one of: {}.",
                        hop.name,
                        known.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
                    ),
                );
                continue;
            }
            Some(None) => continue,
            Some(Some(_)) if src == hop.name => {
                in_reported_loop[i] = true;
                f.error(
                    hop_path(i),
                    "Profile Chain Loop",
                    format!(
                        "Hop `{}` names itself as source_profile; the SDKs then look for static keys in it, and \
                         this chain has none. Set source_profile to `{}` (the base) or another hop.",
                        hop.name, chain.base.name
                    ),
                );
                continue;
            }
            Some(Some(_)) => {}
        }
        // Walk the sources from this hop; a revisit before reaching the base or a
        // credential_source is a loop.
        let mut walk = vec![i];
        let mut at = i;
        let cycle = loop {
            let Some(next) = chain.hops[at].source_profile.as_deref().and_then(|s| index.get(s)).copied().flatten()
            else {
                break None;
            };
            if let Some(pos) = walk.iter().position(|&w| w == next) {
                break Some(walk[pos..].to_vec());
            }
            walk.push(next);
            at = next;
        };
        if let Some(cycle) = cycle {
            if cycle.iter().any(|&c| in_reported_loop[c]) || cycle.len() < 2 {
                continue;
            }
            let first = cycle.iter().copied().min().unwrap_or(i);
            let start = cycle.iter().position(|&c| c == first).unwrap_or(0);
            let mut names: Vec<&str> =
                cycle[start..].iter().chain(&cycle[..start]).map(|&c| chain.hops[c].name.as_str()).collect();
            names.push(chain.hops[first].name.as_str());
            for &c in &cycle {
                in_reported_loop[c] = true;
            }
            f.error(
                hop_path(first),
                "Profile Chain Loop",
                format!(
                    "The hops source each other in a loop ({}), so none of them reaches the base (CredentialLoop at \
                     build time). Point one of them at `{}` (the base).",
                    names.join(" → "),
                    chain.base.name
                ),
            );
            continue;
        }
        let src_index = index.get(src).copied().flatten();
        if let Some(j) = src_index {
            f.warning(
                hop_path(i),
                "Chain Of Chains",
                format!(
                    "Hop `{}` sources hop `{}`, so each session costs one more AssumeRole call at startup and stays \
                     capped at 1 hour. If the target trust can admit the base role, set source_profile to `{}`.",
                    hop.name, chain.hops[j].name, chain.base.name
                ),
            );
        }
    }
}
