//! The plan pipeline, in the order terraform-plugin-framework established:
//! defaults → write-only nulled → computed values unknown when the object changes → attribute plan
//! modifiers → the resource's own `modify_plan` → replace paths sorted and deduplicated.
//! A destroy plan (null proposed state) stays null.

use super::schema::{AttributeType, Block, Nesting, PlanModifier};
use super::{Diagnostics, PlanChange, PlanContext, Resource, Schema};
use crate::cty::{AttributePath, Value};

/// The result of planning one resource instance.
pub struct PlanOutcome {
    pub planned: Value,
    pub requires_replace: Vec<AttributePath>,
    pub diags: Diagnostics,
}

/// Plans one change: `proposed` is core's proposed new state (config plus prior computed values).
pub async fn plan_resource_change(
    resource: &dyn Resource,
    schema: &Schema,
    prior: &Value,
    config: &Value,
    proposed: &Value,
) -> PlanOutcome {
    let mut diags = Diagnostics::new();
    if proposed.is_null() || config.is_null() {
        if !prior.is_null() {
            resource.plan_destroy(prior, &mut diags).await;
        }
        return PlanOutcome { planned: Value::Null, requires_replace: Vec::new(), diags };
    }
    let mut planned = proposed.clone();
    apply_defaults(&schema.block, &mut planned, config);
    null_write_only(&schema.block, &mut planned);
    if planned != *prior {
        mark_computed_unknown(&schema.block, &mut planned, config);
    }
    let mut requires_replace = Vec::new();
    if !prior.is_null() {
        run_modifiers(&schema.block, &mut planned, prior, &AttributePath::root(), &mut requires_replace);
    }
    let mut change = PlanChange { planned, requires_replace };
    resource.modify_plan(PlanContext { config, prior }, &mut change, &mut diags).await;
    let PlanChange { planned, mut requires_replace } = change;
    requires_replace.sort();
    requires_replace.dedup();
    PlanOutcome { planned, requires_replace, diags }
}

/// Calls `f` on each pair of corresponding nested objects of a block or nested attribute.
/// Set elements are skipped: they have no stable correspondence to configuration.
fn for_each_pair(nesting: Nesting, plan: &mut Value, other: &Value, f: &mut dyn FnMut(&mut Value, &Value)) {
    match (nesting, plan, other) {
        (Nesting::Single | Nesting::Group, p @ Value::Object(_), o) => f(p, o),
        (Nesting::List, Value::List(ps), Value::List(os)) => {
            for (p, o) in ps.iter_mut().zip(os.iter()) {
                f(p, o)
            }
        }
        (Nesting::Map, Value::Map(ps), Value::Map(os)) => {
            for (k, p) in ps.iter_mut() {
                if let Some(o) = os.get(k) {
                    f(p, o)
                }
            }
        }
        _ => {}
    }
}

fn nested_block_of(attributes: &[super::Attribute]) -> Block {
    Block { description: String::new(), attributes: attributes.to_vec(), blocks: Vec::new() }
}

/// The configuration with defaults filled in, as the plan will have it.
pub fn with_defaults(block: &Block, config: &Value) -> Value {
    let mut v = config.clone();
    apply_defaults(block, &mut v, config);
    v
}

/// Sets each attribute whose configured value is null to its default.
pub(crate) fn apply_defaults(block: &Block, plan: &mut Value, config: &Value) {
    let Value::Object(pm) = plan else { return };
    for a in &block.attributes {
        let cfg = config.get_attr(&a.name).unwrap_or(&Value::Null);
        let Some(pv) = pm.get_mut(&a.name) else { continue };
        if cfg.is_null() {
            if let Some(d) = &a.default {
                *pv = d.clone();
            }
        } else if let AttributeType::Nested { nesting, attributes } = &a.ty {
            let inner = nested_block_of(attributes);
            for_each_pair(*nesting, pv, cfg, &mut |p, c| apply_defaults(&inner, p, c));
        }
    }
    for b in &block.blocks {
        let cfg = config.get_attr(&b.type_name).unwrap_or(&Value::Null);
        if let Some(pv) = pm.get_mut(&b.type_name) {
            for_each_pair(b.nesting, pv, cfg, &mut |p, c| apply_defaults(&b.block, p, c));
        }
    }
}

/// Applies `f` to each attribute's value in `v`, through nested attributes and blocks; `f`
/// returns whether to go on into that attribute's nested attributes.
fn walk_attributes(block: &Block, v: &mut Value, f: &mut dyn FnMut(&super::Attribute, &mut Value) -> bool) {
    let Value::Object(m) = v else { return };
    for a in &block.attributes {
        let Some(av) = m.get_mut(&a.name) else { continue };
        if f(a, av)
            && let AttributeType::Nested { nesting, attributes } = &a.ty
        {
            let inner = nested_block_of(attributes);
            let snapshot = av.clone();
            for_each_pair(*nesting, av, &snapshot, &mut |p, _| walk_attributes(&inner, p, f));
        }
    }
    for b in &block.blocks {
        if let Some(bv) = m.get_mut(&b.type_name) {
            let snapshot = bv.clone();
            for_each_pair(b.nesting, bv, &snapshot, &mut |p, _| walk_attributes(&b.block, p, f));
        }
    }
}

