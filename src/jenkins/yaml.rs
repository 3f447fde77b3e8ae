//! A small block-style YAML emitter for the documents this module renders.
//!
//! Owns: turning a `serde_yaml_ng::Value` into text that reads the same in YAML 1.1 (SnakeYAML, which
//! both JCasC and the plugin's pod parser use) and YAML 1.2 (serde_yaml_ng, which reads definitions
//! back). `serde_yaml_ng`'s own serializer leaves `yes`, `on` or `1_000` plain, which YAML 1.1 reads
//! as booleans and numbers, so strings are quoted here unless plainly safe in both.
//! Must not: reorder keys (callers canonicalise first) or interpret values.

use serde_yaml_ng::{Mapping, Value};
use std::fmt::Write;

/// Renders `v` as a block-style YAML document ending in a newline.
pub(crate) fn to_yaml(v: &Value) -> String {
    let mut out = String::new();
    match v {
        Value::Mapping(m) if !m.is_empty() => mapping(&mut out, m, 0, false),
        Value::Sequence(s) if !s.is_empty() => sequence(&mut out, s, 0),
        other => {
            scalar_inline(&mut out, other, 0);
            end_line(&mut out);
        }
    }
    out
}

/// Block literals end their own last line.
fn end_line(out: &mut String) {
    if !out.ends_with('\n') {
        out.push('\n');
    }
}

fn pad(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

/// Entries at `indent`; with `first_inline` the first entry continues a `- ` already written.
fn mapping(out: &mut String, m: &Mapping, indent: usize, first_inline: bool) {
    for (i, (k, v)) in m.iter().enumerate() {
        if i > 0 || !first_inline {
            pad(out, indent);
        }
        scalar_inline(out, k, indent);
        out.push(':');
        value_after_key(out, v, indent);
    }
}

/// The value of a mapping entry or sequence item, after its `key:` or `-` marker.
fn value_after_key(out: &mut String, v: &Value, indent: usize) {
    match v {
        Value::Mapping(m) if !m.is_empty() => {
            out.push('\n');
            mapping(out, m, indent + 2, false);
        }
        Value::Sequence(s) if !s.is_empty() => match flow(s) {
            Some(text) => {
                out.push(' ');
                out.push_str(&text);
                out.push('\n');
            }
            None => {
                out.push('\n');
                sequence(out, s, indent + 2);
            }
        },
        Value::Tagged(t) => value_after_key(out, &t.value, indent),
        other => {
            out.push(' ');
            scalar_inline(out, other, indent + 2);
            end_line(out);
        }
    }
}

/// Short lists of one-line strings (`command: [cat]`) stay on one line.
fn flow(s: &[Value]) -> Option<String> {
    let items: Option<Vec<String>> = s
        .iter()
        .map(|v| match v {
            Value::String(t) if is_plain_safe(t) && !t.contains(',') => Some(t.clone()),
            Value::String(t) if !t.contains('\n') => serde_json::to_string(t).ok(),
            _ => None,
        })
        .collect();
    let text = format!("[{}]", items?.join(", "));
    (text.len() <= 60).then_some(text)
}

fn sequence(out: &mut String, s: &[Value], indent: usize) {
    for item in s {
        pad(out, indent);
        out.push('-');
        match item {
            Value::Mapping(m) if !m.is_empty() => {
                out.push(' ');
                mapping(out, m, indent + 2, true);
            }
            other => value_after_key(out, other, indent),
        }
    }
}

/// A scalar (or empty collection) written where the cursor is; `indent` is the block-literal
/// content indentation for multi-line strings.
fn scalar_inline(out: &mut String, v: &Value, indent: usize) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            let _ = write!(out, "{n}");
        }
        Value::String(s) => string(out, s, indent),
        Value::Sequence(_) => out.push_str("[]"),
        Value::Mapping(_) => out.push_str("{}"),
        Value::Tagged(t) => scalar_inline(out, &t.value, indent),
    }
}

fn string(out: &mut String, s: &str, indent: usize) {
    if is_plain_safe(s) {
        out.push_str(s);
    } else if literal_ok(s) {
        literal(out, s, indent.max(2));
    } else {
        out.push_str(&serde_json::to_string(s).unwrap_or_default());
    }
}

/// Words some YAML version reads as a boolean or null when plain.
const KEYWORDS: &[&str] = &["y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"];

/// Plain only when no YAML 1.1 or 1.2 reader could take it for anything but this string.
pub(crate) fn is_plain_safe(s: &str) -> bool {
    let Some(first) = s.chars().next() else { return false };
    (first.is_ascii_alphabetic() || first == '/' || first == '_')
        && !s.ends_with([' ', ':'])
        && !s.contains(": ")
        && !s.contains(" #")
        && s.chars().all(|c| c.is_ascii_alphanumeric() || " _./-@=+,:".contains(c))
        && !KEYWORDS.iter().any(|k| s.eq_ignore_ascii_case(k))
}

/// A literal block keeps multi-line text (pod YAML inside a definition) readable line by line.
fn literal_ok(s: &str) -> bool {
    s.contains('\n')
        && !s.starts_with([' ', '\n', '\t'])
        && s.trim_end_matches('\n').chars().all(|c| c == '\n' || c == '\t' || !c.is_control())
        && !s.contains('\u{feff}')
        && !s.trim_end_matches('\n').is_empty()
}

fn literal(out: &mut String, s: &str, indent: usize) {
    let body = s.trim_end_matches('\n');
    let trailing = s.len() - body.len();
    out.push_str(match trailing {
        0 => "|-",
        1 => "|",
        _ => "|+",
    });
    out.push('\n');
    for line in body.split('\n') {
        if !line.is_empty() {
            pad(out, indent);
            out.push_str(line);
        }
        out.push('\n');
    }
    for _ in 1..trailing {
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(v: &Value) {
        let text = to_yaml(v);
        let back: Value = serde_yaml_ng::from_str(&text).expect("emitted YAML parses");
        assert_eq!(&back, v, "{text}");
    }

    #[test]
    fn ambiguous_strings_are_quoted() {
        for s in ["yes", "On", "1_000", "0644", "500m", "1", "-c", "a: b", "x #y", "", " a", "${X}", "^${X}", "~"] {
            let text = to_yaml(&Value::String(s.into()));
            assert!(text.starts_with('"'), "{s:?} -> {text}");
            round_trip(&Value::String(s.into()));
        }
        for s in ["maven:3.9-eclipse-temurin-17", "/var/run/docker.sock", "cat", "sleep infinity"] {
            assert_eq!(to_yaml(&Value::String(s.into())), format!("{s}\n"));
        }
    }

    #[test]
    fn multi_line_strings_round_trip() {
        for s in ["a\nb", "a\nb\n", "a\n\nb\n\n\n", "a\n  b  \n\tc\n", "\n a", "a\u{7}\nb"] {
            let mut m = Mapping::new();
            m.insert("k".into(), Value::String(s.into()));
            let mut item = Mapping::new();
            item.insert("x".into(), Value::String(s.into()));
            m.insert("seq".into(), Value::Sequence(vec![Value::String(s.into()), Value::Mapping(item)]));
            round_trip(&Value::Mapping(m));
        }
    }

    #[test]
    fn nested_collections_round_trip() {
        let v: Value = serde_yaml_ng::from_str(
            "a: {b: [1, [2, 3], {c: d, e: []}], f: {}}\ng: [[], [x]]\nh: 1.5\ni: null\nj: false\nk: [a b, 'c,d', '-c', \"x\\ny\"]\n",
        )
        .unwrap();
        round_trip(&v);
    }
}
