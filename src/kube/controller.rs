//! The Jenkins controller as the Helm chart deploys it: its StatefulSet, read to learn what the
//! config-reload sidecar watches (label, value, namespaces, resource kind) and which service account
//! the controller runs as, instead of guessing them from the release name.
//!
//! Facts from jenkinsci/helm-charts chart 5.9.53: the StatefulSet carries
//! `app.kubernetes.io/component: jenkins-controller` (`jenkins.labels`), and
//! `jenkins.configReloadContainer` renders containers `config-reload` (watch) and
//! `config-reload-init` (list once) with env `LABEL`, `FOLDER`, `NAMESPACE` (and optionally
//! `LABEL_VALUE`, `RESOURCE`, `METHOD` through extra env). The sidecar's defaults come from
//! kiwigrid/k8s-sidecar 2.10.1 `sidecar.py`: `RESOURCE` configmap, `NAMESPACE` the pod's own.

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::Container;
use kube::api::{Api, ListParams};

/// The label selecting the chart's controller StatefulSet.
pub const COMPONENT_SELECTOR: &str = "app.kubernetes.io/component=jenkins-controller";

/// The sidecar containers the chart renders, the watching one first.
pub const SIDECAR_CONTAINERS: [&str; 2] = ["config-reload", "config-reload-init"];

/// The label value our ConfigMaps carry under the sidecar's label key.
pub const OUR_LABEL_VALUE: &str = "true";

/// One controller StatefulSet and what its sidecar watches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Controller {
    /// The StatefulSet's name (the chart's fullname).
    pub statefulset: String,
    /// Its `app.kubernetes.io/instance` label: the Helm release.
    pub release: Option<String>,
    /// `spec.template.spec.serviceAccountName`; `None` means the namespace's `default`.
    pub service_account: Option<String>,
    /// The sidecar's settings; `None` when the pod runs no config-reload container.
    pub sidecar: Option<SidecarWatch>,
}

/// Which namespaces the sidecar lists and watches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WatchedNamespaces {
    All,
    Some(Vec<String>),
}

/// What the config-reload sidecar loads, from one of its containers' env.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SidecarWatch {
    /// The container the settings were read from.
    pub container: String,
    /// `LABEL`: the label key a ConfigMap must carry.
    pub label: String,
    /// `LABEL_VALUE`: the value it must have; `None` matches any value.
    pub label_value: Option<String>,
    /// `NAMESPACE`, comma-separated or `ALL`; the pod's namespace when unset.
    pub namespaces: WatchedNamespaces,
    /// `FOLDER`: where the files land.
    pub folder: Option<String>,
    /// `RESOURCE`: `configmap` (default), `secret` or `both`.
    pub resource: String,
}

impl Controller {
    /// Why a ConfigMap in `namespace` labelled `<label>: "true"` would not be loaded, if it would not.
    pub fn refusal(&self, namespace: &str) -> Option<String> {
        let Some(w) = &self.sidecar else {
            return Some(format!(
                "StatefulSet {namespace}/{} runs no config-reload sidecar (no container {} or {}), so nothing loads ConfigMaps into Jenkins. Enable `controller.sidecars.configAutoReload` in the chart's values.",
                self.statefulset, SIDECAR_CONTAINERS[0], SIDECAR_CONTAINERS[1]
            ));
        };
        let at = format!("StatefulSet {namespace}/{}, container {}", self.statefulset, w.container);
        if w.resource == "secret" {
            return Some(format!(
                "{at} has RESOURCE=secret: the sidecar loads Secrets only, never this ConfigMap. Set RESOURCE to `configmap` or `both`."
            ));
        }
        if let Some(v) = w.label_value.as_deref().filter(|v| *v != OUR_LABEL_VALUE) {
            return Some(format!(
                "{at} has LABEL_VALUE={v:?}: the sidecar loads only ConfigMaps labelled {}={v:?}, and this one is labelled {}={OUR_LABEL_VALUE:?}. Unset LABEL_VALUE or set it to \"true\".",
                w.label, w.label
            ));
        }
        if let WatchedNamespaces::Some(list) = &w.namespaces
            && !list.iter().any(|n| n == namespace)
        {
            return Some(format!(
                "{at} has NAMESPACE={:?}: the sidecar does not watch namespace {namespace:?}, where this ConfigMap goes. Add {namespace:?} to the chart's `controller.sidecars.configAutoReload.searchNamespace` (or use ALL), or set the provider's `jenkins.namespace` to a watched one.",
                list.join(",")
            ));
        }
        None
    }
}

