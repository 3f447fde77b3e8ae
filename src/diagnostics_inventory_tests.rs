//! The inventory of every diagnostic the provider can return, checked against the tests.
//!
//! It reads the provider's own source: every call that makes a diagnostic (`Diagnostics::error`,
//! `error_at`, `warning`, `warning_at`, the `Findings` of `jenkins` and `awsconfig`, the string
//! validators) is found, and its summary (the second-to-last argument in all of them) resolved to a
//! literal, a `format!` pattern or a `const`. Each summary must then appear in a string literal of
//! test code (unit test modules and files, or the acceptance tests that drive real Terraform) —
//! tests name the summary to assert on it. Summaries that no test can provoke are listed in
//! [`UNPROVOKABLE`] with the reason. `make diagnostics-inventory` prints the counts the README quotes.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Summaries no test provokes, each with why it cannot be provoked.
const UNPROVOKABLE: &[(&str, &str)] = &[];

/// Summaries no test provokes yet, which a test could: the open work, shrinking. A summary that
/// gets a test must leave this list (the inventory test says so).
const KNOWN_GAPS: &[&str] = &[];

/// Summary arguments that pass a summary through rather than name one: the file and the
/// argument's text. Their sources are inventoried where the summary is made.
const FORWARDERS: &[(&str, &str)] = &[
    // kube::errors::report: the summary comes from `describe` (see EXTRA).
    ("src/kube/errors.rs", "summary"),
    // aws::errors::report: likewise.
    ("src/aws/errors.rs", "summary"),
    // The string validators' own bodies.
    ("src/framework/validators.rs", "summary"),
    // irsa_role's `string_check` forwards to Validator::string; its calls are scanned.
    ("src/resources/irsa_role.rs", "summary"),
    // jenkins_loop's once-per-process warning picks one of two summaries (see EXTRA).
    ("src/resources/agent_cloud/jenkins_loop.rs", "summary"),
    // jenkins::Finding and awsconfig::Finding turned into diagnostics; their Findings are scanned.
    ("src/resources/pod_template.rs", "f.summary"),
    ("src/resources/agent_cloud.rs", "f.summary"),
    ("src/resources/cross_account_chain.rs", "f.summary.clone()"),
    // The preflight's `Awaited::summary` picks one of four warnings (see EXTRA).
    ("src/resources/agent_cloud/preflight.rs", "summary"),
    ("src/resources/agent_cloud/preflight.rs", "awaited.summary(false)"),
];

/// Summaries made outside a diagnostic call (returned by a `describe` function), by file.
const EXTRA: &[(&str, Severity, &str)] = &[
    ("src/kube/errors.rs", Severity::Error, "Kubernetes API Error"),
    ("src/kube/errors.rs", Severity::Error, "Kubernetes Connection Error"),
    ("src/aws/errors.rs", Severity::Error, "AWS API Error"),
    ("src/resources/agent_cloud/jenkins_loop.rs", Severity::Warning, "Apply Not Confirmed By Jenkins"),
    ("src/resources/agent_cloud/jenkins_loop.rs", Severity::Warning, "Jenkins Not Asked"),
    ("src/resources/agent_cloud/preflight.rs", Severity::Warning, "Agent Pod Needs What This Apply Creates"),
    ("src/resources/agent_cloud/preflight.rs", Severity::Warning, "Agent Pod Runs As What This Apply Creates"),
    ("src/resources/agent_cloud/preflight.rs", Severity::Warning, "Agent Pod Needs What Does Not Exist Yet"),
    ("src/resources/agent_cloud/preflight.rs", Severity::Warning, "Agent Pod Runs As What Does Not Exist Yet"),
];

/// The calls that make a diagnostic; in each the summary is the second-to-last argument.
const CALLS: &[&str] = &[
    ".error(",
    ".warning(",
    ".error_at(",
    ".warning_at(",
    "Validator::string(",
    "Validator::each_string(",
    "string_check(",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Severity {
    Error,
    Warning,
}

/// What a summary argument resolves to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Summary {
    Exact(String),
    /// A `format!` summary: its literal fragments, in order.
    Pattern(Vec<String>),
}

