//! What a build container needs to use the chain: the environment variables, the pod YAML that
//! mounts the ConfigMap, and the traps they avoid (reference `peers-aws-k8s.md` §4).
//!
//! Must not: build Kubernetes API objects or touch a cluster; these are text and pairs for the
//! docs, an output and the resource's ConfigMap.

use super::model::{Chain, DEFAULT_WEB_IDENTITY_TOKEN_FILE};
use super::validate::{Finding, PathSegment, Severity};

/// The ConfigMap key holding the file; mounted as a directory, it becomes `<mount_path>/config`.
pub const CONFIG_KEY: &str = "config";

/// The ConfigMap name the seed uses.
pub const DEFAULT_CONFIGMAP_NAME: &str = "awsconfig-configmap";

/// Where the ConfigMap is mounted by default: outside `/root`, so agents running as uid 1000
/// read it through `AWS_CONFIG_FILE` (they never look at `/root/.aws/config`).
pub const DEFAULT_MOUNT_PATH: &str = "/etc/aws";

/// Why `AWS_PROFILE` alone is not enough for JVM builds on an IRSA pod.
pub const JAVA_SDK_V2_NOTE: &str = "\
On an IRSA pod the EKS webhook sets AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE in every container. \
The AWS SDK for Java v2 default chain checks those web-identity variables before the profile file, so \
a JVM build (Jenkins plugins, Gradle, Maven, the SDK in your code) silently uses the base role and \
ignores AWS_PROFILE; calls then land in the base account or fail with AccessDenied. Either unset both \
variables for the JVM (`env -u AWS_ROLE_ARN -u AWS_WEB_IDENTITY_TOKEN_FILE java …`; the base profile \
still reads the token through web_identity_token_file in the config), or force the profile in code \
(`ProfileCredentialsProvider.create(\"<profile>\")`). The AWS CLI, boto3 and the Rust SDK read the \
selected profile first and need neither.";

/// The environment a build container needs: `AWS_CONFIG_FILE` (non-root users never read
/// `/root/.aws/config`), `AWS_PROFILE`, and `AWS_SDK_LOAD_CONFIG=1` (the Go SDK v1 and the
/// JavaScript SDK v2 ignore the config file without it). `profile` defaults to the last hop
/// ([`Chain::default_profile`]). See [`JAVA_SDK_V2_NOTE`] for JVM builds.
pub fn container_env(chain: &Chain, mount_path: &str, profile: Option<&str>) -> Vec<(String, String)> {
    let profile = profile.unwrap_or_else(|| chain.default_profile());
    vec![
        ("AWS_CONFIG_FILE".to_owned(), config_file_path(mount_path)),
        ("AWS_PROFILE".to_owned(), profile.to_owned()),
        ("AWS_SDK_LOAD_CONFIG".to_owned(), "1".to_owned()),
    ]
}

/// `<mount_path>/config`, without a doubled slash.
pub fn config_file_path(mount_path: &str) -> String {
    format!("{}/{CONFIG_KEY}", mount_path.trim_end_matches('/'))
}

/// Pod YAML that mounts the ConfigMap read-only at `mount_path`: a whole-volume mount, never
/// `subPath`, because a `subPath` mount keeps the file it started with and never sees updates.
pub fn mount_snippet(configmap_name: &str, mount_path: &str) -> String {
    pod_snippet(configmap_name, mount_path, &[])
}

/// [`mount_snippet`] plus the container's `env` (from [`container_env`]); values are quoted so a
/// profile such as `@ops` or `1` stays a string.
pub fn pod_snippet(configmap_name: &str, mount_path: &str, env: &[(String, String)]) -> String {
    let mut out = format!(
        "# AWS shared config from ConfigMap {cm}: mounted as a directory (no subPath) so updates\n\
         # reach running pods, read-only, outside /root so non-root agents can read it.\n\
         spec:\n\
         \x20 volumes:\n\
         \x20   - name: aws-config\n\
         \x20     configMap:\n\
         \x20       name: {cm}\n\
         \x20 containers:\n\
         \x20   - name: build # your build container\n",
        cm = quote(configmap_name),
    );
    if !env.is_empty() {
        out.push_str("      env:\n");
        for (name, value) in env {
            out.push_str(&format!("        - name: {}\n          value: {}\n", quote(name), quote(value)));
        }
    }
    out.push_str(&format!(
        "      volumeMounts:\n\
         \x20       - name: aws-config\n\
         \x20         mountPath: {}\n\
         \x20         readOnly: true\n",
        quote(mount_path)
    ));
    out
}

/// A YAML scalar that is always a string: plain when it is safely plain, else double-quoted
/// (JSON escaping is valid YAML).
fn quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_/.".contains(c))
        && s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '/')
        && !matches!(s, "true" | "false" | "yes" | "no" | "on" | "off" | "null" | "y" | "n");
    if plain { s.to_owned() } else { serde_json::Value::String(s.to_owned()).to_string() }
}

/// Checks a mount path: absolute, a valid `mountPath`, not `/`, not hiding the IRSA token, and
/// not under `/root` (non-root agents cannot read it). Findings are at path `mount_path`.
pub fn check_mount_path(mount_path: &str) -> Vec<Finding> {
    let path = || vec![PathSegment::Attr("mount_path")];
    let mut out = Vec::new();
    let mut push = |severity, summary: &str, detail: String| {
        out.push(Finding { severity, path: path(), summary: summary.to_owned(), detail })
    };
    let trimmed = mount_path.trim_end_matches('/');
    if !mount_path.starts_with('/')
        || trimmed.is_empty()
        || mount_path.contains(':')
        || mount_path.chars().any(|c| c.is_whitespace() || c.is_control())
        || mount_path.split('/').any(|s| s == "..")
    {
        push(
            Severity::Error,
            "Invalid Mount Path",
            format!(
                "`{mount_path}` must be an absolute directory other than `/`, without `:`, `..` or whitespace, \
                 e.g. `{DEFAULT_MOUNT_PATH}`."
            ),
        );
        return out;
    }
    if DEFAULT_WEB_IDENTITY_TOKEN_FILE.starts_with(&format!("{trimmed}/")) {
        push(
            Severity::Error,
            "Mount Hides IRSA Token",
            format!(
                "Mounting the ConfigMap at `{mount_path}` hides the IRSA token at `{DEFAULT_WEB_IDENTITY_TOKEN_FILE}`, \
                 so the base profile cannot authenticate. Use a separate directory such as `{DEFAULT_MOUNT_PATH}`."
            ),
        );
    }
    if trimmed == "/root" || trimmed.starts_with("/root/") {
        push(
            Severity::Warning,
            "Mount Under /root",
            format!(
                "`{mount_path}` is under /root, which agents running as a non-root user (uid 1000) cannot read. \
                 Mount at a path such as `{DEFAULT_MOUNT_PATH}`; AWS_CONFIG_FILE points the SDKs there."
            ),
        );
    }
    out
}
