//! Arbitrary-precision decimal numbers, compared the way cty compares them.

use bigdecimal::BigDecimal;
use std::fmt;
use std::str::FromStr;

/// A cty number. HCL literals are 512-bit floats, so Terraform sends many of them as decimal
/// strings (`0.8` arrives as `"0.8"`); keeping them as decimals avoids f64 rounding drift.
#[derive(Debug, Clone)]
pub struct Number(BigDecimal);

impl Number {
    /// Parses a decimal string such as `"0.8"`, `"-12"` or `"1e3"`.
    pub fn parse(s: &str) -> Option<Number> {
        BigDecimal::from_str(s.trim()).ok().map(Number)
    }
    /// The exact value of an `i64`.
    pub fn from_i64(v: i64) -> Number {
        Number(BigDecimal::from(v))
    }
    /// The exact value of a `u64`.
    pub fn from_u64(v: u64) -> Number {
        Number(BigDecimal::from(v))
    }
    /// The exact decimal value of a finite `f64`; `None` for NaN and infinities.
    pub fn from_f64(v: f64) -> Option<Number> {
        if !v.is_finite() {
            return None;
        }
        // Shortest round-trip text, then exact decimal.
        Number::parse(&format!("{v:?}"))
    }
    /// The value as an `i64` when it is an integer in range.
    pub fn to_i64(&self) -> Option<i64> {
        use bigdecimal::ToPrimitive;
        if self.0.is_integer() { self.0.to_i64() } else { None }
    }
    /// The value as an `f64` (lossy).
    pub fn to_f64(&self) -> f64 {
        use bigdecimal::ToPrimitive;
        self.0.to_f64().unwrap_or(f64::NAN)
    }
    /// True when the value has no fractional part.
    pub fn is_integer(&self) -> bool {
        self.0.is_integer()
    }
    /// The underlying decimal.
    pub fn as_decimal(&self) -> &BigDecimal {
        &self.0
    }
}

impl PartialEq for Number {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}
impl Eq for Number {}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Number {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.cmp(&other.0)
    }
}

impl std::hash::Hash for Number {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.to_string().hash(state)
    }
}

impl fmt::Display for Number {
    /// Plain decimal notation without exponent or trailing zeros, like Go's `Text('f', -1)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.normalized();
        let (digits, scale) = n.as_bigint_and_exponent();
        let neg = digits.sign() == bigdecimal::num_bigint::Sign::Minus;
        let mut s = digits.magnitude().to_string();
        if s == "0" {
            return f.write_str("0");
        }
        if scale <= 0 {
            s.extend(std::iter::repeat_n('0', (-scale) as usize));
        } else {
            let scale = scale as usize;
            if s.len() <= scale {
                let pad = scale - s.len();
                s = format!("0.{}{}", "0".repeat(pad), s);
            } else {
                s.insert(s.len() - scale, '.');
            }
        }
        if neg {
            f.write_str("-")?;
        }
        f.write_str(&s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_like_go_text_f() {
        for (input, want) in [
            ("0.8", "0.8"),
            ("1e3", "1000"),
            ("-12.500", "-12.5"),
            ("0.000123", "0.000123"),
            ("0", "0"),
            ("100", "100"),
        ] {
            assert_eq!(Number::parse(input).unwrap().to_string(), want, "{input}");
        }
    }

    #[test]
    fn equal_by_value_not_spelling() {
        assert_eq!(Number::parse("1.50").unwrap(), Number::parse("1.5").unwrap());
        assert_eq!(Number::from_i64(300), Number::parse("3e2").unwrap());
    }
}
