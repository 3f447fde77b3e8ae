//! The Terragrunt live layout (`examples/terragrunt/`) over the module `examples/modules/jenkins-on-eks/`,
//! through plain Terraform, since Terragrunt cannot be installed here: the test does what Terragrunt
//! does for each unit. It reads the unit's `terragrunt.hcl` and the `root.hcl` it includes (with the
//! `account.hcl` and `region.hcl` that one reads) with the small HCL reader below, copies the unit's
//! module (`terraform { source }`) into a working directory, writes the root's `generate "provider"`
//! file there, and passes the merged `inputs` as `TF_VAR_*` (strings as they are, other values as
//! JSON, as Terragrunt does), the dependencies' outputs being either their `mock_outputs` (plan) or
//! the real outputs of the units applied before (apply, in dependency order, destroy in reverse).
//! The provider is installed by `terraform init` from the test mirror, lock file checked.

use super::support::Env;
use acceptance_tests::jenkins::{Jenkins, Options};
use acceptance_tests::stack::fresh_account;
use acceptance_tests::terraform::{Terraform, Workdir, repo_root, terraforms};
use serde_json::{Map, Value as Json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A small reader for the HCL the layout uses: bodies of attributes and labelled blocks; literals,
/// lists, objects, heredocs, references (`a.b.c`), function calls with a trailing traversal, and
/// `${...}` templates of references. What it cannot read it refuses by position, so a layout change
/// beyond it fails the test instead of being misread.
mod hcl {
    use serde_json::{Map, Value as Json};

    #[derive(Clone, Debug)]
    pub enum Expr {
        Lit(Json),
        /// A string with `${reference}` parts.
        Template(String),
        List(Vec<Expr>),
        Object(Vec<(String, Expr)>),
        Ref(Vec<String>),
        Call(String, Vec<Expr>, Vec<String>),
    }

    #[derive(Clone, Debug)]
    pub enum Item {
        Attr(String, Expr),
        Block(String, Vec<String>, Vec<Item>),
    }

    pub fn parse(src: &str) -> Vec<Item> {
        let mut p = Parser { s: src.as_bytes(), i: 0 };
        let body = p.body();
        p.skip(true);
        assert!(p.i == p.s.len(), "{}: unexpected `}}`", p.at());
        body
    }

    /// The attribute `name` of a body.
    pub fn attr<'a>(body: &'a [Item], name: &str) -> Option<&'a Expr> {
        body.iter().find_map(|i| match i {
            Item::Attr(n, e) if n == name => Some(e),
            _ => None,
        })
    }

    /// The blocks of `kind` in a body: their labels and bodies.
    pub fn blocks<'a>(body: &'a [Item], kind: &str) -> Vec<(&'a [String], &'a [Item])> {
        body.iter()
            .filter_map(|i| match i {
                Item::Block(k, labels, b) if k == kind => Some((labels.as_slice(), b.as_slice())),
                _ => None,
            })
            .collect()
    }

    struct Parser<'a> {
        s: &'a [u8],
        i: usize,
    }

    impl Parser<'_> {
        fn at(&self) -> String {
            let line = self.s[..self.i].iter().filter(|&&b| b == b'\n').count() + 1;
            format!("line {line}")
        }

        fn peek(&self) -> Option<u8> {
            self.s.get(self.i).copied()
        }

        /// Skips blanks and comments, and line breaks too when `lines`.
        fn skip(&mut self, lines: bool) {
            while let Some(c) = self.peek() {
                match c {
                    b' ' | b'\t' | b'\r' => self.i += 1,
                    b'\n' if lines => self.i += 1,
                    b'#' => self.skip_line(),
                    b'/' if self.s.get(self.i + 1) == Some(&b'/') => self.skip_line(),
                    b'/' if self.s.get(self.i + 1) == Some(&b'*') => {
                        let end = find(&self.s[self.i + 2..], b"*/").expect("unterminated comment");
                        self.i += end + 4;
                    }
                    _ => break,
                }
            }
        }

        fn skip_line(&mut self) {
            while self.peek().is_some_and(|c| c != b'\n') {
                self.i += 1;
            }
        }

        fn expect(&mut self, c: u8) {
            self.skip(true);
            assert_eq!(self.peek(), Some(c), "{}: expected `{}`", self.at(), c as char);
            self.i += 1;
        }

        fn ident(&mut self) -> String {
            let start = self.i;
            while self.peek().is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-') {
                self.i += 1;
            }
            assert!(self.i > start, "{}: expected a name", self.at());
            String::from_utf8_lossy(&self.s[start..self.i]).into_owned()
        }

        fn body(&mut self) -> Vec<Item> {
            let mut items = Vec::new();
            loop {
                self.skip(true);
                match self.peek() {
                    None | Some(b'}') => return items,
                    _ => {}
                }
                let name = self.ident();
                self.skip(false);
                if self.peek() == Some(b'=') {
                    self.i += 1;
                    items.push(Item::Attr(name, self.expr()));
                    continue;
                }
                let mut labels = Vec::new();
                while self.peek() == Some(b'"') {
                    labels.push(self.string_raw());
                    self.skip(false);
                }
                self.expect(b'{');
                let body = self.body();
                self.expect(b'}');
                items.push(Item::Block(name, labels, body));
            }
        }

        fn expr(&mut self) -> Expr {
            self.skip(true);
            match self.peek() {
                Some(b'"') => {
                    let s = self.string_raw();
                    if s.contains("${") { Expr::Template(s) } else { Expr::Lit(Json::String(s)) }
                }
                Some(b'<') => {
                    let s = self.heredoc();
                    if s.contains("${") { Expr::Template(s) } else { Expr::Lit(Json::String(s)) }
                }
                Some(b'[') => {
                    self.i += 1;
                    let mut items = Vec::new();
                    loop {
                        self.skip(true);
                        if self.peek() == Some(b']') {
                            self.i += 1;
                            return Expr::List(items);
                        }
                        items.push(self.expr());
                        self.skip(true);
                        if self.peek() == Some(b',') {
                            self.i += 1;
                        }
                    }
                }
                Some(b'{') => {
                    self.i += 1;
                    let mut fields = Vec::new();
                    loop {
                        self.skip(true);
                        if self.peek() == Some(b'}') {
                            self.i += 1;
                            return Expr::Object(fields);
                        }
                        let key = if self.peek() == Some(b'"') { self.string_raw() } else { self.ident() };
                        self.skip(false);
                        assert!(matches!(self.peek(), Some(b'=' | b':')), "{}: expected `=` after {key}", self.at());
                        self.i += 1;
                        fields.push((key, self.expr()));
                        self.skip(false);
                        if self.peek() == Some(b',') {
                            self.i += 1;
                        }
                    }
                }
                Some(c) if c.is_ascii_digit() || c == b'-' => {
                    let start = self.i;
                    self.i += 1;
                    while self.peek().is_some_and(|c| c.is_ascii_digit() || c == b'.') {
                        self.i += 1;
                    }
                    let text = String::from_utf8_lossy(&self.s[start..self.i]).into_owned();
                    Expr::Lit(serde_json::from_str(&text).unwrap_or_else(|_| panic!("{}: bad number", self.at())))
                }
                Some(c) if c.is_ascii_alphabetic() => {
                    let name = self.ident();
                    match name.as_str() {
                        "true" => return Expr::Lit(Json::Bool(true)),
                        "false" => return Expr::Lit(Json::Bool(false)),
                        "null" => return Expr::Lit(Json::Null),
                        _ => {}
                    }
                    if self.peek() == Some(b'(') {
                        self.i += 1;
                        let mut args = Vec::new();
                        loop {
                            self.skip(true);
                            if self.peek() == Some(b')') {
                                self.i += 1;
                                break;
                            }
                            args.push(self.expr());
                            self.skip(true);
                            if self.peek() == Some(b',') {
                                self.i += 1;
                            }
                        }
                        return Expr::Call(name, args, self.traversal());
                    }
                    let mut path = vec![name];
                    path.extend(self.traversal());
                    Expr::Ref(path)
                }
                _ => panic!("{}: this reader does not know the expression here", self.at()),
            }
        }

        fn traversal(&mut self) -> Vec<String> {
            let mut path = Vec::new();
            while self.peek() == Some(b'.') {
                self.i += 1;
                path.push(self.ident());
            }
            assert!(self.peek() != Some(b'['), "{}: index expressions are not read", self.at());
            path
        }

        fn string_raw(&mut self) -> String {
            self.i += 1;
            let mut out = String::new();
            loop {
                let c = self.peek().unwrap_or_else(|| panic!("{}: unterminated string", self.at()));
                self.i += 1;
                match c {
                    b'"' => return out,
                    b'\\' => {
                        let e = self.peek().expect("escape");
                        self.i += 1;
                        out.push(match e {
                            b'n' => '\n',
                            b't' => '\t',
                            b'"' => '"',
                            b'\\' => '\\',
                            _ => panic!("{}: escape \\{} is not read", self.at(), e as char),
                        });
                    }
                    b'\n' => panic!("{}: line break in a string", self.at()),
                    _ => {
                        // Strings are UTF-8; copy the whole character.
                        let start = self.i - 1;
                        while self.peek().is_some_and(|b| (b & 0xC0) == 0x80) {
                            self.i += 1;
                        }
                        out.push_str(&String::from_utf8_lossy(&self.s[start..self.i]));
                    }
                }
            }
        }

        /// `<<MARK` or `<<-MARK` (indentation stripped) up to a line holding only the marker.
        fn heredoc(&mut self) -> String {
            assert!(self.s[self.i..].starts_with(b"<<"), "{}: expected a heredoc", self.at());
            self.i += 2;
            let indented = self.peek() == Some(b'-');
            if indented {
                self.i += 1;
            }
            let mark = self.ident();
            self.skip(false);
            assert_eq!(self.peek(), Some(b'\n'), "{}: heredoc marker ends its line", self.at());
            self.i += 1;
            let mut lines = Vec::new();
            loop {
                let start = self.i;
                self.skip_line();
                let line = String::from_utf8_lossy(&self.s[start..self.i]).into_owned();
                assert!(self.peek().is_some(), "unterminated heredoc {mark}");
                self.i += 1;
                if line.trim() == mark {
                    self.i -= 1;
                    break;
                }
                lines.push(line);
            }
            if indented {
                let cut = lines
                    .iter()
                    .filter(|l| !l.trim().is_empty())
                    .map(|l| l.len() - l.trim_start().len())
                    .min()
                    .unwrap_or(0);
                lines = lines.into_iter().map(|l| l.get(cut..).unwrap_or("").to_string()).collect();
            }
            lines.iter().map(|l| format!("{l}\n")).collect()
        }
    }

    fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
        hay.windows(needle.len()).position(|w| w == needle)
    }

    /// Evaluates an expression: references into `scope`, calls through `call`.
    pub fn eval(e: &Expr, scope: &Json, call: &mut dyn FnMut(&str, Vec<Json>) -> Json) -> Json {
        match e {
            Expr::Lit(v) => v.clone(),
            Expr::Template(t) => Json::String(template(t, scope)),
            Expr::List(items) => Json::Array(items.iter().map(|i| eval(i, scope, call)).collect()),
            Expr::Object(fields) => {
                Json::Object(fields.iter().map(|(k, v)| (k.clone(), eval(v, scope, call))).collect::<Map<_, _>>())
            }
            Expr::Ref(path) => lookup(scope, path),
            Expr::Call(name, args, path) => {
                let args = args.iter().map(|a| eval(a, scope, call)).collect();
                lookup(&call(name, args), path)
            }
        }
    }

    fn lookup(root: &Json, path: &[String]) -> Json {
        let mut v = root;
        for (n, key) in path.iter().enumerate() {
            v = v.get(key).unwrap_or_else(|| panic!("{} is not defined", path[..=n].join(".")));
        }
        v.clone()
    }

    /// `${a.b}` parts replaced by their values (strings as they are, others as JSON).
    pub fn template(t: &str, scope: &Json) -> String {
        let mut out = String::new();
        let mut rest = t;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let end = rest[start..].find('}').expect("unterminated ${") + start;
            let path: Vec<String> = rest[start + 2..end].trim().split('.').map(str::to_string).collect();
            match lookup(scope, &path) {
                Json::String(s) => out.push_str(&s),
                other => out.push_str(&other.to_string()),
            }
            rest = &rest[end + 1..];
        }
        out.push_str(rest);
        out
    }
}

