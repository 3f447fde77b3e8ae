//! Provider functions (`provider::jenkins::<name>`): what a resource would write, computed from
//! the same inputs by the same pure code, without creating anything. Module authors render a
//! trust, a profile file or an effective pod in `locals`, outputs and checks.

mod aws_config;
mod cloud;
mod irsa_trust;

use crate::cty::{AttributePath, Value};
use crate::framework::{
    Diagnostics, Function, FunctionError, Resource, Severity, conform, validate_block, with_defaults,
};
use std::sync::Arc;

/// Every function this provider serves, in the order the docs list them.
pub fn all() -> Vec<Arc<dyn Function>> {
    vec![
        Arc::new(irsa_trust::IrsaTrust),
        Arc::new(aws_config::AwsConfig),
        Arc::new(cloud::EffectivePod),
        Arc::new(cloud::CloudCasc),
    ]
}

/// Argument `index`, an object written like the resource's configuration, as the resource would
/// see it: fitted to its schema, validated by the framework and the resource's own checks (so a
/// function refuses what a plan would), defaults filled in.
fn as_resource_config(r: &dyn Resource, arg: &Value, index: usize) -> Result<Value, FunctionError> {
    let schema = r.schema();
    let v = conform(arg, &schema.implied_type()).map_err(|e| FunctionError::at(index, e))?;
    let mut diags = Diagnostics::new();
    validate_block(&schema.block, &v, &AttributePath::root(), &mut diags);
    if !diags.has_error() {
        r.validate(&schema, &v, &mut diags);
    }
    first_error(&diags, index)?;
    Ok(with_defaults(&schema.block, &v))
}

/// The first error diagnostic as a function error at `index`: summary, detail and the attribute.
fn first_error(diags: &Diagnostics, index: usize) -> Result<(), FunctionError> {
    match diags.iter().find(|d| d.severity == Severity::Error) {
        None => Ok(()),
        Some(d) => {
            let at = d.path.as_ref().filter(|p| !p.is_root()).map(|p| format!(" (at `{p}`)")).unwrap_or_default();
            Err(FunctionError::at(index, format!("{}{at}: {}", d.summary, d.detail)))
        }
    }
}

#[cfg(test)]
mod tests;