impl Summary {
    fn display(&self) -> String {
        match self {
            Summary::Exact(s) => s.clone(),
            Summary::Pattern(parts) => parts.join("{…}"),
        }
    }
    /// Whether a test's string literal names this summary.
    fn named_by(&self, literal: &str) -> bool {
        match self {
            Summary::Exact(s) => literal.contains(s.as_str()),
            Summary::Pattern(parts) => {
                let mut rest = literal;
                for p in parts.iter().filter(|p| !p.trim().is_empty()) {
                    match rest.find(p.as_str()) {
                        Some(at) => rest = &rest[at + p.len()..],
                        None => return false,
                    }
                }
                true
            }
        }
    }
}

/// One diagnostic summary and where the source makes it.
#[derive(Debug)]
struct Entry {
    sites: Vec<String>,
    /// Test files whose literals name it, acceptance tests first.
    tested_in: Vec<String>,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).expect("read dir").map(|e| e.expect("entry").path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

fn rel(p: &Path) -> String {
    p.strip_prefix(root()).unwrap_or(p).display().to_string()
}

/// A file of test code by its name: `tests.rs`, `*_tests.rs`, or under a `tests` directory.
fn is_test_file(rel: &str) -> bool {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    name == "tests.rs" || name.ends_with("_tests.rs") || rel.split('/').any(|c| c == "tests")
}

/// Reads a string literal starting at `i` (`"…"`, `r"…"`, `r#"…"#`, `b"…"`): its end and value.
fn literal_at(s: &[u8], i: usize) -> Option<(usize, String)> {
    let mut j = i;
    if s.get(j) == Some(&b'b') {
        j += 1;
    }
    if s.get(j) == Some(&b'r') {
        let mut k = j + 1;
        let mut hashes = 0;
        while s.get(k) == Some(&b'#') {
            hashes += 1;
            k += 1;
        }
        if s.get(k) != Some(&b'"') {
            return None;
        }
        let close: Vec<u8> = std::iter::once(b'"').chain(std::iter::repeat_n(b'#', hashes)).collect();
        let start = k + 1;
        let end = (start..s.len()).find(|&e| s[e..].starts_with(&close))?;
        return Some((end + close.len(), String::from_utf8_lossy(&s[start..end]).into_owned()));
    }
    if s.get(j) != Some(&b'"') {
        return None;
    }
    let mut out = Vec::new();
    let mut k = j + 1;
    while k < s.len() {
        match s[k] {
            b'"' => return Some((k + 1, String::from_utf8_lossy(&out).into_owned())),
            b'\\' => {
                match s.get(k + 1) {
                    Some(b'n') => out.push(b'\n'),
                    Some(b't') => out.push(b'\t'),
                    Some(b'\n') => {
                        // A line continuation: the newline and the next line's indentation vanish.
                        k += 2;
                        while s.get(k).is_some_and(|c| c.is_ascii_whitespace()) {
                            k += 1;
                        }
                        continue;
                    }
                    Some(&c) => out.push(c),
                    None => {}
                }
                k += 2;
            }
            c => {
                out.push(c);
                k += 1;
            }
        }
    }
    None
}

/// Whether a literal may start at `i` (not inside an identifier such as `br` or `for`).
fn literal_may_start(s: &[u8], i: usize) -> bool {
    i == 0 || !(s[i - 1].is_ascii_alphanumeric() || s[i - 1] == b'_')
}

/// Skips a comment or a char literal at `i`, returning where it ends.
fn skip_non_code(s: &[u8], i: usize) -> Option<usize> {
    if s[i..].starts_with(b"//") {
        return Some(s[i..].iter().position(|&c| c == b'\n').map_or(s.len(), |p| i + p));
    }
    if s[i..].starts_with(b"/*") {
        return Some(s[i + 2..].windows(2).position(|w| w == b"*/").map_or(s.len(), |p| i + 2 + p + 2));
    }
    if s[i] == b'\'' {
        if s.get(i + 1) == Some(&b'\\') {
            return Some(s[i + 2..].iter().position(|&c| c == b'\'').map_or(s.len(), |p| i + 2 + p + 1));
        }
        // One character (possibly multi-byte) then a quote; otherwise a lifetime.
        let ch_len = std::str::from_utf8(&s[i + 1..(i + 5).min(s.len())])
            .ok()
            .or_else(|| std::str::from_utf8(&s[i + 1..(i + 2).min(s.len())]).ok())
            .and_then(|t| t.chars().next())
            .map_or(1, char::len_utf8);
        if s.get(i + 1 + ch_len) == Some(&b'\'') {
            return Some(i + 2 + ch_len);
        }
    }
    None
}

/// Every string literal in `code`, comments skipped.
fn literals(code: &str) -> Vec<String> {
    let s = code.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        if let Some(end) = skip_non_code(s, i) {
            i = end;
        } else if literal_may_start(s, i)
            && let Some((end, lit)) = literal_at(s, i)
        {
            out.push(lit);
            i = end;
        } else {
            i += 1;
        }
    }
    out
}

