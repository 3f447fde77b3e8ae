//! Resource quantities (`500m`, `1`, `2Gi`, `512Mi`, `1e3`, `0.5`) as apimachinery's
//! `resource.Quantity` reads, compares, adds and prints them (k8s.io/apimachinery
//! `pkg/api/resource/quantity.go`): exact to the nano unit, printed in canonical form in the format
//! the quantity was written in (`1024Mi` prints `1Gi`, `1000m` prints `1`, `0.5` prints `500m`).
//! Pure.

use std::cmp::Ordering;
use std::fmt;

/// How a quantity was written, which decides how it prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `Ki`, `Mi`, … suffixes.
    BinarySI,
    /// `n`, `u`, `m`, none, `k`, `M`, … suffixes.
    DecimalSI,
    /// `e3`-style exponents.
    DecimalExponent,
}

/// A quantity, held in nano units.
#[derive(Debug, Clone, Copy)]
pub struct Quantity {
    nanos: i128,
    format: Format,
}

impl PartialEq for Quantity {
    fn eq(&self, other: &Self) -> bool {
        self.nanos == other.nanos
    }
}

impl PartialOrd for Quantity {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.nanos.cmp(&other.nanos))
    }
}

const NANO: i128 = 1_000_000_000;
const BINARY: [(&str, u32); 6] = [("Ki", 1), ("Mi", 2), ("Gi", 3), ("Ti", 4), ("Pi", 5), ("Ei", 6)];
const DECIMAL: [(&str, i32); 10] =
    [("n", -9), ("u", -6), ("m", -3), ("", 0), ("k", 3), ("M", 6), ("G", 9), ("T", 12), ("P", 15), ("E", 18)];

fn pow10(e: u32) -> i128 {
    10i128.pow(e)
}

/// `value * 10^shift`, rounding up (away from zero) when shifting right, as the real parser does
/// for precision below the nano unit.
fn shift10(value: i128, shift: i32) -> Option<i128> {
    if shift >= 0 {
        value.checked_mul(pow10(shift as u32))
    } else {
        let d = pow10((-shift) as u32);
        let q = value / d;
        Some(if value % d == 0 { q } else { q + value.signum() })
    }
}

impl Quantity {
    /// Parses a quantity, e.g. `500m`, `2Gi`, `1e3`; the error says what is wrong.
    pub fn parse(s: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$': {s:?}"
            )
        };
        let s = s.trim();
        let num_end = s
            .char_indices()
            .find(|(i, c)| !(c.is_ascii_digit() || *c == '.' || (*i == 0 && (*c == '+' || *c == '-'))))
            .map(|(i, _)| i)
            .unwrap_or(s.len());
        let (num, suffix) = s.split_at(num_end);
        let (negative, digits) = match num.strip_prefix('-') {
            Some(d) => (true, d),
            None => (false, num.strip_prefix('+').unwrap_or(num)),
        };
        let (int_part, frac_part) = digits.split_once('.').unwrap_or((digits, ""));
        if (int_part.is_empty() && frac_part.is_empty()) || frac_part.contains('.') {
            return Err(bad());
        }
        let all: String = format!("{int_part}{frac_part}");
        if all.len() > 30 {
            return Err("quantity is too large".into());
        }
        let mantissa: i128 = all.parse().map_err(|_| bad())?;
        let frac = frac_part.len() as i32;
        let (format, nanos) = if let Some((_, k)) = BINARY.iter().find(|(suf, _)| *suf == suffix) {
            let scaled = mantissa.checked_mul(1024i128.pow(*k)).ok_or("quantity is too large")?;
            (Format::BinarySI, shift10(scaled, 9 - frac))
        } else if let Some((_, e)) = DECIMAL.iter().find(|(suf, _)| *suf == suffix) {
            (Format::DecimalSI, shift10(mantissa, 9 + e - frac))
        } else if let Some(exp) = suffix.strip_prefix(['e', 'E']) {
            let e: i32 = exp.parse().map_err(|_| bad())?;
            if !(-30..=30).contains(&e) {
                return Err("quantity is too large".into());
            }
            (Format::DecimalExponent, shift10(mantissa, 9 + e - frac))
        } else {
            return Err(bad());
        };
        let nanos = nanos.ok_or("quantity is too large")?;
        Ok(Quantity { nanos: if negative { -nanos } else { nanos }, format })
    }

    /// Zero, printing in `format`.
    pub fn zero(format: Format) -> Self {
        Quantity { nanos: 0, format }
    }

    /// The sum, in this quantity's format (as `Quantity.Add` keeps the receiver's).
    pub fn add(self, other: Quantity) -> Self {
        Quantity { nanos: self.nanos + other.nanos, format: self.format }
    }

    /// The same amount, printed in `format` (as `NewQuantity(…, DecimalSI)` re-creates a sum).
    pub fn in_format(self, format: Format) -> Self {
        Quantity { nanos: self.nanos, format }
    }

    /// Nano units.
    pub fn nanos(&self) -> i128 {
        self.nanos
    }

    /// The value in milli units, rounded up (`MilliValue`).
    pub fn milli(&self) -> i128 {
        shift10(self.nanos, -6).unwrap_or(0)
    }
}

