//! The resource types, one file each, and the registry the provider serves.
//!
//! A resource file declares its schema and implements `framework::Resource`; it glues the pure
//! cores (`jenkins`, …) to the framework and never sees protobuf types.

pub mod agent_cloud;
pub mod cross_account_chain;
mod identities;
pub mod irsa_role;
pub mod pod_template;
pub mod remote_cluster_access;
pub(crate) mod values;

use crate::framework::Resource;
use std::sync::Arc;

/// Every resource type this provider serves, in the order the docs list them.
pub fn all(context: &Arc<crate::provider::ProviderContext>) -> Vec<Arc<dyn Resource>> {
    vec![
        Arc::new(pod_template::PodTemplate),
        Arc::new(agent_cloud::AgentCloud { context: context.clone() }),
        Arc::new(cross_account_chain::CrossAccountChain { context: context.clone() }),
        Arc::new(irsa_role::IrsaRole::new(context.clone())),
        Arc::new(remote_cluster_access::RemoteClusterAccess { context: context.clone() }),
    ]
}

/// The registry example of a resource type, shown on its docs page.
#[cfg(test)]
fn example_path(type_name: &str) -> std::path::PathBuf {
    example_file(type_name, "resource.tf")
}

/// A file of a resource type's registry example directory, `examples/resources/<name>/<file>`.
#[cfg(test)]
fn example_file(type_name: &str, file: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/resources").join(type_name).join(file)
}

/// The docs file of a resource type: `docs/resources/<name without the jenkins_ prefix>.md`.
#[cfg(test)]
fn docs_path(type_name: &str) -> std::path::PathBuf {
    let short = type_name.strip_prefix("jenkins_").unwrap_or(type_name);
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/resources").join(format!("{short}.md"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::docs::resource_page;

    /// The checked-in pages must equal what the schemas generate; `make docs` rewrites them.
    #[test]
    fn docs_are_current() {
        let update = std::env::var_os("UPDATE_DOCS").is_some();
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let read = |rel: std::path::PathBuf| std::fs::read_to_string(root.join(rel)).ok();
        // Every page: written with UPDATE_DOCS, else compared with what is checked in.
        let mut stale = Vec::new();
        let mut page = |path: std::path::PathBuf, text: String| {
            if update {
                std::fs::create_dir_all(path.parent().expect("docs dir")).expect("create docs dir");
                std::fs::write(&path, &text).expect("write docs page");
            } else if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
                stale.push(path.display().to_string());
            }
        };
        for r in all(&Default::default()) {
            let example = std::fs::read_to_string(example_path(r.type_name())).ok();
            let import = std::fs::read_to_string(example_file(r.type_name(), "import.sh")).ok();
            let by_identity = std::fs::read_to_string(example_file(r.type_name(), "import-by-identity.tf")).ok();
            let text = resource_page(r.as_ref(), example.as_deref(), import.as_deref(), by_identity.as_deref());
            page(docs_path(r.type_name()), text);
            let list_example =
                read(format!("examples/list-resources/{}/list-resource.tfquery.hcl", r.type_name()).into());
            if let Some(text) = crate::framework::docs::list_resource_page(r.as_ref(), list_example.as_deref()) {
                let short = r.type_name().strip_prefix("jenkins_").unwrap_or(r.type_name());
                page(root.join(format!("docs/list-resources/{short}.md")), text);
            }
        }
        let example = read("examples/provider/provider.tf".into());
        page(
            root.join("docs/index.md"),
            crate::framework::docs::provider_page(&crate::provider::config::schema(), example.as_deref()),
        );
        for d in crate::data_sources::all(&Default::default()) {
            let example = read(format!("examples/data-sources/{}/data-source.tf", d.type_name()).into());
            let short = d.type_name().strip_prefix("jenkins_").unwrap_or(d.type_name());
            page(
                root.join(format!("docs/data-sources/{short}.md")),
                crate::framework::docs::data_source_page(d.as_ref(), example.as_deref()),
            );
        }
        for a in crate::actions::all(&Default::default()) {
            let example = read(format!("examples/actions/{}/action.tf", a.type_name()).into());
            let short = a.type_name().strip_prefix("jenkins_").unwrap_or(a.type_name());
            page(
                root.join(format!("docs/actions/{short}.md")),
                crate::framework::docs::action_page(a.as_ref(), example.as_deref()),
            );
        }
        for f in crate::functions::all() {
            let example = read(format!("examples/functions/{}/function.tf", f.name()).into());
            page(
                root.join(format!("docs/functions/{}.md", f.name())),
                crate::framework::docs::function_page(f.as_ref(), example.as_deref()),
            );
        }
        assert!(stale.is_empty(), "stale docs pages (run `make docs`): {stale:?}");
    }

    /// Every resource has a registry example, which the acceptance tests apply.
    #[test]
    fn every_resource_has_an_example() {
        for r in all(&Default::default()) {
            assert!(example_path(r.type_name()).exists(), "{} has no example", r.type_name());
        }
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        for f in crate::functions::all() {
            let path = root.join("examples/functions").join(f.name()).join("function.tf");
            assert!(path.exists(), "function {} has no example", f.name());
        }
        for d in crate::data_sources::all(&Default::default()) {
            let path = root.join("examples/data-sources").join(d.type_name()).join("data-source.tf");
            assert!(path.exists(), "data source {} has no example", d.type_name());
        }
    }
}