/// Splits `code` into production code and test code: `#[cfg(test)] mod x { … }` blocks are tests.
fn split_tests(code: &str) -> (String, String) {
    let s = code.as_bytes();
    let (mut prod, mut test) = (String::new(), String::new());
    let mut i = 0;
    let mut from = 0;
    while i < s.len() {
        if let Some(end) = skip_non_code(s, i) {
            i = end;
            continue;
        }
        if literal_may_start(s, i)
            && let Some((end, _)) = literal_at(s, i)
        {
            i = end;
            continue;
        }
        if s[i..].starts_with(b"#[cfg(test)]") {
            let after = code[i + 12..].trim_start();
            let at = code.len() - after.len();
            if after.starts_with("mod ")
                && let Some(brace) = after.find(['{', ';'])
                && after.as_bytes()[brace] == b'{'
            {
                let open = at + brace;
                let close = matching(s, open).expect("balanced test module");
                prod.push_str(&code[from..i]);
                test.push_str(&code[i..=close]);
                i = close + 1;
                from = i;
                continue;
            }
        }
        i += 1;
    }
    prod.push_str(&code[from..]);
    (prod, test)
}

/// The index of the bracket closing the one at `open`, literals and comments skipped.
fn matching(s: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = open;
    while i < s.len() {
        if let Some(end) = skip_non_code(s, i) {
            i = end;
            continue;
        }
        if literal_may_start(s, i)
            && let Some((end, _)) = literal_at(s, i)
        {
            i = end;
            continue;
        }
        match s[i] {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// The top-level arguments of the call whose `(` is at `open`, trimmed.
fn arguments(code: &str, open: usize) -> Vec<String> {
    let s = code.as_bytes();
    let close = matching(s, open).expect("balanced call");
    let mut args = Vec::new();
    let (mut depth, mut start, mut i) = (0usize, open + 1, open + 1);
    while i < close {
        if let Some(end) = skip_non_code(s, i) {
            i = end;
            continue;
        }
        if literal_may_start(s, i)
            && let Some((end, _)) = literal_at(s, i)
        {
            i = end;
            continue;
        }
        match s[i] {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth -= 1,
            b',' if depth == 0 => {
                args.push(code[start..i].trim().to_string());
                start = i + 1;
            }
            b'|' if depth == 0 => {
                // A closure argument: its body runs to the end of the call.
                break;
            }
            _ => {}
        }
        i += 1;
    }
    let last = code[start..close].trim();
    if !last.is_empty() {
        args.push(last.to_string());
    }
    args
}

/// The literal fragments of a `format!` string (`{…}` placeholders removed, `{{`/`}}` kept).
fn fragments(fmt: &str) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut chars = fmt.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                parts.last_mut().expect("part").push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                parts.last_mut().expect("part").push('}');
            }
            '{' => {
                for d in chars.by_ref() {
                    if d == '}' {
                        break;
                    }
                }
                parts.push(String::new());
            }
            c => parts.last_mut().expect("part").push(c),
        }
    }
    parts
}

