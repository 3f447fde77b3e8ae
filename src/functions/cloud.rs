//! `effective_pod(cloud, name)` and `cloud_casc(cloud)`: what `jenkins_agent_cloud` renders at
//! plan (one template's effective pod, the JCasC file), from an object written like its arguments.

use super::{as_resource_config, first_error};
use crate::cty::{Type, Value};
use crate::framework::{Diagnostics, Function, FunctionError, Parameter};
use crate::resources::agent_cloud::{self, AgentCloud};
use crate::resources::values::string as rendered;
use std::sync::Arc;

const CLOUD: &str =
    "`{ name, jenkins_url, templates = [jenkins_pod_template.x.definition, …], … }`, as in `jenkins_agent_cloud`.";

/// The cloud rendered as the resource renders it at plan: its computed attributes.
fn render(arg: &Value) -> Result<Value, FunctionError> {
    let resource = AgentCloud { context: Arc::default() };
    let object = as_resource_config(&resource, arg, 0)?;
    let mut diags = Diagnostics::new();
    let mut target = object.clone();
    let ok = agent_cloud::render_computed(&object, &mut target, &mut diags);
    first_error(&diags, 0)?;
    if !ok {
        return Err(FunctionError::at(0, "The cloud could not be rendered."));
    }
    Ok(target)
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
        "Returns the effective pod (YAML) of template `name` in a cloud written like `jenkins_agent_cloud`'s arguments: \
after inheritance (`inherit_from`), the plugin's YAML merge and its decorators (agent container, connection \
environment, workspace volume), as the cloud's `effective_pods` shows it; values only known at run time show as \
`(runtime)`. The cloud's checks are this function's errors. Use it in an output to see a template's whole pod \
without it sitting in every plan."
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
        let target = render(&args[0])?;
        let Value::String(name) = &args[1] else { return Err(FunctionError::at(1, "A template name is required.")) };
        let pods = match target.get_attr("effective_pods") {
            Some(Value::Map(m)) => m.clone(),
            _ => Default::default(),
        };
        match pods.get(name) {
            Some(Value::String(pod)) => Ok(Value::String(pod.clone())),
            _ => {
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
        "Returns the configuration-as-code file (`casc_yaml` of `jenkins_agent_cloud`) for a cloud written like that \
resource's arguments: `jenkins.clouds` with one `kubernetes` cloud and its templates, as the chart's config-reload \
sidecar loads it. The cloud's checks are this function's errors; nothing is created."
    }

    fn parameters(&self) -> Vec<Parameter> {
        vec![Parameter::new("cloud", Type::Dynamic, CLOUD)]
    }

    fn return_type(&self) -> Type {
        Type::String
    }

    fn call(&self, args: &[Value]) -> Result<Value, FunctionError> {
        let target = render(&args[0])?;
        Ok(Value::String(rendered(&target, "casc_yaml").unwrap_or_default()))
    }
}
