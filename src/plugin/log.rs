//! Provider logs on stderr, one hclog-shaped JSON object per line, which go-plugin parses and
//! Terraform shows under `provider.terraform-provider-jenkins` per `TF_LOG_PROVIDER` / `TF_LOG`.
//!
//! Never pass secrets (tokens, passwords, private keys, whole configurations) as the message or as
//! a value: Terraform writes these lines to `TF_LOG_PATH` files that users attach to bug reports.
//! Nothing here writes to stdout, which belongs to the handshake.

use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

/// hclog levels, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Per-RPC detail.
    Trace,
    /// Developer detail.
    Debug,
    /// Noteworthy events.
    Info,
    /// Something odd that did not fail the operation.
    Warn,
    /// A failure.
    Error,
    /// Above every level: nothing is emitted.
    Off,
}

impl Level {
    fn as_str(self) -> &'static str {
        match self {
            Level::Trace => "trace",
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
            Level::Off => "off",
        }
    }

    /// The threshold Terraform would apply to a `TF_LOG`-style value. Unset or unrecognised values
    /// keep info and above, so warnings still reach `TF_LOG_PATH` when someone turns logging on.
    pub fn from_env_value(v: Option<&str>) -> Level {
        match v.map(|s| s.trim().to_ascii_lowercase()).as_deref() {
            Some("trace" | "json") => Level::Trace,
            Some("debug") => Level::Debug,
            Some("info") => Level::Info,
            Some("warn") => Level::Warn,
            Some("error") => Level::Error,
            Some("off") => Level::Off,
            _ => Level::Info,
        }
    }
}

/// The process-wide threshold, read once from `TF_LOG_PROVIDER`, else `TF_LOG`.
fn threshold() -> Level {
    static LEVEL: OnceLock<Level> = OnceLock::new();
    *LEVEL.get_or_init(|| {
        let v =
            std::env::var("TF_LOG_PROVIDER").ok().filter(|s| !s.is_empty()).or_else(|| std::env::var("TF_LOG").ok());
        Level::from_env_value(v.as_deref())
    })
}

/// Whether a line at `level` would be written; lets callers skip building expensive values.
pub fn enabled(level: Level) -> bool {
    level != Level::Off && level >= threshold()
}

/// Logs at trace level. `kv` values must not contain secrets.
pub fn trace(msg: &str, kv: &[(&str, &str)]) {
    log(Level::Trace, msg, kv);
}

/// Logs at debug level. `kv` values must not contain secrets.
pub fn debug(msg: &str, kv: &[(&str, &str)]) {
    log(Level::Debug, msg, kv);
}

/// Logs at info level. `kv` values must not contain secrets.
pub fn info(msg: &str, kv: &[(&str, &str)]) {
    log(Level::Info, msg, kv);
}

/// Logs at warn level. `kv` values must not contain secrets.
pub fn warn(msg: &str, kv: &[(&str, &str)]) {
    log(Level::Warn, msg, kv);
}

/// Logs at error level. `kv` values must not contain secrets.
pub fn error(msg: &str, kv: &[(&str, &str)]) {
    log(Level::Error, msg, kv);
}

