//! The policy document model and its parser, including IAM's URL-encoded form (what `GetRole` and
//! `GetRolePolicy` return). Checks shape, not meaning: whether a policy grants anything is for
//! `trust` and `admission`; comparison is for `equivalence`.

use std::borrow::Cow;

use serde_json::Value;

use super::error::{IamError, Result};

/// The policy language versions IAM accepts.
pub const VERSIONS: &[&str] = &["2012-10-17", "2008-10-17"];
/// What IAM assumes when `Version` is absent (policy variables are then not substituted).
pub const DEFAULT_VERSION: &str = "2008-10-17";
/// The version the builders write.
pub const CURRENT_VERSION: &str = "2012-10-17";

/// A parsed policy document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyDocument {
    /// `Version`, absent when the document omits it.
    pub version: Option<String>,
    /// `Id`.
    pub id: Option<String>,
    /// `Statement`, whether written as one object or a list.
    pub statements: Vec<Statement>,
}

impl PolicyDocument {
    /// `Version` with IAM's default applied.
    pub fn effective_version(&self) -> &str {
        self.version.as_deref().unwrap_or(DEFAULT_VERSION)
    }
}

/// `Effect`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Effect {
    /// `Allow`.
    Allow,
    /// `Deny`.
    Deny,
}

impl Effect {
    /// IAM's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Effect::Allow => "Allow",
            Effect::Deny => "Deny",
        }
    }
}

/// `Principal` or `NotPrincipal`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// `"*"`: everyone (IAM documents `{"AWS": "*"}` as the same).
    Any,
    /// Principal type (`AWS`, `Federated`, `Service`, `CanonicalUser`) to its values, in document order.
    Map(Vec<(String, Vec<String>)>),
}

impl Principal {
    /// The values of one principal type (`"*"` counts as `AWS: *`).
    pub fn values(&self, kind: &str) -> Vec<&str> {
        match self {
            Principal::Any if kind == "AWS" => vec!["*"],
            Principal::Any => Vec::new(),
            Principal::Map(m) => {
                m.iter().filter(|(k, _)| k == kind).flat_map(|(_, v)| v.iter().map(String::as_str)).collect()
            }
        }
    }
}

/// One condition: operator, key and values (any of which may match). Booleans and numbers are
/// kept in their string form, which is how IAM compares them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    /// Operator as written, e.g. `StringEquals`, `ForAnyValue:StringLike`, `ArnLikeIfExists`.
    pub operator: String,
    /// Condition key as written, e.g. `aws:PrincipalArn`.
    pub key: String,
    /// Values; a single value is a one-element list.
    pub values: Vec<String>,
}

/// One statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// `Sid`.
    pub sid: Option<String>,
    /// `Effect`.
    pub effect: Effect,
    /// `Principal`.
    pub principal: Option<Principal>,
    /// `NotPrincipal`.
    pub not_principal: Option<Principal>,
    /// `Action`.
    pub action: Option<Vec<String>>,
    /// `NotAction`.
    pub not_action: Option<Vec<String>>,
    /// `Resource`.
    pub resource: Option<Vec<String>>,
    /// `NotResource`.
    pub not_resource: Option<Vec<String>>,
    /// `Condition`, flattened in document order.
    pub conditions: Vec<Condition>,
}

/// Decodes IAM's URL-encoded form when the text is in it (it then starts with `%`, since every
/// policy starts with `{`); otherwise returns the text unchanged. Only `%XX` is decoded: `+` is a
/// legal character in role names and IAM encodes a space as `%20`.
pub fn decode_policy_text(text: &str) -> Result<Cow<'_, str>> {
    if !text.trim_start().starts_with('%') {
        return Ok(Cow::Borrowed(text));
    }
    percent_decode(text).map(Cow::Owned)
}

fn percent_decode(text: &str) -> Result<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
            match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                Some(b) => out.push(b),
                None => return Err(IamError::Encoding(format!("bad escape at byte {i}: expected %XX"))),
            }
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| IamError::Encoding("decoded bytes are not UTF-8".into()))
}

/// Parses a policy document, URL-encoded or not, and checks its shape.
pub fn parse_policy(text: &str) -> Result<PolicyDocument> {
    let text = decode_policy_text(text)?;
    if text.trim().is_empty() {
        return Err(IamError::shape("(document)", "the policy is empty; write a JSON object with a Statement"));
    }
    let value: Value = serde_json::from_str(&text).map_err(|e| IamError::Json {
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })?;
    parse_value(&value)
}

