//! Pure Jenkins semantics for the Kubernetes plugin: the pod-template model, Pod YAML
//! normalisation, JCasC rendering with `${` escaping, stable template ids, validation and lint.
//!
//! Architecture invariant: this module does no I/O, holds no async code and never fails by
//! panicking on user input; rendering returns `(Option<T>, Vec<Finding>)` so every problem is
//! reported with the attribute path it came from. It knows nothing of Terraform values or the
//! framework beyond `cty::AttributePath`.
//!
//! Facts come from the plugin's behaviour as described in `shared/reference/jenkins-side.md`
//! (§1 JCasC shape, §2 inheritance and YAML merge).

mod builder;
pub mod casc_merge;
pub mod cloud;
pub mod cloud_parse;
pub mod definition;
mod escape;
mod fields;
mod inherit;
mod lint;
mod merge;
mod names;
mod pod;
pub mod references;
mod template;
pub mod trial_pod;
mod yaml;

#[cfg(test)]
mod conformance_tests;
#[cfg(test)]
mod lint_tests;
#[cfg(test)]
mod rules_tests;
#[cfg(test)]
mod tests;

pub use builder::{
    DEFAULT_AGENT_REQUESTS, DEFAULT_WORKING_DIR, KUBERNETES_PLUGIN, PluginVersion, PodContext, effective_pod,
    sanitize_label,
};
pub use escape::{escape_casc, unescape_casc};
pub use fields::PodFields;
pub use inherit::{RUNTIME, TemplateDef, combine_templates, parse_definition, unwrap_template};
pub use lint::{DEFAULT_CONTROLLER_SERVICE_ACCOUNT, LintContext};
pub use merge::combine_pods;
pub use names::{MAX_TEMPLATE_NAME, check_container_name, check_label, check_template_name, check_volume_name};
pub use pod::{canonical_pod, parse_pod};
pub use template::{
    PodTemplateSpec, Rendered, TEMPLATE_ID_NAMESPACE, ToolContainer, VolumeSource, VolumeSpec, render_pod_template,
    render_pod_template_with, template_id,
};

use crate::cty::AttributePath;

/// `yamlMergeStrategy` values as JCasC spells them (the symbols of the plugin's strategies).
pub const YAML_MERGE_STRATEGIES: &[&str] = &["override", "merge"];

/// `nodeUsageMode` values: Jenkins' `Node.Mode` constants, read by JCasC with `Enum.valueOf`.
pub const NODE_USAGE_MODES: &[&str] = &["NORMAL", "EXCLUSIVE"];

/// Template `pod_retention` values in Terraform spelling; `default` follows the cloud. Rendered to
/// the plugin's symbols (`on_failure` → `onFailure`) by [`pod_retention_symbol`].
pub const POD_RETENTIONS: &[&str] = &["default", "never", "on_failure", "always", "evicted"];

/// The JCasC symbol of a Terraform `pod_retention` value, or `None` when unknown.
pub fn pod_retention_symbol(value: &str) -> Option<&'static str> {
    Some(match value {
        "default" => "default",
        "never" => "never",
        "on_failure" => "onFailure",
        "always" => "always",
        "evicted" => "evicted",
        _ => return None,
    })
}

/// Checks pod YAML: it must parse and be a Pod (kind `Pod` or absent, apiVersion `v1` or absent).
pub fn check_pod_yaml(text: &str) -> Result<(), String> {
    parse_pod(text).map(|_| ())
}

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// The template cannot be rendered or would not work.
    Error,
    /// It renders, but probably does not do what was meant.
    Warning,
}

/// One problem found while rendering or linting, at the attribute it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Error or warning.
    pub severity: Severity,
    /// Where, e.g. `tool_container[2].name`.
    pub path: AttributePath,
    /// A short Title Case summary.
    pub summary: String,
    /// What is wrong and what to do.
    pub detail: String,
}

/// Collects findings in order.
#[derive(Debug, Default)]
pub(crate) struct Findings(pub(crate) Vec<Finding>);

impl Findings {
    pub(crate) fn error(&mut self, path: AttributePath, summary: &str, detail: impl Into<String>) {
        self.push(Severity::Error, path, summary, detail.into());
    }

    pub(crate) fn warning(&mut self, path: AttributePath, summary: &str, detail: impl Into<String>) {
        self.push(Severity::Warning, path, summary, detail.into());
    }

    fn push(&mut self, severity: Severity, path: AttributePath, summary: &str, detail: String) {
        self.0.push(Finding { severity, path, summary: summary.to_owned(), detail });
    }

    pub(crate) fn has_error(&self) -> bool {
        self.0.iter().any(|f| f.severity == Severity::Error)
    }
}