/// Write-only attributes never appear in plan or state.
pub(crate) fn null_write_only(block: &Block, plan: &mut Value) {
    walk_attributes(block, plan, &mut |a, v| {
        if a.write_only {
            *v = Value::Null;
        }
        !a.write_only
    });
}

/// A state as configuration (`GenerateResourceConfig`): what only the provider sets (computed,
/// not optional) is left out, as Terraform's own fallback does (`genconfig.ExtractLegacyConfigFromState`).
pub(crate) fn config_from_state(block: &Block, state: &mut Value) {
    walk_attributes(block, state, &mut |a, v| {
        let provider_only = a.computed && !a.optional && !a.required;
        if provider_only {
            *v = Value::Null;
        }
        !provider_only
    });
}

/// Computed attributes the configuration leaves null become unknown: the provider will decide them.
/// Attributes with a default keep it (their value is already decided).
pub(crate) fn mark_computed_unknown(block: &Block, plan: &mut Value, config: &Value) {
    let Value::Object(pm) = plan else { return };
    for a in &block.attributes {
        let cfg = config.get_attr(&a.name).unwrap_or(&Value::Null);
        let Some(pv) = pm.get_mut(&a.name) else { continue };
        if a.computed && cfg.is_null() && a.default.is_none() {
            *pv = Value::unknown();
        } else if let AttributeType::Nested { nesting, attributes } = &a.ty {
            let inner = nested_block_of(attributes);
            for_each_pair(*nesting, pv, cfg, &mut |p, c| mark_computed_unknown(&inner, p, c));
        }
    }
    for b in &block.blocks {
        let cfg = config.get_attr(&b.type_name).unwrap_or(&Value::Null);
        if let Some(pv) = pm.get_mut(&b.type_name) {
            for_each_pair(b.nesting, pv, cfg, &mut |p, c| mark_computed_unknown(&b.block, p, c));
        }
    }
}

/// Applies `UseStateForUnknown` and `RequiresReplace` against the prior state.
pub(crate) fn run_modifiers(
    block: &Block,
    plan: &mut Value,
    prior: &Value,
    path: &AttributePath,
    replace: &mut Vec<AttributePath>,
) {
    let Value::Object(pm) = plan else { return };
    if prior.is_null() {
        return;
    }
    for a in &block.attributes {
        let before = prior.get_attr(&a.name).unwrap_or(&Value::Null);
        let Some(pv) = pm.get_mut(&a.name) else { continue };
        let here = path.then_attr(&a.name);
        for m in &a.plan_modifiers {
            match m {
                PlanModifier::UseStateForUnknown => {
                    if pv.is_unknown() && !before.is_null() && before.is_wholly_known() {
                        *pv = before.clone();
                    }
                }
                PlanModifier::RequiresReplace => {
                    if *pv != *before {
                        replace.push(here.clone());
                    }
                }
            }
        }
        if let AttributeType::Nested { nesting: Nesting::Single | Nesting::Group, attributes } = &a.ty {
            run_modifiers(&nested_block_of(attributes), pv, before, &here, replace);
        }
    }
    for b in &block.blocks {
        let before = prior.get_attr(&b.type_name).unwrap_or(&Value::Null);
        let Some(pv) = pm.get_mut(&b.type_name) else { continue };
        let here = path.then_attr(&b.type_name);
        match (b.nesting, pv, before) {
            (Nesting::Single | Nesting::Group, p, o) => run_modifiers(&b.block, p, o, &here, replace),
            (Nesting::List, Value::List(ps), Value::List(os)) => {
                for (i, (p, o)) in ps.iter_mut().zip(os.iter()).enumerate() {
                    run_modifiers(&b.block, p, o, &here.then_index(i as i64), replace);
                }
            }
            _ => {}
        }
    }
}

