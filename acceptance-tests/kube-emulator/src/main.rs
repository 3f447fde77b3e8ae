//! `kube-emulator`: a Kubernetes API server emulator for the provider's acceptance tests.
//!
//! `kube-emulator --dir DIR --cluster controller --cluster remote [--aws-secret KEY=SECRET]...` serves each
//! cluster over HTTPS on its own loopback port with its own CA, issuer, admin token and objects, writes
//! `DIR/emulator.json`, `DIR/kubeconfig` and `DIR/<cluster>-ca.pem` once every listener is up, and serves
//! until SIGTERM or SIGINT. See the crate README for what it emulates and what it does not.

mod admission;
mod api;
mod auth;
mod clock;
mod cluster;
mod controllers;
mod defaults;
mod discovery;
mod faults;
mod kinds;
mod openapi;
mod paging;
mod params;
mod patch;
mod proto;
mod quantity;
mod rbac;
mod rollouts;
mod selectors;
mod server;
mod sigv4;
mod ssa;
mod status;
mod store;
mod table;
mod tls;
mod token_clock;
mod tokens;
mod validation;
mod watch;

use serde_json::json;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Parsed command line.
struct Args {
    dir: PathBuf,
    clusters: Vec<String>,
    aws_secrets: HashMap<String, String>,
}

const USAGE: &str =
    "usage: kube-emulator --dir DIR --cluster NAME [--cluster NAME]... [--aws-secret ACCESS_KEY=SECRET]...";

fn parse_args(args: impl Iterator<Item = String>) -> Result<Args, String> {
    let (mut dir, mut clusters, mut aws_secrets) = (None, vec![], HashMap::new());
    let mut it = args.peekable();
    while let Some(a) = it.next() {
        let (flag, inline) = match a.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (a.clone(), None),
        };
        let mut value = || inline.clone().or_else(|| it.next()).ok_or_else(|| format!("{flag} needs a value\n{USAGE}"));
        match flag.as_str() {
            "--dir" => dir = Some(PathBuf::from(value()?)),
            "--cluster" => {
                let name = value()?;
                if !validation::is_dns1123_label(&name) || clusters.contains(&name) {
                    return Err(format!("invalid or duplicate cluster name {name:?}"));
                }
                clusters.push(name);
            }
            "--aws-secret" => {
                let v = value()?;
                let (k, s) =
                    v.split_once('=').ok_or_else(|| format!("--aws-secret wants ACCESS_KEY=SECRET, got {v:?}"))?;
                aws_secrets.insert(k.to_string(), s.to_string());
            }
            "-h" | "--help" => return Err(USAGE.to_string()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    if aws_secrets.is_empty() {
        aws_secrets.insert("testing".into(), "testing".into());
    }
    if clusters.is_empty() {
        return Err(format!("at least one --cluster is required\n{USAGE}"));
    }
    Ok(Args { dir: dir.ok_or_else(|| format!("--dir is required\n{USAGE}"))?, clusters, aws_secrets })
}

/// Writes a file atomically (temporary file, then rename).
fn write_atomic(path: &Path, contents: &str) -> std::io::Result<()> {
    let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
    std::fs::write(&tmp, contents)?;
    std::fs::rename(&tmp, path)
}

fn kubeconfig(entries: &[(String, String, String, String)]) -> String {
    use base64::Engine;
    let mut s = String::from("apiVersion: v1\nkind: Config\npreferences: {}\n");
    s.push_str(&format!("current-context: {}\nclusters:\n", entries[0].0));
    for (name, endpoint, ca, _) in entries {
        let ca64 = base64::engine::general_purpose::STANDARD.encode(ca);
        s.push_str(&format!(
            "- name: {name}\n  cluster:\n    server: {endpoint}\n    certificate-authority-data: {ca64}\n"
        ));
    }
    s.push_str("contexts:\n");
    for (name, ..) in entries {
        s.push_str(&format!(
            "- name: {name}\n  context:\n    cluster: {name}\n    user: {name}-admin\n    namespace: default\n"
        ));
    }
    s.push_str("users:\n");
    for (name, _, _, token) in entries {
        s.push_str(&format!("- name: {name}-admin\n  user:\n    token: {token}\n"));
    }
    s
}

async fn run(args: Args) -> Result<(), BoxError> {
    std::fs::create_dir_all(&args.dir)?;
    let args = Args { dir: std::path::absolute(&args.dir)?, ..args };
    let mut out = serde_json::Map::new();
    let mut entries = vec![];
    for name in &args.clusters {
        let tls = tls::generate(name)?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let admin_token = tokens::random_hex(24);
        let cluster =
            Arc::new(cluster::Cluster::new(name, tls.ca_pem.clone(), admin_token.clone(), args.aws_secrets.clone()));
        let ca_file = args.dir.join(format!("{name}-ca.pem"));
        write_atomic(&ca_file, &tls.ca_pem)?;
        let endpoint = format!("https://127.0.0.1:{port}");
        out.insert(
            name.clone(),
            json!({"endpoint": endpoint, "ca_file": ca_file.display().to_string(), "ca_pem": tls.ca_pem,
                   "admin_token": admin_token, "issuer": cluster.issuer}),
        );
        entries.push((name.clone(), endpoint.clone(), tls.ca_pem.clone(), admin_token));
        eprintln!("kube-emulator: cluster {name} serving on {endpoint}");
        tokio::spawn(server::serve(cluster, listener, tls.server_config));
    }
    write_atomic(&args.dir.join("kubeconfig"), &kubeconfig(&entries))?;
    let doc = json!({"pid": std::process::id(), "clusters": out});
    write_atomic(&args.dir.join("emulator.json"), &serde_json::to_string_pretty(&doc)?)?;
    eprintln!("kube-emulator: ready, wrote {}", args.dir.join("emulator.json").display());

    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    eprintln!("kube-emulator: stopping");
    Ok(())
}

fn main() {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("tokio runtime");
    if let Err(e) = runtime.block_on(run(args)) {
        eprintln!("kube-emulator: {e}");
        std::process::exit(1);
    }
    std::process::exit(0);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_cli() {
        let a = parse_args(
            ["--dir", "/tmp/x", "--cluster", "controller", "--cluster=remote", "--aws-secret", "AK=SK"]
                .iter()
                .map(|s| s.to_string()),
        )
        .unwrap();
        assert_eq!(a.clusters, ["controller", "remote"]);
        assert_eq!(a.aws_secrets["AK"], "SK");
        let d = parse_args(["--dir", "d", "--cluster", "c"].iter().map(|s| s.to_string())).unwrap();
        assert_eq!(d.aws_secrets["testing"], "testing");
        assert!(parse_args(["--dir", "d"].iter().map(|s| s.to_string())).is_err());
        assert!(parse_args(["--cluster", "Bad_Name", "--dir", "d"].iter().map(|s| s.to_string())).is_err());
    }
}
