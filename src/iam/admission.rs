//! Whether policies let a role assume another: the target's trust (`trust_admits`) and the
//! source's identity policies (`identity_allows_assume`), plus detection of `AROA…` principals.
//!
//! A deliberately small evaluator: explicit Deny beats Allow; only the condition keys a hop can
//! know (`aws:PrincipalArn`, `aws:PrincipalAccount`, `sts:ExternalId`) are evaluated, and anything
//! else (other keys, set operators, `NotPrincipal`) answers `Unknown` rather than guessing. It does
//! not see SCPs, RCPs or permission boundaries, which may still deny.

use super::arn::{RoleArn, is_unique_id_principal};
use super::document::{Condition, Effect, PolicyDocument, Principal, Statement, parse_policy};
use super::error::Result;

/// The answer of an admission check, with a reason that says what to change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// The policies allow it.
    Allowed,
    /// They do not (nothing allows it, or a Deny matches).
    Denied {
        /// Why, and what to change.
        reason: String,
    },
    /// It depends on something this evaluator cannot know.
    Unknown {
        /// What could not be decided.
        reason: String,
    },
}

/// Three-valued truth for statement matching.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Tri {
    Yes,
    No(String),
    Unknown(String),
}

impl Tri {
    fn and(self, other: impl FnOnce() -> Tri) -> Tri {
        match self {
            Tri::No(r) => Tri::No(r),
            Tri::Yes => other(),
            Tri::Unknown(r) => match other() {
                Tri::No(r2) => Tri::No(r2),
                _ => Tri::Unknown(r),
            },
        }
    }
}

