//! The server's own guards, provoked one by one: what Terraform itself never sends (an unknown type,
//! a data source, a move, bytes that are not the schema's type) and what only an old Terraform or a
//! state from elsewhere brings (a write-only value without the capability, a newer schema version,
//! a pre-0.12 flatmap state). Each answer is a diagnostic, never a gRPC error.

use super::server::ProviderServer;
use super::{Attribute, Block, Diagnostics, Provider, Resource, Schema};
use crate::cty::Value;
use crate::plugin::proto::tfplugin6 as pb;
use crate::plugin::proto::tfplugin6::provider_server::Provider as _;
use async_trait::async_trait;
use std::sync::Arc;
use tonic::Request;

struct NoProvider;

#[async_trait]
impl Provider for NoProvider {
    fn schema(&self) -> Schema {
        Schema::new(Block::new(""))
    }
    async fn configure(&self, _: &Value, _: &mut Diagnostics) {}
}

/// A resource that keeps the trait's default import and has a write-only attribute.
struct Probe;

#[async_trait]
impl Resource for Probe {
    fn type_name(&self) -> &'static str {
        "jenkins_probe"
    }
    fn schema(&self) -> Schema {
        Schema::new(
            Block::new("")
                .attr(Attribute::string("name").required())
                .attr(Attribute::string("secret").optional().write_only()),
        )
    }
    async fn create(&self, p: &Value, _: &Value, _: &mut Diagnostics) -> Option<Value> {
        Some(p.clone())
    }
    async fn read(&self, s: &Value, _: &mut Diagnostics) -> Option<Option<Value>> {
        Some(Some(s.clone()))
    }
    async fn update(&self, _: &Value, p: &Value, _: &Value, _: &mut Diagnostics) -> Option<Value> {
        Some(p.clone())
    }
    async fn delete(&self, _: &Value, _: &mut Diagnostics) {}
}

fn server() -> ProviderServer {
    ProviderServer::new(Arc::new(NoProvider), vec![Arc::new(Probe)])
}

/// The only diagnostic must be one error with `summary`.
fn only_error(diags: &[pb::Diagnostic], summary: &str) {
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!(diags[0].summary, summary, "{diags:?}");
    assert_eq!(diags[0].severity, pb::diagnostic::Severity::Error as i32, "{diags:?}");
    assert!(!diags[0].detail.is_empty(), "{diags:?}");
}

fn json_config(json: &str) -> Option<pb::DynamicValue> {
    Some(pb::DynamicValue { msgpack: vec![], json: json.as_bytes().to_vec() })
}

#[tokio::test]
async fn an_unknown_resource_type_is_a_diagnostic() {
    let req = pb::validate_resource_config::Request { type_name: "jenkins_nothing".into(), ..Default::default() };
    let r = server().validate_resource_config(Request::new(req)).await.expect("no gRPC error").into_inner();
    only_error(&r.diagnostics, "Unknown Resource Type");
}

#[tokio::test]
async fn data_sources_are_diagnostics() {
    let req = pb::validate_data_resource_config::Request { type_name: "jenkins_x".into(), ..Default::default() };
    let r = server().validate_data_resource_config(Request::new(req)).await.expect("no gRPC error").into_inner();
    only_error(&r.diagnostics, "Unknown Data Source");
    let req = pb::read_data_source::Request { type_name: "jenkins_x".into(), ..Default::default() };
    let r = server().read_data_source(Request::new(req)).await.expect("no gRPC error").into_inner();
    only_error(&r.diagnostics, "Unknown Data Source");
}

#[tokio::test]
async fn a_move_from_another_type_is_refused() {
    let req = pb::move_resource_state::Request {
        source_type_name: "terraform_data".into(),
        target_type_name: "jenkins_probe".into(),
        ..Default::default()
    };
    let r = server().move_resource_state(Request::new(req)).await.expect("no gRPC error").into_inner();
    only_error(&r.diagnostics, "Move Not Supported");
}

