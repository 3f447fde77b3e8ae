//! Unit tests of the pure parts: rendering at plan without a configured provider, validation, state from IAM.
