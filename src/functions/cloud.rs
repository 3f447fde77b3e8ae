//! `effective_pod(cloud, name)` and `cloud_casc(cloud)`: what `jenkins_agent_cloud` renders at
//! plan (one template's effective pod, the JCasC file), from an object written like its arguments.

use super::{as_resource_config, first_error};
use crate::cty::{Type, Value};
use crate::framework::{Diagnostics, Function, FunctionError, Parameter};
use crate::jenkins::cloud::RenderedCloud;
use crate::resources::agent_cloud::{self, AgentCloud};
use std::collections::BTreeMap;
use std::sync::Arc;

const CLOUD: &str = "The cloud: an object written like `jenkins_agent_cloud`'s arguments (`{ name, jenkins_url, templates = [jenkins_pod_template.x, …], … }`; a template may also be its `definition` string), or the resource with its templates, `merge(jenkins_agent_cloud.<x>, { templates = [jenkins_pod_template.x, …] })` (the resource's own template definitions are write-only).";

/// `templates` elements as the resource's attribute takes them: a `jenkins_pod_template` object
/// (Terraform's conversion would keep its `name` and `definition`) or a definition string becomes
/// `{ definition, name }`. An element without a definition (a `jenkins_agent_cloud` itself, whose
/// definitions are write-only) is an error saying what to pass.
fn templates_as_objects(arg: &Value) -> Result<Value, FunctionError> {
    let mut arg = match arg {
        Value::Dynamic(_, inner) => (**inner).clone(),
        other => other.clone(),
    };
    let elements = match arg.get_attr("templates") {
        Some(Value::List(items) | Value::Tuple(items)) => items.clone(),
        _ => return Ok(arg),
    };
    let mut objects = Vec::new();
    for (i, t) in elements.into_iter().enumerate() {
        let (definition, name) = match &t {
            Value::String(_) => (t.clone(), Value::Null),
            _ => (
                t.get_attr("definition").cloned().unwrap_or(Value::Null),
                t.get_attr("name").cloned().unwrap_or(Value::Null),
            ),
        };
        if definition.is_null() {
            return Err(FunctionError::at(
                0,
                format!(
                    "`templates[{i}]` has no definition. A `jenkins_agent_cloud`'s template definitions are write-only, so pass the templates with it: `merge(jenkins_agent_cloud.<x>, {{ templates = [jenkins_pod_template.<a>, …] }})`."
                ),
            ));
        }
        objects
            .push(Value::Object(BTreeMap::from([("definition".to_string(), definition), ("name".to_string(), name)])));
    }
    if let Value::Object(m) | Value::Map(m) = &mut arg {
        m.insert("templates".to_string(), Value::Tuple(objects));
    }
    Ok(arg)
}

/// The cloud rendered as the resource renders it at plan.
fn render(arg: &Value) -> Result<RenderedCloud, FunctionError> {
    let resource = AgentCloud { context: Arc::default() };
    let object = as_resource_config(&resource, &templates_as_objects(arg)?, 0)?;
    let mut diags = Diagnostics::new();
    let rendered = agent_cloud::render(&object, &mut diags);
    first_error(&diags, 0)?;
    rendered.ok_or_else(|| FunctionError::at(0, "The cloud could not be rendered."))
}

pub struct EffectivePod;

impl Function for EffectivePod {
    fn name(&self) -> &'static str {
        "effective_pod"
    }

    fn summary(&self) -> &'static str {
        "The pod the Kubernetes plugin creates for one template of a cloud."
    }

    fn description(&self) -> &'static str {
        "Returns the effective pod (YAML) of template `name` in a cloud (an object written like \
`jenkins_agent_cloud`'s arguments, or `merge(jenkins_agent_cloud.<x>, { templates = [...] })`): after inheritance (`inherit_from`), the plugin's YAML merge and its decorators (agent \
container, connection environment, workspace volume), the pod the cloud's preflight dry-runs; values only known \
at run time show as `(runtime)`. The cloud's checks are this function's errors. Use it in an output (wrapped in \
`yamldecode` a plan shows only what changed in it) or `terraform console` to see a template's whole pod without \
it sitting in every plan."
    }

    fn parameters(&self) -> Vec<Parameter> {
        vec![
            Parameter::new("cloud", Type::Dynamic, CLOUD),
            Parameter::new("name", Type::String, "The template's `name`."),
        ]
    }

    fn return_type(&self) -> Type {
        Type::String
    }

    fn call(&self, args: &[Value]) -> Result<Value, FunctionError> {
        let rendered = render(&args[0])?;
        let Value::String(name) = &args[1] else { return Err(FunctionError::at(1, "A template name is required.")) };
        let pods = rendered.effective_pods;
        match pods.get(name) {
            Some(pod) => Ok(Value::String(pod.clone())),
            None => {
                let known: Vec<&str> = pods.keys().map(String::as_str).collect();
                Err(FunctionError::at(
                    1,
                    format!("The cloud has no template {name:?}; its templates are: {}.", known.join(", ")),
                ))
            }
        }
    }
}

pub struct CloudCasc;

impl Function for CloudCasc {
    fn name(&self) -> &'static str {
        "cloud_casc"
    }

    fn summary(&self) -> &'static str {
        "The JCasC file jenkins_agent_cloud would put in its ConfigMap."
    }

    fn description(&self) -> &'static str {
        "Returns the configuration-as-code file `jenkins_agent_cloud` writes (its `casc_sha256` is this text's hash) \
for a cloud (an object written like that resource's arguments, or `merge(jenkins_agent_cloud.<x>, { templates = \
[...] })`): `jenkins.clouds` with one \
`kubernetes` cloud and its templates, as the chart's config-reload sidecar loads it. The cloud's checks are this \
function's errors; nothing is created."
    }

    fn parameters(&self) -> Vec<Parameter> {
        vec![Parameter::new("cloud", Type::Dynamic, CLOUD)]
    }

    fn return_type(&self) -> Type {
        Type::String
    }

    fn call(&self, args: &[Value]) -> Result<Value, FunctionError> {
        Ok(Value::String(render(&args[0])?.casc_yaml))
    }
}