#[tokio::test]
async fn a_value_that_is_not_the_schemas_type_is_a_wire_format_error() {
    let req = pb::validate_resource_config::Request {
        type_name: "jenkins_probe".into(),
        config: json_config(r#"{"name": {"not": "a string"}, "secret": null}"#),
        ..Default::default()
    };
    let r = server().validate_resource_config(Request::new(req)).await.expect("no gRPC error").into_inner();
    only_error(&r.diagnostics, "Provider Wire Format Error");
}

#[tokio::test]
async fn a_write_only_value_needs_the_clients_capability() {
    let config = r#"{"name": "n", "secret": "s"}"#;
    let req = |allowed: bool| pb::validate_resource_config::Request {
        type_name: "jenkins_probe".into(),
        config: json_config(config),
        client_capabilities: Some(pb::ClientCapabilities {
            write_only_attributes_allowed: allowed,
            ..Default::default()
        }),
    };
    let r = server().validate_resource_config(Request::new(req(false))).await.expect("no gRPC error").into_inner();
    only_error(&r.diagnostics, "Write-only Attribute Not Allowed");
    let r = server().validate_resource_config(Request::new(req(true))).await.expect("no gRPC error").into_inner();
    assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
}

#[tokio::test]
async fn state_from_a_newer_provider_or_before_terraform_0_12_is_refused() {
    let upgrade = |version: i64, raw: pb::RawState| pb::upgrade_resource_state::Request {
        type_name: "jenkins_probe".into(),
        version,
        raw_state: Some(raw),
    };
    let json = pb::RawState { json: br#"{"name": "n", "secret": null}"#.to_vec(), ..Default::default() };
    let r = server().upgrade_resource_state(Request::new(upgrade(99, json.clone()))).await.expect("ok").into_inner();
    only_error(&r.diagnostics, "State From A Newer Provider");
    assert!(r.upgraded_state.is_none());
    let flat = pb::RawState { flatmap: [("name".to_string(), "n".to_string())].into(), ..Default::default() };
    let r = server().upgrade_resource_state(Request::new(upgrade(0, flat))).await.expect("ok").into_inner();
    only_error(&r.diagnostics, "Unsupported State Format");
    let r = server().upgrade_resource_state(Request::new(upgrade(0, json))).await.expect("ok").into_inner();
    assert!(r.diagnostics.is_empty() && r.upgraded_state.is_some(), "{:?}", r.diagnostics);
}

#[tokio::test]
async fn a_resource_without_import_refuses_it() {
    let req =
        pb::import_resource_state::Request { type_name: "jenkins_probe".into(), id: "x".into(), ..Default::default() };
    let r = server().import_resource_state(Request::new(req)).await.expect("no gRPC error").into_inner();
    only_error(&r.diagnostics, "Import Not Supported");
    assert!(r.imported_resources.is_empty());
}

/// A resource that breaks Terraform's rules the way a provider bug would: its plan rewrites the
/// configured `name`, and its create returns another `name` than the plan promised.
struct Liar;

#[async_trait]
impl Resource for Liar {
    fn type_name(&self) -> &'static str {
        "jenkins_liar"
    }
    fn schema(&self) -> Schema {
        Schema::new(Block::new("").attr(Attribute::string("name").required()))
    }
    async fn modify_plan(&self, ctx: super::PlanContext<'_>, change: &mut super::PlanChange, _: &mut Diagnostics) {
        if ctx.config.get_attr("name").and_then(Value::as_str) == Some("rewrite-me")
            && let Some(name) = change.planned.get_attr_mut("name")
        {
            *name = Value::string("rewritten");
        }
    }
    async fn create(&self, p: &Value, _: &Value, _: &mut Diagnostics) -> Option<Value> {
        let mut v = p.clone();
        *v.get_attr_mut("name").expect("name") = Value::string("something else");
        Some(v)
    }
    async fn read(&self, s: &Value, _: &mut Diagnostics) -> Option<Option<Value>> {
        Some(Some(s.clone()))
    }
    async fn update(&self, _: &Value, p: &Value, _: &Value, _: &mut Diagnostics) -> Option<Value> {
        Some(p.clone())
    }
    async fn delete(&self, _: &Value, _: &mut Diagnostics) {}
}

fn liar_server() -> ProviderServer {
    ProviderServer::new(Arc::new(NoProvider), vec![Arc::new(Liar)])
}

#[tokio::test]
async fn a_plan_that_rewrites_the_configuration_is_a_provider_bug() {
    let plan = |name: &str| pb::plan_resource_change::Request {
        type_name: "jenkins_liar".into(),
        config: json_config(&format!(r#"{{"name": "{name}"}}"#)),
        proposed_new_state: json_config(&format!(r#"{{"name": "{name}"}}"#)),
        ..Default::default()
    };
    let r = liar_server().plan_resource_change(Request::new(plan("rewrite-me"))).await.expect("ok").into_inner();
    only_error(&r.diagnostics, "Provider Bug: Invalid Plan");
    assert!(r.diagnostics[0].detail.contains("name"), "the detail names the attribute: {:?}", r.diagnostics);
    let r = liar_server().plan_resource_change(Request::new(plan("kept"))).await.expect("ok").into_inner();
    assert!(r.diagnostics.is_empty(), "a plan that keeps the configuration passes: {:?}", r.diagnostics);
}

#[tokio::test]
async fn an_apply_that_returns_other_values_than_planned_is_a_provider_bug() {
    let req = pb::apply_resource_change::Request {
        type_name: "jenkins_liar".into(),
        config: json_config(r#"{"name": "n"}"#),
        planned_state: json_config(r#"{"name": "n"}"#),
        ..Default::default()
    };
    let r = liar_server().apply_resource_change(Request::new(req)).await.expect("ok").into_inner();
    only_error(&r.diagnostics, "Provider Bug: Inconsistent Apply");
    assert!(r.diagnostics[0].detail.contains("name"), "the detail names the attribute: {:?}", r.diagnostics);
    // The honest resource's apply of the same plan passes the guard.
    let req = pb::apply_resource_change::Request {
        type_name: "jenkins_probe".into(),
        config: json_config(r#"{"name": "n", "secret": null}"#),
        planned_state: json_config(r#"{"name": "n", "secret": null}"#),
        ..Default::default()
    };
    let r = server().apply_resource_change(Request::new(req)).await.expect("ok").into_inner();
    assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
}

/// A resource with an identity: its `name`.
struct Named;

#[async_trait]
impl Resource for Named {
    fn type_name(&self) -> &'static str {
        "jenkins_named"
    }
    fn schema(&self) -> Schema {
        Schema::new(Block::new("").attr(Attribute::string("name").required()))
    }
    fn identity_schema(&self) -> Option<super::IdentitySchema> {
        Some(super::IdentitySchema::new(vec![super::identity_attribute("name", true, "The name.")]))
    }
    fn identity(&self, state: &Value) -> Option<Value> {
        let name = state.get_attr("name").and_then(Value::as_str).map(str::to_owned);
        self.identity_schema()?.value(&[("name", name)])
    }
    async fn import_identity(&self, identity: &Value, _: &mut Diagnostics) -> Option<Value> {
        Some(Value::Object([("name".to_string(), identity.get_attr("name").cloned().unwrap_or(Value::Null))].into()))
    }
    // The lifecycle is the probe's.
    async fn create(&self, p: &Value, c: &Value, d: &mut Diagnostics) -> Option<Value> {
        Probe.create(p, c, d).await
    }
    async fn read(&self, s: &Value, d: &mut Diagnostics) -> Option<Option<Value>> {
        Probe.read(s, d).await
    }
    async fn update(&self, prior: &Value, p: &Value, c: &Value, d: &mut Diagnostics) -> Option<Value> {
        Probe.update(prior, p, c, d).await
    }
    async fn delete(&self, s: &Value, d: &mut Diagnostics) {
        Probe.delete(s, d).await
    }
}

fn identity_json(json: &str) -> Option<pb::ResourceIdentityData> {
    Some(pb::ResourceIdentityData { identity_data: json_config(json) })
}

/// The identity schema is served, every state comes back with its identity, an import by
/// identity builds the state, and a stored identity upgrades; a type without identity says so.
#[tokio::test]
async fn identities_travel_with_every_state_and_import_by_identity() {
    let server = ProviderServer::new(Arc::new(NoProvider), vec![Arc::new(Probe), Arc::new(Named)]);
    let schemas = server
        .get_resource_identity_schemas(Request::new(Default::default()))
        .await
        .expect("no gRPC error")
        .into_inner()
        .identity_schemas;
    assert_eq!(schemas.keys().collect::<Vec<_>>(), ["jenkins_named"], "only the type with an identity");
    assert!(schemas["jenkins_named"].identity_attributes[0].required_for_import);

    let req = pb::read_resource::Request {
        type_name: "jenkins_named".into(),
        current_state: json_config(r#"{"name":"a"}"#),
        ..Default::default()
    };
    let r = server.read_resource(Request::new(req)).await.expect("no gRPC error").into_inner();
    let identity = r.new_identity.expect("an identity").identity_data.expect("data");
    assert!(!identity.msgpack.is_empty(), "{identity:?}");

    let req = pb::import_resource_state::Request {
        type_name: "jenkins_named".into(),
        identity: identity_json(r#"{"name":"b"}"#),
        ..Default::default()
    };
    let r = server.import_resource_state(Request::new(req)).await.expect("no gRPC error").into_inner();
    assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
    let imported = &r.imported_resources[0];
    assert!(imported.identity.is_some() && imported.state.is_some(), "{imported:?}");

    let req = pb::upgrade_resource_identity::Request {
        type_name: "jenkins_named".into(),
        version: 0,
        raw_identity: Some(pb::RawState { json: br#"{"name":"a"}"#.to_vec(), ..Default::default() }),
    };
    let r = server.upgrade_resource_identity(Request::new(req)).await.expect("no gRPC error").into_inner();
    assert!(r.diagnostics.is_empty() && r.upgraded_identity.is_some(), "{r:?}");
    let req = pb::upgrade_resource_identity::Request { type_name: "jenkins_probe".into(), ..Default::default() };
    let r = server.upgrade_resource_identity(Request::new(req)).await.expect("no gRPC error").into_inner();
    only_error(&r.diagnostics, "No Resource Identity");
}

/// `terraform query` on a type without a `list` block (Terraform checks its schema first) is a
/// diagnostic, from validation and from the list itself.
#[tokio::test]
async fn a_type_without_a_list_block_is_not_listed() {
    let req = pb::validate_list_resource_config::Request { type_name: "jenkins_probe".into(), ..Default::default() };
    let r = server().validate_list_resource_config(Request::new(req)).await.expect("no gRPC error").into_inner();
    only_error(&r.diagnostics, "Not A List Resource");
}

/// An action that reports two steps, then fails when told to.
struct Steps;

#[async_trait]
impl super::Action for Steps {
    fn type_name(&self) -> &'static str {
        "jenkins_steps"
    }
    fn schema(&self) -> Schema {
        Schema::new(Block::new("").attr(Attribute::bool("fail").required()))
    }
    async fn invoke(&self, config: &Value, progress: &super::Progress, diags: &mut Diagnostics) {
        progress.say("one");
        tokio::task::yield_now().await;
        progress.say("two");
        if config.get_attr("fail") == Some(&Value::Bool(true)) {
            diags.error("Step Failed", "The second step failed.");
        }
    }
}

#[tokio::test]
async fn an_action_streams_its_progress_then_completes_with_its_diagnostics() {
    use pb::invoke_action::event::Type;
    use tokio_stream::StreamExt as _;
    let server = server().with_actions(vec![Arc::new(Steps)]);
    let req = pb::validate_action_config::Request { type_name: "jenkins_none".into(), ..Default::default() };
    let r = server.validate_action_config(Request::new(req)).await.expect("no gRPC error").into_inner();
    only_error(&r.diagnostics, "Unknown Action");
    let req = pb::plan_action::Request {
        action_type: "jenkins_steps".into(),
        config: json_config(r#"{"fail": false}"#),
        ..Default::default()
    };
    let r = server.plan_action(Request::new(req)).await.expect("no gRPC error").into_inner();
    assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
    for fail in [false, true] {
        let req = pb::invoke_action::Request {
            action_type: "jenkins_steps".into(),
            config: json_config(&format!(r#"{{"fail": {fail}}}"#)),
            ..Default::default()
        };
        let stream = server.invoke_action(Request::new(req)).await.expect("no gRPC error").into_inner();
        let events: Vec<_> = stream.map(|e| e.expect("an event").r#type.expect("a type")).collect().await;
        let progress: Vec<_> = events
            .iter()
            .filter_map(|e| if let Type::Progress(p) = e { Some(p.message.as_str()) } else { None })
            .collect();
        assert_eq!(progress, ["one", "two"]);
        let Some(Type::Completed(done)) = events.last() else { panic!("the last event completes: {events:?}") };
        if fail {
            only_error(&done.diagnostics, "Step Failed");
        } else {
            assert!(done.diagnostics.is_empty(), "{:?}", done.diagnostics);
        }
    }
}
