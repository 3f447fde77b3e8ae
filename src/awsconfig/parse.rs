//! Reads a shared-config file back into a [`Chain`], for import and drift: a ConfigMap someone
//! edited by hand must either map onto the model or say, line by line, why not.
//!
//! Must not: validate values (ARNs, regions, durations are `validate`'s job), guess at intent, or
//! drop anything silently. Unknown keys are collected ([`Parsed::unknown_keys`]); [`parse`]
//! treats them as errors, [`parse_lenient`] hands them back.
//!
//! Lines follow the SDKs' reading (smithy-rs `env_config::parse`): `#` and `;` start a comment at
//! the start of a line or, in a property line, after whitespace; keys are case-insensitive;
//! `[default]` and `[profile default]` are the same profile.

use super::model::{BaseIdentity, BaseProfile, Chain, CredentialSource, HopProfile};
use std::fmt;

/// A key the model does not know, kept so drift and import can report it instead of losing it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownKey {
    /// 1-based line number.
    pub line: usize,
    /// The profile the key is in.
    pub profile: String,
    /// The key, lower-cased as the SDKs read it.
    pub key: String,
}

/// One reason a file does not map onto a [`Chain`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseIssue {
    /// A key the model does not know (an error only for the strict [`parse`]).
    UnknownKey(UnknownKey),
    /// The file cannot be read as a chain at this line.
    Invalid {
        /// 1-based line number.
        line: usize,
        /// What is wrong and what to change.
        message: String,
    },
}

impl fmt::Display for ParseIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseIssue::UnknownKey(u) => write!(
                f,
                "line {}: unknown key `{}` in profile `{}`; remove it or manage it outside this resource",
                u.line, u.key, u.profile
            ),
            ParseIssue::Invalid { line, message } => write!(f, "line {line}: {message}"),
        }
    }
}

/// Every problem found in a file, in line order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ParseError {
    /// The problems, at least one.
    pub issues: Vec<ParseIssue>,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, issue) in self.issues.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{issue}")?;
        }
        Ok(())
    }
}

/// A chain read with [`parse_lenient`], plus the keys it had no place for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// The chain.
    pub chain: Chain,
    /// Keys outside the model, in line order.
    pub unknown_keys: Vec<UnknownKey>,
}

/// Reads a file strictly: unknown keys are errors, so nothing in the file is lost.
pub fn parse(text: &str) -> Result<Chain, ParseError> {
    let parsed = parse_lenient(text)?;
    if parsed.unknown_keys.is_empty() {
        Ok(parsed.chain)
    } else {
        Err(ParseError { issues: parsed.unknown_keys.into_iter().map(ParseIssue::UnknownKey).collect() })
    }
}

/// Reads a file, returning unknown keys next to the chain instead of failing on them.
///
/// The base is the profile with `web_identity_token_file` (IRSA) or, when there is none, the
/// first profile if it has `credential_source = EcsContainer` and no `source_profile` (Pod
/// Identity; [`super::render`] writes the base first). Every other profile is a hop, in file order.
pub fn parse_lenient(text: &str) -> Result<Parsed, ParseError> {
    let mut issues = Vec::new();
    let sections = lex(text, &mut issues);
    let mut unknown_keys = Vec::new();
    let mut profiles: Vec<Profile> =
        sections.iter().map(|s| Profile::read(s, &mut unknown_keys, &mut issues)).collect();

    let web_identity: Vec<usize> =
        profiles.iter().enumerate().filter(|(_, p)| p.web_identity_token_file.is_some()).map(|(i, _)| i).collect();
    let base_index = match web_identity.as_slice() {
        [] => profiles.first().filter(|p| p.is_pod_identity_base()).map(|_| 0),
        [first, rest @ ..] => {
            for &i in rest {
                issues.push(invalid(
                    profiles[i].line,
                    format!(
                        "profile `{}` is a second base profile (it has web_identity_token_file); a chain has one base, `{}`: \
                         make this profile a hop with source_profile, or remove it",
                        profiles[i].name, profiles[*first].name
                    ),
                ));
            }
            Some(*first)
        }
    };
    let Some(base_index) = base_index else {
        let line = profiles.first().map_or(1, |p| p.line);
        issues.push(invalid(
            line,
            "no base profile: the chain needs one profile with role_arn and web_identity_token_file (IRSA), or a \
             first profile with role_arn and credential_source = EcsContainer (EKS Pod Identity)"
                .to_owned(),
        ));
        return Err(finish(issues));
    };
    let base = profiles.remove(base_index).into_base(&mut issues);
    let hops: Vec<HopProfile> = profiles.into_iter().filter_map(|p| p.into_hop(&mut issues)).collect();
    match base {
        Some(base) if issues.is_empty() => {
            unknown_keys.sort_by_key(|u| u.line);
            Ok(Parsed { chain: Chain { base, hops }, unknown_keys })
        }
        _ => Err(finish(issues)),
    }
}

