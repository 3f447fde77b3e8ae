//! Jenkins' own HTTP API, for the checks and waits around a cloud's ConfigMap: `check` (does the
//! controller accept this document?) and `export` (what does it run?). `endpoints` is pure (paths
//! and the meaning of answers); `client` does the I/O (http and https, basic auth with an API token,
//! bounded timeouts, retries of these idempotent calls).

pub mod client;
pub mod endpoints;

pub use client::{CallError, JenkinsClient};
pub use endpoints::{CheckMessage, LiveCloud, Presence, Refusal};