/// The canonical decimal rendering: the largest exponent (a multiple of 3) with an integral mantissa.
fn decimal(nanos: i128, exponent_style: bool) -> String {
    let sign = if nanos < 0 { "-" } else { "" };
    let n = nanos.abs();
    let mut best = (n, -9);
    for e in [-6, -3, 0, 3, 6, 9, 12, 15, 18] {
        let d = pow10((e + 9) as u32);
        if n % d == 0 {
            best = (n / d, e);
        }
    }
    let (m, e) = best;
    let suffix = if exponent_style {
        if e == 0 { String::new() } else { format!("e{e}") }
    } else {
        DECIMAL.iter().find(|(_, x)| *x == e).map(|(s, _)| s.to_string()).unwrap_or_default()
    };
    format!("{sign}{m}{suffix}")
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.nanos == 0 {
            return f.write_str("0");
        }
        let integral = self.nanos % NANO == 0;
        let value = self.nanos / NANO;
        match self.format {
            Format::BinarySI if integral && value.abs() >= 1024 => {
                let mut best = (value, "");
                for (suf, k) in BINARY {
                    let d = 1024i128.pow(k);
                    if value % d == 0 {
                        best = (value / d, suf);
                    }
                }
                write!(f, "{}{}", best.0, best.1)
            }
            Format::DecimalExponent => f.write_str(&decimal(self.nanos, true)),
            _ => f.write_str(&decimal(self.nanos, false)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> Quantity {
        Quantity::parse(s).unwrap()
    }

    #[test]
    fn parses_and_prints_canonically() {
        for (input, printed) in [
            ("500m", "500m"),
            ("1", "1"),
            ("2Gi", "2Gi"),
            ("512Mi", "512Mi"),
            ("1024Mi", "1Gi"),
            ("1536Mi", "1536Mi"),
            ("1000m", "1"),
            ("0.5", "500m"),
            ("1.5", "1500m"),
            ("1500", "1500"),
            ("2000", "2k"),
            ("1e3", "1e3"),
            ("1E6", "1e6"),
            ("100M", "100M"),
            ("0", "0"),
            ("0.5Gi", "512Mi"),
            ("1k", "1k"),
            ("250u", "250u"),
        ] {
            assert_eq!(q(input).to_string(), printed, "{input}");
        }
    }

    #[test]
    fn compares_and_adds_across_formats() {
        assert!(q("2Gi") > q("1Gi"));
        assert!(q("1") == q("1000m"));
        assert!(q("1e3") == q("1k"));
        assert!(q("513Mi") > q("0.5Gi"));
        assert_eq!(q("500m").add(q("500m")).to_string(), "1");
        assert_eq!(q("512Mi").add(q("512Mi")).to_string(), "1Gi");
        assert_eq!(Quantity::zero(Format::DecimalSI).add(q("250m")).to_string(), "250m");
        assert_eq!(q("1.5").milli(), 1500);
    }

    #[test]
    fn rejects_what_the_server_rejects() {
        for bad in ["", "abc", "1Gb", "1..5", "--1", "1e", "m"] {
            assert!(Quantity::parse(bad).is_err(), "{bad:?}");
        }
    }
}
