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
    ///
    /// Rejects numbers whose plain decimal rendering would exceed [`Number::MAX_TEXT_LEN`]
    /// characters: `"1e999999999"` is tiny on the wire but renders as a billion digits, and numbers
    /// arrive from untrusted bytes. Every accepted number renders to text this accepts again.
    pub fn parse(s: &str) -> Option<Number> {
        let s = s.trim();
        if s.len() > Self::MAX_TEXT_LEN {
            return None;
        }
        let d = BigDecimal::from_str(s).ok()?;
        let n = d.normalized();
        let (_, scale) = n.as_bigint_and_exponent();
        let rendered_bound = n.digits().saturating_add(scale.unsigned_abs()).saturating_add(2);
        if rendered_bound > Self::MAX_TEXT_LEN as u64 { None } else { Some(Number(d)) }
    }
    /// Longest plain decimal rendering (and input text) [`Number::parse`] accepts.
    pub const MAX_TEXT_LEN: usize = 10_000;
    /// The exact value of an `i64`.
    pub fn from_i64(v: i64) -> Number {
        Number(BigDecimal::from(v))
    }
    /// The exact value of a `u64`.
    pub fn from_u64(v: u64) -> Number {
        Number(BigDecimal::from(v))
    }
    /// The value of a finite `f64`; `None` for NaN and infinities.
    ///
    /// Integral values are converted exactly (`2^63` stays `9223372036854775808`, since cty
    /// compares integers exactly). Fractions become the shortest decimal that rounds back to `v`
    /// (`0.1`, not `0.1000000000000000055…`), which is what cty's `Text('f', -1)` comparison sees.
    pub fn from_f64(v: f64) -> Option<Number> {
        if !v.is_finite() {
            return None;
        }
        if v.fract() == 0.0 {
            return Some(Number(exact_decimal(v)));
        }
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
    /// The `f64` holding exactly this value, if there is one (`0.5` yes, `0.8` no). cty sends such
    /// numbers as msgpack floats and everything else that is not an int64 as a decimal string.
    pub fn exact_f64(&self) -> Option<f64> {
        use bigdecimal::ToPrimitive;
        // Fast path for short decimals: digits/10^s is a binary fraction exactly when 5^s divides
        // the digits; the quotient over 2^s is then exact if it fits the 53-bit mantissa.
        let (digits, scale) = self.0.as_bigint_and_exponent();
        if (1..=22).contains(&scale)
            && let Some(m) = digits.to_i64()
        {
            let p5 = 5i64.pow(scale as u32);
            if m % p5 != 0 {
                return None;
            }
            let q = m / p5;
            if q.unsigned_abs() < 1 << 53 {
                return Some(q as f64 / (1u64 << scale) as f64);
            }
        }
        let f: f64 = self.to_string().parse().ok()?;
        if !f.is_finite() {
            return None;
        }
        if f == 0.0 {
            return (self.0 == 0).then_some(0.0);
        }
        let exact = exact_decimal(f);
        (exact == self.0).then_some(f)
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

/// The exact decimal expansion of a finite `f64`: mantissa·2^exp, written as mantissa·5^-exp
/// over 10^-exp when exp is negative.
fn exact_decimal(f: f64) -> BigDecimal {
    use bigdecimal::num_bigint::BigInt;
    if f == 0.0 {
        return BigDecimal::from(0);
    }
    let bits = f.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i64;
    let frac = bits & ((1u64 << 52) - 1);
    let (mantissa, exp) = if biased == 0 { (frac, -1074) } else { (frac | (1u64 << 52), biased - 1075) };
    let mut m = BigInt::from(mantissa);
    if f.is_sign_negative() {
        m = -m;
    }
    if exp >= 0 {
        BigDecimal::new(m << (exp as usize), 0)
    } else {
        let k = (-exp) as u32;
        BigDecimal::new(m * BigInt::from(5u8).pow(k), i64::from(k))
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
    fn exact_f64_only_for_binary_fractions() {
        let n = |s: &str| Number::parse(s).unwrap();
        assert_eq!(n("0.5").exact_f64(), Some(0.5));
        assert_eq!(n("-0.375").exact_f64(), Some(-0.375));
        assert_eq!(n("0").exact_f64(), Some(0.0));
        assert_eq!(n("1180591620717411303424").exact_f64(), Some(2f64.powi(70)));
        assert_eq!(n("0.8").exact_f64(), None);
        assert_eq!(n("0.50").exact_f64(), Some(0.5));
        assert_eq!(n("-2.25").exact_f64(), Some(-2.25));
        assert_eq!(n("0.0000000000000000000001").exact_f64(), None);
        assert_eq!(n("4503599627370495.5").exact_f64(), Some(4503599627370495.5));
        assert_eq!(n("9007199254740993.5").exact_f64(), None);
        assert_eq!(n("0.1").exact_f64(), None);
        assert_eq!(n("18446744073709551615").exact_f64(), None);
        assert_eq!(n("1e400").exact_f64(), None);
        let tiny = Number::from_f64(f64::from_bits(1)).unwrap();
        assert_eq!(tiny.exact_f64(), None, "shortest text of the smallest subnormal is not exact");
    }

    #[test]
    fn from_f64_keeps_integers_exact_and_fractions_short() {
        assert_eq!(Number::from_f64(2f64.powi(63)).unwrap().to_string(), "9223372036854775808");
        assert_eq!(Number::from_f64(1e20).unwrap().to_string(), "100000000000000000000");
        assert_eq!(Number::from_f64(-3.0).unwrap(), Number::from_i64(-3));
        assert_eq!(Number::from_f64(0.1).unwrap().to_string(), "0.1");
        assert_eq!(Number::from_f64(-0.0).unwrap(), Number::from_i64(0));
        assert!(Number::from_f64(f64::INFINITY).is_none());
        assert!(Number::from_f64(f64::NAN).is_none());
    }

    #[test]
    fn parse_rejects_absurd_exponents() {
        assert!(Number::parse("1e999999999").is_none());
        assert!(Number::parse("1e-20000").is_none());
        assert!(Number::parse(&format!("{}e9000", "7".repeat(5000))).is_none());
        assert!(Number::parse("1e-5000").is_some());
        assert!(Number::parse(&"9".repeat(20_000)).is_none());
        assert!(Number::parse("1e300").is_some());
        assert!(Number::parse("").is_none());
        assert!(Number::parse("NaN").is_none());
    }

    #[test]
    fn equal_by_value_not_spelling() {
        assert_eq!(Number::parse("1.50").unwrap(), Number::parse("1.5").unwrap());
        assert_eq!(Number::from_i64(300), Number::parse("3e2").unwrap());
    }
}
