//! `jenkins_pod_template`: a pure, plan-time resource. It writes nothing anywhere; its computed
//! `definition` (the JCasC template object) feeds `jenkins_agent_cloud`, so a template change shows
//! as a diff of the cloud that uses it.

use super::values::{blocks, boolean, check_when_known, int, set, string, string_map, strings, strings_opt};
use crate::cty::{AttributePath, Value};
use crate::framework::{
    Attribute, Block, Diagnostics, NestedBlock, PlanChange, PlanContext, Resource, Schema, Validator,
};
use crate::jenkins::{self, PodTemplateSpec, Severity, ToolContainer, VolumeSource, VolumeSpec};
use async_trait::async_trait;

/// The resource type.
pub struct PodTemplate;

const COMPUTED: [&str; 2] = ["id", "definition"];

fn tool_container_block() -> Block {
    Block::new("A build-tool container rendered into the pod: one container per tool, kept alive so pipeline `container()` steps can exec into it. It is written into the pod YAML, not into the plugin's `containers` list, so it inherits as YAML does: with the default `yaml_merge_strategy` (`override`) a child's tool containers replace every parent's; with `merge` they combine by name (the plugin's container templates would combine by name either way).")
        .attr(Attribute::string("name").required().describe("Container name (a DNS label); pipelines select it with `container('<name>')`.")
            .validate(Validator::string("A DNS-1123 label.", "Invalid Container Name", jenkins::check_container_name)))
        .attr(Attribute::string("image").required().describe("Container image."))
        .attr(Attribute::string_list("command").default(Value::List(vec![Value::string("cat")]))
            .describe("Entrypoint. The default `[\"cat\"]` with `tty` keeps the container running until the build execs into it."))
        .attr(Attribute::string_list("args").optional().describe("Arguments to the command."))
        .attr(Attribute::bool("tty").default(Value::Bool(true)).describe("Allocate a TTY; with `cat` this keeps the container alive."))
        .attr(Attribute::string("working_dir").optional().describe("Working directory; unset takes the agent container's `workingDir` when it has one, else the image's own. The workspace is mounted here, or at `/home/jenkins/agent` when unset."))
        .attr(Attribute::string_map("env").optional().describe("Environment variables."))
        .attr(Attribute::string_map("requests").optional().describe("Resource requests, e.g. `{ cpu = \"500m\", memory = \"512Mi\" }`."))
        .attr(Attribute::string_map("limits").optional().describe("Resource limits."))
}

fn volume_block() -> Block {
    Block::new("A volume added to the pod and mounted into the named containers. Set exactly one of `host_path`, `config_map`, `secret`, `empty_dir`.")
        .attr(Attribute::string("name").required().describe("Pod volume name (a DNS label)."))
        .attr(Attribute::string("mount_path").required().describe("Where the volume is mounted."))
        .attr(Attribute::string("host_path").optional().describe("A path on the node."))
        .attr(Attribute::string("config_map").optional().describe("Name of a ConfigMap to mount."))
        .attr(Attribute::string("secret").optional().describe("Name of a Secret to mount."))
        .attr(Attribute::bool("empty_dir").optional().describe("`true` for a scratch directory that lives as long as the pod."))
        .attr(Attribute::bool("read_only").default(Value::Bool(false)).describe("Mount read-only."))
        .attr(Attribute::string("sub_path").optional().describe("Mount only this path of the volume. Note that `subPath` mounts never see later ConfigMap updates."))
        .attr(Attribute::string_list("containers").optional().describe("Containers to mount into; null or `[\"*\"]` means every container of this template's pod, the agent container included (as the plugin mounts its own template volumes), which gets a stub entry when the pod YAML does not define it. A parent's containers are not this template's: they get the mount only through their own template."))
}