/// A `const NAME: &str = "…";` anywhere in the production sources.
fn const_value(name: &str, sources: &[(String, String)]) -> Option<String> {
    let needle = format!("const {name}: &str =");
    sources.iter().find_map(|(_, code)| {
        let at = code.find(&needle)? + needle.len();
        let rest = code[at..].trim_start();
        let offset = code.len() - rest.len();
        literal_at(code.as_bytes(), offset).map(|(_, v)| v)
    })
}

/// Resolves one summary argument; `Err` carries the argument when it names no summary itself.
fn resolve(arg: &str, sources: &[(String, String)]) -> Result<Summary, String> {
    if let Some((_, lit)) = literal_at(arg.as_bytes(), 0) {
        return Ok(Summary::Exact(lit));
    }
    if let Some(inner) = arg.strip_prefix("format!(")
        && let Some((_, lit)) = literal_at(inner.as_bytes(), 0)
    {
        return Ok(Summary::Pattern(fragments(&lit)));
    }
    if !arg.is_empty() && arg.chars().all(|c| c.is_ascii_uppercase() || c == '_' || c.is_ascii_digit()) {
        return const_value(arg, sources).map(Summary::Exact).ok_or_else(|| arg.to_string());
    }
    Err(arg.to_string())
}

/// The line number of byte `at`.
fn line_of(code: &str, at: usize) -> usize {
    code[..at].bytes().filter(|&b| b == b'\n').count() + 1
}

/// A file's path (relative to the root) and its text.
type Source = (String, String);

struct Inventory {
    entries: BTreeMap<(Severity, Summary), Entry>,
    /// Summary arguments neither resolved nor listed as forwarders.
    unresolved: Vec<String>,
}

/// The production sources the inventory covers: the provider's `src/`, without the plugin
/// transport (it logs, it makes no diagnostics) and the test driver.
fn production_sources() -> (Vec<Source>, Vec<Source>) {
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    let (mut prod, mut tests) = (Vec::new(), Vec::new());
    for f in files {
        let r = rel(&f);
        if r == "src/diagnostics_inventory_tests.rs" || r == "src/framework/testing.rs" {
            continue;
        }
        let code = std::fs::read_to_string(&f).expect("read source");
        if is_test_file(&r) {
            tests.push((r, code));
        } else {
            let (p, t) = split_tests(&code);
            if !r.starts_with("src/plugin/") {
                prod.push((r.clone(), p));
            }
            if !t.is_empty() {
                tests.push((r, t));
            }
        }
    }
    let mut acceptance = Vec::new();
    rust_files(&root().join("acceptance-tests/tests"), &mut acceptance);
    for f in acceptance {
        tests.push((rel(&f), std::fs::read_to_string(&f).expect("read test")));
    }
    (prod, tests)
}

fn inventory() -> Inventory {
    let (prod, tests) = production_sources();
    let mut entries: BTreeMap<(Severity, Summary), Entry> = BTreeMap::new();
    let mut unresolved = Vec::new();
    let mut add = |sev: Severity, summary: Summary, site: String| {
        entries.entry((sev, summary)).or_insert_with(|| Entry { sites: vec![], tested_in: vec![] }).sites.push(site);
    };
    for (file, code) in &prod {
        for call in CALLS {
            for (at, _) in code.match_indices(call) {
                if code[..at].ends_with("fn ") {
                    continue; // the helper's definition, not a call
                }
                let open = at + call.len() - 1;
                let args = arguments(code, open);
                if args.len() < 2 {
                    continue;
                }
                let sev = if call.contains("warning") { Severity::Warning } else { Severity::Error };
                let site = format!("{file}:{}", line_of(code, at));
                match resolve(&args[args.len() - 2], &prod) {
                    Ok(s) => add(sev, s, site),
                    Err(arg) if FORWARDERS.contains(&(file.as_str(), arg.as_str())) => {}
                    Err(arg) => unresolved.push(format!("{site}: summary `{arg}`")),
                }
            }
        }
    }
    for (file, sev, summary) in EXTRA {
        let code = &prod.iter().find(|(f, _)| f == file).expect("EXTRA file").1;
        assert!(code.contains(&format!("\"{summary}\"")), "{file} no longer makes {summary:?}; update EXTRA");
        add(*sev, Summary::Exact(summary.to_string()), file.to_string());
    }
    let test_literals: Vec<(String, Vec<String>)> = tests.iter().map(|(f, c)| (f.clone(), literals(c))).collect();
    for ((_, summary), entry) in entries.iter_mut() {
        for (file, lits) in &test_literals {
            if lits.iter().any(|l| summary.named_by(l)) && !entry.tested_in.contains(file) {
                entry.tested_in.push(file.clone());
            }
        }
        entry.tested_in.sort_by_key(|f| (!f.starts_with("acceptance-tests/"), f.clone()));
    }
    Inventory { entries, unresolved }
}

