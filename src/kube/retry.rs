//! Which Kubernetes requests are retried, when, and for how long, as client-go does it
//! (`rest/request.go`: a 429 or 5xx answer waits `Retry-After` when the server sends one, else
//! backs off; connection resets and timeouts are retried only where repeating the call is safe).
//! Pure: the layer in [`super::retrying`] sleeps and loops; nothing here waits, reads a clock or
//! draws random numbers (jitter comes in as an argument), in the style of [`crate::iam::retry`].
//!
//! Only idempotent calls are repeated: GET (reads, lists, watches), server-side apply and merge
//! patches (applying them twice gives the same object), PUT with a `resourceVersion` (the server
//! refuses a second one with a conflict), and DELETE (a second one finds nothing, which callers
//! take as deleted). A create (POST) is repeated only after a 429, which the API server's priority
//! and fairness answers before it processes anything; after a 500 or a broken connection it may
//! have landed, so the error is reported instead.

use crate::iam::Backoff;
use std::time::Duration;

/// The budget for one Kubernetes request: 5 attempts and 30 s in all (attempts and waits) at
/// most, from 250 ms doubling to 8 s. A `Retry-After` longer than what is left of the budget ends the retries.
pub const KUBE_BACKOFF: Backoff = Backoff {
    first: Duration::from_millis(250),
    factor: 2,
    max_delay: Duration::from_secs(8),
    max_attempts: 5,
    budget: Duration::from_secs(30),
};

/// A request as far as retrying is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    /// GET: a read, a list or a watch.
    Get,
    /// PATCH with `application/apply-patch+yaml`: server-side apply.
    Apply,
    /// PATCH with `application/merge-patch+json`.
    MergePatch,
    /// Any other PATCH (JSON patch, strategic merge): may add to lists each time.
    OtherPatch,
    /// PUT; `with_resource_version` when the body carries `metadata.resourceVersion`.
    Put { with_resource_version: bool },
    /// DELETE.
    Delete,
    /// POST: a create.
    Create,
    /// HEAD, OPTIONS and anything else.
    Other,
}

impl Verb {
    /// The verb of a request from its method and `Content-Type`; `put_has_resource_version` is
    /// only looked at for PUT.
    pub fn of(method: &str, content_type: Option<&str>, put_has_resource_version: bool) -> Verb {
        let media = content_type.map(|c| c.split(';').next().unwrap_or("").trim().to_ascii_lowercase());
        match method {
            "GET" => Verb::Get,
            "PATCH" => match media.as_deref() {
                Some("application/apply-patch+yaml") => Verb::Apply,
                Some("application/merge-patch+json") => Verb::MergePatch,
                _ => Verb::OtherPatch,
            },
            "PUT" => Verb::Put { with_resource_version: put_has_resource_version },
            "DELETE" => Verb::Delete,
            "POST" => Verb::Create,
            _ => Verb::Other,
        }
    }

    /// Whether repeating the request cannot do anything the first one would not have.
    pub fn is_idempotent(self) -> bool {
        matches!(
            self,
            Verb::Get | Verb::Apply | Verb::MergePatch | Verb::Put { with_resource_version: true } | Verb::Delete
        )
    }

    /// The word used in messages.
    pub fn word(self) -> &'static str {
        match self {
            Verb::Get => "get",
            Verb::Apply => "apply",
            Verb::MergePatch | Verb::OtherPatch => "patch",
            Verb::Put { .. } => "update",
            Verb::Delete => "delete",
            Verb::Create => "create",
            Verb::Other => "request",
        }
    }
}

/// What one attempt came back with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// An HTTP answer with this status.
    Status(u16),
    /// The connection was refused, reset or timed out: the server may or may not have acted.
    Transport,
    /// Any other failure (TLS, credentials, a malformed request): repeating will not help.
    Fatal,
}

/// What to do after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The answer stands (success, or an error retrying cannot fix).
    Done,
    /// Wait this long and try again.
    Retry(Duration),
    /// The answer was transient but the budget is spent: report it, saying how often it was retried.
    Exhausted,
}

/// Whether a status is transient: throttling and server errors, except 501 (the server will never
/// implement it).
pub fn is_transient_status(status: u16) -> bool {
    status == 429 || (500..=599).contains(&status) && status != 501
}

/// Whether `outcome` of a `verb` request is worth repeating at all, budget aside.
pub fn is_retryable(verb: Verb, outcome: Outcome) -> bool {
    match outcome {
        Outcome::Status(429) => verb.is_idempotent() || verb == Verb::Create,
        Outcome::Status(s) => is_transient_status(s) && verb.is_idempotent(),
        Outcome::Transport => verb.is_idempotent(),
        Outcome::Fatal => false,
    }
}

