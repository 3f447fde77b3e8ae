//! Single-value validation: template names, container and volume names, labels.
//!
//! Each check returns `Err(detail)`: a sentence saying what is wrong and what to do, ready for a
//! diagnostic. Must not: look at more than the one value (cross-field rules live in `template`).

/// Longest template name: the plugin appends `-<5 chars>` and more to make pod names (≤ 63).
pub const MAX_TEMPLATE_NAME: usize = 57;

/// Operators of Jenkins label expressions; an atom containing one could never be matched as-is.
const LABEL_OPERATORS: &[&str] = &["&&", "||", "!", "(", ")", "->", "<->"];

fn dns_label(s: &str, max: usize, what: &str) -> Result<(), String> {
    let valid_chars = s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    let ends_ok = !s.starts_with('-') && !s.ends_with('-');
    if s.is_empty() || s.len() > max || !valid_chars || !ends_ok {
        return Err(format!(
            "{what} {s:?} is not a DNS-1123 label: use 1 to {max} lowercase letters, digits and '-', starting and ending with a letter or digit."
        ));
    }
    Ok(())
}

/// A container name: a DNS-1123 label (≤ 63).
pub fn check_container_name(s: &str) -> Result<(), String> {
    dns_label(s, 63, "Container name")
}

/// A pod volume name: a DNS-1123 label (≤ 63).
pub fn check_volume_name(s: &str) -> Result<(), String> {
    dns_label(s, 63, "Volume name")
}

/// A template name: a DNS-1123 label of at most 57 characters, since it prefixes pod names.
pub fn check_template_name(s: &str) -> Result<(), String> {
    dns_label(s, MAX_TEMPLATE_NAME, "Template name")
}

/// One Jenkins label atom: no whitespace (the plugin splits `label` on spaces) and no operator.
pub fn check_label(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("The label is empty; remove it or give it a name.".into());
    }
    if s.chars().any(char::is_whitespace) {
        return Err(format!(
            "Label {s:?} contains whitespace; the plugin splits labels on spaces, so list each label as its own element."
        ));
    }
    if let Some(op) = LABEL_OPERATORS.iter().find(|op| s.contains(*op)) {
        return Err(format!(
            "Label {s:?} contains the label-expression operator {op:?}; a label is a single atom, so use letters, digits, '-', '_' or '.'."
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        type Check = fn(&str) -> Result<(), String>;
        let cases: &[(Check, &str, bool)] = &[
            (check_container_name, "maven", true),
            (check_container_name, "aws-cli", true),
            (check_container_name, "Bad_Name", false),
            (check_container_name, "-x", false),
            (check_container_name, "x-", false),
            (check_container_name, "", false),
            (check_container_name, &"a".repeat(63), true),
            (check_container_name, &"a".repeat(64), false),
            (check_template_name, &"a".repeat(57), true),
            (check_template_name, &"a".repeat(58), false),
            (check_template_name, "base.x", false),
            (check_label, "java", true),
            (check_label, "build-pod_1.x", true),
            (check_label, "a b", false),
            (check_label, "a\tb", false),
            (check_label, "", false),
            (check_label, "a&&b", false),
            (check_label, "a||b", false),
            (check_label, "!a", false),
            (check_label, "(a)", false),
            (check_label, "a->b", false),
            (check_label, "a<->b", false),
        ];
        for (f, input, ok) in cases {
            let r = f(input);
            assert_eq!(r.is_ok(), *ok, "{input:?}: {r:?}");
            if let Err(detail) = r {
                assert!(detail.ends_with('.'), "{detail}");
            }
        }
    }
}