/// The fault knobs of the local stack, as the provider's acceptance tests call them, and what each
/// one does. The report lists, per knob, the tests that arm it (a knob no test arms is not listed).
const FAULT_KNOBS: &[(&str, &str)] = &[
    (
        "phase(|phase_with(",
        "Kubernetes: 429 with Retry-After, then 500, on the verbs of a resource's create, read, update and delete",
    ),
    ("arm(&env", "Kubernetes: 500 past the retry budget, reported with object, verb and status"),
    (".throttle(", "AWS: throttling"),
    (".server_errors(", "AWS: HTTP 500"),
    (".new_role_not_found_reads(", "IAM: a new role not yet readable (eventual consistency)"),
    (".invalid_principal_for(", "IAM: a young role refused as a principal (eventual consistency)"),
    (".fail(", "AWS: a chosen error (AccessDenied halfway through an apply, DeleteConflict)"),
    (".reject_next(", "Jenkins: the configuration refused"),
    (".stop()", "Jenkins: the controller stopped"),
    (".slow(", "Jenkins: a reload slower than the provider's timeout"),
    ("\"after_ms\"|hold_reply(", "A Kubernetes or AWS answer held back (a kill or a change meanwhile)"),
    ("\"finalizers\"", "Kubernetes: a namespace held Terminating by someone else's finalizer"),
];

/// Per fault knob, the provider acceptance tests (`file::fn`, `#[test]` functions only) that arm it;
/// `|` separates several calls of one knob.
fn fault_knobs() -> Vec<(&'static str, Vec<String>)> {
    let mut files = Vec::new();
    rust_files(&root().join("acceptance-tests/tests/provider"), &mut files);
    let sources: Vec<(String, String)> =
        files.iter().map(|f| (rel(f), std::fs::read_to_string(f).expect("read test"))).collect();
    FAULT_KNOBS
        .iter()
        .map(|(needle, kind)| {
            let mut tests = Vec::new();
            for (file, code) in &sources {
                for (at, _) in needle.split('|').flat_map(|n| code.match_indices(n)) {
                    if code[..at].ends_with("fn ") || code[..at].ends_with("fn") {
                        continue;
                    }
                    let Some(f) = code[..at].rfind("\nfn ") else { continue };
                    if !code[..f].trim_end().ends_with("#[test]") {
                        continue; // a helper, not a test
                    }
                    let name: String = code[f + 4..].chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                    let short = file.rsplit('/').next().unwrap_or(file).trim_end_matches(".rs");
                    let test = format!("{short}::{name}");
                    if !tests.contains(&test) {
                        tests.push(test);
                    }
                }
            }
            (*kind, tests)
        })
        .filter(|(_, t)| !t.is_empty())
        .collect()
}

