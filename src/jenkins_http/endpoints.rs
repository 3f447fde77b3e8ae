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

/// A Kubernetes cloud as Jenkins runs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveCloud {
    pub name: String,
    /// `templates[].id`, in order.
    pub template_ids: Vec<String>,
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
            Some(LiveCloud { name, template_ids })
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
        assert_eq!(clouds[1], LiveCloud { name: "eks".into(), template_ids: vec!["t2".into(), "t1".into()] });
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
    fn export_answers() {
        assert_eq!(parse_export(200, "jenkins: {}\n"), Ok("jenkins: {}\n".to_string()));
        assert_eq!(parse_export(404, "nope"), Err(Refusal::NotFound));
        assert_eq!(excerpt(&"x".repeat(400)).chars().count(), 301);
    }
}
