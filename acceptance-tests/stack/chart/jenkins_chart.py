"""The objects `helm install <release> jenkins/jenkins` (chart 5.9.53, default values) creates in a
namespace, rendered in Python for the local stack.

Derived from jenkinsci/helm-charts at 22055414 (chart 5.9.53, app 2.568.2), `charts/jenkins/`:
`templates/_helpers.tpl` (`jenkins.fullname`, `jenkins.labels`, `jenkins.casc.defaults`,
`jenkins.casc.podTemplate`, `jenkins.serviceAccountName`, `jenkins.configReloadContainer`),
`templates/jenkins-controller-statefulset.yaml`, `templates/jcasc-config.yaml`, `templates/config.yaml`
(plugins.txt only), `templates/secret.yaml`, `templates/rbac.yaml`, `templates/service-account.yaml`,
`templates/jenkins-controller-svc.yaml`, `templates/jenkins-agent-svc.yaml` and `values.yaml`.
The StatefulSet keeps what the tests and the provider look at (service account, the two reload
containers and their env, the controller's casc env and JVM token option, volumes by name); probes,
resources and security contexts of the real template are left out.
"""

import hashlib
import secrets

import yaml

CHART_NAME = "jenkins"
CHART_VERSION = "5.9.53"
APP_VERSION = "2.568.2"
SIDECAR_IMAGE = "docker.io/kiwigrid/k8s-sidecar:2.10.1"
CASC_FOLDER = "/var/jenkins_home/casc_configs"
HTTP_PORT = 8080
AGENT_PORT = 50000
HEALTH_PORT = 8060
INSTALL_PLUGINS = [
    "kubernetes:4540.v612369217f87",
    "workflow-aggregator:608.v67378e9d3db_1",
    "git:5.10.1",
    "configuration-as-code:2115.vf6de120eef70",
]
# values.yaml `agent`, the defaults the chart's pod template is rendered from (and hashed for its id).
AGENT_VALUES = {
    "TTYEnabled": False, "addMasterProxyEnvVars": False, "additionalContainers": [], "alwaysPullImage": False,
    "annotations": {}, "args": "${computer.jnlpmac} ${computer.name}", "command": None, "componentName": "jenkins-agent",
    "connectTimeout": 100, "containerCap": 10, "customJenkinsLabels": [], "defaultsProviderTemplate": "",
    "directConnection": False, "disableDefaultAgent": False, "enabled": True, "envVars": [],
    "garbageCollection": {"enabled": False, "namespaces": "", "timeout": 300}, "hostNetworking": False, "idleMinutes": 0,
    "image": {"registry": "", "repository": "jenkins/inbound-agent", "tag": "3385.vf1123fb_515da_-1"},
    "imagePullSecretName": None, "inheritYamlMergeStrategy": False, "instanceCap": 2147483647, "jenkinsTunnel": None,
    "jenkinsUrl": None, "jnlpregistry": None, "kubernetesConnectTimeout": 5, "kubernetesReadTimeout": 15,
    "livenessProbe": {}, "maxRequestsPerHostStr": "32", "namespace": None, "nodeSelector": {}, "nodeUsageMode": "NORMAL",
    "podLabels": {}, "podName": "default", "podRetention": "Never", "podTemplates": {}, "privileged": False,
    "resources": {"limits": {"cpu": "512m", "memory": "512Mi"}, "requests": {"cpu": "512m", "memory": "512Mi"}},
    "restrictedPssSecurityContext": False, "retentionTimeout": 5, "runAsGroup": None, "runAsUser": None,
    "secretEnvVars": [], "serviceAccount": None, "showRawYaml": True, "sideContainerName": "jnlp",
    "skipTlsVerify": False, "usageRestricted": False, "useDefaultServiceAccount": True, "volumes": [],
    "waitForPodSec": 600, "websocket": False, "workingDir": "/home/jenkins/agent", "workspaceVolume": {},
    "yamlMergeStrategy": "override", "yamlTemplate": "",
}


def fullname(release: str, override: str | None = None) -> str:
    """`jenkins.fullname`: the override, else the release name if it contains `jenkins`, else
    `<release>-jenkins`; truncated to 63 characters without a trailing `-`."""
    if override:
        return override[:63].rstrip("-")
    name = release if CHART_NAME in release else f"{release}-{CHART_NAME}"
    return name[:63].rstrip("-")


