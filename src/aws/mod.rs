//! AWS: the SDK configuration shared by every resource, EKS token signing, and the mapping of SDK
//! errors to diagnostics. Secrets (keys, session tokens, bearer tokens) never reach a log or a message.

pub mod assume;
pub mod context;
pub mod eks_token;
pub mod errors;
pub mod iam;

pub use assume::AssumedRole;
pub use context::AwsContext;