fn schema() -> Schema {
    let block = Block::new(
        "A Kubernetes-plugin pod template, reviewed and linted at plan. It writes nothing: feed its `definition` to `jenkins_agent_cloud.templates`.

Lint warnings appear at plan, each at the attribute that causes it (the agent container is exempt from the per-container rules):

| Warning | When | At |
|---|---|---|
| Container Exits Immediately | a tool container (or a pod_yaml container running `cat`/a shell) has no TTY and no long-running command | `tool_container[i]` / `pod_yaml` |
| No Resource Requests Or Limits | a container sets neither | `tool_container[i]` / `pod_yaml` |
| Docker Socket Mounted | a hostPath volume ends in `docker.sock` | `volume[i].host_path` / `pod_yaml` |
| Containers Run As Different Users | containers resolve to different `runAsUser`s | `pod_yaml` |
| Exclusive Template Without Labels | `EXCLUSIVE` with no labels: nothing can select it | `labels` |
| Instance Cap Is Zero | `instance_cap = 0` | `instance_cap` |
| Parent Pod YAML Is Replaced | inherits, has its own YAML, `override` | `yaml_merge_strategy` |
| Pod Fields Dropped By Merge | `merge` over a parent, with spec fields the plugin's merge drops | `pod_yaml` |
| Service Account Set Twice | `service_account` and a different `serviceAccountName` | `service_account` |
| Volume Mounted Nowhere | a `volume` lists no container | `volume[i]` |
| Agents Run As The Controller's Service Account | the pod runs as the controller's account (chart default `jenkins`): builds get its Kubernetes rights and IRSA role. `jenkins_agent_cloud` checks the effective pod, inheritance included | `service_account` / `pod_yaml` |
| Container May Run As Root | a container has no securityContext and the pod sets neither `runAsNonRoot` nor a non-zero `runAsUser` | `tool_container[i]` / `pod_yaml` |
| Service Account Token Mounted | `automountServiceAccountToken` is not false and no container looks like a Kubernetes client (kubectl, helm, …) | `pod_yaml` |
| Mutable Image Tag | `latest`, no tag, or a tag without a version (digests are fine) on a container writing into the shared workspace | `tool_container[i].image` / `pod_yaml` |",
    )
    .attr(Attribute::string("id").optional().computed().use_state_for_unknown()
        .describe("Template id the plugin tracks agents by. Defaults to a UUIDv5 of `name`, never random, so a reload does not orphan running agents."))
    .attr(Attribute::string("name").required().requires_replace()
        .describe("Template name: the inheritance key and the agent pod-name prefix.")
        .validate(Validator::string("A DNS-1123 label of at most 57 characters.", "Invalid Template Name", jenkins::check_template_name)))
    .attr(Attribute::string_list("labels").optional()
        .describe("Jenkins labels a job selects this template by.")
        .validate(Validator::each_string("Each a single label atom without whitespace or label operators.", "Invalid Label", jenkins::check_label)))
    .attr(Attribute::string_list("inherit_from").optional().describe("Parent template names, in order; later parents win. They must be in the same cloud."))
    .attr(Attribute::string("pod_yaml").optional().describe("Raw Pod YAML the template starts from; `tool_container` and `volume` blocks are rendered into it. A pod that describes nothing (e.g. `spec:`) is left out of the definition, so a parent's YAML stays in force; the plugin itself would let such an empty YAML replace the parent's under `override`.")
        .validate(Validator::string("A YAML Pod.", "Invalid Pod YAML", jenkins::check_pod_yaml)))
    .attr(Attribute::string("yaml_merge_strategy").optional()
        .describe("How this template's YAML combines with its parents': `override` keeps only the last YAML, `merge` folds them (the plugin's own merge, not a strategic merge). Null behaves as `override`, unless a parent sets `inherit_yaml_merge_strategy`.")
        .validate(Validator::one_of(jenkins::YAML_MERGE_STRATEGIES)))
    .attr(Attribute::bool("inherit_yaml_merge_strategy").default(Value::Bool(false)).describe("Children without their own strategy use this template's."))
    .attr(Attribute::number("idle_minutes").default(Value::int(0))
        .describe("Minutes an idle agent is kept for reuse; 0 makes agents single-use. A child cannot reset a parent's value to 0.")
        .validate(Validator::int_at_least(0)))
    .attr(Attribute::number("instance_cap").optional().describe("Most concurrent agents of this template; null is unlimited.").validate(Validator::int_at_least(0)))
    .attr(Attribute::number("active_deadline_seconds").default(Value::int(0)).describe("Pod deadline; 0 is none.").validate(Validator::int_at_least(0)))
    .attr(Attribute::string("node_usage_mode").default(Value::string("EXCLUSIVE"))
        .describe("`EXCLUSIVE`: only jobs asking for a label use it; `NORMAL`: any job may.")
        .validate(Validator::one_of(jenkins::NODE_USAGE_MODES)))
    .attr(Attribute::string("pod_retention").default(Value::string("default")).describe("When to keep finished pods; `default` follows the cloud.")
        .validate(Validator::one_of(jenkins::POD_RETENTIONS)))
    .attr(Attribute::bool("show_raw_yaml").default(Value::Bool(true)).describe("Print the pod YAML in the build log."))
    .attr(Attribute::string("agent_container").default(Value::string("jnlp")).describe("Name of the container that runs the Jenkins agent.")
        .validate(Validator::string("A DNS-1123 label.", "Invalid Container Name", jenkins::check_container_name)))
    .attr(Attribute::string("namespace").optional().describe("Namespace for agent pods; unset uses the cloud's."))
    .attr(Attribute::string("service_account").optional().describe("Service account of agent pods (for IRSA, the annotated one)."))
    .attr(Attribute::string("definition").computed().describe("The template as canonical JSON: the plugin's template object with its pod (tool containers and volumes rendered in, normalised) as a nested object under `yaml`, its `containers` and `initContainers` keyed by name in the pod's order, strings `^${`-escaped. A cloud takes it through `templates = [jenkins_pod_template.<x>, …]`. A plan shows a change of it key by key; the cloud's file holds its JCasC spelling. The whole pod the plugin creates (after inheritance and the cloud's decorators) is `provider::jenkins::effective_pod(merge(jenkins_agent_cloud.<x>, { templates = [jenkins_pod_template.<x>, …] }), \"<name>\")`."))
    .block(NestedBlock::list("tool_container", tool_container_block()))
    .block(NestedBlock::list("volume", volume_block()));
    // Version 1: `definition` is canonical JSON, `pod_yaml_normalized` is gone (it is in there).
    // Version 2: the definition's containers are keyed by name.
    Schema::new(block).versioned(2)
}