def labels(release: str) -> dict[str, str]:
    """`jenkins.labels` with default values (renderHelmLabels: true)."""
    return {
        "app.kubernetes.io/name": CHART_NAME,
        "app.kubernetes.io/managed-by": "Helm",
        "app.kubernetes.io/instance": release,
        "app.kubernetes.io/component": "jenkins-controller",
        "helm.sh/chart": f"{CHART_NAME}-{CHART_VERSION}",
    }


def default_casc(release: str, namespace: str, full: str, agent_namespace: str) -> str:
    """`jenkins.casc.defaults` as the template renders it with default values (text, quoting kept)."""
    svc = f"{full}.{namespace}.svc.cluster.local"
    template_id = hashlib.sha256(yaml.safe_dump(AGENT_VALUES, sort_keys=True).encode()).hexdigest()
    return f"""jenkins:
  authorizationStrategy:
    loggedInUsersCanDoAnything:
      allowAnonymousRead: false
  securityRealm:
    local:
      allowsSignup: false
      enableCaptcha: false
      users:
      - id: "${{chart-admin-username}}"
        name: "Jenkins Admin"
        password: "${{chart-admin-password}}"
  disableRememberMe: false
  mode: NORMAL
  numExecutors: 0
  labelString: ""
  projectNamingStrategy: "standard"
  markupFormatter:
    plainText
  clouds:
  - kubernetes:
      containerCapStr: "10"
      defaultsProviderTemplate: ""
      connectTimeout: "5"
      readTimeout: "15"
      jenkinsUrl: "http://{svc}:{HTTP_PORT}"
      jenkinsTunnel: "{full}-agent.{namespace}.svc.cluster.local:{AGENT_PORT}"
      skipTlsVerify: false
      usageRestricted: false
      maxRequestsPerHostStr: "32"
      retentionTimeout: "5"
      waitForPodSec: "600"
      name: "kubernetes"
      namespace: "{agent_namespace}"
      restrictedPssSecurityContext: false
      serverUrl: "https://kubernetes.default"
      addMasterProxyEnvVars: false
      credentialsId: ""
      podLabels:
      - key: "jenkins/{release}-jenkins-agent"
        value: "true"
      templates:
        - name: "default"
          namespace: "{agent_namespace}"
          id: {template_id}
          containers:
          - name: "jnlp"
            alwaysPullImage: false
            args: "^${{computer.jnlpmac}} ^${{computer.name}}"
            envVars:
              - envVar:
                  key: "JENKINS_URL"
                  value: "http://{svc}:{HTTP_PORT}/"
            image: "jenkins/inbound-agent:3385.vf1123fb_515da_-1"
            privileged: "false"
            resourceLimitCpu: 512m
            resourceLimitMemory: 512Mi
            resourceRequestCpu: 512m
            resourceRequestMemory: 512Mi
            ttyEnabled: false
            workingDir: /home/jenkins/agent
          idleMinutes: 0
          instanceCap: 2147483647
          label: "{release}-jenkins-agent "
          nodeUsageMode: "NORMAL"
          podRetention: Never
          showRawYaml: true
          serviceAccount: "default"
          slaveConnectTimeoutStr: "100"
          yamlMergeStrategy: override
          inheritYamlMergeStrategy: false
  slaveAgentPort: {AGENT_PORT}
security:
  apiToken:
    creationOfLegacyTokenEnabled: false
    tokenGenerationOnCreationEnabled: false
    usageStatisticsEnabled: true
unclassified:
  location:
    url: http://{full}:{HTTP_PORT}"""