use hcl::{Expr, Item};

/// The layout's folder.
fn layout_root() -> PathBuf {
    repo_root().join("examples/terragrunt")
}

/// The layout's files as the test's stack needs them: the example accounts replaced by the test's
/// (the prod account, and the account the profile chain's hop targets), the Jenkins namespace by the
/// test's, and the remote cluster's agent namespace (one cluster shared by all tests) by one of its own.
#[derive(Clone)]
struct Substitutions {
    account: String,
    target: String,
    namespace: String,
    remote_namespace: String,
}

impl Substitutions {
    fn for_env(env: &Env) -> Substitutions {
        Substitutions {
            account: env.account.clone(),
            target: fresh_account(),
            namespace: env.namespace.clone(),
            remote_namespace: format!("{}-agents", env.namespace),
        }
    }

    fn apply(&self, text: &str) -> String {
        let text = text
            .replace("123456789012", &self.account)
            .replace("222222222222", &self.target)
            .replace("\"jenkins-agents\"", &format!("{:?}", self.remote_namespace));
        replace_namespace(&text, "jenkins", &self.namespace)
    }
}

/// `text` with every `namespace = "<from>"` (also `jenkins_namespace = ...`, and however `terraform
/// fmt` aligned the `=`) set to `to`: how tests give an example the namespace of their own.
pub(super) fn replace_namespace(text: &str, from: &str, to: &str) -> String {
    let quoted = format!("{from:?}");
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find("namespace") {
        let (head, tail) = rest.split_at(i + "namespace".len());
        out.push_str(head);
        let after = tail.trim_start_matches([' ', '\t']);
        if let Some(value) = after.strip_prefix('=').map(|v| v.trim_start_matches([' ', '\t']))
            && let Some(more) = value.strip_prefix(quoted.as_str())
        {
            out.push_str(&tail[..tail.len() - value.len()]);
            out.push_str(&format!("{to:?}"));
            rest = more;
        } else {
            rest = tail;
        }
    }
    out.push_str(rest);
    out
}