fn finish(mut issues: Vec<ParseIssue>) -> ParseError {
    issues.sort_by_key(|i| match i {
        ParseIssue::UnknownKey(u) => u.line,
        ParseIssue::Invalid { line, .. } => *line,
    });
    ParseError { issues }
}

fn invalid(line: usize, message: String) -> ParseIssue {
    ParseIssue::Invalid { line, message }
}

/// A `[profile …]` section as written: name, line of the header, `(key, value, line)` in order.
struct RawSection<'a> {
    name: String,
    line: usize,
    props: Vec<(String, &'a str, usize)>,
}

/// Splits the file into profile sections, reporting lines the SDKs would read differently or not
/// at all.
fn lex<'a>(text: &'a str, issues: &mut Vec<ParseIssue>) -> Vec<RawSection<'a>> {
    let mut sections: Vec<RawSection<'a>> = Vec::new();
    // `None` before the first section or inside a section that is not a profile.
    let mut current: Option<usize> = None;
    let mut in_ignored_section = false;
    for (i, raw) in text.lines().enumerate() {
        let line_no = i + 1;
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let trimmed = line.trim_matches(WHITESPACE);
        if trimmed.is_empty() || trimmed.starts_with(COMMENT) {
            continue;
        }
        if trimmed.starts_with('[') {
            current = None;
            in_ignored_section = true;
            match section_name(trimmed) {
                Ok(name) => {
                    if let Some(prev) = sections.iter().find(|s| s.name == name) {
                        issues.push(invalid(
                            line_no,
                            format!(
                                "profile `{name}` is defined again (first on line {}); SDKs merge the two sections: \
                                 keep one",
                                prev.line
                            ),
                        ));
                    } else {
                        sections.push(RawSection { name, line: line_no, props: Vec::new() });
                        current = Some(sections.len() - 1);
                        in_ignored_section = false;
                    }
                }
                Err(message) => issues.push(invalid(line_no, message)),
            }
            continue;
        }
        if line.starts_with(WHITESPACE) {
            issues.push(invalid(
                line_no,
                "indented line: the SDKs read it as a continuation of the previous value; remove the indentation"
                    .to_owned(),
            ));
            continue;
        }
        let Some(index) = current else {
            if !in_ignored_section {
                issues.push(invalid(line_no, "property outside any section; put it under a [profile …] header".into()));
            }
            continue;
        };
        let Some((key, value)) = strip_comment(trimmed, true).split_once('=') else {
            issues.push(invalid(line_no, "expected `key = value`".to_owned()));
            continue;
        };
        let key = key.trim_matches(WHITESPACE).to_ascii_lowercase();
        if key.is_empty() {
            issues.push(invalid(line_no, "property without a name before `=`".to_owned()));
            continue;
        }
        let section = &mut sections[index];
        if let Some((_, _, first)) = section.props.iter().find(|(k, _, _)| *k == key) {
            issues.push(invalid(
                line_no,
                format!(
                    "`{key}` is set again in profile `{}` (first on line {first}); the SDKs keep the last: keep one",
                    section.name
                ),
            ));
            continue;
        }
        section.props.push((key, value.trim_matches(WHITESPACE), line_no));
    }
    sections
}

const WHITESPACE: &[char] = &[' ', '\t'];
const COMMENT: &[char] = &['#', ';'];

/// Cuts a trailing comment: in a section header any `#`/`;` starts one; in a property line only
/// one after whitespace does (so `a#b` is a value, `a #b` is `a`).
fn strip_comment(line: &str, needs_whitespace: bool) -> &str {
    let mut prev_ws = false;
    for (idx, ch) in line.char_indices() {
        if COMMENT.contains(&ch) && (prev_ws || !needs_whitespace) {
            return line[..idx].trim_matches(WHITESPACE);
        }
        prev_ws = ch.is_whitespace();
    }
    line
}

/// The profile name of a section header, or why it is not a profile the SDKs would read.
fn section_name(line: &str) -> Result<String, String> {
    let line = strip_comment(line, false);
    let inner = line
        .strip_prefix('[')
        .and_then(|l| l.strip_suffix(']'))
        .ok_or_else(|| format!("section header `{line}` must be `[profile <name>]` or `[default]`"))?
        .trim_matches(WHITESPACE);
    match inner.split_once(WHITESPACE) {
        Some(("profile", name)) => {
            let name = name.trim_matches(WHITESPACE);
            if name.is_empty() { Err("`[profile]` has no name".to_owned()) } else { Ok(name.to_owned()) }
        }
        Some((prefix, name)) => Err(format!(
            "section `[{prefix} {}]` is not a profile; this resource manages profiles only: remove it",
            name.trim_matches(WHITESPACE)
        )),
        None if inner == "default" => Ok("default".to_owned()),
        None if inner == "profile" => Err("`[profile]` has no name".to_owned()),
        None => Err(format!(
            "section `[{inner}]` needs the `profile` prefix in the config file (the SDKs ignore it otherwise): \
             write `[profile {inner}]`"
        )),
    }
}

