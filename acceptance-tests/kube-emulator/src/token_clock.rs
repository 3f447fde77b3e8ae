//! The token clock knob: `POST /emulator/clock {"access_key": "AKIA…", "advance_seconds": 960}` makes
//! every EKS token of that access key signed *before* the knob was set count as `advance_seconds`
//! older, as if that much time had passed between two requests of one client. Tokens signed after
//! the knob are judged by the real clock, as a client whose own clock moved on would sign them: so a
//! client that re-signs on the 401 (as client-go's exec plugin does) recovers, and one that keeps its
//! cached token does not. Scoped to an access key (a test's account), since tests share a cluster.
//! Pure.

use serde::Deserialize;

/// One knob setting, as posted, with the time it was set.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct ClockShift {
    /// The signing access key whose older tokens age.
    pub access_key: String,
    /// How many seconds older they count.
    pub advance_seconds: i64,
    /// When the knob was set (epoch seconds; filled in by the server).
    #[serde(skip)]
    pub set_at: i64,
}

/// True when a token of `access_key` signed at `signed_at` has expired at `now` under a shift.
pub fn expired(shifts: &[ClockShift], access_key: &str, signed_at: i64, now: i64) -> bool {
    shifts.iter().any(|s| {
        s.access_key == access_key
            && signed_at < s.set_at
            && now + s.advance_seconds > signed_at + crate::sigv4::LIFETIME_SECS
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_older_tokens_of_the_key_age() {
        let s = [ClockShift { access_key: "AKIA1".into(), advance_seconds: 960, set_at: 1000 }];
        assert!(expired(&s, "AKIA1", 990, 1001), "signed before the knob: 16 minutes older");
        assert!(!expired(&s, "AKIA1", 1000, 1001), "signed after the knob: the real clock");
        assert!(!expired(&s, "AKIA2", 990, 1001), "another key");
        let short = [ClockShift { access_key: "AKIA1".into(), advance_seconds: 60, set_at: 1000 }];
        assert!(!expired(&short, "AKIA1", 990, 1001), "a minute more is within the 15");
    }
}