/// A dependency block: the unit it names and its mocks.
#[derive(Clone, Debug)]
struct Dependency {
    name: String,
    unit: String,
    mock_outputs: Json,
    mock_commands: Vec<String>,
}

/// One unit as Terragrunt would run it.
#[derive(Clone, Debug)]
struct Unit {
    /// The unit's folder name, e.g. `irsa-role`.
    name: String,
    module_dir: PathBuf,
    dependencies: Vec<Dependency>,
    inputs: Expr,
    /// The root's inputs as evaluated for this unit (account.hcl and region.hcl merged).
    root_inputs: Json,
    /// The file `generate "provider"` writes, and its name.
    provider_file: (String, String),
}

/// Reads a file of the layout with the substitutions applied.
fn read(path: &Path, subs: &Substitutions) -> Vec<Item> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    hcl::parse(&subs.apply(&text))
}

/// `find_in_parent_folders(name)` from a unit's folder.
fn find_in_parent_folders(from: &Path, name: &str) -> PathBuf {
    from.parent()
        .into_iter()
        .flat_map(Path::ancestors)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("no {name} above {}", from.display()))
}

/// The Terragrunt functions the layout calls, evaluated for the unit in `dir`.
fn functions(dir: &Path, subs: &Substitutions) -> impl FnMut(&str, Vec<Json>) -> Json {
    let (dir, subs) = (dir.to_path_buf(), subs.clone());
    move |name, args| match (name, args.as_slice()) {
        ("find_in_parent_folders", [Json::String(file)]) => {
            Json::String(find_in_parent_folders(&dir, file).display().to_string())
        }
        ("read_terragrunt_config", [Json::String(path)]) => {
            // Only `locals` of literals are read (what account.hcl and region.hcl hold).
            let body = read(Path::new(path), &subs);
            let mut locals = Map::new();
            for (_, b) in hcl::blocks(&body, "locals") {
                for item in b {
                    if let Item::Attr(k, e) = item {
                        locals.insert(k.clone(), hcl::eval(e, &Json::Null, &mut |f, _| panic!("{f}() in {path}")));
                    }
                }
            }
            serde_json::json!({ "locals": locals })
        }
        ("merge", objects) => {
            let mut out = Map::new();
            for o in objects {
                out.extend(o.as_object().expect("merge takes objects").clone());
            }
            Json::Object(out)
        }
        _ => panic!("this reader does not evaluate {name}() with {args:?}"),
    }
}

