//! The JCasC plugin's endpoints and the meaning of their answers. Pure.
//!
//! Facts (configuration-as-code-plugin `ConfigurationAsCode.java` at 58646eb, see
//! `/work/shared/reference/jenkins-api.md`): `POST /configuration-as-code/check` takes one YAML
//! document, needs Overall/Administer, and answers a JSON array of `{"line", "message"}` (empty when
//! valid; 400 with one `line: -1` entry on a configurator error). `POST /configuration-as-code/export`
//! needs Overall/SystemRead and answers the live configuration as YAML.

use serde_yaml_ng::Value;

/// Validates a document against the controller's plugins without applying it.
pub const CHECK: &str = "/configuration-as-code/check";
/// The configuration Jenkins runs.
pub const EXPORT: &str = "/configuration-as-code/export";
/// Re-reads every source, as the sidecar's token reload does (needs Overall/Manage); on failure
/// Jenkins renders its error page (`ConfigurationAsCode/error.jelly`) instead of redirecting.
pub const RELOAD: &str = "/configuration-as-code/reload";

/// One complaint of `check`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize)]
pub struct CheckMessage {
    #[serde(default)]
    pub line: i64,
    #[serde(default)]
    pub message: String,
}

/// What an answer means when it is not the content asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// 401: the user or token is wrong.
    Unauthorized,
    /// 403: the user lacks the permission.
    Forbidden,
    /// 404: no JCasC plugin (or a wrong URL prefix).
    NotFound,
    /// Anything else, with a short excerpt of the body.
    Unexpected { status: u16, excerpt: String },
}

impl Refusal {
    /// A sentence for a diagnostic; `permission` names what the endpoint needs.
    pub fn explain(&self, endpoint: &str, permission: &str) -> String {
        match self {
            Refusal::Unauthorized => format!(
                "Jenkins refused the credentials for {endpoint} (401): check `jenkins.username` and `jenkins.api_token` (an API token, not a password)."
            ),
            Refusal::Forbidden => format!("the Jenkins user lacks {permission}, which {endpoint} needs (403)."),
            Refusal::NotFound => format!(
                "Jenkins answered 404 for {endpoint}: is the configuration-as-code plugin installed, and does `jenkins.url` include the controller's path prefix?"
            ),
            Refusal::Unexpected { status, excerpt } => format!("Jenkins answered {status} for {endpoint}: {excerpt}"),
        }
    }
}

/// At most a few hundred characters of a body, on one line, for messages.
pub fn excerpt(body: &str) -> String {
    let flat: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > 300 { format!("{}…", flat.chars().take(300).collect::<String>()) } else { flat }
}

fn refusal(status: u16, body: &str) -> Refusal {
    match status {
        401 => Refusal::Unauthorized,
        403 => Refusal::Forbidden,
        404 => Refusal::NotFound,
        _ => Refusal::Unexpected { status, excerpt: excerpt(body) },
    }
}

/// The answer of `check`: the complaints (empty when Jenkins accepts the document), or why it did not check.
pub fn parse_check(status: u16, body: &str) -> Result<Vec<CheckMessage>, Refusal> {
    match status {
        200 | 400 => serde_json::from_str::<Vec<CheckMessage>>(body).map_err(|_| refusal(status, body)),
        _ => Err(refusal(status, body)),
    }
}

/// The answer of `export`: the YAML, or why there is none.
pub fn parse_export(status: u16, body: &str) -> Result<String, Refusal> {
    if status == 200 { Ok(body.to_string()) } else { Err(refusal(status, body)) }
}

