//! Test helpers: drive a resource through plan and apply the way Terraform core does, with core's
//! consistency checks asserted at every step, so a consistency bug fails a unit test.

use super::{Diagnostics, Nesting, PlanOutcome, Resource, Schema, check_apply_consistent, check_plan_valid};
use super::{plan_resource_change, proposed_new};
use crate::cty::{Number, Value};
use std::collections::BTreeMap;

/// A configuration value from JSON, shaped by the schema: attributes left out are null, nested blocks
/// left out are empty. Strings starting `(unknown)` become unknown values.
pub fn config_from_json(schema: &Schema, json: serde_json::Value) -> Value {
    block_from_json(&schema.block, &json)
}

fn block_from_json(block: &super::Block, json: &serde_json::Value) -> Value {
    let mut m = BTreeMap::new();
    for a in &block.attributes {
        let j = json.get(&a.name).unwrap_or(&serde_json::Value::Null);
        m.insert(a.name.clone(), attribute_value(&a.ty, j));
    }
    for b in &block.blocks {
        let j = json.get(&b.type_name);
        let v = match (b.nesting, j) {
            (Nesting::Single | Nesting::Group, Some(j)) if !j.is_null() => block_from_json(&b.block, j),
            (Nesting::Single | Nesting::Group, _) => Value::Null,
            (_, Some(serde_json::Value::Array(items))) => {
                Value::List(items.iter().map(|i| block_from_json(&b.block, i)).collect())
            }
            _ => Value::List(Vec::new()),
        };
        m.insert(b.type_name.clone(), v);
    }
    Value::Object(m)
}

/// Nested attributes as objects of their attributes; other attributes by [`json_value`].
fn attribute_value(ty: &super::AttributeType, j: &serde_json::Value) -> Value {
    let super::AttributeType::Nested { nesting, attributes } = ty else { return json_value(j) };
    let object = |j: &serde_json::Value| {
        let inner = super::Block { attributes: attributes.clone(), ..super::Block::new("") };
        block_from_json(&inner, j)
    };
    match (nesting, j) {
        (_, serde_json::Value::Null) => Value::Null,
        (Nesting::Single | Nesting::Group, j) => object(j),
        (Nesting::Map, serde_json::Value::Object(o)) => {
            Value::Map(o.iter().map(|(k, v)| (k.clone(), object(v))).collect())
        }
        (Nesting::Set, serde_json::Value::Array(a)) => Value::Set(a.iter().map(object).collect()),
        (_, serde_json::Value::Array(a)) => Value::List(a.iter().map(object).collect()),
        (_, other) => json_value(other),
    }
}

fn json_value(j: &serde_json::Value) -> Value {
    match j {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => Value::Number(Number::parse(&n.to_string()).expect("json number")),
        serde_json::Value::String(s) if s == "(unknown)" => Value::unknown(),
        serde_json::Value::String(s) => Value::String(s.clone()),
        serde_json::Value::Array(a) => Value::List(a.iter().map(json_value).collect()),
        serde_json::Value::Object(o) => Value::Map(o.iter().map(|(k, v)| (k.clone(), json_value(v))).collect()),
    }
}

/// Plans like core: builds the proposed state, runs the pipeline, and asserts plan validity.
pub async fn plan(resource: &dyn Resource, prior: &Value, config: &Value) -> PlanOutcome {
    let schema = resource.schema();
    let proposed = proposed_new(&schema.block, prior, config);
    let out = plan_resource_change(resource, &schema, prior, config, &proposed).await;
    if !out.diags.has_error() {
        let errs = check_plan_valid(&schema.block, prior, config, &out.planned);
        assert!(errs.is_empty(), "invalid plan for {}: {errs:#?}", resource.type_name());
    }
    out
}

/// Validates, plans and applies one step; asserts apply consistency and that a second plan against
/// the new state is empty. Returns the new state and every diagnostic, or panics on an error.
pub async fn apply(resource: &dyn Resource, prior: &Value, config: &Value) -> (Value, Diagnostics) {
    let mut diags = validate(resource, config);
    assert!(!diags.has_error(), "validate failed: {diags:#?}");
    let out = plan(resource, prior, config).await;
    diags.extend(out.diags);
    assert!(!diags.has_error(), "plan failed: {diags:#?}");
    let schema = resource.schema();
    let new = if prior.is_null() {
        resource.create(&out.planned, config, &mut diags).await
    } else if !out.requires_replace.is_empty() {
        resource.delete(prior, &mut diags).await;
        let fresh = plan(resource, &Value::Null, config).await;
        resource.create(&fresh.planned, config, &mut diags).await
    } else {
        resource.update(prior, &out.planned, config, &mut diags).await
    };
    assert!(!diags.has_error(), "apply failed: {diags:#?}");
    let new = new.expect("apply returned no state without an error");
    if out.requires_replace.is_empty() {
        let errs = check_apply_consistent(&schema.block, &out.planned, &new);
        assert!(errs.is_empty(), "inconsistent result after apply: {errs:#?}");
    }
    let again = plan(resource, &new, config).await;
    assert_eq!(again.planned, new, "second plan is not empty");
    assert!(again.requires_replace.is_empty(), "second plan replaces: {:?}", again.requires_replace);
    (new, diags)
}

/// Runs attribute validators and the resource's own validation on a configuration.
pub fn validate(resource: &dyn Resource, config: &Value) -> Diagnostics {
    let schema = resource.schema();
    let mut diags = Diagnostics::new();
    super::validate::validate_block(&schema.block, config, &crate::cty::AttributePath::root(), &mut diags);
    resource.validate(&schema, config, &mut diags);
    diags
}