/// Parses `Retry-After` as the API server sends it: whole seconds (an HTTP date is not sent by
/// Kubernetes and is ignored, as client-go does).
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// The decision after `retries` retries and `waited` time spent so far (attempts and sleeps), for
/// an attempt that ended with `outcome`. The server's `Retry-After` replaces the backoff delay (it knows how busy it is);
/// otherwise the delay is the schedule's, with `jitter` in `[0, 1]`.
pub fn decide(
    policy: &Backoff,
    verb: Verb,
    outcome: Outcome,
    retry_after: Option<Duration>,
    retries: u32,
    waited: Duration,
    jitter: f64,
) -> Decision {
    if !is_retryable(verb, outcome) {
        return Decision::Done;
    }
    if retries + 1 >= policy.max_attempts {
        return Decision::Exhausted;
    }
    let delay = match (outcome, retry_after) {
        (Outcome::Status(_), Some(server)) => server,
        _ => policy.delay_with_jitter(retries, jitter),
    };
    if waited + delay > policy.budget { Decision::Exhausted } else { Decision::Retry(delay) }
}

/// Why a retried request gave up: what it was, how often it was tried, and what came back last.
/// Carries no header, body or token: only the method, the path and the status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exhausted {
    /// The verb's word, e.g. `apply`.
    pub verb: &'static str,
    /// The request path without its query, e.g. `/api/v1/namespaces/jenkins/configmaps/x`.
    pub path: String,
    /// How many times the request was sent.
    pub attempts: u32,
    /// The last HTTP status, or `None` when the last attempt failed to connect.
    pub last_status: Option<u16>,
    /// The API server's message with the last status, or the connection error.
    pub last_message: String,
}

impl std::fmt::Display for Exhausted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let retries = self.attempts.saturating_sub(1);
        let times = if retries == 1 { "time" } else { "times" };
        match self.last_status {
            Some(s) => write!(
                f,
                "{} {} still answered HTTP {s} after it was retried {retries} {times}: {}",
                self.verb, self.path, self.last_message
            ),
            None => write!(
                f,
                "{} {} still failed to connect after it was retried {retries} {times}: {}",
                self.verb, self.path, self.last_message
            ),
        }
    }
}

