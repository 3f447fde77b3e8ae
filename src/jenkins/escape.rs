//! JCasC interpolation escaping.
//!
//! JCasC expands `${…}` in every string it reads, the embedded pod `yaml` included, so a literal
//! `${` must be written `^${` (configuration-as-code `docs/features/secrets.adoc`).
//! Must not: touch anything but strings, or be applied twice to the same value.

use serde_yaml_ng::{Mapping, Value};

/// `${` → `^${` in one string.
pub fn escape_casc(s: &str) -> String {
    s.replace("${", "^${")
}

/// `^${` → `${`: what JCasC hands the plugin for an escaped string.
pub fn unescape_casc(s: &str) -> String {
    s.replace("^${", "${")
}

/// Applies `f` to every string (keys included) of a YAML tree.
pub(crate) fn map_strings(v: &Value, f: &dyn Fn(&str) -> String) -> Value {
    match v {
        Value::String(s) => Value::String(f(s)),
        Value::Sequence(items) => Value::Sequence(items.iter().map(|i| map_strings(i, f)).collect()),
        Value::Mapping(m) => {
            let mut out = Mapping::new();
            for (k, v) in m {
                out.insert(map_strings(k, f), map_strings(v, f));
            }
            Value::Mapping(out)
        }
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_unescapes() {
        assert_eq!(escape_casc("echo ${HOME} $X ${A}${B}"), "echo ^${HOME} $X ^${A}^${B}");
        assert_eq!(unescape_casc(&escape_casc("${A}^x${B}")), "${A}^x${B}");
        let v: Value = serde_yaml_ng::from_str("a: ['${x}', {'k${y}': v}]").unwrap();
        let e = map_strings(&v, &escape_casc);
        assert_eq!(serde_yaml_ng::to_string(&e).unwrap(), "a:\n- ^${x}\n- k^${y}: v\n");
    }
}