def reload_container(name: str, kind: str, full: str, search_namespace: str, sleep_time: int | None = None) -> dict:
    """`jenkins.configReloadContainer` for the init (`METHOD=LIST`) or the sidecar variant (watch, or
    `METHOD=SLEEP` when `configAutoReload.sleepTime` is set)."""
    env = [
        {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        {"name": "LABEL", "value": f"{full}-jenkins-config"},
        {"name": "HEALTH_PORT", "value": str(HEALTH_PORT)},
        {"name": "FOLDER", "value": CASC_FOLDER},
        {"name": "NAMESPACE", "value": search_namespace},
    ]
    if kind == "init":
        env.append({"name": "METHOD", "value": "LIST"})
    elif sleep_time:
        env += [{"name": "METHOD", "value": "SLEEP"}, {"name": "SLEEP_TIME", "value": str(sleep_time)}]
    if kind != "init":
        env += [
            {
                "name": "REQ_URL",
                "value": f"http://localhost:{HTTP_PORT}/reload-configuration-as-code/?casc-reload-token=$(POD_NAME)",
            },
            {"name": "REQ_METHOD", "value": "POST"},
            {"name": "REQ_RETRY_CONNECT", "value": "10"},
        ]
    return {
        "name": name,
        "image": SIDECAR_IMAGE,
        "imagePullPolicy": "IfNotPresent",
        "securityContext": {"readOnlyRootFilesystem": True, "allowPrivilegeEscalation": False},
        "env": env,
        "resources": {},
        "volumeMounts": [
            {"name": "sc-config-volume", "mountPath": CASC_FOLDER},
            {"name": "jenkins-home", "mountPath": "/var/jenkins_home"},
            {"name": "tmp-volume", "mountPath": "/tmp"},
        ],
    }


def render(release: str, namespace: str, *, search_namespace: str | None = None, agent_namespace: str | None = None,
           fullname_override: str | None = None, admin_password: str | None = None,
           sleep_time: int | None = None) -> list[dict]:
    """The chart's objects for `release` in `namespace`. `search_namespace` is
    `controller.sidecars.configAutoReload.searchNamespace` (the sidecar's NAMESPACE), `agent_namespace`
    is `agent.namespace`; `admin_password` stands for the chart's random one; `sleep_time` is
    `configAutoReload.sleepTime` (the sidecar re-lists every so many seconds instead of watching)."""
    full = fullname(release, fullname_override)
    lab = labels(release)
    agent_ns = agent_namespace or namespace
    selector = {"app.kubernetes.io/component": "jenkins-controller", "app.kubernetes.io/instance": release}
    meta = lambda name, ns=namespace, extra=None: {  # noqa: E731
        "name": name, "namespace": ns, "labels": {**lab, **(extra or {})}
    }
    password = admin_password or secrets.token_urlsafe(16)
    plugins = "\n".join(INSTALL_PLUGINS)
    casc_text = default_casc(release, namespace, full, agent_ns)

    objects = [
        {"apiVersion": "v1", "kind": "ServiceAccount", "automountServiceAccountToken": True, "metadata": meta(full)},
        {"apiVersion": "v1", "kind": "Secret", "type": "Opaque", "metadata": meta(full),
         "stringData": {"jenkins-admin-password": password, "jenkins-admin-user": "admin"}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta(full), "data": {"plugins.txt": plugins}},
        {"apiVersion": "v1", "kind": "ConfigMap",
         "metadata": meta(f"{full}-jenkins-jcasc-config", extra={f"{full}-jenkins-config": "true"}),
         "data": {"jcasc-default-config.yaml": casc_text}},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": meta(f"{full}-schedule-agents", agent_ns),
         "rules": [
             {"apiGroups": [""], "resources": ["pods", "pods/exec", "pods/log", "persistentvolumeclaims", "events"],
              "verbs": ["get", "list", "watch"]},
             {"apiGroups": [""], "resources": ["pods", "pods/exec", "persistentvolumeclaims"],
              "verbs": ["create", "delete", "deletecollection", "patch", "update"]},
         ]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
         "metadata": meta(f"{full}-schedule-agents", agent_ns),
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": f"{full}-schedule-agents"},
         "subjects": [{"kind": "ServiceAccount", "name": full, "namespace": namespace}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": meta(f"{full}-casc-reload"),
         "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "watch", "list"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": meta(f"{full}-watch-configmaps"),
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": f"{full}-casc-reload"},
         "subjects": [{"kind": "ServiceAccount", "name": full, "namespace": namespace}]},
        {"apiVersion": "v1", "kind": "Service", "metadata": meta(full),
         "spec": {"ports": [{"port": HTTP_PORT, "name": "http", "targetPort": HTTP_PORT}], "selector": selector,
                  "type": "ClusterIP"}},
        {"apiVersion": "v1", "kind": "Service", "metadata": meta(f"{full}-agent"),
         "spec": {"ports": [{"port": AGENT_PORT, "targetPort": AGENT_PORT, "name": "agent-listener"}],
                  "selector": selector, "type": "ClusterIP"}},
        statefulset(release, namespace, full, lab, selector, search_namespace or namespace, sleep_time),
    ]
    return objects


def statefulset(release, namespace, full, lab, selector, search_namespace, sleep_time=None) -> dict:
    """`jenkins-controller-statefulset.yaml` with default values (the parts named in the module doc)."""
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": full, "namespace": namespace, "labels": lab},
        "spec": {
            "serviceName": full,
            "replicas": 1,
            "selector": {"matchLabels": selector},
            "template": {
                "metadata": {"labels": lab},
                "spec": {
                    "serviceAccountName": full,
                    "automountServiceAccountToken": True,
                    "enableServiceLinks": False,
                    "initContainers": [
                        reload_container("config-reload-init", "init", full, search_namespace),
                        {"name": "init", "image": f"docker.io/jenkins/jenkins:{APP_VERSION}-jdk21",
                         "command": ["sh", "/var/jenkins_config/apply_config.sh"]},
                    ],
                    "containers": [
                        {
                            "name": "jenkins",
                            "image": f"docker.io/jenkins/jenkins:{APP_VERSION}-jdk21",
                            "args": [f"--httpPort={HTTP_PORT}"],
                            "env": [
                                {"name": "SECRETS", "value": "/run/secrets/additional"},
                                {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                                {"name": "JAVA_OPTS", "value": "-Dcasc.reload.token=$(POD_NAME)"},
                                {"name": "JENKINS_OPTS", "value": "--webroot=/var/jenkins_cache/war"},
                                {"name": "JENKINS_SLAVE_AGENT_PORT", "value": str(AGENT_PORT)},
                                {"name": "CASC_JENKINS_CONFIG", "value": CASC_FOLDER},
                            ],
                            "ports": [
                                {"containerPort": HTTP_PORT, "name": "http"},
                                {"containerPort": AGENT_PORT, "name": "agent-listener"},
                            ],
                            "volumeMounts": [
                                {"mountPath": "/var/jenkins_home", "name": "jenkins-home"},
                                {"mountPath": "/var/jenkins_config", "name": "jenkins-config", "readOnly": True},
                                {"name": "sc-config-volume", "mountPath": CASC_FOLDER},
                                {"name": "tmp-volume", "mountPath": "/tmp"},
                            ],
                        },
                        reload_container("config-reload", "sidecar", full, search_namespace, sleep_time),
                    ],
                    "volumes": [
                        {"name": "jenkins-config", "configMap": {"name": full}},
                        {"name": "jenkins-home", "emptyDir": {}},
                        {"name": "sc-config-volume", "emptyDir": {}},
                        {"name": "tmp-volume", "emptyDir": {}},
                    ],
                },
            },
        },
    }


def controller_pod(sts: dict) -> dict:
    """Pod `<name>-0` as the StatefulSet controller would create it from the template."""
    meta = sts["metadata"]
    template = sts["spec"]["template"]
    name = f"{meta['name']}-0"
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": meta["namespace"],
                     "labels": {**template["metadata"]["labels"], "statefulset.kubernetes.io/pod-name": name}},
        "spec": {**template["spec"], "hostname": name, "subdomain": sts["spec"]["serviceName"]},
    }


def container_env(sts: dict, container: str) -> dict[str, str | None]:
    """A reload container's literal env (fieldRef values as None), from init or regular containers."""
    spec = sts["spec"]["template"]["spec"]
    for c in spec.get("initContainers", []) + spec.get("containers", []):
        if c["name"] == container:
            return {e["name"]: e.get("value") for e in c.get("env", [])}
    raise KeyError(f"no container {container} in StatefulSet {sts['metadata']['name']}")


def to_yaml(objects: list[dict]) -> str:
    return yaml.safe_dump_all(objects, sort_keys=False)


if __name__ == "__main__":
    import argparse

    p = argparse.ArgumentParser(description="print the chart's objects as YAML")
    p.add_argument("--release", required=True)
    p.add_argument("--namespace", required=True)
    p.add_argument("--search-namespace")
    a = p.parse_args()
    print(to_yaml(render(a.release, a.namespace, search_namespace=a.search_namespace, admin_password="x")), end="")
