//! Shared by the test binaries: one emulator process per binary (two clusters, `controller` and
//! `remote`), started from the built binary in a temp dir and stopped when the test process exits.

#![allow(dead_code)]

use serde_json::Value;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// A running emulator.
pub struct Emulator {
    /// Its `--dir`.
    pub dir: PathBuf,
    /// `emulator.json`.
    pub info: Value,
    _guard: Child,
}

impl Emulator {
    /// `clusters.<name>.<field>` of emulator.json.
    pub fn field(&self, cluster: &str, field: &str) -> String {
        self.info["clusters"][cluster][field].as_str().unwrap_or_else(|| panic!("no {cluster}.{field}")).to_string()
    }

    /// The kubeconfig path.
    pub fn kubeconfig(&self) -> PathBuf {
        self.dir.join("kubeconfig")
    }
}

static EMULATOR: OnceLock<Emulator> = OnceLock::new();

/// The emulator shared by this test binary, started on first use.
pub fn emulator() -> &'static Emulator {
    EMULATOR.get_or_init(|| {
        let tag = std::thread::current().name().unwrap_or("t").replace("::", "-");
        let dir = std::env::temp_dir().join(format!("kube-emulator-test-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        // The shell waits for our stdin to close (this process exiting), then stops the emulator and
        // removes its directory (kept, with emulator.log, when KUBE_EMULATOR_KEEP is set), so no
        // emulator outlives the test binary.
        let script = "\"$0\" --dir \"$1\" --cluster controller --cluster remote 2>\"$1/emulator.log\" & pid=$!; \
                      cat >/dev/null; kill $pid; wait $pid; [ -n \"$KUBE_EMULATOR_KEEP\" ] || rm -rf \"$1\"";
        std::fs::create_dir_all(&dir).expect("temp dir");
        let guard = Command::new("sh")
            .arg("-c")
            .arg(script)
            .arg(env!("CARGO_BIN_EXE_kube-emulator"))
            .arg(&dir)
            .stdin(Stdio::piped())
            .spawn()
            .expect("spawn kube-emulator");
        let json_path = dir.join("emulator.json");
        let start = Instant::now();
        let info = loop {
            if let Ok(text) = std::fs::read_to_string(&json_path) {
                break serde_json::from_str(&text).expect("emulator.json is JSON");
            }
            assert!(start.elapsed() < Duration::from_secs(20), "emulator did not start");
            std::thread::sleep(Duration::from_millis(20));
        };
        Emulator { dir, info, _guard: guard }
    })
}

/// A unique lowercase name for a test's namespace.
pub fn unique(prefix: &str) -> String {
    let n = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    format!("{prefix}-{:x}", n ^ (std::process::id() << 8))
}

/// Polls `f` until it returns Some, for at most `secs` seconds.
pub fn eventually<T>(secs: u64, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(start.elapsed() < Duration::from_secs(secs), "condition not reached in {secs}s");
        std::thread::sleep(Duration::from_millis(25));
    }
}
