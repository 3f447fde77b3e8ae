//! Reading configuration and state values by attribute name, once, at the edge of a resource.

use crate::cty::Value;
use std::collections::BTreeMap;

/// True when every attribute of an object except `computed` ones is wholly known: only then can a
/// resource render or check its configuration (plan and validate see unknowns before apply).
pub fn known_except(v: &Value, computed: &[&str]) -> bool {
    v.as_entries()
        .is_some_and(|m| m.iter().filter(|(k, _)| !computed.contains(&k.as_str())).all(|(_, v)| v.is_wholly_known()))
}

/// Cross-attribute checks at validate time: once every input is known, runs `check` on the
/// configuration with the schema's defaults filled in, keeping only findings about attributes the
/// attribute validators did not already report. Lint warnings wait for the plan.
pub fn check_when_known(
    block: &crate::framework::Block,
    config: &Value,
    computed: &[&str],
    diags: &mut crate::framework::Diagnostics,
    check: impl FnOnce(&Value, &mut crate::framework::Diagnostics),
) {
    if !known_except(config, computed) {
        return;
    }
    let object = crate::framework::with_defaults(block, config);
    let mut local = crate::framework::Diagnostics::new();
    check(&object, &mut local);
    diags.extend_new_paths(local);
}

/// A known string attribute, or `None` when null or unknown.
pub fn string(v: &Value, name: &str) -> Option<String> {
    v.get_attr(name).and_then(Value::as_str).map(str::to_string)
}

/// A known bool attribute.
pub fn boolean(v: &Value, name: &str) -> Option<bool> {
    v.get_attr(name).and_then(Value::as_bool)
}

/// A known whole-number attribute.
pub fn int(v: &Value, name: &str) -> Option<i64> {
    v.get_attr(name).and_then(Value::as_i64)
}

/// A list of known strings; unknown or null elements are skipped, null lists are empty.
pub fn strings(v: &Value, name: &str) -> Vec<String> {
    v.get_attr(name)
        .and_then(Value::as_elements)
        .map(|items| items.iter().filter_map(|i| i.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

/// A list of strings, or `None` when the list itself is null.
pub fn strings_opt(v: &Value, name: &str) -> Option<Vec<String>> {
    match v.get_attr(name) {
        Some(Value::Null) | None => None,
        Some(_) => Some(strings(v, name)),
    }
}

/// A map of known strings; null maps are empty.
pub fn string_map(v: &Value, name: &str) -> BTreeMap<String, String> {
    v.get_attr(name)
        .and_then(Value::as_entries)
        .map(|m| m.iter().filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string()))).collect())
        .unwrap_or_default()
}

/// The objects of a nested block list.
pub fn blocks<'a>(v: &'a Value, name: &str) -> &'a [Value] {
    v.get_attr(name).and_then(Value::as_elements).unwrap_or(&[])
}

/// Sets an attribute of an object value.
pub fn set(v: &mut Value, name: &str, new: Value) {
    if let Value::Object(m) = v {
        m.insert(name.to_string(), new);
    }
}