fn env_value(c: &Container, name: &str) -> Option<String> {
    c.env.iter().flatten().find(|e| e.name == name).and_then(|e| e.value.clone())
}

/// The sidecar's settings from one container; `None` without a `LABEL` (the sidecar refuses to start).
fn watch_of(c: &Container, own_namespace: &str) -> Option<SidecarWatch> {
    let label = env_value(c, "LABEL").filter(|l| !l.is_empty())?;
    let namespaces = match env_value(c, "NAMESPACE").map(|n| n.trim().to_string()).filter(|n| !n.is_empty()) {
        Some(n) if n == "ALL" => WatchedNamespaces::All,
        Some(n) => {
            WatchedNamespaces::Some(n.split(',').map(|p| p.trim().to_string()).filter(|p| !p.is_empty()).collect())
        }
        None => WatchedNamespaces::Some(vec![own_namespace.to_string()]),
    };
    Some(SidecarWatch {
        container: c.name.clone(),
        label,
        label_value: env_value(c, "LABEL_VALUE").filter(|v| !v.is_empty()),
        namespaces,
        folder: env_value(c, "FOLDER"),
        resource: env_value(c, "RESOURCE").map(|r| r.to_ascii_lowercase()).unwrap_or_else(|| "configmap".into()),
    })
}

/// A controller from its StatefulSet. Pure.
pub fn controller_of(sts: &StatefulSet) -> Controller {
    let namespace = sts.metadata.namespace.clone().unwrap_or_default();
    let pod = sts.spec.as_ref().and_then(|s| s.template.spec.as_ref());
    let containers: Vec<&Container> =
        pod.map(|p| p.containers.iter().chain(p.init_containers.iter().flatten()).collect()).unwrap_or_default();
    let sidecar = SIDECAR_CONTAINERS
        .iter()
        .filter_map(|name| containers.iter().find(|c| c.name == *name))
        .find_map(|c| watch_of(c, &namespace));
    Controller {
        statefulset: sts.metadata.name.clone().unwrap_or_default(),
        release: sts.metadata.labels.as_ref().and_then(|l| l.get("app.kubernetes.io/instance")).cloned(),
        service_account: pod.and_then(|p| p.service_account_name.clone()).filter(|s| !s.is_empty()),
        sidecar,
    }
}

/// The controller among several: the one of `release` when given and present, else the first by name.
pub fn choose(mut controllers: Vec<Controller>, release: Option<&str>) -> Option<Controller> {
    controllers.sort_by(|a, b| a.statefulset.cmp(&b.statefulset));
    let by_release = release.and_then(|r| controllers.iter().position(|c| c.release.as_deref() == Some(r)));
    let index = by_release.unwrap_or(0);
    (index < controllers.len()).then(|| controllers.swap_remove(index))
}

