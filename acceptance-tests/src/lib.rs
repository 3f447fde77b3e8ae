//! Shared harness for the acceptance tests.
