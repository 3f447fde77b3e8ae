//! libFuzzer target: every input goes through [`check`]; see `fuzz/README.md`.
#![no_main]

use std::sync::OnceLock;
use terraform_provider_jenkins_fuzz::{check, cty::Type, types};

static TYPES: OnceLock<Vec<Type>> = OnceLock::new();

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    check(data, TYPES.get_or_init(types));
});
