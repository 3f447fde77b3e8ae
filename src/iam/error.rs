//! The one error type of the IAM core. Owns messages only; callers add attribute paths.

use thiserror::Error;

/// Result alias for the IAM core.
pub type Result<T, E = IamError> = std::result::Result<T, E>;

/// What went wrong with a policy, ARN or name. Messages are complete sentences that say what to
/// change, so a resource can use them as a diagnostic detail unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum IamError {
    /// The text is not JSON (after URL-decoding when it was encoded).
    #[error("policy is not valid JSON (line {line}, column {column}): {message}")]
    Json {
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// serde_json's description.
        message: String,
    },
    /// The text looked URL-encoded but did not decode.
    #[error("policy is URL-encoded but does not decode: {0}")]
    Encoding(String),
    /// JSON that is not a policy of the expected shape; `path` is like `Statement[1].Condition`.
    #[error("policy element {path}: {message}")]
    Shape {
        /// Where in the document, in IAM's element names.
        path: String,
        /// What is wrong and what to write instead.
        message: String,
    },
    /// A value (ARN, name, id, duration) that breaks an IAM or STS rule.
    #[error("invalid {what} {value:?}: {rule}")]
    Invalid {
        /// What kind of value, e.g. "role name".
        what: &'static str,
        /// The offending value, as given.
        value: String,
        /// The rule it breaks.
        rule: String,
    },
}

impl IamError {
    pub(crate) fn shape(path: impl Into<String>, message: impl Into<String>) -> Self {
        IamError::Shape { path: path.into(), message: message.into() }
    }

    pub(crate) fn invalid(what: &'static str, value: impl Into<String>, rule: impl Into<String>) -> Self {
        IamError::Invalid { what, value: value.into(), rule: rule.into() }
    }
}
