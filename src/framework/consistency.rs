//! Terraform core's own consistency rules, re-checked on our side.
//!
//! `check_plan_valid` mirrors core's plan validity check ("Provider produced invalid plan") and
//! `check_apply_consistent` its apply check ("Provider produced inconsistent result after apply").
//! The server runs them in debug builds and the test helpers on every case, so a consistency bug
//! fails our tests with a precise path instead of a user's apply.

use super::schema::{AttributeType, Block, Nesting};
use crate::cty::{AttributePath, Value};

/// Problems with `planned` given `prior` and `config`; empty when core would accept the plan.
pub fn check_plan_valid(block: &Block, prior: &Value, config: &Value, planned: &Value) -> Vec<String> {
    let mut errs = Vec::new();
    if planned.is_null() {
        if !config.is_null() {
            errs.push("planned object is null but configuration is not".into());
        }
        return errs;
    }
    if planned.is_unknown() {
        errs.push("planned object is unknown".into());
        return errs;
    }
    plan_block(block, prior, config, planned, &AttributePath::root(), &mut errs);
    errs
}

fn attr<'a>(v: &'a Value, name: &str) -> &'a Value {
    v.get_attr(name).unwrap_or(&Value::Null)
}

fn plan_block(
    block: &Block,
    prior: &Value,
    config: &Value,
    planned: &Value,
    path: &AttributePath,
    errs: &mut Vec<String>,
) {
    for a in &block.attributes {
        let here = path.then_attr(&a.name);
        let (p, c, pl) = (attr(prior, &a.name), attr(config, &a.name), attr(planned, &a.name));
        if a.write_only {
            if !pl.is_null() {
                errs.push(format!("{here}: write-only attribute is not null in the plan"));
            }
            continue;
        }
        if a.computed && c.is_null() {
            continue;
        }
        if pl == c {
            continue;
        }
        if let AttributeType::Nested { nesting: Nesting::Single | Nesting::Group, attributes } = &a.ty
            && !pl.is_null()
            && !c.is_null()
        {
            let inner = Block { attributes: attributes.clone(), ..Default::default() };
            plan_block(&inner, p, c, pl, &here, errs);
            continue;
        }
        // A list of nested objects: as many as configured, each checked like a block's attributes
        // (so a computed or write-only attribute inside follows its own rule).
        if let (AttributeType::Nested { nesting: Nesting::List, attributes }, Value::List(cs), Value::List(pls)) =
            (&a.ty, c, pl)
        {
            if cs.len() != pls.len() {
                errs.push(format!("{here}: {} planned elements for {} configured", pls.len(), cs.len()));
                continue;
            }
            let inner = Block { attributes: attributes.clone(), ..Default::default() };
            let ps = p.as_elements().unwrap_or(&[]);
            for (i, (c, pl)) in cs.iter().zip(pls).enumerate() {
                plan_block(&inner, ps.get(i).unwrap_or(&Value::Null), c, pl, &here.then_index(i as i64), errs);
            }
            continue;
        }
        if !p.is_null() && !c.is_null() && pl == p {
            continue;
        }
        errs.push(format!("{here}: planned value {pl:?} does not match config value {c:?}"));
    }
    for b in &block.blocks {
        let here = path.then_attr(&b.type_name);
        let (p, c, pl) = (attr(prior, &b.type_name), attr(config, &b.type_name), attr(planned, &b.type_name));
        match (b.nesting, c, pl) {
            (Nesting::Single | Nesting::Group, c, pl) => {
                if c.is_null() != pl.is_null() {
                    errs.push(format!("{here}: block presence differs from configuration"));
                } else if !pl.is_null() {
                    plan_block(&b.block, p, c, pl, &here, errs);
                }
            }
            (Nesting::List, Value::List(cs), Value::List(pls)) => {
                if cs.len() != pls.len() {
                    errs.push(format!("{here}: block count changed from {} to {}", cs.len(), pls.len()));
                    continue;
                }
                let ps = p.as_elements().unwrap_or(&[]);
                for (i, (c, pl)) in cs.iter().zip(pls).enumerate() {
                    plan_block(&b.block, ps.get(i).unwrap_or(&Value::Null), c, pl, &here.then_index(i as i64), errs);
                }
            }
            (_, c, pl) if c.is_unknown() || pl.is_unknown() => {
                errs.push(format!("{here}: a block must never be unknown"));
            }
            (_, c, pl) => {
                let (cl, pll) = (c.as_elements().map(<[_]>::len), pl.as_elements().map(<[_]>::len));
                if cl != pll {
                    errs.push(format!("{here}: block count changed"));
                }
            }
        }
    }
}

/// Problems with `actual` (the state apply returned) given `planned`; empty when core accepts it.
pub fn check_apply_consistent(block: &Block, planned: &Value, actual: &Value) -> Vec<String> {
    let mut errs = Vec::new();
    if planned.is_null() {
        if !actual.is_null() {
            errs.push("planned a destroy but apply returned an object".into());
        }
        return errs;
    }
    if actual.is_null() {
        errs.push("apply returned null for an object that was planned to exist".into());
        return errs;
    }
    if !actual.is_wholly_known() {
        errs.push("apply returned a state with unknown values".into());
    }
    compatible(block, planned, actual, &AttributePath::root(), &mut errs);
    errs
}