/// Every unit of the layout, by folder name.
fn units(subs: &Substitutions) -> BTreeMap<String, Unit> {
    let mut out = BTreeMap::new();
    let region_dir = layout_root().join("prod/us-east-1");
    for entry in std::fs::read_dir(&region_dir).expect("region folder") {
        let dir = entry.expect("entry").path();
        let file = dir.join("terragrunt.hcl");
        if !file.is_file() {
            continue;
        }
        let name = dir.file_name().expect("name").to_string_lossy().into_owned();
        let body = read(&file, subs);
        let mut call = functions(&file, subs);

        let includes = hcl::blocks(&body, "include");
        assert_eq!(includes.len(), 1, "{name}: one include");
        let (labels, include) = includes[0];
        assert_eq!(labels, ["root"], "{name}: include \"root\"");
        let root_path = hcl::eval(hcl::attr(include, "path").expect("include path"), &Json::Null, &mut call);
        let root_path = PathBuf::from(root_path.as_str().expect("path"));
        assert_eq!(root_path, layout_root().join("root.hcl"), "{name}: includes the layout's root.hcl");
        let root = read(&root_path, subs);
        let mut local = Map::new();
        for (_, b) in hcl::blocks(&root, "locals") {
            for item in b {
                if let Item::Attr(k, e) = item {
                    let scope = serde_json::json!({ "local": local });
                    local.insert(k.clone(), hcl::eval(e, &scope, &mut call));
                }
            }
        }
        let root_scope = serde_json::json!({ "local": local });
        let root_inputs = hcl::eval(hcl::attr(&root, "inputs").expect("root inputs"), &root_scope, &mut call);
        let generated = hcl::blocks(&root, "generate");
        let (labels, generate) = *generated.iter().find(|(l, _)| *l == ["provider"]).expect("generate \"provider\"");
        assert_eq!(labels, ["provider"]);
        let path = hcl::eval(hcl::attr(generate, "path").expect("path"), &root_scope, &mut call);
        let contents = hcl::eval(hcl::attr(generate, "contents").expect("contents"), &root_scope, &mut call);
        let provider_file =
            (path.as_str().expect("path").to_string(), contents.as_str().expect("contents").to_string());

        let terraform = hcl::blocks(&body, "terraform");
        let source = hcl::eval(hcl::attr(terraform[0].1, "source").expect("source"), &Json::Null, &mut call);
        let source = source.as_str().expect("source").to_string();
        let (base, sub) = source.split_once("//").expect("a `//` source: the copied folder, then the module in it");
        let module_dir = dir.join(base).join(sub);
        assert!(module_dir.join("main.tf").is_file(), "{name}: source {source} is no module");

        let dependencies = hcl::blocks(&body, "dependency")
            .into_iter()
            .map(|(labels, b)| {
                let mut attr = |k: &str| {
                    hcl::eval(hcl::attr(b, k).unwrap_or_else(|| panic!("{name}: {k}")), &Json::Null, &mut call)
                };
                let config_path = attr("config_path");
                let unit =
                    config_path.as_str().and_then(|p| p.strip_prefix("../")).expect("a sibling unit").to_string();
                let mock_commands =
                    serde_json::from_value(attr("mock_outputs_allowed_terraform_commands")).expect("list");
                Dependency { name: labels[0].clone(), unit, mock_outputs: attr("mock_outputs"), mock_commands }
            })
            .collect();
        let inputs = hcl::attr(&body, "inputs").expect("inputs").clone();
        out.insert(name.clone(), Unit { name, module_dir, dependencies, inputs, root_inputs, provider_file });
    }
    out
}