impl std::error::Error for Exhausted {}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn verbs_are_read_from_method_and_content_type() {
        assert_eq!(Verb::of("GET", None, false), Verb::Get);
        assert_eq!(Verb::of("PATCH", Some("application/apply-patch+yaml"), false), Verb::Apply);
        assert_eq!(Verb::of("PATCH", Some("application/merge-patch+json; charset=utf-8"), false), Verb::MergePatch);
        assert_eq!(Verb::of("PATCH", Some("application/json-patch+json"), false), Verb::OtherPatch);
        assert_eq!(Verb::of("PATCH", None, false), Verb::OtherPatch);
        assert_eq!(Verb::of("PUT", Some("application/json"), true), Verb::Put { with_resource_version: true });
        assert_eq!(Verb::of("DELETE", None, false), Verb::Delete);
        assert_eq!(Verb::of("POST", Some("application/json"), true), Verb::Create);
    }

    #[test]
    fn only_idempotent_verbs_repeat_after_a_server_error_or_a_broken_connection() {
        for verb in [Verb::Get, Verb::Apply, Verb::MergePatch, Verb::Put { with_resource_version: true }, Verb::Delete]
        {
            assert!(is_retryable(verb, Outcome::Status(500)), "{verb:?}");
            assert!(is_retryable(verb, Outcome::Status(503)), "{verb:?}");
            assert!(is_retryable(verb, Outcome::Transport), "{verb:?}");
        }
        for verb in [Verb::Create, Verb::OtherPatch, Verb::Put { with_resource_version: false }, Verb::Other] {
            assert!(!is_retryable(verb, Outcome::Status(500)), "{verb:?}");
            assert!(!is_retryable(verb, Outcome::Transport), "{verb:?}");
        }
    }

    #[test]
    fn a_create_repeats_only_after_throttling() {
        assert!(is_retryable(Verb::Create, Outcome::Status(429)));
        assert!(!is_retryable(Verb::Create, Outcome::Status(502)));
    }

    #[test]
    fn client_errors_and_not_implemented_are_final() {
        for status in [200, 201, 400, 401, 403, 404, 409, 422, 501] {
            assert!(!is_retryable(Verb::Get, Outcome::Status(status)), "{status}");
        }
        assert!(!is_retryable(Verb::Get, Outcome::Fatal));
    }

    #[test]
    fn retry_after_is_whole_seconds() {
        assert_eq!(parse_retry_after("1"), Some(Duration::from_secs(1)));
        assert_eq!(parse_retry_after(" 7 "), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after("0"), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(parse_retry_after("-1"), None);
        assert_eq!(parse_retry_after("1.5"), None);
        assert_eq!(parse_retry_after(""), None);
    }

    #[test]
    fn the_server_delay_replaces_the_backoff() {
        let d = decide(&KUBE_BACKOFF, Verb::Get, Outcome::Status(429), Some(Duration::from_secs(3)), 0, ms(0), 0.0);
        assert_eq!(d, Decision::Retry(Duration::from_secs(3)));
        // Without one, the schedule's delay.
        let d = decide(&KUBE_BACKOFF, Verb::Get, Outcome::Status(429), None, 2, ms(0), 1.0);
        assert_eq!(d, Decision::Retry(ms(1000)));
    }

    #[test]
    fn jitter_stays_in_the_upper_half_of_the_capped_delay() {
        for retries in 0..4 {
            let full = KUBE_BACKOFF.delay(retries);
            assert!(full <= KUBE_BACKOFF.max_delay);
            for j in [0.0, 0.25, 0.5, 0.99, 1.0, -3.0, 7.0, f64::NAN] {
                let Decision::Retry(d) =
                    decide(&KUBE_BACKOFF, Verb::Apply, Outcome::Status(500), None, retries, ms(0), j)
                else {
                    panic!("retry {retries} with jitter {j} should be allowed");
                };
                assert!(
                    d >= full / 2 && d <= full,
                    "retry {retries} jitter {j}: {d:?} not in [{:?}, {full:?}]",
                    full / 2
                );
            }
        }
        assert_eq!(KUBE_BACKOFF.delay(10), KUBE_BACKOFF.max_delay);
    }

    #[test]
    fn the_budget_bounds_attempts_and_waiting() {
        // The fifth attempt is the last one.
        assert!(matches!(
            decide(&KUBE_BACKOFF, Verb::Get, Outcome::Status(500), None, 3, ms(0), 0.5),
            Decision::Retry(_)
        ));
        assert_eq!(decide(&KUBE_BACKOFF, Verb::Get, Outcome::Status(500), None, 4, ms(0), 0.5), Decision::Exhausted);
        // A wait that would pass 30 s is not taken, whether ours or the server's.
        assert_eq!(
            decide(&KUBE_BACKOFF, Verb::Get, Outcome::Status(500), None, 1, Duration::from_secs(30), 0.5),
            Decision::Exhausted
        );
        assert_eq!(
            decide(&KUBE_BACKOFF, Verb::Get, Outcome::Status(429), Some(Duration::from_secs(31)), 0, ms(0), 0.5),
            Decision::Exhausted
        );
        // Walking the whole schedule stays inside the budget.
        let (mut retries, mut waited) = (0, Duration::ZERO);
        while let Decision::Retry(d) =
            decide(&KUBE_BACKOFF, Verb::Delete, Outcome::Transport, None, retries, waited, 1.0)
        {
            retries += 1;
            waited += d;
        }
        assert_eq!(retries, KUBE_BACKOFF.max_attempts - 1);
        assert!(waited <= KUBE_BACKOFF.budget);
    }

    #[test]
    fn final_answers_are_not_budgeted() {
        assert_eq!(decide(&KUBE_BACKOFF, Verb::Get, Outcome::Status(404), None, 0, ms(0), 0.0), Decision::Done);
        assert_eq!(decide(&KUBE_BACKOFF, Verb::Create, Outcome::Status(500), None, 0, ms(0), 0.0), Decision::Done);
        assert_eq!(decide(&KUBE_BACKOFF, Verb::Get, Outcome::Status(200), None, 9, ms(0), 0.0), Decision::Done);
    }

    #[test]
    fn the_exhausted_error_names_verb_path_status_and_retries() {
        let e = Exhausted {
            verb: "apply",
            path: "/api/v1/namespaces/jenkins/configmaps/cloud".into(),
            attempts: 5,
            last_status: Some(500),
            last_message: "injected fault".into(),
        };
        assert_eq!(
            e.to_string(),
            "apply /api/v1/namespaces/jenkins/configmaps/cloud still answered HTTP 500 after it was retried 4 times: injected fault"
        );
        let e = Exhausted { last_status: None, attempts: 2, last_message: "connection refused".into(), ..e };
        assert!(e.to_string().contains("failed to connect after it was retried 1 time: connection refused"));
    }
}
