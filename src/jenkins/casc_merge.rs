//! The merged view JCasC takes of every file the config-reload sidecar writes, checked for what
//! makes JCasC refuse a reload. Pure.
//!
//! Facts (configuration-as-code-plugin `docs/features/mergeStrategy.md`, `yaml/*MergeStrategy`; see
//! `jenkins-side.md` §3-§4): files are read from the folder recursively, sorted by path, skipping
//! path segments that start with `.`, only `*.yml`/`*.yaml`; under the default `errorOnConflict`,
//! sequences concatenate, mappings merge by key, and a scalar set twice is an error even when equal;
//! top-level `x-*` keys are ignored. Two clouds of one name break the load. The sidecar writes each
//! data key as a file named by the key (in the `k8s-sidecar-target-directory` subfolder), so two
//! ConfigMaps with the same key in the same folder clobber each other.

use serde_yaml_ng::Value;
use std::collections::BTreeMap;

/// One file the sidecar would write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    /// Where it comes from, for messages, e.g. `ConfigMap jenkins/ci-jenkins-jcasc-config`.
    pub origin: String,
    /// The subfolder (`k8s-sidecar-target-directory`), empty for the folder itself.
    pub dir: String,
    /// The data key: the file name.
    pub key: String,
    pub text: String,
}

impl Source {
    fn path(&self) -> String {
        if self.dir.is_empty() { self.key.clone() } else { format!("{}/{}", self.dir.trim_matches('/'), self.key) }
    }

    /// Whether JCasC reads this file at all.
    fn read_by_casc(&self) -> bool {
        let path = self.path();
        let yaml = [".yml", ".yaml"].iter().any(|ext| path.to_ascii_lowercase().ends_with(ext));
        yaml && !path.split('/').any(|segment| segment.starts_with('.'))
    }

    fn describe(&self) -> String {
        format!("{} (key {})", self.origin, self.key)
    }
}

/// What would make the reload fail (or lose a file).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Conflict {
    /// One scalar set in two files (`path` like `jenkins.numExecutors`).
    Scalar { path: String, first: usize, second: usize },
    /// Two clouds of one name.
    DuplicateCloud { name: String, first: usize, second: usize },
    /// Two sources writing the same file.
    DataKey { file: String, first: usize, second: usize },
    /// A file JCasC would read that is not YAML.
    NotYaml { source: usize, error: String },
}

impl Conflict {
    /// Whether source `index` takes part.
    pub fn involves(&self, index: usize) -> bool {
        match self {
            Conflict::Scalar { first, second, .. }
            | Conflict::DuplicateCloud { first, second, .. }
            | Conflict::DataKey { first, second, .. } => *first == index || *second == index,
            Conflict::NotYaml { source, .. } => *source == index,
        }
    }

    /// A sentence naming both sources and what to do.
    pub fn explain(&self, sources: &[Source]) -> String {
        let d = |i: &usize| sources.get(*i).map(Source::describe).unwrap_or_default();
        match self {
            Conflict::Scalar { path, first, second } => format!(
                "`{path}` is set by {} and by {}; JCasC refuses a value set in two files (even an equal one), so the reload would fail and Jenkins would load none of the files. Set it in one place only.",
                d(first),
                d(second)
            ),
            Conflict::DuplicateCloud { name, first, second } => format!(
                "cloud {name:?} is defined by {} and by {}; JCasC refuses two clouds of one name, so the reload would fail. Choose another cloud name.",
                d(first),
                d(second)
            ),
            Conflict::DataKey { file, first, second } => format!(
                "{} and {} both become file {file:?} in the sidecar's folder, so one overwrites the other. Rename one of the keys.",
                d(first),
                d(second)
            ),
            Conflict::NotYaml { source, error } => {
                format!("{} is not YAML ({error}); JCasC would refuse the reload.", d(source))
            }
        }
    }
}

/// The merged tree, each scalar and sequence item remembering its source.
enum Node {
    Map(BTreeMap<String, Node>),
    Seq(Vec<(usize, Value)>),
    Scalar(usize),
}

