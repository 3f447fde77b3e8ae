//! Fault injection: rules set through `POST /emulator/faults` that make the next N matching requests
//! fail with 429, 500 or 409 and/or wait `latency_ms` first, or be carried out and answered `after_ms` late. Pure matching; the server applies the result.

use serde::Deserialize;

/// One rule, as posted.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Fault {
    /// Kubernetes verb (`create`, `get`, `list`, `watch`, `update`, `patch`, `delete`) or `*`.
    #[serde(default = "star")]
    pub verb: String,
    /// Request paths starting with this match; empty matches all.
    #[serde(default)]
    pub path_prefix: String,
    /// Status to answer with: 429, 500 or 409; none means only the latency applies.
    #[serde(default)]
    pub status: Option<u16>,
    /// How many requests the rule applies to.
    #[serde(default = "one")]
    pub count: u32,
    /// Latency added before answering.
    #[serde(default)]
    pub latency_ms: u64,
    /// Latency added after the request was carried out (a write has landed) and before its answer
    /// is sent: a client killed meanwhile never learns that its write succeeded.
    #[serde(default)]
    pub after_ms: u64,
}

fn star() -> String {
    "*".into()
}

fn one() -> u32 {
    1
}

impl Fault {
    /// Checks the rule is usable.
    pub fn validate(&self) -> Result<(), String> {
        let verbs = ["*", "create", "get", "list", "watch", "update", "patch", "delete", "deletecollection"];
        if !verbs.contains(&self.verb.as_str()) {
            return Err(format!("unknown verb {:?}", self.verb));
        }
        if let Some(s) = self.status
            && ![409, 429, 500].contains(&s)
        {
            return Err(format!("status must be 409, 429 or 500, got {s}"));
        }
        if self.status.is_none() && self.latency_ms == 0 && self.after_ms == 0 {
            return Err("a fault needs a status or a latency".into());
        }
        if self.status.is_some() && self.after_ms > 0 {
            return Err("after_ms delays a carried-out request; it cannot go with a status".into());
        }
        Ok(())
    }
}

/// What to do to one request.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Effect {
    /// Status to fail with.
    pub status: Option<u16>,
    /// Milliseconds to wait.
    pub latency_ms: u64,
    /// Milliseconds to wait after carrying the request out.
    pub after_ms: u64,
}

/// Consumes one use of the first rule matching (verb, path), if any.
pub fn take(rules: &mut Vec<Fault>, verb: &str, path: &str) -> Option<Effect> {
    let i = rules
        .iter()
        .position(|f| f.count > 0 && (f.verb == "*" || f.verb == verb) && path.starts_with(&f.path_prefix))?;
    let f = &mut rules[i];
    f.count -= 1;
    let effect = Effect { status: f.status, latency_ms: f.latency_ms, after_ms: f.after_ms };
    if f.count == 0 {
        rules.remove(i);
    }
    Some(effect)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_down_and_matches() {
        let mut rules = vec![Fault {
            verb: "create".into(),
            path_prefix: "/api/v1/namespaces/x/configmaps".into(),
            status: Some(429),
            count: 2,
            latency_ms: 0,
            after_ms: 0,
        }];
        assert_eq!(take(&mut rules, "get", "/api/v1/namespaces/x/configmaps"), None);
        assert_eq!(take(&mut rules, "create", "/api/v1/namespaces/y/configmaps"), None);
        let e = take(&mut rules, "create", "/api/v1/namespaces/x/configmaps").unwrap();
        assert_eq!(e.status, Some(429));
        assert!(take(&mut rules, "create", "/api/v1/namespaces/x/configmaps/a").is_some());
        assert!(rules.is_empty());
        let bad: Fault = serde_json::from_str(r#"{"verb":"get","status":418}"#).unwrap();
        assert!(bad.validate().is_err());
        let late: Fault = serde_json::from_str(r#"{"verb":"patch","after_ms":5}"#).unwrap();
        assert!(late.validate().is_ok());
        let late_error: Fault = serde_json::from_str(r#"{"verb":"patch","status":500,"after_ms":5}"#).unwrap();
        assert!(late_error.validate().is_err());
    }
}
