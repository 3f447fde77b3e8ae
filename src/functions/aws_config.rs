//! `aws_config(chain)`: the shared-config file `jenkins_cross_account_chain` puts in its
//! ConfigMap, from an object written like the resource's arguments; its checks are the
//! function's errors.

use super::{as_resource_config, first_error};
use crate::cty::{Type, Value};
use crate::framework::{Diagnostics, Function, FunctionError, Parameter};
use crate::resources::cross_account_chain::{self, CrossAccountChain};
use crate::resources::values::string as rendered;
use std::sync::Arc;

pub struct AwsConfig;

impl Function for AwsConfig {
    fn name(&self) -> &'static str {
        "aws_config"
    }

    fn summary(&self) -> &'static str {
        "The chained AWS shared-config file jenkins_cross_account_chain would write."
    }

    fn description(&self) -> &'static str {
        "Returns the AWS shared-config file (`config_ini` of `jenkins_cross_account_chain`) for an object written like \
that resource's arguments: `base` and `hop` (a list), each with the attributes of its block, and optionally \
`mount_path`, `aws_profile`. Every check the resource makes at plan (profile names, role ARNs, source profiles, \
cycles, session names, external ids) is an error of this function naming the attribute. Nothing is created and no \
AWS call is made; `manage_trust` and `grant_source_permission` are accepted and ignored."
    }

    fn parameters(&self) -> Vec<Parameter> {
        vec![Parameter::new(
            "chain",
            Type::Dynamic,
            "`{ base = { name, role_arn, … }, hop = [{ name, role_arn, source_profile, … }] }`, as in the resource.",
        )]
    }

    fn return_type(&self) -> Type {
        Type::String
    }

    fn call(&self, args: &[Value]) -> Result<Value, FunctionError> {
        let resource = CrossAccountChain { context: Arc::default() };
        let object = as_resource_config(&resource, &args[0], 0)?;
        let mut diags = Diagnostics::new();
        let chain = cross_account_chain::check(&object, &mut diags, false);
        first_error(&diags, 0)?;
        let chain = chain.ok_or_else(|| FunctionError::at(0, "A chain needs a `base` profile."))?;
        let mut target = object.clone();
        cross_account_chain::render_into(&object, &chain, &mut target);
        Ok(Value::String(rendered(&target, "config_ini").unwrap_or_default()))
    }
}