/// The text of an HTML page, tags and scripts removed, whitespace collapsed.
fn page_text(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        out.push(' ');
        let tag = &rest[open..];
        let lower = tag.get(..7).unwrap_or(tag).to_ascii_lowercase();
        let end = if lower.starts_with("<script") || lower.starts_with("<style") {
            let close = if lower.starts_with("<script") { "</script>" } else { "</style>" };
            tag.to_ascii_lowercase().find(close).map(|i| i + close.len())
        } else {
            tag.find('>').map(|i| i + 1)
        };
        match end {
            Some(e) => rest = &tag[e..],
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    let text = out
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The answer of `reload`: `None` when Jenkins applied the sources (a redirect), else the error
/// it shows. Real Jenkins wraps the message in its page layout; the part from "Invalid
/// configuration elements" on (or after the page's error title) is what matters.
pub fn parse_reload(status: u16, body: &str) -> Result<Option<String>, Refusal> {
    match status {
        300..=399 => Ok(None),
        200 => {
            let text = page_text(body);
            let message = match text.find("Invalid configuration elements") {
                Some(i) => text[i..].to_string(),
                None => {
                    let title = ["Error loading configuration", "Error"]
                        .iter()
                        .find_map(|t| text.rfind(t).map(|i| i + t.len()));
                    text[title.unwrap_or(0)..].trim().to_string()
                }
            };
            Ok(Some(if message.is_empty() {
                "Jenkins reported an error without a message".into()
            } else {
                excerpt(&message)
            }))
        }
        _ => Err(refusal(status, body)),
    }
}

/// A Kubernetes cloud as Jenkins runs it.
#[derive(Clone, Debug, PartialEq)]
pub struct LiveCloud {
    pub name: String,
    /// `templates[].id`, in order.
    pub template_ids: Vec<String>,
    /// The whole `kubernetes` object as exported.
    pub body: Value,
}

/// The `kubernetes` object of the first cloud of a cloud file (ours hold one).
pub fn cloud_body(casc_yaml: &str) -> Option<Value> {
    let doc: Value = serde_yaml_ng::from_str(casc_yaml).ok()?;
    doc.get("jenkins")?.get("clouds")?.as_sequence()?.first()?.get("kubernetes").cloned()
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null => Some(String::new()),
        _ => None,
    }
}

/// Whether `live` holds everything `want` sets (mappings by key, sequences item by item, scalars
/// by their text): the export adds defaults and may quote numbers, so equality would be too strict.
pub fn covers(live: &Value, want: &Value) -> bool {
    match (live, want) {
        (Value::Mapping(l), Value::Mapping(w)) => w.iter().all(|(k, wv)| l.get(k).is_some_and(|lv| covers(lv, wv))),
        (Value::Sequence(l), Value::Sequence(w)) => l.len() == w.len() && l.iter().zip(w).all(|(a, b)| covers(a, b)),
        (l, w) => scalar_text(l).is_some() && scalar_text(l) == scalar_text(w),
    }
}

/// The Kubernetes clouds of an exported configuration.
pub fn live_clouds(export_yaml: &str) -> Result<Vec<LiveCloud>, String> {
    let doc: Value = serde_yaml_ng::from_str(export_yaml).map_err(|e| format!("the export is not YAML: {e}"))?;
    let clouds = doc.get("jenkins").and_then(|j| j.get("clouds")).and_then(Value::as_sequence);
    Ok(clouds
        .into_iter()
        .flatten()
        .filter_map(|c| c.get("kubernetes"))
        .filter_map(|k| {
            let name = k.get("name")?.as_str()?.to_string();
            let template_ids = k
                .get("templates")
                .and_then(Value::as_sequence)
                .into_iter()
                .flatten()
                .filter_map(|t| t.get("id").and_then(Value::as_str).map(str::to_string))
                .collect();
            Some(LiveCloud { name, template_ids, body: k.clone() })
        })
        .collect())
}

/// How the live configuration stands against the planned cloud.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Presence {
    Absent,
    /// Present with other templates (an older version still runs).
    Differs {
        live_ids: Vec<String>,
    },
    Matches,
}