/// IAM wildcard match: `*` any run of characters, `?` exactly one.
pub(crate) fn glob(pattern: &str, value: &str) -> bool {
    let (p, v): (Vec<char>, Vec<char>) = (pattern.chars().collect(), value.chars().collect());
    let (mut pi, mut vi) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while vi < v.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == v[vi]) {
            pi += 1;
            vi += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, vi));
            pi += 1;
        } else if let Some((sp, sv)) = star {
            pi = sp + 1;
            vi = sv + 1;
            star = Some((sp, sv + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// ARN match as `ArnLike` and `Resource` do it: each of the six colon-separated parts is matched
/// separately, so a `*` does not run across a colon into the next part. A pattern without all six
/// parts matches only through a bare `*`.
pub(crate) fn arn_like(pattern: &str, arn: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    let p: Vec<&str> = pattern.splitn(6, ':').collect();
    let a: Vec<&str> = arn.splitn(6, ':').collect();
    p.len() == 6 && a.len() == 6 && p.iter().zip(&a).all(|(p, a)| glob(p, a))
}

/// Whether a `Resource` list names `arn`; a short pattern that would match as a plain wildcard
/// (`arn:aws:iam::123456789012*`) is reported as undecided rather than guessed either way.
fn resource_matches(patterns: &[String], arn: &str) -> Tri {
    if patterns.iter().any(|p| arn_like(p, arn)) {
        Tri::Yes
    } else if let Some(p) = patterns.iter().find(|p| glob(p, arn)) {
        Tri::Unknown(format!("the Resource pattern {p:?} does not have the six parts of an ARN"))
    } else {
        Tri::No(String::new())
    }
}

fn action_matches(s: &Statement, action: &str) -> bool {
    let action = action.to_ascii_lowercase();
    let any = |list: &Vec<String>| list.iter().any(|p| glob(&p.to_ascii_lowercase(), &action));
    match (&s.action, &s.not_action) {
        (Some(list), _) => any(list),
        (None, Some(list)) => !any(list),
        (None, None) => false,
    }
}

/// What the request to assume a role carries, as far as conditions can see it.
struct Context<'a> {
    principal_arn: &'a str,
    principal_account: &'a str,
    external_id: Option<&'a str>,
    /// For `sts:AssumeRoleWithWebIdentity`: the issuer (host and path) and the token's subject.
    web_identity: Option<(&'a str, &'a str)>,
}

impl Context<'_> {
    fn get(&self, key: &str) -> Option<Option<&str>> {
        match key.to_ascii_lowercase().as_str() {
            "aws:principalarn" => Some(Some(self.principal_arn)),
            "aws:principalaccount" => Some(Some(self.principal_account)),
            "sts:externalid" => Some(self.external_id),
            k => match self.web_identity {
                Some((issuer, sub)) if k == format!("{}:sub", issuer.to_ascii_lowercase()) => Some(Some(sub)),
                Some((issuer, _)) if k == format!("{}:aud", issuer.to_ascii_lowercase()) => {
                    Some(Some(super::trust::STS_AUDIENCE))
                }
                _ => None,
            },
        }
    }
}

fn eval_condition(c: &Condition, ctx: &Context<'_>, at: &str) -> Tri {
    let unknown = |why: String| Tri::Unknown(format!("{at}: {why}"));
    if c.operator.contains(':') {
        return unknown(format!("the set operator {} is not evaluated here", c.operator));
    }
    let (op, if_exists) = match c.operator.strip_suffix("IfExists") {
        Some(op) => (op, true),
        None => (c.operator.as_str(), false),
    };
    let Some(actual) = ctx.get(&c.key) else {
        return unknown(format!("the condition key {} depends on the request and is not evaluated here", c.key));
    };
    if op == "Null" {
        let want_absent = c.values.iter().any(|v| v == "true");
        let want_present = c.values.iter().any(|v| v == "false");
        return match (actual.is_none() && want_absent) || (actual.is_some() && want_present) {
            true => Tri::Yes,
            false => Tri::No(format!("{at}: Null {} is {}", c.key, c.values.join(","))),
        };
    }
    let (positive, negated) = match op {
        "StringEquals" | "StringEqualsIgnoreCase" | "StringLike" | "ArnEquals" | "ArnLike" => (op, false),
        "StringNotEquals" => ("StringEquals", true),
        "StringNotEqualsIgnoreCase" => ("StringEqualsIgnoreCase", true),
        "StringNotLike" => ("StringLike", true),
        "ArnNotEquals" => ("ArnEquals", true),
        "ArnNotLike" => ("ArnLike", true),
        _ => return unknown(format!("the operator {} is not evaluated here", c.operator)),
    };
    let Some(actual) = actual else {
        // A missing key: IfExists and negated operators are satisfied, the others are not.
        return if if_exists || negated {
            Tri::Yes
        } else {
            Tri::No(format!(
                "{at}: requires {} {} = {}, which the request does not carry",
                c.operator,
                c.key,
                c.values.join(" or ")
            ))
        };
    };
    let hit = c.values.iter().any(|v| match positive {
        "StringEquals" => v == actual,
        "StringEqualsIgnoreCase" => v.eq_ignore_ascii_case(actual),
        "StringLike" => glob(v, actual),
        _ => arn_like(v, actual),
    });
    if hit != negated {
        Tri::Yes
    } else {
        Tri::No(format!("{at}: {} {} = {} does not match {actual:?}", c.operator, c.key, c.values.join(" or ")))
    }
}

fn eval_conditions(s: &Statement, ctx: &Context<'_>, at: &str) -> Tri {
    s.conditions.iter().fold(Tri::Yes, |acc, c| acc.and(|| eval_condition(c, ctx, &format!("{at}.Condition"))))
}

fn principal_matches(s: &Statement, source: &RoleArn, at: &str) -> Tri {
    if s.not_principal.is_some() {
        return Tri::Unknown(format!("{at}: NotPrincipal is not evaluated here"));
    }
    let Some(p) = &s.principal else { return Tri::No(format!("{at}: no Principal")) };
    if *p == Principal::Any {
        return Tri::Yes;
    }
    let arn = source.to_string();
    let root = source.account_root();
    for v in p.values("AWS") {
        if v == "*" || v.eq_ignore_ascii_case(&arn) || v == source.account || v == root {
            return Tri::Yes;
        }
    }
    // Not a near miss: the summary's hint (add a statement) is what helps.
    Tri::No(String::new())
}

fn statement_label(doc: &PolicyDocument, i: usize) -> String {
    let base = if doc.statements.len() == 1 { "Statement".to_owned() } else { format!("Statement[{i}]") };
    match &doc.statements[i].sid {
        Some(sid) => format!("{base} ({sid})"),
        None => base,
    }
}

/// Decision over matched statements: Deny beats Allow; an undecidable Deny makes the answer
/// Unknown; otherwise any Allow decides.
/// When nothing allows it, the reason is `summary` with the near misses (statements for this
/// principal whose conditions failed), or with `hint` when there were none.
fn decide(matches: Vec<(Effect, Tri, String)>, summary: String, hint: String) -> Admission {
    let mut allow_unknown = None;
    let mut deny_unknown = None;
    let mut allowed = false;
    let mut misses = Vec::new();
    for (effect, t, at) in matches {
        match (effect, t) {
            (Effect::Deny, Tri::Yes) => {
                return Admission::Denied { reason: format!("{at} explicitly denies it; remove or narrow that Deny") };
            }
            (Effect::Deny, Tri::Unknown(r)) => deny_unknown = deny_unknown.or(Some(r)),
            (Effect::Allow, Tri::Yes) => allowed = true,
            (Effect::Allow, Tri::Unknown(r)) => allow_unknown = allow_unknown.or(Some(r)),
            (Effect::Allow, Tri::No(r)) if !r.is_empty() => misses.push(r),
            (Effect::Allow, Tri::No(_)) => {}
            (Effect::Deny, Tri::No(_)) => {}
        }
    }
    if let Some(reason) = deny_unknown {
        return Admission::Unknown { reason };
    }
    if allowed {
        return Admission::Allowed;
    }
    if let Some(reason) = allow_unknown {
        return Admission::Unknown { reason };
    }
    let reason =
        if misses.is_empty() { format!("{summary}; {hint}") } else { format!("{summary}: {}", misses.join("; ")) };
    Admission::Denied { reason }
}

/// Whether a role's trust policy lets `source_role_arn` call `sts:AssumeRole`, presenting
/// `external_id` when given. An account-root principal counts as admitting the role (the account
/// then delegates to its identity policies, see [`identity_allows_assume`]).
pub fn trust_admits(trust_json: &str, source_role_arn: &str, external_id: Option<&str>) -> Result<Admission> {
    let source = RoleArn::parse(source_role_arn)?;
    let doc = parse_policy(trust_json)?;
    let arn = source.to_string();
    let ctx = Context { principal_arn: &arn, principal_account: &source.account, external_id, web_identity: None };
    let matches = doc
        .statements
        .iter()
        .enumerate()
        .filter(|(_, s)| action_matches(s, "sts:AssumeRole"))
        .map(|(i, s)| {
            let at = statement_label(&doc, i);
            (s.effect, principal_matches(s, &source, &at).and(|| eval_conditions(s, &ctx, &at)), at)
        })
        .collect();
    let mut admission = decide(
        matches,
        format!("no statement lets {arn} call sts:AssumeRole"),
        format!(
            "add one with Principal {{\"AWS\": \"{}\"}} and Condition ArnEquals aws:PrincipalArn = {arn}{}",
            source.account_root(),
            if external_id.is_some() { " and StringEquals sts:ExternalId" } else { "" }
        ),
    );
    let ids = unique_id_principals_of(&doc);
    if let (Admission::Denied { reason }, false) = (&mut admission, ids.is_empty()) {
        reason.push_str(&format!(
            "; the trust names {} where a role ARN was: IAM rewrote a principal whose role was deleted; write the \
             role ARN again",
            ids.join(", ")
        ));
    }
    Ok(admission)
}

/// Whether a role's trust lets a pod of `subject` (`system:serviceaccount:<ns>:<name>`) in the
/// cluster whose OIDC issuer is `issuer_url` call `sts:AssumeRoleWithWebIdentity`, as IRSA does:
/// the Federated principal must be the account's OIDC provider for that issuer, and `:sub` and
/// `:aud` conditions must match the projected token (audience `sts.amazonaws.com`).
pub fn web_identity_admits(trust_json: &str, role_arn: &str, issuer_url: &str, subject: &str) -> Result<Admission> {
    let role = RoleArn::parse(role_arn)?;
    let provider = super::arn::oidc_provider_arn(role.partition, &role.account, issuer_url)?;
    let issuer = provider.split_once(":oidc-provider/").map(|(_, i)| i.to_string()).unwrap_or_default();
    let doc = parse_policy(trust_json)?;
    let ctx = Context {
        principal_arn: subject,
        principal_account: &role.account,
        external_id: None,
        web_identity: Some((&issuer, subject)),
    };
    let matches = doc
        .statements
        .iter()
        .enumerate()
        .filter(|(_, s)| action_matches(s, "sts:AssumeRoleWithWebIdentity"))
        .map(|(i, s)| {
            let at = statement_label(&doc, i);
            let principal = match &s.principal {
                _ if s.not_principal.is_some() => Tri::Unknown(format!("{at}: NotPrincipal is not evaluated here")),
                Some(p) if p.values("Federated").iter().any(|v| *v == provider) => Tri::Yes,
                _ => Tri::No(String::new()),
            };
            (s.effect, principal.and(|| eval_conditions(s, &ctx, &at)), at)
        })
        .collect();
    Ok(decide(
        matches,
        format!(
            "no statement lets {subject} of the cluster with issuer {issuer_url} call sts:AssumeRoleWithWebIdentity"
        ),
        format!(
            "add one with Principal {{\"Federated\": \"{provider}\"}} and StringEquals {issuer}:sub = {subject} (jenkins_irsa_role does this when the cluster is in its `clusters`)"
        ),
    ))
}

/// Whether a role's identity policies (inline and managed documents, URL-encoded or not) allow
/// `sts:AssumeRole` on `target_role_arn`. Conditions on a matching statement make it `Unknown`,
/// since they test the request, not the policy.
pub fn identity_allows_assume(policies: &[String], target_role_arn: &str) -> Result<Admission> {
    let target = RoleArn::parse(target_role_arn)?.to_string();
    let mut matches = Vec::new();
    for (n, text) in policies.iter().enumerate() {
        let doc = parse_policy(text)?;
        for (i, s) in doc.statements.iter().enumerate() {
            if !action_matches(s, "sts:AssumeRole") {
                continue;
            }
            let at = format!("policy {n} {}", statement_label(&doc, i));
            let resource = match (&s.resource, &s.not_resource) {
                (Some(r), _) => resource_matches(r, &target),
                (None, Some(r)) => match resource_matches(r, &target) {
                    Tri::Yes => Tri::No(format!("NotResource excludes {target}")),
                    Tri::No(_) => Tri::Yes,
                    unknown => unknown,
                },
                (None, None) => Tri::No("no Resource".into()),
            };
            let t = match resource {
                Tri::Yes if s.conditions.is_empty() => Tri::Yes,
                Tri::Yes => Tri::Unknown(format!("{at}: it has conditions, which depend on the request")),
                Tri::No(_) => Tri::No(String::new()),
                Tri::Unknown(r) => Tri::Unknown(format!("{at}: {r}")),
            };
            matches.push((s.effect, t, at));
        }
    }
    Ok(decide(
        matches,
        format!("the source role's policies do not allow sts:AssumeRole on {target}"),
        format!("attach a policy with Action sts:AssumeRole and Resource {target}"),
    ))
}

fn unique_id_principals_of(doc: &PolicyDocument) -> Vec<String> {
    let mut ids: Vec<String> = doc
        .statements
        .iter()
        .flat_map(|s| s.principal.iter().chain(s.not_principal.iter()))
        .flat_map(|p| p.values("AWS"))
        .filter(|v| is_unique_id_principal(v))
        .map(str::to_owned)
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

/// The `AROA…`/`AIDA…` ids in a policy's AWS principals: each is a role or user that was deleted
/// after the policy named it. The resource reports them instead of showing a diff that never
/// settles.
pub fn unique_id_principals(policy: &str) -> Result<Vec<String>> {
    parse_policy(policy).map(|d| unique_id_principals_of(&d))
}