fn compatible(block: &Block, planned: &Value, actual: &Value, path: &AttributePath, errs: &mut Vec<String>) {
    for a in &block.attributes {
        let here = path.then_attr(&a.name);
        value_compatible(attr(planned, &a.name), attr(actual, &a.name), &here, errs);
    }
    for b in &block.blocks {
        let here = path.then_attr(&b.type_name);
        let (pl, ac) = (attr(planned, &b.type_name), attr(actual, &b.type_name));
        match (pl.as_elements(), ac.as_elements()) {
            (Some(ps), Some(acs)) => {
                if ps.len() != acs.len() {
                    errs.push(format!("{here}: block count changed from {} to {}", ps.len(), acs.len()));
                    continue;
                }
                if b.nesting == Nesting::List {
                    for (i, (p, a)) in ps.iter().zip(acs).enumerate() {
                        compatible(&b.block, p, a, &here.then_index(i as i64), errs);
                    }
                }
            }
            _ if b.nesting == Nesting::Single || b.nesting == Nesting::Group => {
                if pl.is_null() != ac.is_null() {
                    errs.push(format!("{here}: block presence changed"));
                } else if !pl.is_null() {
                    compatible(&b.block, pl, ac, &here, errs);
                }
            }
            _ => value_compatible(pl, ac, &here, errs),
        }
    }
}

fn value_compatible(planned: &Value, actual: &Value, path: &AttributePath, errs: &mut Vec<String>) {
    match planned {
        Value::Unknown(r) => {
            if r.not_null && actual.is_null() {
                errs.push(format!("{path}: was planned as not null, but now null"));
            }
            if let (Some(prefix), Some(s)) = (&r.string_prefix, actual.as_str())
                && !s.starts_with(prefix.as_str())
            {
                errs.push(format!("{path}: planned prefix {prefix:?} does not hold for {s:?}"));
            }
        }
        Value::List(ps) | Value::Tuple(ps) => match actual.as_elements() {
            Some(acs) if acs.len() == ps.len() => {
                for (i, (p, a)) in ps.iter().zip(acs).enumerate() {
                    value_compatible(p, a, &path.then_index(i as i64), errs);
                }
            }
            _ => errs.push(format!("{path}: was {planned:?}, but now {actual:?}")),
        },
        Value::Map(ps) | Value::Object(ps) if ps.values().any(|v| !v.is_wholly_known()) => match actual.as_entries() {
            Some(acs) if acs.len() == ps.len() => {
                for (k, p) in ps {
                    let a = acs.get(k).unwrap_or(&Value::Null);
                    value_compatible(p, a, &path.then_attr(k.clone()), errs);
                }
            }
            _ => errs.push(format!("{path}: was {planned:?}, but now {actual:?}")),
        },
        _ if planned.is_wholly_known() && planned != actual => {
            errs.push(format!("{path}: was {planned:?}, but now {actual:?}"));
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::Attribute;
    use std::collections::BTreeMap;

    fn block() -> Block {
        Block::new("")
            .attr(Attribute::string("name").required())
            .attr(Attribute::string("id").computed())
            .attr(Attribute::string("note").optional())
    }

    fn obj(pairs: &[(&str, Value)]) -> Value {
        Value::Object(pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect::<BTreeMap<_, _>>())
    }

    #[test]
    fn computed_may_be_unknown_but_config_must_be_echoed() {
        let config = obj(&[("name", Value::string("a")), ("id", Value::Null), ("note", Value::Null)]);
        let good = obj(&[("name", Value::string("a")), ("id", Value::unknown()), ("note", Value::Null)]);
        assert!(check_plan_valid(&block(), &Value::Null, &config, &good).is_empty());
        let bad = obj(&[("name", Value::string("b")), ("id", Value::unknown()), ("note", Value::string("x"))]);
        let errs = check_plan_valid(&block(), &Value::Null, &config, &bad);
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert!(errs[0].starts_with("name: planned value"));
        assert!(errs[1].starts_with("note: planned value"));
    }

    #[test]
    fn apply_must_keep_known_planned_values_and_fill_unknowns() {
        let planned = obj(&[("name", Value::string("a")), ("id", Value::unknown()), ("note", Value::Null)]);
        let ok = obj(&[("name", Value::string("a")), ("id", Value::string("x")), ("note", Value::Null)]);
        assert!(check_apply_consistent(&block(), &planned, &ok).is_empty());
        let changed = obj(&[("name", Value::string("A")), ("id", Value::unknown()), ("note", Value::Null)]);
        let errs = check_apply_consistent(&block(), &planned, &changed);
        assert!(errs.iter().any(|e| e.contains("unknown values")), "{errs:?}");
        assert!(errs.iter().any(|e| e.starts_with("name: was")), "{errs:?}");
    }
}