impl Unit {
    /// Terragrunt's inputs: the root's, then the unit's over them, with `dependency.<name>.outputs`
    /// taken from `outputs` (by dependency unit).
    fn inputs(&self, outputs: &BTreeMap<String, Json>) -> Map<String, Json> {
        let mut deps = Map::new();
        for d in &self.dependencies {
            let o = outputs.get(&d.unit).unwrap_or_else(|| panic!("{}: no outputs of {}", self.name, d.unit));
            deps.insert(d.name.clone(), serde_json::json!({ "outputs": o }));
        }
        let scope = serde_json::json!({ "dependency": deps });
        let unit = hcl::eval(&self.inputs, &scope, &mut |f, _| panic!("{}: {f}() in inputs", self.name));
        let mut all = self.root_inputs.as_object().cloned().unwrap_or_default();
        all.extend(unit.as_object().expect("inputs is an object").clone());
        all
    }

    /// The mocks as the dependency outputs.
    fn mocked_outputs(&self) -> BTreeMap<String, Json> {
        self.dependencies.iter().map(|d| (d.unit.clone(), d.mock_outputs.clone())).collect()
    }

    /// A working directory holding what Terragrunt would run in: the module's files, the generated
    /// provider file, the inputs as `TF_VAR_*`; `terraform init` from the mirror has run.
    fn workdir(&self, tf: &Terraform, env: &Env, extra: &[(String, String)], inputs: &Map<String, Json>) -> Workdir {
        let vars = inputs.iter().map(|(k, v)| {
            let value = match v {
                Json::String(s) => s.clone(),
                other => other.to_string(),
            };
            (format!("TF_VAR_{k}"), value)
        });
        let w = env.installed_workdir(&format!("tg-{}", self.name), tf).with_env(extra.to_vec()).with_env(vars);
        for entry in std::fs::read_dir(&self.module_dir).expect("module folder") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "tf") {
                std::fs::copy(&path, w.dir.join(path.file_name().expect("name"))).expect("copy module file");
            }
        }
        std::fs::write(w.dir.join(&self.provider_file.0), &self.provider_file.1).expect("write provider.tf");
        w.init();
        w.assert_lock_file();
        w
    }
}

/// The units in dependency order (each after what it depends on).
fn dependency_order(units: &BTreeMap<String, Unit>) -> Vec<String> {
    let mut order: Vec<String> = Vec::new();
    while order.len() < units.len() {
        let before = order.len();
        for (name, u) in units {
            if !order.contains(name) && u.dependencies.iter().all(|d| order.contains(&d.unit)) {
                order.push(name.clone());
            }
        }
        assert!(order.len() > before, "the units' dependencies form a cycle: {order:?}");
    }
    order
}

/// `terraform output -json` as name → value.
fn outputs(w: &Workdir) -> Json {
    let r = w.run(&["output", "-json", "-no-color"]);
    assert_eq!(r.code, 0, "output failed:\n{}", r.text());
    let all: Map<String, Json> = serde_json::from_str(&r.stdout).expect("output JSON");
    Json::Object(all.into_iter().map(|(k, v)| (k, v["value"].clone())).collect())
}

/// The chart's Jenkins in the test's namespace, and its API credentials for the provider, from the
/// environment as root.hcl says they come.
fn jenkins(env: &Env) -> (Jenkins, Vec<(String, String)>) {
    let jenkins = Jenkins::start(&env.namespace, "jenkins", Options::default());
    let (user, token) = jenkins.admin();
    let vars = vec![
        ("JENKINS_URL".to_string(), jenkins.url().to_string()),
        ("JENKINS_USER".to_string(), user),
        ("JENKINS_API_TOKEN".to_string(), token),
    ];
    (jenkins, vars)
}

