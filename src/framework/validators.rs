//! Attribute validators: declarative checks run at validate time on known configured values.
//!
//! Unknown and null values are skipped: `terraform validate` sends every variable as unknown, and
//! requiredness is core's job.

use super::Diagnostics;
use crate::cty::{AttributePath, Value};
use std::fmt;
use std::sync::Arc;

type CheckFn = dyn Fn(&Value, &AttributePath, &mut Diagnostics) + Send + Sync;

/// A named check on one attribute's value.
#[derive(Clone)]
pub struct Validator {
    /// Markdown sentence for the docs, e.g. "One of `override`, `merge`."
    pub description: String,
    check: Arc<CheckFn>,
}

impl fmt::Debug for Validator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Validator").field("description", &self.description).finish()
    }
}

impl Validator {
    /// A validator from a description and a check over known, non-null values.
    pub fn new(
        description: impl Into<String>,
        check: impl Fn(&Value, &AttributePath, &mut Diagnostics) + Send + Sync + 'static,
    ) -> Self {
        Validator { description: description.into(), check: Arc::new(check) }
    }

    /// Runs the check unless the value is null or unknown.
    pub fn run(&self, value: &Value, path: &AttributePath, diags: &mut Diagnostics) {
        if value.is_null() || value.is_unknown() {
            return;
        }
        (self.check)(value, path, diags)
    }

    /// A string check: `Err(detail)` becomes an error with `summary`.
    pub fn string(
        description: impl Into<String>,
        summary: &'static str,
        f: impl Fn(&str) -> Result<(), String> + Send + Sync + 'static,
    ) -> Self {
        Self::new(description, move |v, path, diags| {
            if let Some(s) = v.as_str()
                && let Err(detail) = f(s)
            {
                diags.error_at(path.clone(), summary, detail);
            }
        })
    }

    /// The same string check on every known element of a list or set of strings.
    pub fn each_string(
        description: impl Into<String>,
        summary: &'static str,
        f: impl Fn(&str) -> Result<(), String> + Send + Sync + 'static,
    ) -> Self {
        Self::new(description, move |v, path, diags| {
            for (i, e) in v.as_elements().unwrap_or(&[]).iter().enumerate() {
                if let Some(s) = e.as_str()
                    && let Err(detail) = f(s)
                {
                    diags.error_at(path.then_index(i as i64), summary, detail);
                }
            }
        })
    }

    /// The string must be one of `allowed`.
    pub fn one_of(allowed: &'static [&'static str]) -> Self {
        let list = allowed.iter().map(|a| format!("`{a}`")).collect::<Vec<_>>().join(", ");
        let description = format!("One of {list}.");
        Self::new(description, move |v, path, diags| {
            if let Some(s) = v.as_str()
                && !allowed.contains(&s)
            {
                let detail = format!("`{path}` is {s:?}; set it to one of {list}.");
                diags.error_at(path.clone(), "Unsupported Value", detail);
            }
        })
    }

    /// A whole number of at least `min`.
    pub fn int_at_least(min: i64) -> Self {
        Self::int_between(min, i64::MAX)
    }

    /// A whole number between `min` and `max`, inclusive.
    pub fn int_between(min: i64, max: i64) -> Self {
        let description = if max == i64::MAX {
            format!("A whole number, at least {min}.")
        } else {
            format!("A whole number from {min} to {max}.")
        };
        Self::new(description, move |v, path, diags| {
            let Some(n) = v.as_number() else { return };
            match n.to_i64() {
                Some(i) if i >= min && i <= max => {}
                Some(_) | None if !n.is_integer() => diags.error_at(
                    path.clone(),
                    "Not A Whole Number",
                    format!("`{path}` is {n}; it must be a whole number."),
                ),
                _ => {
                    let range =
                        if max == i64::MAX { format!("at least {min}") } else { format!("from {min} to {max}") };
                    diags.error_at(path.clone(), "Value Out Of Range", format!("`{path}` is {n}; it must be {range}."))
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(v: Validator, value: Value) -> Diagnostics {
        let mut d = Diagnostics::new();
        v.run(&value, &AttributePath::attr("x"), &mut d);
        d
    }

    #[test]
    fn skips_null_and_unknown() {
        assert!(run(Validator::int_at_least(0), Value::Null).is_empty());
        assert!(run(Validator::int_at_least(0), Value::unknown()).is_empty());
    }

    #[test]
    fn int_range_names_the_attribute_and_bound() {
        let d = run(Validator::int_at_least(5), Value::int(3));
        assert_eq!(d.0[0].detail, "`x` is 3; it must be at least 5.");
        assert_eq!(d.0[0].path, Some(AttributePath::attr("x")));
        assert!(run(Validator::int_at_least(5), Value::int(5)).is_empty());
        let frac = run(Validator::int_between(0, 9), Value::Number(crate::cty::Number::parse("1.5").unwrap()));
        assert_eq!(frac.0[0].summary, "Not A Whole Number");
    }

    #[test]
    fn one_of_lists_choices() {
        let d = run(Validator::one_of(&["override", "merge"]), Value::string("strategic"));
        assert_eq!(d.0[0].detail, "`x` is \"strategic\"; set it to one of `override`, `merge`.");
    }

    #[test]
    fn each_string_points_at_the_element() {
        let v = Validator::each_string("", "Bad", |s| if s.contains(' ') { Err("no spaces".into()) } else { Ok(()) });
        let d = run(v, Value::List(vec![Value::string("ok"), Value::string("a b")]));
        assert_eq!(d.0.len(), 1);
        assert_eq!(d.0[0].path, Some(AttributePath::attr("x").then_index(1)));
    }
}
