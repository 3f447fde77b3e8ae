//! Classification of IAM (and STS) error codes into retry classes, and backoff schedules as
//! plain data. The caller sleeps and loops; nothing here waits, reads a clock or draws random
//! numbers (jitter comes in as an argument).
//!
//! Rules follow the best peer: "Invalid principal" on `CreateRole`/`UpdateAssumeRolePolicy` and
//! `NoSuchEntity` on the read after create are IAM propagation, retried for up to 2 minutes;
//! `ConcurrentModification` and throttling are retried with backoff; `DeleteConflict` on
//! `DeleteRole` is retried while detachments settle.

use std::time::Duration;

/// How long IAM propagation may take before an error is believed (the peer's
/// `propagationTimeout`, which its authors advise not to raise lightly).
pub const PROPAGATION_TIMEOUT: Duration = Duration::from_secs(120);
/// Right after `CreateRole`, IAM sometimes reports the `AROA…` id as the ARN; the read is trusted
/// only after this many consecutive reads with a real ARN.
pub const STABLE_ARN_READS: u32 = 5;

/// The IAM call that failed; some codes mean different things after different calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IamOperation {
    /// `CreateRole`.
    CreateRole,
    /// `UpdateAssumeRolePolicy`.
    UpdateAssumeRolePolicy,
    /// `GetRole` (or another read) right after this process created the role.
    ReadAfterCreate,
    /// Any other read.
    Read,
    /// `AttachRolePolicy`, `DetachRolePolicy`, `PutRolePolicy`, `DeleteRolePolicy`.
    ModifyPolicies,
    /// `DeleteRole`.
    DeleteRole,
    /// `CreateOpenIDConnectProvider` and friends.
    OidcProvider,
    /// `sts:AssumeRole` of a role whose trust this process just wrote.
    AssumeRoleAfterTrustChange,
    /// Anything else.
    Other,
}

/// What to do about an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryClass {
    /// Transient (throttling, a server error, a concurrent writer): back off and retry.
    Retryable,
    /// IAM has not propagated yet: retry until [`PROPAGATION_TIMEOUT`].
    EventualConsistency,
    /// Retrying will not help: report it.
    Fatal,
}

const THROTTLING: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottled",
    "RequestThrottledException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "PriorRequestNotComplete",
    "SlowDown",
];
const TRANSIENT: &[&str] = &[
    "ServiceFailure",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "InternalFailure",
    "InternalError",
    "RequestTimeout",
    "RequestTimeoutException",
    "ConcurrentModification",
    "ConcurrentModificationException",
    // EKS's 500 ("These errors are usually caused by a server-side issue", EKS API reference,
    // Common errors / DescribeCluster errors).
    "ServerException",
];

/// Whether the code is a throttling code (callers may want adaptive rate limiting on top).
pub fn is_throttling(code: &str) -> bool {
    THROTTLING.contains(&code)
}

/// Classifies an error by the operation, its code and its message.
pub fn classify(op: IamOperation, code: &str, message: &str) -> RetryClass {
    use IamOperation as Op;
    if is_throttling(code) || TRANSIENT.contains(&code) {
        return RetryClass::Retryable;
    }
    let invalid_principal = message.to_ascii_lowercase().contains("invalid principal");
    match (op, code) {
        (Op::CreateRole | Op::UpdateAssumeRolePolicy, "MalformedPolicyDocument") if invalid_principal => {
            RetryClass::EventualConsistency
        }
        (Op::ReadAfterCreate, "NoSuchEntity") => RetryClass::EventualConsistency,
        (Op::DeleteRole, "DeleteConflict") => RetryClass::EventualConsistency,
        (Op::AssumeRoleAfterTrustChange, "AccessDenied") => RetryClass::EventualConsistency,
        _ => RetryClass::Fatal,
    }
}

/// A hint to append to a fatal error whose fix is known.
pub fn fatal_hint(code: &str, message: &str) -> Option<&'static str> {
    match code {
        "LimitExceeded" if message.contains("ACLSizePerRole") => Some(
            "the trust policy exceeds the account's role trust policy length quota; split the clusters across \
             roles or raise \"Role trust policy length\" in Service Quotas",
        ),
        "MalformedPolicyDocument" if message.to_ascii_lowercase().contains("invalid principal") => Some(
            "a principal does not exist (or did not yet after 2 minutes); check the ARN, or trust the account root \
             with an ArnEquals aws:PrincipalArn condition, which IAM accepts before the role exists",
        ),
        "EntityAlreadyExists" => Some("an object of that name already exists; import it or choose another name"),
        _ => None,
    }
}

/// A backoff schedule: exponential from `first` by `factor`, capped at `max_delay`, over at most
/// `max_attempts` attempts and `budget` of total waiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Delay before the first retry.
    pub first: Duration,
    /// Growth per retry.
    pub factor: u32,
    /// Longest single delay.
    pub max_delay: Duration,
    /// Most attempts, the first call included.
    pub max_attempts: u32,
    /// Most total waiting.
    pub budget: Duration,
}

impl Backoff {
    /// The schedule for a class; `None` for [`RetryClass::Fatal`].
    pub fn for_class(class: RetryClass) -> Option<Backoff> {
        match class {
            RetryClass::Retryable => Some(Backoff {
                first: Duration::from_millis(500),
                factor: 2,
                max_delay: Duration::from_secs(20),
                max_attempts: 25,
                budget: Duration::from_secs(300),
            }),
            RetryClass::EventualConsistency => Some(Backoff {
                first: Duration::from_secs(1),
                factor: 2,
                max_delay: Duration::from_secs(10),
                max_attempts: 40,
                budget: PROPAGATION_TIMEOUT,
            }),
            RetryClass::Fatal => None,
        }
    }

    /// Delay before retry `retry` (0-based), without jitter.
    pub fn delay(&self, retry: u32) -> Duration {
        let mut d = self.first;
        for _ in 0..retry {
            d = d.saturating_mul(self.factor);
            if d >= self.max_delay {
                return self.max_delay;
            }
        }
        d.min(self.max_delay)
    }

    /// [`Backoff::delay`] scaled by `jitter` in `[0, 1]` into its upper half, so concurrent
    /// writers spread out without any delay collapsing to zero.
    pub fn delay_with_jitter(&self, retry: u32, jitter: f64) -> Duration {
        let j = if jitter.is_finite() { jitter.clamp(0.0, 1.0) } else { 0.0 };
        self.delay(retry).mul_f64(0.5 + 0.5 * j)
    }

    /// Every delay the schedule allows, in order, until the attempts or the budget run out.
    pub fn schedule(&self) -> Vec<Duration> {
        let mut out = Vec::new();
        let mut total = Duration::ZERO;
        for retry in 0..self.max_attempts.saturating_sub(1) {
            let d = self.delay(retry);
            if total + d > self.budget {
                break;
            }
            total += d;
            out.push(d);
        }
        out
    }

    /// Whether another retry is allowed after `retries` retries and `waited` total waiting.
    pub fn allows(&self, retries: u32, waited: Duration) -> bool {
        retries + 1 < self.max_attempts && waited + self.delay(retries) <= self.budget
    }
}
