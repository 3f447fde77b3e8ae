//! Comparison of policy documents by meaning, and the canonical form that decides it.
//!
//! Equal meaning, different text: statement order; order and duplicates inside `Action`,
//! `Resource`, `Principal` and condition values; a string versus a one-element list; whitespace
//! and key order; an absent `Version` versus IAM's default `2008-10-17`; an account id versus
//! `arn:<partition>:iam::<id>:root`; `"*"` versus `{"AWS": "*"}`; the case of actions and of
//! condition keys (IAM treats both case-insensitively; values keep their case); booleans and
//! numbers versus their string forms in conditions; IAM's URL-encoding.
//!
//! Still different, on purpose: `Sid`, `Id`, `Effect`, a role ARN versus its `AROA…` unique id,
//! `2008-10-17` versus `2012-10-17` (policy variables differ), and repeated statements.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::document::{PolicyDocument, Principal, Statement, parse_policy};
use super::error::Result;

/// The canonical form of a parsed document: compact JSON, keys sorted, lists sorted and
/// deduplicated, statements sorted, defaults filled in. Two documents are equivalent exactly
/// when their canonical forms are equal, so it is also the thing to hash.
pub fn canonical(doc: &PolicyDocument) -> String {
    let mut statements: Vec<String> = doc.statements.iter().map(|s| canonical_statement(s).to_string()).collect();
    statements.sort();
    let mut out = String::from("{");
    if let Some(id) = &doc.id {
        out.push_str(&format!("\"Id\":{},", Value::String(id.clone())));
    }
    out.push_str("\"Statement\":[");
    out.push_str(&statements.join(","));
    out.push_str(&format!("],\"Version\":{}}}", Value::String(doc.effective_version().to_owned())));
    out
}

/// [`canonical`] of a policy text (URL-encoded or not).
pub fn canonical_text(text: &str) -> Result<String> {
    parse_policy(text).map(|d| canonical(&d))
}

/// Whether two policy texts mean the same; either may be URL-encoded.
pub fn equivalent(a: &str, b: &str) -> Result<bool> {
    Ok(canonical_text(a)? == canonical_text(b)?)
}

/// What to store after reading a policy from IAM: the prior text (the user's spelling) when it
/// means the same as what IAM returned, so plans show no diff; otherwise IAM's text, decoded.
pub fn keep_prior_if_equivalent(prior: Option<&str>, remote: &str) -> Result<String> {
    let remote_doc = parse_policy(remote)?;
    if let Some(prior) = prior
        && let Ok(prior_doc) = parse_policy(prior)
        && canonical(&prior_doc) == canonical(&remote_doc)
    {
        return Ok(prior.to_owned());
    }
    Ok(super::document::decode_policy_text(remote)?.into_owned())
}

fn sorted_set<'a>(items: impl IntoIterator<Item = &'a String>, f: impl Fn(&str) -> String) -> Value {
    let set: BTreeSet<String> = items.into_iter().map(|s| f(s)).collect();
    Value::Array(set.into_iter().map(Value::String).collect())
}

fn object(entries: BTreeMap<String, Value>) -> Value {
    let mut m = Map::new();
    for (k, v) in entries {
        m.insert(k, v);
    }
    Value::Object(m)
}

fn canonical_statement(s: &Statement) -> Value {
    let mut e = BTreeMap::new();
    if let Some(sid) = &s.sid {
        e.insert("Sid".to_owned(), Value::String(sid.clone()));
    }
    e.insert("Effect".to_owned(), Value::String(s.effect.as_str().to_owned()));
    if let Some(p) = &s.principal {
        e.insert("Principal".to_owned(), canonical_principal(p));
    }
    if let Some(p) = &s.not_principal {
        e.insert("NotPrincipal".to_owned(), canonical_principal(p));
    }
    let lower = |x: &str| x.to_ascii_lowercase();
    let same = |x: &str| x.to_owned();
    for (k, v, f) in [
        ("Action", &s.action, &lower as &dyn Fn(&str) -> String),
        ("NotAction", &s.not_action, &lower),
        ("Resource", &s.resource, &same),
        ("NotResource", &s.not_resource, &same),
    ] {
        if let Some(v) = v {
            e.insert(k.to_owned(), sorted_set(v, f));
        }
    }
    if !s.conditions.is_empty() {
        let mut ops: BTreeMap<String, BTreeMap<String, Value>> = BTreeMap::new();
        for c in &s.conditions {
            let keys = ops.entry(c.operator.clone()).or_default();
            // Two spellings of one key under one operator are ANDed; merging them would change
            // the meaning, so the second keeps its spelling (rare; at worst a visible diff).
            let lowered = c.key.to_ascii_lowercase();
            let key = if keys.contains_key(&lowered) { c.key.clone() } else { lowered };
            keys.insert(key, sorted_set(&c.values, |x| x.to_owned()));
        }
        e.insert("Condition".to_owned(), object(ops.into_iter().map(|(k, v)| (k, object(v))).collect()));
    }
    object(e)
}

/// Account principals in one spelling: a root ARN becomes the bare account id, which IAM reads
/// as the root of its own partition.
fn canonical_principal_value(kind: &str, v: &str) -> String {
    if kind == "AWS"
        && let Some(rest) = v.strip_prefix("arn:")
        && let [_partition, "iam", "", account, "root"] = rest.split(':').collect::<Vec<_>>()[..]
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
    {
        return account.to_owned();
    }
    v.to_owned()
}

fn canonical_principal(p: &Principal) -> Value {
    let mut kinds: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    match p {
        Principal::Any => {
            kinds.entry("AWS".to_owned()).or_default().insert("*".to_owned());
        }
        Principal::Map(m) => {
            for (kind, values) in m {
                let set = kinds.entry(kind.clone()).or_default();
                set.extend(values.iter().map(|v| canonical_principal_value(kind, v)));
            }
        }
    }
    object(kinds.into_iter().map(|(k, v)| (k, Value::Array(v.into_iter().map(Value::String).collect()))).collect())
}