fn key_text(k: &Value) -> String {
    match k {
        Value::String(s) => s.clone(),
        other => serde_yaml_ng::to_string(other).map(|s| s.trim().to_string()).unwrap_or_default(),
    }
}

fn node_of(v: &Value, source: usize) -> Node {
    match v {
        Value::Mapping(m) => Node::Map(m.iter().map(|(k, v)| (key_text(k), node_of(v, source))).collect()),
        Value::Sequence(s) => Node::Seq(s.iter().map(|item| (source, item.clone())).collect()),
        Value::Tagged(t) => node_of(&t.value, source),
        _ => Node::Scalar(source),
    }
}

/// The first source a node came from, for a conflict with something of another shape.
fn first_source(n: &Node) -> Option<usize> {
    match n {
        Node::Scalar(s) => Some(*s),
        Node::Seq(items) => items.first().map(|(s, _)| *s),
        Node::Map(m) => m.values().find_map(first_source),
    }
}

fn merge(into: &mut Node, from: &Value, source: usize, path: &str, out: &mut Vec<Conflict>) {
    let from = if let Value::Tagged(t) = from { &t.value } else { from };
    match (into, from) {
        (Node::Map(m), Value::Mapping(f)) => {
            for (k, v) in f {
                let key = key_text(k);
                if path.is_empty() && key.starts_with("x-") {
                    continue;
                }
                let child = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                match m.get_mut(&key) {
                    Some(existing) => merge(existing, v, source, &child, out),
                    None => {
                        m.insert(key, node_of(v, source));
                    }
                }
            }
        }
        (Node::Seq(items), Value::Sequence(f)) => items.extend(f.iter().map(|v| (source, v.clone()))),
        (existing, _) => {
            if let Some(first) = first_source(existing) {
                out.push(Conflict::Scalar { path: path.to_string(), first, second: source });
            }
        }
    }
}

/// The names of the clouds in `jenkins.clouds`, with their sources, in merge order.
fn clouds(root: &Node) -> Vec<(String, usize)> {
    let Node::Map(top) = root else { return Vec::new() };
    let Some(Node::Map(jenkins)) = top.get("jenkins") else { return Vec::new() };
    let Some(Node::Seq(items)) = jenkins.get("clouds") else { return Vec::new() };
    items
        .iter()
        .filter_map(|(source, item)| {
            let kind = item.as_mapping()?.values().next()?;
            Some((super::escape::unescape_casc(kind.get("name")?.as_str()?), *source))
        })
        .collect()
}

/// Whether a file sets `jenkins.clouds` at all (an empty list too): JCasC replaces the cloud list
/// only when some file does, so without one a deleted cloud stays in Jenkins.
pub fn defines_clouds(text: &str) -> bool {
    serde_yaml_ng::from_str::<Value>(text)
        .ok()
        .and_then(|doc| doc.get("jenkins").map(|j| j.get("clouds").is_some()))
        .unwrap_or(false)
}