/// True when every input of the rendering is known.
fn inputs_known(config: &Value) -> bool {
    // `id` is computed but also an input: a configured id must be known to render.
    super::values::known_except(config, &COMPUTED[1..])
}

fn volume_spec(v: &Value, index: usize, diags: &mut Diagnostics) -> Option<VolumeSpec> {
    let path = AttributePath::attr("volume").then_index(index as i64);
    let mut sources = Vec::new();
    if let Some(p) = string(v, "host_path") {
        sources.push(VolumeSource::HostPath(p));
    }
    if let Some(c) = string(v, "config_map") {
        sources.push(VolumeSource::ConfigMap(c));
    }
    if let Some(s) = string(v, "secret") {
        sources.push(VolumeSource::Secret(s));
    }
    if boolean(v, "empty_dir") == Some(true) {
        sources.push(VolumeSource::EmptyDir);
    }
    if sources.len() != 1 {
        diags.error_at(
            path,
            "Invalid Volume Source",
            format!(
                "Volume {:?} sets {} sources; set exactly one of `host_path`, `config_map`, `secret` or `empty_dir = true`.",
                string(v, "name").unwrap_or_default(),
                sources.len()
            ),
        );
        return None;
    }
    Some(VolumeSpec {
        name: string(v, "name").unwrap_or_default(),
        source: sources.remove(0),
        mount_path: string(v, "mount_path").unwrap_or_default(),
        read_only: boolean(v, "read_only").unwrap_or(false),
        sub_path: string(v, "sub_path"),
        containers: strings_opt(v, "containers"),
    })
}

/// Builds the pure model from a (defaulted, wholly known) object value.
fn spec(v: &Value, diags: &mut Diagnostics) -> Option<PodTemplateSpec> {
    let tool_containers = blocks(v, "tool_container")
        .iter()
        .map(|c| ToolContainer {
            name: string(c, "name").unwrap_or_default(),
            image: string(c, "image").unwrap_or_default(),
            command: strings_opt(c, "command").unwrap_or_else(|| vec!["cat".into()]),
            args: strings(c, "args"),
            tty: boolean(c, "tty").unwrap_or(true),
            working_dir: string(c, "working_dir"),
            env: string_map(c, "env"),
            requests: string_map(c, "requests"),
            limits: string_map(c, "limits"),
        })
        .collect();
    let mut volumes = Vec::new();
    for (i, b) in blocks(v, "volume").iter().enumerate() {
        volumes.extend(volume_spec(b, i, diags));
    }
    if diags.has_error() {
        return None;
    }
    Some(PodTemplateSpec {
        name: string(v, "name").unwrap_or_default(),
        id: string(v, "id"),
        labels: strings(v, "labels"),
        inherit_from: strings(v, "inherit_from"),
        pod_yaml: string(v, "pod_yaml"),
        tool_containers,
        volumes,
        yaml_merge_strategy: string(v, "yaml_merge_strategy").unwrap_or_default(),
        inherit_yaml_merge_strategy: boolean(v, "inherit_yaml_merge_strategy").unwrap_or(false),
        idle_minutes: int(v, "idle_minutes").unwrap_or(0),
        instance_cap: int(v, "instance_cap"),
        active_deadline_seconds: int(v, "active_deadline_seconds").unwrap_or(0),
        node_usage_mode: string(v, "node_usage_mode").unwrap_or_else(|| "EXCLUSIVE".into()),
        pod_retention: string(v, "pod_retention").unwrap_or_else(|| "default".into()),
        show_raw_yaml: boolean(v, "show_raw_yaml").unwrap_or(true),
        agent_container: string(v, "agent_container").unwrap_or_else(|| "jnlp".into()),
        namespace: string(v, "namespace"),
        service_account: string(v, "service_account"),
    })
}