/// Known keys of one profile, read from a [`RawSection`].
#[derive(Default)]
struct Profile {
    name: String,
    line: usize,
    role_arn: Option<String>,
    web_identity_token_file: Option<String>,
    /// `(value, line)`: kept raw so an unknown value is reported where it is.
    credential_source: Option<(String, usize)>,
    source_profile: Option<String>,
    role_session_name: Option<String>,
    external_id: Option<String>,
    region: Option<String>,
    duration_seconds: Option<i64>,
}

impl Profile {
    fn read(s: &RawSection<'_>, unknown: &mut Vec<UnknownKey>, issues: &mut Vec<ParseIssue>) -> Self {
        let mut p = Profile { name: s.name.clone(), line: s.line, ..Profile::default() };
        for (key, value, line) in &s.props {
            let v = Some((*value).to_owned());
            match key.as_str() {
                "role_arn" => p.role_arn = v,
                "web_identity_token_file" => p.web_identity_token_file = v,
                "credential_source" => p.credential_source = Some(((*value).to_owned(), *line)),
                "source_profile" => p.source_profile = v,
                "role_session_name" => p.role_session_name = v,
                "external_id" => p.external_id = v,
                "region" => p.region = v,
                "duration_seconds" => match value.parse::<i64>() {
                    Ok(n) => p.duration_seconds = Some(n),
                    Err(_) => issues.push(invalid(
                        *line,
                        format!("duration_seconds `{value}` is not a whole number of seconds (900 to 43200)"),
                    )),
                },
                "mfa_serial" => issues.push(invalid(
                    *line,
                    format!(
                        "mfa_serial in profile `{}` is not supported: a build pod cannot answer an MFA prompt; \
                         remove it and require MFA at the human entry point instead",
                        s.name
                    ),
                )),
                _ => unknown.push(UnknownKey { line: *line, profile: s.name.clone(), key: key.clone() }),
            }
        }
        p
    }

    fn is_pod_identity_base(&self) -> bool {
        self.source_profile.is_none() && self.credential_source.as_ref().is_some_and(|(v, _)| v == "EcsContainer")
    }

    fn credential_source(&self, issues: &mut Vec<ParseIssue>) -> Option<CredentialSource> {
        let (value, line) = self.credential_source.as_ref()?;
        let parsed = CredentialSource::parse(value);
        if parsed.is_none() {
            issues.push(invalid(
                *line,
                format!(
                    "credential_source `{value}` in profile `{}` is not one of Environment, Ec2InstanceMetadata, \
                     EcsContainer",
                    self.name
                ),
            ));
        }
        parsed
    }

    fn into_base(self, issues: &mut Vec<ParseIssue>) -> Option<BaseProfile> {
        let mut ok = true;
        let mut refuse = |key: &str, why: &str| {
            ok = false;
            issues.push(invalid(self.line, format!("base profile `{}` has {key}: {why}", self.name)));
        };
        if self.source_profile.is_some() {
            refuse("source_profile", "the base authenticates as the pod; make it a hop or remove source_profile");
        }
        if self.external_id.is_some() {
            refuse("external_id", "it is not supported on the base profile; set it on a hop");
        }
        if self.web_identity_token_file.is_some() && self.credential_source.is_some() {
            refuse("both web_identity_token_file and credential_source", "keep one (IRSA or Pod Identity)");
        }
        let identity = match self.web_identity_token_file {
            Some(web_identity_token_file) => BaseIdentity::WebIdentity { web_identity_token_file },
            None => BaseIdentity::PodIdentity,
        };
        let Some(role_arn) = self.role_arn else {
            issues.push(invalid(
                self.line,
                format!("base profile `{}` has no role_arn; set the role the pod's identity becomes", self.name),
            ));
            return None;
        };
        ok.then_some(BaseProfile {
            name: self.name,
            role_arn,
            identity,
            role_session_name: self.role_session_name,
            region: self.region,
            duration_seconds: self.duration_seconds,
        })
    }

    fn into_hop(self, issues: &mut Vec<ParseIssue>) -> Option<HopProfile> {
        let credential_source = self.credential_source(issues);
        let Some(role_arn) = self.role_arn else {
            issues.push(invalid(
                self.line,
                format!(
                    "profile `{}` has no role_arn: only role hops are supported (no static keys, SSO or \
                     credential_process); add role_arn or remove the profile",
                    self.name
                ),
            ));
            return None;
        };
        Some(HopProfile {
            name: self.name,
            role_arn,
            source_profile: self.source_profile,
            credential_source,
            role_session_name: self.role_session_name,
            external_id: self.external_id,
            region: self.region,
            duration_seconds: self.duration_seconds,
        })
    }
}