/// Whether Jenkins runs cloud `name` with exactly the templates `ids` (order aside).
pub fn presence(clouds: &[LiveCloud], name: &str, ids: &[String]) -> Presence {
    let Some(c) = clouds.iter().find(|c| c.name == name) else { return Presence::Absent };
    let (mut live, mut want) = (c.template_ids.clone(), ids.to_vec());
    live.sort();
    want.sort();
    if live == want { Presence::Matches } else { Presence::Differs { live_ids: c.template_ids.clone() } }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXPORT_YAML: &str = r#"
jenkins:
  numExecutors: 0
  clouds:
  - kubernetes:
      name: "kubernetes"
      templates:
      - id: "abc"
        name: "default"
  - kubernetes:
      name: "eks"
      templates:
      - id: "t2"
        name: "child"
      - id: "t1"
        name: "base"
unclassified:
  location:
    url: "http://jenkins:8080/"
"#;

    #[test]
    fn the_export_shows_clouds_and_template_ids() {
        let clouds = live_clouds(EXPORT_YAML).unwrap();
        assert_eq!((clouds[1].name.as_str(), clouds[1].template_ids.clone()), ("eks", vec!["t2".into(), "t1".into()]));
        assert_eq!(presence(&clouds, "eks", &["t1".into(), "t2".into()]), Presence::Matches);
        assert_eq!(
            presence(&clouds, "eks", &["t1".into()]),
            Presence::Differs { live_ids: vec!["t2".into(), "t1".into()] }
        );
        assert_eq!(presence(&clouds, "gke", &[]), Presence::Absent);
        assert_eq!(live_clouds("jenkins:\n  numExecutors: 1\n").unwrap(), Vec::new());
        assert!(live_clouds("jenkins: [").is_err());
    }

    #[test]
    fn the_export_covers_a_cloud_file_despite_defaults_and_quoting() {
        let file = "jenkins:\n  clouds:\n  - kubernetes:\n      name: eks\n      containerCap: 10\n      templates:\n      - id: t1\n        name: base\n";
        let want = cloud_body(file).unwrap();
        let live = |cap: &str| {
            serde_yaml_ng::from_str::<Value>(&format!(
                "name: eks\ncontainerCap: \"{cap}\"\nreadTimeout: 15\ntemplates:\n- id: t1\n  name: base\n  instanceCap: 2147483647\n"
            ))
            .unwrap()
        };
        assert!(covers(&live("10"), &want));
        assert!(!covers(&live("11"), &want), "a changed value is not covered");
        let two = serde_yaml_ng::from_str::<Value>(
            "name: eks\ncontainerCap: 10\ntemplates:\n- id: t1\n  name: base\n- id: t2\n  name: x\n",
        )
        .unwrap();
        assert!(!covers(&two, &want), "another template count is not covered");
    }

    #[test]
    fn check_answers_mean_valid_invalid_or_refused() {
        assert_eq!(parse_check(200, "[]"), Ok(Vec::new()));
        let msgs = parse_check(
            200,
            r#"[{"line": 7, "message": "Invalid configuration elements for type: class KubernetesCloud : nope."}]"#,
        )
        .unwrap();
        assert_eq!(msgs[0].line, 7);
        assert!(msgs[0].message.contains("nope"));
        let broken = parse_check(
            400,
            r#"[{"line": -1, "message": "No configurator for the following root elements: jenkinz"}]"#,
        )
        .unwrap();
        assert_eq!(broken[0].line, -1);
        assert_eq!(parse_check(403, "<html>forbidden</html>"), Err(Refusal::Forbidden));
        assert_eq!(parse_check(401, ""), Err(Refusal::Unauthorized));
        assert_eq!(
            parse_check(500, "<html>\n  Oops   boom</html>"),
            Err(Refusal::Unexpected { status: 500, excerpt: "<html> Oops boom</html>".into() })
        );
        assert!(Refusal::Forbidden.explain(CHECK, "Overall/Administer").contains("lacks Overall/Administer"));
    }

    #[test]
    fn reload_answers_redirect_or_show_the_error() {
        assert_eq!(parse_reload(302, ""), Ok(None));
        assert_eq!(
            parse_reload(200, "<html><body><h1>Error</h1><p>boom: bad cloud</p></body></html>"),
            Ok(Some("boom: bad cloud".into()))
        );
        let real = "<html><head><script>var x = '<p>';</script><title>Error loading configuration [Jenkins]</title></head><body><div id=\"side-panel\">Manage</div><div id=\"main-panel\"><h1>Error loading configuration</h1><p>Invalid configuration elements for configurator with name: <pre><code>kubernetes</code></pre></p><p>Attribute was: <pre><code>bogus</code></pre></p><p>Valid attributes are:</p><ul><li>name</li><li>serverUrl</li></ul></div></body></html>";
        assert_eq!(
            parse_reload(200, real),
            Ok(Some("Invalid configuration elements for configurator with name: kubernetes Attribute was: bogus Valid attributes are: name serverUrl".into()))
        );
        assert_eq!(parse_reload(403, ""), Err(Refusal::Forbidden));
    }

    #[test]
    fn export_answers() {
        assert_eq!(parse_export(200, "jenkins: {}\n"), Ok("jenkins: {}\n".to_string()));
        assert_eq!(parse_export(404, "nope"), Err(Refusal::NotFound));
        assert_eq!(excerpt(&"x".repeat(400)).chars().count(), 301);
    }
}
