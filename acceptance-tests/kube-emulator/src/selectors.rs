//! Label selectors (`a=b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`) and field selectors
//! (`metadata.name=x`, `metadata.namespace!=y`, any dotted path with `=`, `==`, `!=`). Pure parsing and matching.

use serde_json::Value;

/// One label requirement.
#[derive(Debug, Clone, PartialEq)]
pub enum LabelReq {
    /// `k=v`, `k==v`, `k in (..)`.
    In(String, Vec<String>),
    /// `k!=v`, `k notin (..)`.
    NotIn(String, Vec<String>),
    /// `k`.
    Exists(String),
    /// `!k`.
    NotExists(String),
}

/// Splits on commas that are not inside parentheses.
fn split_top(s: &str) -> Vec<String> {
    let (mut out, mut cur, mut depth) = (vec![], String::new(), 0);
    for c in s.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    out.push(cur);
    out.into_iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()
}

fn set_values(rest: &str) -> Result<Vec<String>, String> {
    let rest = rest.trim();
    let inner = rest
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .ok_or_else(|| format!("expected a parenthesised set, found {rest:?}"))?;
    Ok(inner.split(',').map(|v| v.trim().to_string()).collect())
}

/// Parses a label selector string.
pub fn parse_labels(s: &str) -> Result<Vec<LabelReq>, String> {
    let mut out = vec![];
    for part in split_top(s) {
        if let Some(k) = part.strip_prefix('!') {
            out.push(LabelReq::NotExists(k.trim().to_string()));
        } else if let Some((k, v)) = part.split_once("!=") {
            out.push(LabelReq::NotIn(k.trim().into(), vec![v.trim().into()]));
        } else if let Some((k, v)) = part.split_once("==").or_else(|| part.split_once('=')) {
            out.push(LabelReq::In(k.trim().into(), vec![v.trim().into()]));
        } else if let Some((k, rest)) = part.split_once(" notin ") {
            out.push(LabelReq::NotIn(k.trim().into(), set_values(rest)?));
        } else if let Some((k, rest)) = part.split_once(" in ") {
            out.push(LabelReq::In(k.trim().into(), set_values(rest)?));
        } else if part.contains(' ') || part.contains('(') {
            return Err(format!("unable to parse requirement: {part:?}"));
        } else {
            out.push(LabelReq::Exists(part));
        }
    }
    Ok(out)
}

/// Whether an object's labels satisfy all requirements.
pub fn labels_match(reqs: &[LabelReq], obj: &Value) -> bool {
    let labels = obj.pointer("/metadata/labels");
    let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
    reqs.iter().all(|r| match r {
        LabelReq::In(k, vs) => get(k).is_some_and(|v| vs.iter().any(|x| x == v)),
        LabelReq::NotIn(k, vs) => get(k).is_none_or(|v| !vs.iter().any(|x| x == v)),
        LabelReq::Exists(k) => get(k).is_some(),
        LabelReq::NotExists(k) => get(k).is_none(),
    })
}

/// One field requirement: path, wanted value, and whether it must equal (`true`) or differ.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldReq {
    /// Dotted path, e.g. `metadata.name`.
    pub path: String,
    /// The value compared against.
    pub value: String,
    /// `=`/`==` when true, `!=` when false.
    pub equal: bool,
}

/// Parses a field selector string.
pub fn parse_fields(s: &str) -> Result<Vec<FieldReq>, String> {
    split_top(s)
        .into_iter()
        .map(|part| {
            let (path, value, equal) = if let Some((k, v)) = part.split_once("!=") {
                (k, v, false)
            } else if let Some((k, v)) = part.split_once("==").or_else(|| part.split_once('=')) {
                (k, v, true)
            } else {
                return Err(format!("invalid selector: '{part}'; can't understand '{part}'"));
            };
            Ok(FieldReq { path: path.trim().into(), value: value.trim().into(), equal })
        })
        .collect()
}

/// Whether an object satisfies all field requirements (missing fields compare as `""`).
pub fn fields_match(reqs: &[FieldReq], obj: &Value) -> bool {
    reqs.iter().all(|r| {
        let found = r.path.split('.').try_fold(obj, |v, k| v.get(k));
        let text = match found {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => String::new(),
            Some(other) => other.to_string(),
        };
        (text == r.value) == r.equal
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn label_selectors() {
        let o = json!({"metadata": {"name": "n", "labels": {"app": "web", "tier": "fe"}}});
        let m = |s: &str| labels_match(&parse_labels(s).unwrap(), &o);
        assert!(m("app=web"));
        assert!(m("app==web,tier"));
        assert!(!m("app!=web"));
        assert!(m("app in (api, web),!missing"));
        assert!(!m("tier notin (fe)"));
        assert!(m("missing notin (x)"));
        assert!(!m("missing"));
        assert!(m(""));
        assert!(parse_labels("app in web").is_err());
    }

    #[test]
    fn field_selectors() {
        let o = json!({"metadata": {"name": "n", "namespace": "ns"}, "status": {"phase": "Running"}});
        let m = |s: &str| fields_match(&parse_fields(s).unwrap(), &o);
        assert!(m("metadata.name=n"));
        assert!(m("metadata.name==n,metadata.namespace!=x"));
        assert!(!m("metadata.namespace=x"));
        assert!(m("status.phase=Running"));
        assert!(parse_fields("nonsense").is_err());
    }
}