/// Parses a trust (assume-role) policy: every statement names a `Principal` or `NotPrincipal`,
/// and none has `Resource`, which IAM refuses in trust policies.
pub fn parse_trust_policy(text: &str) -> Result<PolicyDocument> {
    let doc = parse_policy(text)?;
    for (i, s) in doc.statements.iter().enumerate() {
        let at = stmt_path(&doc, i);
        if s.principal.is_none() && s.not_principal.is_none() {
            return Err(IamError::shape(at, "a trust policy statement needs a Principal (who may assume the role)"));
        }
        if s.resource.is_some() || s.not_resource.is_some() {
            return Err(IamError::shape(
                at,
                "a trust policy statement must not have Resource; the role is the resource",
            ));
        }
    }
    Ok(doc)
}

/// Parses an identity (permissions) policy: no `Principal`, and `Resource` or `NotResource` on
/// every statement (IAM: "Policy statement must contain resources").
pub fn parse_identity_policy(text: &str) -> Result<PolicyDocument> {
    let doc = parse_policy(text)?;
    for (i, s) in doc.statements.iter().enumerate() {
        let at = stmt_path(&doc, i);
        if s.principal.is_some() || s.not_principal.is_some() {
            return Err(IamError::shape(
                at,
                "an identity policy statement must not have Principal; the principal is the role it is attached to",
            ));
        }
        if s.resource.is_none() && s.not_resource.is_none() {
            return Err(IamError::shape(at, "the statement needs Resource (use \"*\" for all resources)"));
        }
    }
    Ok(doc)
}

fn stmt_path(doc: &PolicyDocument, i: usize) -> String {
    if doc.statements.len() == 1 { "Statement".into() } else { format!("Statement[{i}]") }
}

const TOP_KEYS: &[&str] = &["Version", "Id", "Statement"];
const STATEMENT_KEYS: &[&str] =
    &["Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition"];

fn parse_value(value: &Value) -> Result<PolicyDocument> {
    let Value::Object(top) = value else {
        return Err(IamError::shape("(document)", "a policy is a JSON object with Version and Statement"));
    };
    unknown_keys(top, TOP_KEYS, "")?;
    let version = opt_string(top.get("Version"), "Version")?;
    if let Some(v) = &version
        && !VERSIONS.contains(&v.as_str())
    {
        return Err(IamError::shape("Version", format!("{v:?} is not a policy version; use \"2012-10-17\"")));
    }
    let id = opt_string(top.get("Id"), "Id")?;
    let statements = match top.get("Statement") {
        None => return Err(IamError::shape("Statement", "missing; a policy needs at least one statement")),
        Some(Value::Object(_)) => vec![parse_statement(&top["Statement"], "Statement")?],
        Some(Value::Array(items)) if items.is_empty() => {
            return Err(IamError::shape("Statement", "empty; a policy needs at least one statement"));
        }
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, s)| parse_statement(s, &format!("Statement[{i}]")))
            .collect::<Result<_>>()?,
        Some(_) => return Err(IamError::shape("Statement", "must be an object or a list of objects")),
    };
    Ok(PolicyDocument { version, id, statements })
}

fn unknown_keys(map: &serde_json::Map<String, Value>, known: &[&str], path: &str) -> Result<()> {
    if let Some(k) = map.keys().find(|k| !known.contains(&k.as_str())) {
        let hint = known.iter().find(|n| n.eq_ignore_ascii_case(k));
        let at = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
        let message = match hint {
            Some(n) => format!("unknown element; element names are case-sensitive, write {n:?}"),
            None => format!("unknown element; expected one of {}", known.join(", ")),
        };
        return Err(IamError::shape(at, message));
    }
    Ok(())
}

fn opt_string(v: Option<&Value>, path: &str) -> Result<Option<String>> {
    match v {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(IamError::shape(path, "must be a string")),
    }
}