/// Every conflict among `sources` (indices refer to `sources`).
pub fn check(sources: &[Source]) -> Vec<Conflict> {
    let mut out = Vec::new();
    let mut order: Vec<usize> = (0..sources.len()).collect();
    order.sort_by_key(|i| (sources[*i].path(), *i));
    let mut files: BTreeMap<String, usize> = BTreeMap::new();
    for &i in &order {
        if let Some(&first) = files.get(&sources[i].path()) {
            out.push(Conflict::DataKey { file: sources[i].path(), first, second: i });
        } else {
            files.insert(sources[i].path(), i);
        }
    }
    let mut root = Node::Map(BTreeMap::new());
    for &i in files.values().filter(|i| sources[**i].read_by_casc()) {
        match serde_yaml_ng::from_str::<Value>(&sources[i].text) {
            Ok(Value::Null) => {}
            Ok(doc) => merge(&mut root, &doc, i, "", &mut out),
            Err(e) => out.push(Conflict::NotYaml { source: i, error: e.to_string() }),
        }
    }
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for (name, source) in clouds(&root) {
        match seen.get(&name) {
            Some(&first) => out.push(Conflict::DuplicateCloud { name, first, second: source }),
            None => {
                seen.insert(name, source);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(origin: &str, dir: &str, key: &str, text: &str) -> Source {
        Source { origin: origin.into(), dir: dir.into(), key: key.into(), text: text.into() }
    }

    const CHART: &str = "jenkins:\n  numExecutors: 0\n  mode: NORMAL\n  clouds:\n    - kubernetes:\n        name: kubernetes\n        templates: []\nunclassified:\n  location:\n    url: http://jenkins:8080\n";

    fn ours(name: &str) -> Source {
        src(
            "ours",
            "terraform",
            &format!("cloud-{name}.yaml"),
            &format!("jenkins:\n  clouds:\n    - kubernetes:\n        name: {name}\n"),
        )
    }

    #[test]
    fn our_cloud_file_merges_with_the_charts() {
        let sources = vec![src("chart", "", "jcasc-default-config.yaml", CHART), ours("eks"), ours("gke")];
        assert_eq!(check(&sources), Vec::new());
    }

    #[test]
    fn a_scalar_set_twice_conflicts_even_when_equal() {
        let extra = src("extra", "", "zz.yaml", "jenkins:\n  numExecutors: 0\nx-anchors:\n  a: 1\n");
        let anchors = src("anchors", "", "aa.yaml", "x-anchors:\n  a: 1\n");
        let sources = vec![src("chart", "", "jcasc-default-config.yaml", CHART), extra, anchors];
        let found = check(&sources);
        assert_eq!(found, vec![Conflict::Scalar { path: "jenkins.numExecutors".into(), first: 0, second: 1 }]);
        let text = found[0].explain(&sources);
        assert!(
            text.contains("chart (key jcasc-default-config.yaml)") && text.contains("extra (key zz.yaml)"),
            "{text}"
        );
    }

    #[test]
    fn a_mapping_against_a_scalar_conflicts() {
        let sources = vec![src("a", "", "a.yaml", "jenkins:\n  clouds: none\n"), ours("eks")];
        assert_eq!(check(&sources), vec![Conflict::Scalar { path: "jenkins.clouds".into(), first: 0, second: 1 }]);
    }

    #[test]
    fn two_clouds_of_one_name_conflict_across_files() {
        let mut dup = ours("eks");
        dup.key = "other.yaml".into();
        let sources = vec![src("chart", "", "jcasc-default-config.yaml", CHART), ours("eks"), dup, ours("kubernetes")];
        let found = check(&sources);
        assert!(found.contains(&Conflict::DuplicateCloud { name: "eks".into(), first: 1, second: 2 }), "{found:?}");
        assert!(
            found.contains(&Conflict::DuplicateCloud { name: "kubernetes".into(), first: 0, second: 3 }),
            "{found:?}"
        );
        assert!(found.iter().all(|c| !c.involves(99)));
    }

    #[test]
    fn a_file_defines_clouds_even_with_an_empty_list() {
        assert!(defines_clouds(CHART));
        assert!(defines_clouds("jenkins:\n  clouds: []\n"));
        assert!(!defines_clouds("jenkins:\n  numExecutors: 0\n"));
        assert!(!defines_clouds("not: [yaml"));
    }

    #[test]
    fn equal_keys_in_one_folder_clobber() {
        let a = src("a", "", "cloud-eks.yaml", "a: 1\n");
        let b = src("b", "", "cloud-eks.yaml", "b: 1\n");
        let sources = vec![a, b, ours("eks")];
        assert_eq!(check(&sources), vec![Conflict::DataKey { file: "cloud-eks.yaml".into(), first: 0, second: 1 }]);
    }

    #[test]
    fn files_jcasc_skips_are_not_merged() {
        let hidden = src("hidden", ".git", "x.yaml", "jenkins:\n  numExecutors: 3\n");
        let text = src("text", "", "notes.txt", "jenkins: [not, yaml: {");
        let broken = src("broken", "", "b.yaml", "jenkins: [not, yaml: {");
        let sources = vec![src("chart", "", "c.yaml", CHART), hidden, text, broken];
        let found = check(&sources);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(matches!(&found[0], Conflict::NotYaml { source: 3, .. }));
    }
}