fn flat(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The warnings of a Terraform run: each `Warning: <summary>` with the text up to the next one.
fn warnings(text: &str) -> Vec<String> {
    text.split("Warning: ").skip(1).map(|w| flat(w.split("\n\n\n").next().unwrap_or(w))).collect()
}

#[test]
fn units_apply_in_dependency_order_with_each_others_outputs_and_destroy_in_reverse() {
    for tf in terraforms() {
        let env = Env::new("tg-apply");
        let subs = Substitutions::for_env(&env);
        let (jenkins, jenkins_vars) = jenkins(&env);
        let units = units(&subs);
        let order = dependency_order(&units);
        assert_eq!(order.first().map(String::as_str), Some("irsa-role"), "{order:?}");
        assert_eq!(order.last().map(String::as_str), Some("clouds"), "{order:?}");

        let mut applied: Vec<(String, Workdir)> = Vec::new();
        let mut real: BTreeMap<String, Json> = BTreeMap::new();
        for name in &order {
            let unit = &units[name];
            let inputs = unit.inputs(&real);
            let w = unit.workdir(tf, &env, &jenkins_vars, &inputs);
            let r = w.apply();
            let text = r.text();
            assert!(!text.contains("Provider produced"), "[{}] {name}: {text}", tf.version);
            assert!(
                !text.contains("Agent Pods Not Checked"),
                "[{}] {name}: every check ran during apply:\n{text}",
                tf.version
            );
            w.assert_plans_empty();
            real.insert(name.clone(), outputs(&w));
            applied.push((name.clone(), w));
        }
        // A later unit changes nothing an earlier one owns (the chain's grant on the IRSA role is
        // left alone by the role's exclusive inline policies).
        for (_, w) in &applied {
            w.assert_plans_empty();
        }

        // The IRSA role: in the test's account, trusting the controller cluster's OIDC issuer for
        // the chart's service account, which carries its annotation.
        let role = &real["irsa-role"];
        let arn = role["arn"].as_str().expect("arn").to_string();
        assert_eq!(arn, format!("arn:aws:iam::{}:role/jenkins-ci-role", env.account));
        let (ok, got) =
            env.aws_in(&env.account, &["iam", "get-role", "--role-name", "jenkins-ci-role", "--output", "json"]);
        assert!(ok, "{got}");
        let cluster: Json =
            serde_json::from_str(&env.aws(&["eks", "describe-cluster", "--name", "controller", "--output", "json"]))
                .expect("describe-cluster JSON");
        let issuer = cluster["cluster"]["identity"]["oidc"]["issuer"].as_str().expect("issuer");
        let issuer = issuer.trim_start_matches("https://").to_string();
        let trust = super::cross_account_chain::trust_of(&serde_json::from_str::<Json>(&got).expect("json")["Role"]);
        let trust = trust.to_string();
        assert!(trust.contains(&issuer), "trust names the controller's issuer {issuer}: {trust}");
        assert!(trust.contains(&format!("system:serviceaccount:{}:jenkins-serviceaccount", env.namespace)), "{trust}");
        let sa = env.get_json("serviceaccount", "jenkins-serviceaccount").expect("service account created");
        assert_eq!(sa["metadata"]["annotations"]["eks.amazonaws.com/role-arn"], arn.as_str());

        // The profile chain: its ConfigMap names the IRSA role as `prod`, the hop's role exists in
        // the target account trusting it, and the IRSA role may assume it.
        let cm = env.get_json("configmap", "awsconfig-configmap").expect("chain ConfigMap");
        let ini = cm["data"]["config"].as_str().expect("config").to_string();
        assert!(ini.contains(&format!("role_arn = {arn}")) && ini.contains("[profile nonprod]"), "{ini}");
        let target = super::cross_account_chain::get_role(&env, &subs.target, "jenkins-deploy-role").expect("hop role");
        assert!(super::cross_account_chain::trust_of(&target).to_string().contains(&arn));
        let (ok, policies) = env
            .aws_in(&env.account, &["iam", "list-role-policies", "--role-name", "jenkins-ci-role", "--output", "json"]);
        assert!(ok && policies.contains("jenkins-chain-"), "{policies}");

        // The remote cluster: the agent namespace and service account there, the credential here.
        let remote = &real["remote-cluster"];
        assert_eq!(remote["namespace"], subs.remote_namespace.as_str());
        env.kubectl("remote", &["-n", &subs.remote_namespace, "get", "serviceaccount", "jenkins-agent-controller"]);
        let secret = env.get_json("secret", "remote-agents").expect("credential Secret");
        assert_eq!(secret["metadata"]["labels"]["jenkins.io/credentials-type"], "secretText", "{secret}");

        // The clouds: both ConfigMaps, as the sidecar loaded them into Jenkins; the controller's
        // template runs as the IRSA service account with the chain mounted.
        let clouds = &real["clouds"];
        for (cloud, key) in [("eks-agents", "controller_cloud"), ("remote-agents", "remote_cloud")] {
            let cm_name = clouds[key]["configmap_name"].as_str().expect("configmap_name");
            assert!(env.get_json("configmap", cm_name).is_some(), "{cloud}: ConfigMap {cm_name}");
            assert!(jenkins.state().clouds.iter().any(|c| c == cloud), "Jenkins runs {cloud}: {:?}", jenkins.state());
        }
        let pod = &clouds["effective_pods"]["eks-agents"]["base"];
        assert_eq!(pod["spec"]["serviceAccountName"], "jenkins-serviceaccount", "{pod}");
        let text = pod.to_string();
        for needle in ["\"name\":\"awsconfig-configmap\"", "\"AWS_PROFILE\""] {
            assert!(text.contains(needle), "{needle} in\n{pod}");
        }

        for (name, w) in applied.into_iter().rev() {
            eprintln!("destroying {name}");
            w.destroy();
            w.cleanup();
        }
        assert!(env.get_json("configmap", "awsconfig-configmap").is_none());
        assert!(env.get_json("secret", "remote-agents").is_none());
        assert!(env.get_json("serviceaccount", "jenkins-serviceaccount").is_none());
        let (ok, out) = env.aws_in(&env.account, &["iam", "get-role", "--role-name", "jenkins-ci-role"]);
        assert!(!ok && out.contains("NoSuchEntity"), "role deleted: {out}");
    }
}

/// Plans each of `names` before any unit exists, with its dependencies' `mock_outputs` (known but
/// fake values), on every Terraform: validate and plan succeed, the plan writes nothing, and each
/// unit's warnings must name every string of `fakes[unit]` (what could not be checked against them).
fn plan_with_mocks(prefix: &str, names: &[&str], fakes: &[(&str, &[&str])], summaries: &[&str]) {
    for tf in terraforms() {
        let env = Env::new(prefix);
        let subs = Substitutions::for_env(&env);
        let (_jenkins, jenkins_vars) = jenkins(&env);
        let units = units(&subs);
        for &name in names {
            let unit = &units[name];
            for d in &unit.dependencies {
                assert_eq!(d.mock_commands, ["validate", "plan"], "{name}: mocks only where nothing is written");
            }
            let inputs = unit.inputs(&unit.mocked_outputs());
            let w = unit.workdir(tf, &env, &jenkins_vars, &inputs);
            let r = w.run(&["validate", "-no-color"]);
            assert_eq!(r.code, 0, "[{}] {name}: validate with mocks:\n{}", tf.version, r.text());
            let r = w.run(&["plan", "-detailed-exitcode", "-input=false", "-no-color"]);
            let text = r.text();
            assert_eq!(r.code, 2, "[{}] {name}: plan with mocks must succeed with changes:\n{text}", tf.version);
            assert!(!text.contains("Error:"), "[{}] {name}: {text}", tf.version);
            let warned = warnings(&text);
            eprintln!("[{}] {name} planned with mocks; warnings: {warned:#?}", tf.version);
            for summary in summaries {
                assert!(
                    text.contains(&format!("Warning: {summary}")),
                    "[{}] {name}: no {summary:?}:\n{text}",
                    tf.version
                );
            }
            for fake in fakes.iter().filter(|(u, _)| *u == name).flat_map(|(_, f)| f.iter()) {
                assert!(
                    warned.iter().any(|w| w.contains(fake)),
                    "[{}] {name}: no warning names {fake}:\n{text}",
                    tf.version
                );
            }
            w.cleanup();
        }
        // A plan writes nothing: no role, no service account, no ConfigMap, no remote namespace.
        let (ok, _) = env.aws_in(&env.account, &["iam", "get-role", "--role-name", "jenkins-ci-role"]);
        assert!(!ok, "a plan created the role");
        assert!(env.get_json("serviceaccount", "jenkins-serviceaccount").is_none());
        assert!(env.get_json("configmap", "awsconfig-configmap").is_none());
        let (ok, _) = env.try_kubectl("remote", &["get", "namespace", &subs.remote_namespace]);
        assert!(!ok, "a plan created the remote namespace");
    }
}

/// Before anything exists, the units that the clouds depend on plan: the IRSA role (no
/// dependencies), the profile chain against a mocked role ARN that does not exist, the remote
/// cluster (no dependencies).
#[test]
fn irsa_role_profile_chain_and_remote_cluster_plan_before_anything_exists() {
    plan_with_mocks("tg-mocks", &["irsa-role", "profile-chain", "remote-cluster"], &[], &[]);
}

/// The clouds unit plans with mocked dependency outputs: a service account, a ConfigMap and a
/// Jenkins credential that do not exist (nothing of the other units is applied yet). Each is a
/// warning that names it and says the check runs again at apply, never an error: root.hcl sets
/// the provider's `missing_objects_at_plan = "warning"` (the default, `error`, fails such a plan;
/// the apply-time check is `preflight::a_lenient_plan_warns_and_the_apply_still_refuses_before_writing`).
#[test]
fn clouds_unit_plans_with_mock_outputs_warning_what_it_could_not_check() {
    plan_with_mocks(
        "tg-mock-clouds",
        &["clouds"],
        &[("clouds", &["mock-jenkins-serviceaccount", "mock-awsconfig-configmap", "mock-remote-agents"])],
        &["Agent Pod Runs As What Does Not Exist Yet", "Agent Pod Needs What Does Not Exist Yet"],
    );
}

/// account.hcl's `aws_account_id` guards the irsa-role unit: with credentials of another account in
/// the environment, the apply fails naming both accounts (and the role it made is destroyed with the
/// same credentials, as the message says).
#[test]
fn irsa_role_unit_fails_its_apply_under_another_accounts_credentials() {
    let tf = &terraforms()[0];
    let env = Env::new("tg-account");
    let subs = Substitutions::for_env(&env);
    let unit = &units(&subs)["irsa-role"];
    let mut inputs = unit.inputs(&BTreeMap::new());
    assert_eq!(inputs["aws_account_id"], env.account.as_str(), "root.hcl passes account.hcl's id");
    let other = fresh_account();
    inputs.insert("aws_account_id".into(), Json::String(other.clone()));
    let w = unit.workdir(tf, &env, &[], &inputs);
    w.expect_error(
        &["apply", "-auto-approve", "-input=false", "-no-color"],
        &[
            &format!("is not in account {other} (account.hcl)"),
            &format!("arn:aws:iam::{}:role/jenkins-ci-role", env.account),
        ],
    );
    w.destroy();
    let (ok, _) = env.aws_in(&env.account, &["iam", "get-role", "--role-name", "jenkins-ci-role"]);
    assert!(!ok, "the role is gone after destroy");
    w.cleanup();
}

/// The layout is wired as Terragrunt needs it: every input a unit passes is a variable of its
/// module and every required variable is passed; every `dependency.<x>.outputs.<y>` names an
/// output of that unit's module and has a mock; every mock is such an output. Then `terraform
/// validate` of each module and `terraform fmt -check` of all of them.
#[test]
fn layout_is_wired_to_the_modules_and_every_module_validates() {
    let subs = Substitutions {
        account: "123456789012".into(),
        target: "222222222222".into(),
        namespace: "jenkins".into(),
        remote_namespace: "jenkins-agents".into(),
    };
    let units = units(&subs);
    assert_eq!(
        units.keys().map(String::as_str).collect::<Vec<_>>(),
        ["clouds", "irsa-role", "profile-chain", "remote-cluster"]
    );
    for unit in units.values() {
        let variables = declared(&unit.module_dir, "variable");
        let inputs = unit.inputs(&unit.mocked_outputs());
        let unit_keys: Vec<String> = match &unit.inputs {
            Expr::Object(fields) => fields.iter().map(|(k, _)| k.clone()).collect(),
            other => panic!("{}: inputs is not an object: {other:?}", unit.name),
        };
        for k in &unit_keys {
            assert!(variables.iter().any(|(v, _)| v == k), "{}: input {k} is no variable of its module", unit.name);
        }
        for (v, has_default) in &variables {
            assert!(*has_default || inputs.contains_key(v), "{}: required variable {v} is not passed", unit.name);
        }
        let mut used = Vec::new();
        references(&unit.inputs, &mut used);
        for d in &unit.dependencies {
            let dep = &units[&d.unit];
            let outputs = declared(&dep.module_dir, "output");
            let mocks = d.mock_outputs.as_object().expect("mock_outputs is an object");
            for key in mocks.keys() {
                assert!(outputs.iter().any(|(o, _)| o == key), "{}: mock {key} is no output of {}", unit.name, d.unit);
            }
            for path in used.iter().filter(|p| p[0] == "dependency" && p[1] == d.name) {
                assert_eq!(path.get(2).map(String::as_str), Some("outputs"), "{path:?}");
                let key = &path[3];
                assert!(mocks.contains_key(key), "{}: dependency.{}.outputs.{key} has no mock", unit.name, d.name);
            }
        }
    }

    for tf in terraforms() {
        for unit in units.values() {
            let w = Workdir::installed(&format!("tg-validate-{}", unit.name), tf);
            for entry in std::fs::read_dir(&unit.module_dir).expect("module") {
                let p = entry.expect("entry").path();
                if p.extension().is_some_and(|e| e == "tf") {
                    std::fs::copy(&p, w.dir.join(p.file_name().expect("name"))).expect("copy");
                }
            }
            w.init();
            let r = w.run(&["validate", "-no-color"]);
            assert_eq!(r.code, 0, "[{}] {}: validate:\n{}", tf.version, unit.name, r.text());
            w.cleanup();
        }
        let w = Workdir::new("tg-fmt", tf);
        let modules = repo_root().join("examples/modules").display().to_string();
        let r = w.run(&["fmt", "-check", "-recursive", "-diff", "-no-color", &modules]);
        assert_eq!(r.code, 0, "[{}] terraform fmt -check:\n{}", tf.version, r.text());
        w.cleanup();
    }
}

/// The blocks `kind` (`variable`, `output`) a module declares, with whether each has a `default`
/// (read from `terraform fmt`'s layout: the block at column 0, its attributes two spaces in).
fn declared(module: &Path, kind: &str) -> Vec<(String, bool)> {
    let mut out: Vec<(String, bool)> = Vec::new();
    for entry in std::fs::read_dir(module).expect("module") {
        let p = entry.expect("entry").path();
        if p.extension().is_none_or(|e| e != "tf") {
            continue;
        }
        let text = std::fs::read_to_string(&p).expect("read");
        let mut current: Option<usize> = None;
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix(&format!("{kind} \"")) {
                out.push((rest.split('"').next().expect("name").to_string(), false));
                current = Some(out.len() - 1);
            } else if line.starts_with('}') {
                current = None;
            } else if let Some(i) = current
                && line.strip_prefix("  default").is_some_and(|r| r.trim_start().starts_with('='))
            {
                out[i].1 = true;
            }
        }
    }
    assert!(!out.is_empty() || kind == "output", "{} declares no {kind}", module.display());
    out
}

/// Every reference path in an expression.
fn references(e: &Expr, out: &mut Vec<Vec<String>>) {
    match e {
        Expr::Ref(p) => out.push(p.clone()),
        Expr::List(items) => items.iter().for_each(|i| references(i, out)),
        Expr::Object(fields) => fields.iter().for_each(|(_, v)| references(v, out)),
        Expr::Call(_, args, _) => args.iter().for_each(|a| references(a, out)),
        Expr::Lit(_) | Expr::Template(_) => {}
    }
}