/// Every chart controller StatefulSet in `namespace`. A cluster that serves no StatefulSets (404)
/// has none.
pub async fn discover_all(client: kube::Client, namespace: &str) -> Result<Vec<Controller>, kube::Error> {
    let api: Api<StatefulSet> = Api::namespaced(client, namespace);
    match api.list(&ListParams::default().labels(COMPONENT_SELECTOR)).await {
        Ok(list) => Ok(list.items.iter().map(controller_of).collect()),
        Err(e) if super::errors::is_not_found(&e) => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

/// The controller in `namespace` (see [`choose`] when there are several); `None` when the chart's
/// StatefulSet is not there.
pub async fn discover(client: kube::Client, namespace: &str) -> Result<Option<Controller>, kube::Error> {
    Ok(choose(discover_all(client, namespace).await?, None))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sts(containers_yaml: &str, service_account: &str) -> StatefulSet {
        let yaml = format!(
            r#"
metadata:
  name: ci-jenkins
  namespace: jenkins
  labels: {{"app.kubernetes.io/instance": ci, "app.kubernetes.io/component": jenkins-controller}}
spec:
  serviceName: ci-jenkins
  selector: {{matchLabels: {{"app.kubernetes.io/component": jenkins-controller}}}}
  template:
    spec:
      serviceAccountName: "{service_account}"
{containers_yaml}
"#
        );
        serde_yaml_ng::from_str(&yaml).expect("statefulset yaml")
    }

    const CHART: &str = r#"
      initContainers:
        - name: config-reload-init
          image: kiwigrid/k8s-sidecar:2.10.1
          env:
            - {name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
            - {name: LABEL, value: ci-jenkins-jenkins-config}
            - {name: FOLDER, value: /var/jenkins_home/casc_configs}
            - {name: NAMESPACE, value: jenkins}
            - {name: METHOD, value: LIST}
      containers:
        - name: jenkins
          image: jenkins/jenkins
        - name: config-reload
          image: kiwigrid/k8s-sidecar:2.10.1
          env:
            - {name: LABEL, value: ci-jenkins-jenkins-config}
            - {name: FOLDER, value: /var/jenkins_home/casc_configs}
            - {name: NAMESPACE, value: jenkins}
"#;

    #[test]
    fn the_charts_statefulset_gives_label_namespace_and_service_account() {
        let c = controller_of(&sts(CHART, "ci-jenkins"));
        assert_eq!(c.statefulset, "ci-jenkins");
        assert_eq!(c.release.as_deref(), Some("ci"));
        assert_eq!(c.service_account.as_deref(), Some("ci-jenkins"));
        let w = c.sidecar.clone().expect("sidecar");
        assert_eq!(w.container, "config-reload", "the watching container wins");
        assert_eq!(w.label, "ci-jenkins-jenkins-config");
        assert_eq!(w.label_value, None);
        assert_eq!(w.namespaces, WatchedNamespaces::Some(vec!["jenkins".into()]));
        assert_eq!(w.folder.as_deref(), Some("/var/jenkins_home/casc_configs"));
        assert_eq!(w.resource, "configmap");
        assert_eq!(c.refusal("jenkins"), None);
    }

    #[test]
    fn a_sidecar_that_cannot_load_our_configmap_is_explained() {
        let other_ns = CHART.replace("{name: NAMESPACE, value: jenkins}", "{name: NAMESPACE, value: \"tools, ops\"}");
        let why = controller_of(&sts(&other_ns, "")).refusal("jenkins").expect("refused");
        assert!(
            why.contains("StatefulSet jenkins/ci-jenkins, container config-reload") && why.contains("\"tools,ops\""),
            "{why}"
        );
        let listed = CHART.replace("{name: NAMESPACE, value: jenkins}", "{name: NAMESPACE, value: \"tools,jenkins\"}");
        assert_eq!(controller_of(&sts(&listed, "")).refusal("jenkins"), None);
        let all = CHART.replace("{name: NAMESPACE, value: jenkins}", "{name: NAMESPACE, value: ALL}");
        assert_eq!(controller_of(&sts(&all, "")).refusal("anywhere"), None);

        let valued = CHART.replace(
            "{name: NAMESPACE, value: jenkins}",
            "{name: NAMESPACE, value: jenkins}\n            - {name: LABEL_VALUE, value: enabled}",
        );
        let why = controller_of(&sts(&valued, "")).refusal("jenkins").expect("refused");
        assert!(why.contains("LABEL_VALUE=\"enabled\""), "{why}");

        let secret = CHART.replace(
            "{name: NAMESPACE, value: jenkins}",
            "{name: NAMESPACE, value: jenkins}\n            - {name: RESOURCE, value: secret}",
        );
        assert!(controller_of(&sts(&secret, "")).refusal("jenkins").expect("refused").contains("RESOURCE=secret"));

        let none =
            controller_of(&sts("      containers:\n        - name: jenkins\n          image: jenkins/jenkins\n", ""));
        assert_eq!((none.sidecar.clone(), none.service_account.clone()), (None, None));
        assert!(none.refusal("jenkins").expect("refused").contains("no config-reload sidecar"));
    }

    #[test]
    fn an_unset_namespace_means_the_pods_own() {
        let unset = CHART.replace("            - {name: NAMESPACE, value: jenkins}\n", "");
        let c = controller_of(&sts(&unset, ""));
        assert_eq!(c.sidecar.expect("sidecar").namespaces, WatchedNamespaces::Some(vec!["jenkins".into()]));
    }

    #[test]
    fn the_release_picks_among_several_controllers() {
        let mk = |name: &str, release: &str| Controller {
            statefulset: name.into(),
            release: Some(release.into()),
            service_account: None,
            sidecar: None,
        };
        let both = vec![mk("b-jenkins", "b"), mk("a-jenkins", "a")];
        assert_eq!(choose(both.clone(), Some("b")).map(|c| c.statefulset), Some("b-jenkins".into()));
        assert_eq!(choose(both.clone(), None).map(|c| c.statefulset), Some("a-jenkins".into()));
        assert_eq!(choose(both, Some("zzz")).map(|c| c.statefulset), Some("a-jenkins".into()));
        assert_eq!(choose(Vec::new(), None), None);
    }
}
