//! Configuration validation: every attribute's validators, recursing into nested attributes and
//! blocks, with the attribute path of each value. Pure; runs at `ValidateResourceConfig`.

use super::Diagnostics;
use super::schema::{AttributeType, Block, Nesting};
use crate::cty::{AttributePath, Value};

/// Runs every attribute's validators over a configuration value, recursing into nested blocks.
pub fn validate_block(block: &Block, config: &Value, path: &AttributePath, diags: &mut Diagnostics) {
    for a in &block.attributes {
        let v = config.get_attr(&a.name).unwrap_or(&Value::Null);
        let here = path.then_attr(&a.name);
        for val in &a.validators {
            val.run(v, &here, diags);
        }
        if let AttributeType::Nested { attributes, nesting } = &a.ty {
            let inner = Block { attributes: attributes.clone(), ..Default::default() };
            each_nested(*nesting, v, &here, &mut |v, p| validate_block(&inner, v, p, diags));
        }
    }
    for b in &block.blocks {
        let v = config.get_attr(&b.type_name).unwrap_or(&Value::Null);
        let here = path.then_attr(&b.type_name);
        each_nested(b.nesting, v, &here, &mut |v, p| validate_block(&b.block, v, p, diags));
    }
}

fn each_nested(nesting: Nesting, v: &Value, path: &AttributePath, f: &mut dyn FnMut(&Value, &AttributePath)) {
    match (nesting, v) {
        (Nesting::Single | Nesting::Group, Value::Object(_)) => f(v, path),
        (Nesting::List | Nesting::Set, Value::List(items) | Value::Set(items)) => {
            for (i, item) in items.iter().enumerate() {
                f(item, &path.then_index(i as i64))
            }
        }
        (Nesting::Map, Value::Map(m)) => {
            for (k, item) in m {
                f(item, &path.then_key(k.clone()))
            }
        }
        _ => {}
    }
}