fn parse_statement(v: &Value, path: &str) -> Result<Statement> {
    let Value::Object(m) = v else {
        return Err(IamError::shape(path, "a statement must be a JSON object"));
    };
    unknown_keys(m, STATEMENT_KEYS, path)?;
    let at = |k: &str| format!("{path}.{k}");
    let sid = opt_string(m.get("Sid"), &at("Sid"))?;
    let effect = match m.get("Effect") {
        // Read leniently, as the peers compare it: a document IAM accepted must never fail a refresh.
        Some(Value::String(s)) if s.eq_ignore_ascii_case("Allow") => Effect::Allow,
        Some(Value::String(s)) if s.eq_ignore_ascii_case("Deny") => Effect::Deny,
        Some(_) => return Err(IamError::shape(at("Effect"), "must be \"Allow\" or \"Deny\"")),
        None => return Err(IamError::shape(at("Effect"), "missing; write \"Allow\" or \"Deny\"")),
    };
    let principal = m.get("Principal").map(|p| parse_principal(p, &at("Principal"))).transpose()?;
    let not_principal = m.get("NotPrincipal").map(|p| parse_principal(p, &at("NotPrincipal"))).transpose()?;
    let list = |k: &str| m.get(k).map(|x| string_list(x, &at(k))).transpose();
    let action = list("Action")?;
    let not_action = list("NotAction")?;
    let resource = list("Resource")?;
    let not_resource = list("NotResource")?;
    let conditions = match m.get("Condition") {
        None => Vec::new(),
        Some(c) => parse_conditions(c, &at("Condition"))?,
    };
    exclusive(principal.is_some(), not_principal.is_some(), path, "Principal", "NotPrincipal")?;
    exclusive(action.is_some(), not_action.is_some(), path, "Action", "NotAction")?;
    exclusive(resource.is_some(), not_resource.is_some(), path, "Resource", "NotResource")?;
    if action.is_none() && not_action.is_none() {
        return Err(IamError::shape(path, "the statement needs Action (or NotAction)"));
    }
    Ok(Statement { sid, effect, principal, not_principal, action, not_action, resource, not_resource, conditions })
}

fn exclusive(a: bool, b: bool, path: &str, x: &str, y: &str) -> Result<()> {
    if a && b { Err(IamError::shape(path, format!("has both {x} and {y}; keep one"))) } else { Ok(()) }
}

/// A string or a non-empty list of strings.
fn string_list(v: &Value, path: &str) -> Result<Vec<String>> {
    match v {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) if items.is_empty() => {
            Err(IamError::shape(path, "is an empty list, which IAM rejects; list at least one value or remove it"))
        }
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, x)| match x {
                Value::String(s) => Ok(s.clone()),
                _ => Err(IamError::shape(format!("{path}[{i}]"), "must be a string")),
            })
            .collect(),
        _ => Err(IamError::shape(path, "must be a string or a list of strings")),
    }
}

fn parse_principal(v: &Value, path: &str) -> Result<Principal> {
    match v {
        Value::String(s) if s == "*" => Ok(Principal::Any),
        Value::String(_) => Err(IamError::shape(
            path,
            "must be \"*\" or an object such as {\"AWS\": \"arn:aws:iam::123456789012:role/name\"}",
        )),
        Value::Object(m) if m.is_empty() => Err(IamError::shape(path, "is empty; name at least one principal")),
        Value::Object(m) => m
            .iter()
            .map(|(k, x)| {
                if !["AWS", "Federated", "Service", "CanonicalUser"].contains(&k.as_str()) {
                    return Err(IamError::shape(
                        format!("{path}.{k}"),
                        "unknown principal type; use AWS, Federated, Service or CanonicalUser",
                    ));
                }
                Ok((k.clone(), string_list(x, &format!("{path}.{k}"))?))
            })
            .collect::<Result<_>>()
            .map(Principal::Map),
        _ => Err(IamError::shape(path, "must be \"*\" or an object of principal type to ARNs")),
    }
}

fn scalar_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn parse_conditions(v: &Value, path: &str) -> Result<Vec<Condition>> {
    let Value::Object(ops) = v else {
        return Err(IamError::shape(path, "must be an object of operator to {key: value}"));
    };
    let mut out = Vec::new();
    for (op, keys) in ops {
        let op_path = format!("{path}.{op}");
        let Value::Object(keys) = keys else {
            return Err(IamError::shape(op_path, "must be an object of condition key to value(s)"));
        };
        if keys.is_empty() {
            return Err(IamError::shape(op_path, "is empty; name at least one condition key"));
        }
        for (key, vals) in keys {
            let key_path = format!("{op_path}.{key}");
            let values = match vals {
                Value::Array(items) if items.is_empty() => {
                    return Err(IamError::shape(key_path, "is an empty list; give at least one value"));
                }
                Value::Array(items) => items
                    .iter()
                    .enumerate()
                    .map(|(i, x)| {
                        scalar_string(x).ok_or_else(|| {
                            IamError::shape(format!("{key_path}[{i}]"), "must be a string, number or boolean")
                        })
                    })
                    .collect::<Result<_>>()?,
                other => vec![scalar_string(other).ok_or_else(|| {
                    IamError::shape(&key_path, "must be a string, number, boolean or a list of them")
                })?],
            };
            out.push(Condition { operator: op.clone(), key: key.clone(), values });
        }
    }
    Ok(out)
}