/// Writes one line if `level` passes the threshold. A failed write to stderr is ignored: there is
/// nowhere else to report it.
pub fn log(level: Level, msg: &str, kv: &[(&str, &str)]) {
    if !enabled(level) {
        return;
    }
    let line = format_line(level, msg, kv, SystemTime::now());
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

/// One JSON object and a newline. Keys starting with `@` are hclog's own; callers' keys that collide
/// with them are prefixed with `_` so they cannot change the level or message.
pub fn format_line(level: Level, msg: &str, kv: &[(&str, &str)], now: SystemTime) -> String {
    let mut s = String::with_capacity(96 + msg.len() + kv.iter().map(|(k, v)| k.len() + v.len() + 6).sum::<usize>());
    s.push_str("{\"@level\":\"");
    s.push_str(level.as_str());
    s.push_str("\",\"@message\":");
    push_json_str(&mut s, msg);
    s.push_str(",\"@module\":\"provider\",\"@timestamp\":\"");
    s.push_str(&format_timestamp(now));
    s.push('"');
    for (k, v) in kv {
        s.push(',');
        if k.starts_with('@') {
            push_json_str(&mut s, &format!("_{k}"));
        } else {
            push_json_str(&mut s, k);
        }
        s.push(':');
        push_json_str(&mut s, v);
    }
    s.push_str("}\n");
    s
}

fn push_json_str(out: &mut String, v: &str) {
    out.push('"');
    for c in v.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Go layout `2006-01-02T15:04:05.000000Z07:00` in UTC: exactly six fraction digits and `Z`.
/// go-plugin demotes lines whose timestamp does not parse with that layout to raw debug text.
pub fn format_timestamp(t: SystemTime) -> String {
    // A clock before 1970 is a broken host; log it as the epoch rather than fail.
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let (year, month, day) = civil_from_days((secs / 86_400) as i64);
    let rem = secs % 86_400;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:06}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_micros()
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day), by 400-year eras.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365], year starting 1 March
    let mp = (5 * doy + 2) / 153; // [0, 11], March = 0
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(secs: u64, micros: u32) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_micros(u64::from(micros))
    }

    #[test]
    fn timestamps_use_go_layout_with_six_fraction_digits() {
        assert_eq!(format_timestamp(at(0, 0)), "1970-01-01T00:00:00.000000Z");
        assert_eq!(format_timestamp(at(1_136_214_245, 7)), "2006-01-02T15:04:05.000007Z");
        // Leap day, and the last microsecond of a year.
        assert_eq!(format_timestamp(at(951_782_400, 123_456)), "2000-02-29T00:00:00.123456Z");
        assert_eq!(format_timestamp(at(1_798_761_599, 999_999)), "2026-12-31T23:59:59.999999Z");
        assert_eq!(format_timestamp(at(4_107_542_400, 0)), "2100-03-01T00:00:00.000000Z");
    }

    #[test]
    fn civil_dates_round_trip_day_by_day() {
        // Walk 1970..2400 and check the calendar advances by exactly one day each step.
        let (mut y, mut m, mut d) = civil_from_days(0);
        for days in 1..157_000 {
            let next = civil_from_days(days);
            let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
            let len = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m as usize - 1];
            let expect = if d < len {
                (y, m, d + 1)
            } else if m < 12 {
                (y, m + 1, 1)
            } else {
                (y + 1, 1, 1)
            };
            assert_eq!(next, expect, "day {days}");
            (y, m, d) = next;
        }
    }

    #[test]
    fn line_is_one_hclog_json_object() {
        let line = format_line(
            Level::Trace,
            "rpc \"x\"\n",
            &[("rpc", "PlanResourceChange"), ("@level", "error"), ("path", "a\\b")],
            at(1_136_214_245, 0),
        );
        assert!(line.ends_with("}\n") && line.matches('\n').count() == 1, "{line}");
        let v: serde_json::Value = serde_json::from_str(&line).expect("valid JSON");
        assert_eq!(v["@level"], "trace");
        assert_eq!(v["@message"], "rpc \"x\"\n");
        assert_eq!(v["@module"], "provider");
        assert_eq!(v["@timestamp"], "2006-01-02T15:04:05.000000Z");
        assert_eq!(v["rpc"], "PlanResourceChange");
        assert_eq!(v["_@level"], "error");
        assert_eq!(v["path"], "a\\b");
        assert!(line.starts_with("{\"@level\":\"trace\",\"@message\":"));
    }

    #[test]
    fn control_characters_are_escaped() {
        let line = format_line(Level::Info, "a\u{1}b\tc", &[], at(0, 0));
        assert!(line.contains("a\\u0001b\\tc"), "{line}");
    }

    #[test]
    fn levels_from_env_values() {
        assert_eq!(Level::from_env_value(Some("TRACE")), Level::Trace);
        assert_eq!(Level::from_env_value(Some("json")), Level::Trace);
        assert_eq!(Level::from_env_value(Some(" Debug ")), Level::Debug);
        assert_eq!(Level::from_env_value(Some("WARN")), Level::Warn);
        assert_eq!(Level::from_env_value(Some("off")), Level::Off);
        assert_eq!(Level::from_env_value(Some("bogus")), Level::Info);
        assert_eq!(Level::from_env_value(None), Level::Info);
        assert!(Level::Trace < Level::Debug && Level::Warn < Level::Error);
    }
}