/// The counts the README's reliability section quotes.
fn report(inv: &Inventory) -> String {
    let mut out = String::new();
    for sev in [Severity::Error, Severity::Warning] {
        let all: Vec<_> = inv.entries.iter().filter(|((s, _), _)| *s == sev).collect();
        let terraform =
            all.iter().filter(|(_, e)| e.tested_in.first().is_some_and(|f| f.starts_with("acceptance-tests/"))).count();
        let unit = all.iter().filter(|(_, e)| !e.tested_in.is_empty()).count() - terraform;
        let listed = all.iter().filter(|((_, s), _)| UNPROVOKABLE.iter().any(|(u, _)| *u == s.display())).count();
        let gaps = all.iter().filter(|((_, s), _)| KNOWN_GAPS.contains(&s.display().as_str())).count();
        let _ = writeln!(
            out,
            "{sev:?} summaries: {} in all; provoked through Terraform: {terraform}; by a unit test only: {unit}; not provokable (listed): {listed}; not yet provoked (KNOWN_GAPS): {gaps}",
            all.len()
        );
    }
    let bad = std::fs::read_to_string(root().join("acceptance-tests/tests/provider/bad_input.rs")).unwrap_or_default();
    let _ = writeln!(
        out,
        "Bad input refused through Terraform, state and stack left empty (bad_input.rs): {} configurations, {} import ids",
        bad.matches("\n    Case {").count(),
        bad.matches("\n    (\"jenkins_").count()
    );
    let knobs = fault_knobs();
    let _ = writeln!(out, "Fault kinds armed by the provider's acceptance tests: {}", knobs.len());
    for (kind, tests) in &knobs {
        let _ = writeln!(out, "- {kind}: {}", tests.join(", "));
    }
    out
}

#[test]
fn the_scanner_reads_calls_literals_and_formats() {
    let code = "fn f() {\n  d.error_at(p.then(\"x\"), \"Bad, Very\", format!(\"no {a}\"));\n  // d.error(\"Not Code\", x)\n}\n#[cfg(test)]\nmod tests {\n  #[test]\n  fn t() { assert!(x.contains(r#\"Bad, \"Very\"#)); let c = '\"'; }\n}\n";
    let (prod, test) = split_tests(code);
    assert!(!prod.contains("mod tests") && test.contains("mod tests"), "{prod}");
    let open = prod.find(".error_at(").unwrap() + ".error_at".len();
    let args = arguments(&prod, open);
    assert_eq!(args, ["p.then(\"x\")", "\"Bad, Very\"", "format!(\"no {a}\")"]);
    assert_eq!(resolve(&args[1], &[]), Ok(Summary::Exact("Bad, Very".into())));
    assert_eq!(resolve(&args[2], &[]), Ok(Summary::Pattern(vec!["no ".into(), String::new()])));
    assert_eq!(literals(&test), ["Bad, \"Very"]);
    assert!(!literals(&prod).iter().any(|l| l == "Not Code"), "comments are skipped");
    assert!(
        Summary::Pattern(vec![String::new(), " Owned By Someone Else".into()]).named_by("Secret Owned By Someone Else")
    );
    assert_eq!(fragments("a {{b}} {c:?} d"), ["a {b} ", " d"]);
}

#[test]
fn every_diagnostic_is_provoked_by_a_test() {
    let inv = inventory();
    assert!(
        inv.unresolved.is_empty(),
        "summaries the inventory cannot read (add to FORWARDERS only if they pass one through):\n{}",
        inv.unresolved.join("\n")
    );
    assert!(
        inv.entries.len() > 100,
        "the scan found only {} summaries; is it still reading the sources?",
        inv.entries.len()
    );
    let mut missing = Vec::new();
    for ((sev, summary), e) in &inv.entries {
        let d = summary.display();
        let listed = UNPROVOKABLE.iter().any(|(u, _)| *u == d) || KNOWN_GAPS.contains(&d.as_str());
        match (e.tested_in.is_empty(), listed) {
            (true, false) => missing.push(format!("{sev:?} {d:?} (made at {})", e.sites.join(", "))),
            (false, true) => missing.push(format!(
                "{d:?} is listed in UNPROVOKABLE or KNOWN_GAPS but {} names it; remove it from the list",
                e.tested_in[0]
            )),
            _ => {}
        }
    }
    for u in UNPROVOKABLE.iter().map(|(u, _)| *u).chain(KNOWN_GAPS.iter().copied()) {
        assert!(
            inv.entries.keys().any(|(_, s)| s.display() == u),
            "{u:?} is listed, but the source no longer makes it"
        );
    }
    println!("\n{}", report(&inv));
    assert!(
        missing.is_empty(),
        "{} diagnostics no test provokes; add a test that asserts on the summary (through Terraform where a user can reach it):\n{}",
        missing.len(),
        missing.join("\n")
    );
}