/// Core's proposed new state: the configuration, with prior values for computed attributes the
/// configuration leaves null. Terraform computes this itself; the framework's tests need it too.
pub fn proposed_new(block: &Block, prior: &Value, config: &Value) -> Value {
    let Value::Object(cm) = config else { return config.clone() };
    let mut out = cm.clone();
    for a in &block.attributes {
        let c = config.get_attr(&a.name).unwrap_or(&Value::Null);
        let p = prior.get_attr(&a.name).unwrap_or(&Value::Null);
        if a.computed && c.is_null() {
            out.insert(a.name.clone(), p.clone());
        }
    }
    for b in &block.blocks {
        let c = config.get_attr(&b.type_name).unwrap_or(&Value::Null);
        let p = prior.get_attr(&b.type_name).unwrap_or(&Value::Null);
        let v = match (b.nesting, c, p) {
            (Nesting::Single | Nesting::Group, c, p) if !c.is_null() => proposed_new(&b.block, p, c),
            (Nesting::List, Value::List(cs), p) => {
                let ps = p.as_elements().unwrap_or(&[]);
                Value::List(
                    cs.iter()
                        .enumerate()
                        .map(|(i, c)| proposed_new(&b.block, ps.get(i).unwrap_or(&Value::Null), c))
                        .collect(),
                )
            }
            (_, c, _) => c.clone(),
        };
        out.insert(b.type_name.clone(), v);
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::{Attribute, NestedBlock, Resource};
    use async_trait::async_trait;
    use std::collections::BTreeMap;

    struct Probe;

    #[async_trait]
    impl Resource for Probe {
        fn type_name(&self) -> &'static str {
            "jenkins_probe"
        }
        fn schema(&self) -> Schema {
            Schema::new(
                Block::new("")
                    .attr(Attribute::string("name").required().requires_replace())
                    .attr(Attribute::string("mode").default(Value::string("fast")))
                    .attr(Attribute::string("secret").optional().write_only())
                    .attr(Attribute::string("id").computed().use_state_for_unknown())
                    .attr(Attribute::string("digest").computed())
                    .block(NestedBlock::list(
                        "item",
                        Block::new("").attr(Attribute::bool("on").default(Value::Bool(true))),
                    )),
            )
        }
        async fn create(&self, p: &Value, _: &Value, _: &mut Diagnostics) -> Option<Value> {
            Some(p.clone())
        }
        async fn read(&self, s: &Value, _: &mut Diagnostics) -> Option<Option<Value>> {
            Some(Some(s.clone()))
        }
        async fn update(&self, _: &Value, p: &Value, _: &Value, _: &mut Diagnostics) -> Option<Value> {
            Some(p.clone())
        }
        async fn delete(&self, _: &Value, _: &mut Diagnostics) {}
    }

    fn obj(pairs: Vec<(&str, Value)>) -> Value {
        Value::Object(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect::<BTreeMap<_, _>>())
    }

    fn config(name: &str, items: usize) -> Value {
        let item = obj(vec![("on", Value::Null)]);
        obj(vec![
            ("name", Value::string(name)),
            ("mode", Value::Null),
            ("secret", Value::string("s3cret")),
            ("id", Value::Null),
            ("digest", Value::Null),
            ("item", Value::List(vec![item; items])),
        ])
    }

    fn state(name: &str) -> Value {
        obj(vec![
            ("name", Value::string(name)),
            ("mode", Value::string("fast")),
            ("secret", Value::Null),
            ("id", Value::string("i-1")),
            ("digest", Value::string("d-1")),
            ("item", Value::List(vec![obj(vec![("on", Value::Bool(true))])])),
        ])
    }

    async fn run(prior: &Value, cfg: &Value) -> PlanOutcome {
        let schema = Probe.schema();
        let proposed = proposed_new(&schema.block, prior, cfg);
        plan_resource_change(&Probe, &schema, prior, cfg, &proposed).await
    }

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread().build().expect("rt").block_on(f)
    }

    #[test]
    fn generated_configuration_leaves_out_what_only_the_provider_sets() {
        let schema = Probe.schema();
        let mut c = state("a");
        config_from_state(&schema.block, &mut c);
        assert_eq!(c.get_attr("name"), Some(&Value::string("a")));
        assert_eq!(c.get_attr("mode"), Some(&Value::string("fast")), "a defaulted argument stays");
        assert_eq!(c.get_attr("id"), Some(&Value::Null));
        assert_eq!(c.get_attr("digest"), Some(&Value::Null));
        let item = &c.get_attr("item").and_then(Value::as_elements).expect("items")[0];
        assert_eq!(item.get_attr("on"), Some(&Value::Bool(true)), "nested blocks are followed");
    }

    #[test]
    fn create_applies_defaults_nulls_write_only_and_marks_computed_unknown() {
        let out = block_on(run(&Value::Null, &config("a", 1)));
        let p = &out.planned;
        assert_eq!(p.get_attr("mode"), Some(&Value::string("fast")));
        assert_eq!(p.get_attr("secret"), Some(&Value::Null));
        assert!(p.get_attr("id").is_some_and(Value::is_unknown));
        assert!(p.get_attr("digest").is_some_and(Value::is_unknown));
        let item = &p.get_attr("item").and_then(Value::as_elements).expect("items")[0];
        assert_eq!(item.get_attr("on"), Some(&Value::Bool(true)), "defaults reach nested blocks");
        assert!(out.requires_replace.is_empty());
    }

    #[test]
    fn unchanged_object_plans_exactly_the_prior_state() {
        let out = block_on(run(&state("a"), &config("a", 1)));
        assert_eq!(out.planned, state("a"));
    }

    #[test]
    fn change_marks_computed_unknown_except_use_state_for_unknown() {
        let out = block_on(run(&state("a"), &config("a", 2)));
        assert_eq!(out.planned.get_attr("id"), Some(&Value::string("i-1")));
        assert!(out.planned.get_attr("digest").is_some_and(Value::is_unknown));
    }

    #[test]
    fn requires_replace_names_the_changed_attribute() {
        let out = block_on(run(&state("a"), &config("b", 1)));
        assert_eq!(out.requires_replace, vec![AttributePath::attr("name")]);
    }

    #[test]
    fn destroy_plan_stays_null() {
        let out = block_on(run(&state("a"), &Value::Null));
        assert!(out.planned.is_null());
    }
}
