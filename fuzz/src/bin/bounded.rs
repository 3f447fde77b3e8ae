//! Bounded mutation fuzzer for the cty codecs that runs on stable Rust without libFuzzer.
//!
//! Usage: `bounded [--seconds N] [--seed S] [--write-seeds DIR]`. Starts from the seed inputs,
//! mutates them (bit flips, msgpack-flavoured byte values, inserts, deletes, splices, selector
//! changes), feeds each mutant to [`check`], and keeps mutants that decode as new corpus entries.
//! On a failed property it saves the input under `artifacts/` and exits 1. Not coverage-guided:
//! see `fuzz/README.md` for when the libFuzzer target runs instead.

use std::panic;
use std::time::{Duration, Instant};
use terraform_provider_jenkins_fuzz::cty::msgpack;
use terraform_provider_jenkins_fuzz::{check, seeds, types};

/// xorshift64*: small, seedable, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { (self.next() % n as u64) as usize }
    }
}

/// Bytes that start interesting msgpack values.
const MAGIC: &[u8] = &[
    0x00, 0x01, 0x7f, 0x80, 0x81, 0x8f, 0x90, 0x91, 0x9f, 0xa0, 0xa1, 0xbf, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc7,
    0xc8, 0xca, 0xcb, 0xcc, 0xcf, 0xd0, 0xd3, 0xd4, 0xd5, 0xd8, 0xd9, 0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xff, 0x0c, 0x22,
    0x5b, 0x7b,
];

fn mutate(rng: &mut Rng, input: &[u8], corpus: &[Vec<u8>]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..=rng.below(4) {
        let len = out.len();
        match rng.below(8) {
            0 if len > 0 => {
                let i = rng.below(len);
                out[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                out[i] = MAGIC[rng.below(MAGIC.len())];
            }
            2 => {
                let i = rng.below(len + 1);
                out.insert(i, MAGIC[rng.below(MAGIC.len())]);
            }
            3 if len > 1 => {
                let i = rng.below(len);
                let n = 1 + rng.below((len - i).min(8));
                out.drain(i..i + n);
            }
            4 if len > 0 => {
                // Duplicate a slice: repeats elements and nests containers.
                let i = rng.below(len);
                let n = 1 + rng.below((len - i).min(16));
                let piece = out[i..i + n].to_vec();
                let at = rng.below(out.len() + 1);
                out.splice(at..at, piece);
            }
            5 if !corpus.is_empty() => {
                let other = &corpus[rng.below(corpus.len())];
                if other.len() > 1 {
                    let i = 1 + rng.below(other.len() - 1);
                    let at = rng.below(len + 1);
                    out.truncate(at.max(1));
                    out.extend_from_slice(&other[i..]);
                }
            }
            6 if len > 0 => out[0] = rng.next() as u8,
            _ if len > 2 => {
                // Nudge a length or count byte.
                let i = 1 + rng.below(len - 1);
                out[i] = out[i].wrapping_add(if rng.next() & 1 == 0 { 1 } else { 0xff });
            }
            _ => out.push(rng.next() as u8),
        }
    }
    out.truncate(4096);
    out
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let types = types();
    let seed_inputs = seeds(&types);

    if let Some(dir) = arg("--write-seeds") {
        std::fs::create_dir_all(&dir).expect("create seed dir");
        for (i, s) in seed_inputs.iter().enumerate() {
            std::fs::write(format!("{dir}/seed-{i:02}"), s).expect("write seed");
        }
        println!("wrote {} seeds to {dir}", seed_inputs.len());
        return;
    }

    let seconds: u64 = arg("--seconds").and_then(|s| s.parse().ok()).unwrap_or(60);
    let seed: u64 = arg("--seed").and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64)
    }) | 1;
    let mut rng = Rng(seed);
    let mut corpus = seed_inputs.clone();
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut runs: u64 = 0;
    panic::set_hook(Box::new(|_| {}));

    println!("bounded fuzzer: {seconds}s, seed {seed}, {} seeds", corpus.len());
    while Instant::now() < deadline {
        for _ in 0..256 {
            let base = &corpus[rng.below(corpus.len())];
            let input = mutate(&mut rng, base, &corpus);
            runs += 1;
            let result = panic::catch_unwind(|| check(&input, &types));
            if let Err(payload) = result {
                let msg = payload
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                std::fs::create_dir_all("artifacts").ok();
                let path = format!("artifacts/bounded-crash-{seed}-{runs}");
                std::fs::write(&path, &input).ok();
                eprintln!("property failed after {runs} runs: {msg}\ninput saved to {path}");
                std::process::exit(1);
            }
            let Some((&selector, rest)) = input.split_first() else { continue };
            let ty = &types[usize::from(selector) % types.len()];
            if corpus.len() < 20_000 && msgpack::decode(rest, ty).is_ok() {
                corpus.push(input);
            }
        }
    }
    println!("bounded fuzzer: {runs} runs, corpus {} inputs, no failures", corpus.len());
}