/// Renders `object` (config merged with defaults) and fills the computed attributes of `target`.
/// Findings of `keep` severities become diagnostics.
fn render_into(object: &Value, target: &mut Value, diags: &mut Diagnostics, warnings: bool) -> bool {
    let mut local = Diagnostics::new();
    let Some(spec) = spec(object, &mut local) else {
        diags.extend(local);
        return false;
    };
    let (rendered, findings) = jenkins::render_pod_template(&spec);
    for f in findings {
        match f.severity {
            Severity::Error => diags.error_at(f.path, f.summary, f.detail),
            Severity::Warning if warnings => diags.warning_at(f.path, f.summary, f.detail),
            Severity::Warning => {}
        }
    }
    let Some(r) = rendered else { return false };
    set(target, "id", Value::String(r.id));
    set(target, "definition", Value::String(jenkins::definition::json_spelling(&r.definition)));
    true
}

fn upgrade_definition(state: &mut Value, name: &str) {
    if let Some(Value::String(d)) = state.get_attr(name) {
        let json = jenkins::definition::json_spelling(d);
        set(state, name, Value::String(json));
    }
}

/// The planned or configured object with the computed attributes taken out, for rendering.
fn rendering_input(v: &Value, config: &Value) -> Value {
    let mut input = v.clone();
    set(&mut input, "id", config.get_attr("id").cloned().unwrap_or(Value::Null));
    input
}

#[async_trait]
impl Resource for PodTemplate {
    fn type_name(&self) -> &'static str {
        "jenkins_pod_template"
    }

    fn schema(&self) -> Schema {
        schema()
    }

    /// Version 0 held `definition` in its JCasC (YAML) spelling and a copy of the pod in
    /// `pod_yaml_normalized` (dropped on decoding), version 1 its containers as a list; its
    /// definition in today's spelling.
    fn upgrade_state(&self, version: i64, mut state: Value) -> Value {
        if version < 2 {
            upgrade_definition(&mut state, "definition");
        }
        state
    }

    fn validate(&self, schema: &Schema, config: &Value, diags: &mut Diagnostics) {
        check_when_known(&schema.block, config, &COMPUTED[1..], diags, |object, local| {
            render_into(object, &mut object.clone(), local, false);
        });
    }

    async fn modify_plan(&self, ctx: PlanContext<'_>, change: &mut PlanChange, diags: &mut Diagnostics) {
        if !inputs_known(ctx.config) {
            return;
        }
        let input = rendering_input(&change.planned, ctx.config);
        render_into(&input, &mut change.planned, diags, true);
    }

    async fn create(&self, planned: &Value, config: &Value, diags: &mut Diagnostics) -> Option<Value> {
        let mut state = planned.clone();
        let input = rendering_input(planned, config);
        render_into(&input, &mut state, diags, false).then_some(state)
    }

    async fn read(&self, state: &Value, _diags: &mut Diagnostics) -> Option<Option<Value>> {
        // Nothing exists outside Terraform's state: what was rendered is what there is.
        Some(Some(state.clone()))
    }

    async fn update(&self, _prior: &Value, planned: &Value, config: &Value, diags: &mut Diagnostics) -> Option<Value> {
        self.create(planned, config, diags).await
    }

    async fn delete(&self, _prior: &Value, _diags: &mut Diagnostics) {}

    async fn import(&self, _id: &str, diags: &mut Diagnostics) -> Option<Value> {
        diags.error(
            "Nothing To Import",
            "jenkins_pod_template writes nothing outside Terraform: there is no remote object to import. Declare the template in configuration and apply; its definition is computed at plan.",
        );
        None
    }
}

#[cfg(test)]
mod tests;
