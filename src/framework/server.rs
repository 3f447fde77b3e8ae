//! The gRPC face of the framework: tfplugin6 requests in, framework calls, tfplugin6 responses out.
//!
//! The only file that sees protobuf types besides `plugin/`. Decodes each DynamicValue once with the
//! schema's implied type, runs the framework, encodes once. Errors become diagnostics, never gRPC
//! status errors (Terraform shows those as an opaque "rpc error").

use super::function::{Function, FunctionError};
use super::schema::{AttributeType, Block, NestedBlock, Nesting};
use super::validate_block;
use super::{Action, DataSource, Diagnostic, Diagnostics, Progress, Provider, Resource, Schema, Severity};
use super::{check_apply_consistent, check_plan_valid, plan_resource_change};
use crate::cty::{self, AttributePath, PathStep, Type, Value};
use crate::plugin::proto::tfplugin6 as pb;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use tonic::{Request, Response, Status};

/// A registered resource: its implementation, schema and the schema's implied type.
type Registered = (Arc<dyn Resource>, Schema, Type);

/// A registered data source, likewise.
type RegisteredDataSource = (Arc<dyn DataSource>, Schema, Type);

/// A registered action, likewise.
type RegisteredAction = (Arc<dyn Action>, Schema, Type);

/// Serves the provider and its resources.
pub struct ProviderServer {
    provider: Arc<dyn Provider>,
    provider_schema: Schema,
    resources: BTreeMap<&'static str, Registered>,
    functions: BTreeMap<&'static str, Arc<dyn Function>>,
    data_sources: BTreeMap<&'static str, RegisteredDataSource>,
    actions: BTreeMap<&'static str, RegisteredAction>,
}

impl ProviderServer {
    /// A server for these resources. Schemas are built once per process.
    pub fn new(provider: Arc<dyn Provider>, resources: Vec<Arc<dyn Resource>>) -> Self {
        let provider_schema = provider.schema();
        let resources = resources
            .into_iter()
            .map(|r| {
                let schema = r.schema();
                let ty = schema.implied_type();
                (r.type_name(), (r, schema, ty))
            })
            .collect();
        ProviderServer {
            provider,
            provider_schema,
            resources,
            functions: BTreeMap::new(),
            data_sources: BTreeMap::new(),
            actions: BTreeMap::new(),
        }
    }

    /// The same server, also serving these actions.
    pub fn with_actions(mut self, actions: Vec<Arc<dyn Action>>) -> Self {
        self.actions = actions
            .into_iter()
            .map(|a| {
                let schema = a.schema();
                let ty = schema.implied_type();
                (a.type_name(), (a, schema, ty))
            })
            .collect();
        self
    }

    fn action(&self, name: &str) -> Result<&RegisteredAction, Vec<pb::Diagnostic>> {
        self.actions.get(name).ok_or_else(|| {
            let mut d = Diagnostics::new();
            d.error("Unknown Action", format!("This provider has no action {name:?}."));
            to_pb_diags(&d)
        })
    }

    /// Decodes an action's configuration and runs the schema's validators and the action's own checks.
    fn action_config(
        &self,
        name: &str,
        config: Option<&pb::DynamicValue>,
    ) -> Result<(Arc<dyn Action>, Value, Diagnostics), Vec<pb::Diagnostic>> {
        let (action, schema, ty) = self.action(name)?;
        let config = decode(config, ty).map_err(|e| wire_error("action configuration", e))?;
        let mut diags = Diagnostics::new();
        validate_block(&schema.block, &config, &AttributePath::root(), &mut diags);
        action.validate(&config, &mut diags);
        Ok((action.clone(), config, diags))
    }

    /// The same server, also serving these provider functions.
    pub fn with_functions(mut self, functions: Vec<Arc<dyn Function>>) -> Self {
        self.functions = functions.into_iter().map(|f| (f.name(), f)).collect();
        self
    }

    /// The same server, also serving these data sources.
    pub fn with_data_sources(mut self, data_sources: Vec<Arc<dyn DataSource>>) -> Self {
        self.data_sources = data_sources
            .into_iter()
            .map(|d| {
                let schema = d.schema();
                let ty = schema.implied_type();
                (d.type_name(), (d, schema, ty))
            })
            .collect();
        self
    }

    fn data_source(&self, name: &str) -> Result<&RegisteredDataSource, Vec<pb::Diagnostic>> {
        self.data_sources.get(name).ok_or_else(|| {
            let mut d = Diagnostics::new();
            d.error("Unknown Data Source", format!("This provider has no data source {name:?}."));
            to_pb_diags(&d)
        })
    }

    fn pb_functions(&self) -> HashMap<String, pb::Function> {
        self.functions.iter().map(|(n, f)| (n.to_string(), to_pb_function(f.as_ref()))).collect()
    }

    /// Runs one function call: arguments decoded with the declared types, the result encoded
    /// with the return type; every failure is a `FunctionError`, never a gRPC status.
    fn call(&self, name: &str, args: &[pb::DynamicValue]) -> Result<pb::DynamicValue, FunctionError> {
        let f = self.functions.get(name).ok_or_else(|| FunctionError {
            text: format!("This provider has no function {name:?}."),
            argument: None,
        })?;
        let params = f.parameters();
        if args.len() != params.len() {
            return Err(FunctionError {
                text: format!("{name} takes {} arguments, got {}.", params.len(), args.len()),
                argument: None,
            });
        }
        let values = params
            .iter()
            .zip(args)
            .enumerate()
            .map(|(i, (p, a))| {
                decode(Some(a), &p.ty)
                    .map_err(|e| FunctionError::at(i, format!("Could not decode argument {:?}: {e}.", p.name)))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let out = f.call(&values)?;
        encode(&out, &f.return_type())
            .map_err(|e| FunctionError { text: format!("Could not encode the result: {e}."), argument: None })
    }

    /// Resource type `name` and the schema of its `list` block.
    fn listable(&self, name: &str) -> Result<(&Registered, Block), Vec<pb::Diagnostic>> {
        let registered = self.resource(name)?;
        registered.0.list_schema().map(|b| (registered, b)).ok_or_else(|| {
            let mut d = Diagnostics::new();
            d.error(
                "Not A List Resource",
                format!("This provider cannot list {name}; `terraform query` has no `list` block for it."),
            );
            to_pb_diags(&d)
        })
    }

    fn resource(&self, name: &str) -> Result<&Registered, Vec<pb::Diagnostic>> {
        self.resources.get(name).ok_or_else(|| {
            let mut d = Diagnostics::new();
            d.error("Unknown Resource Type", format!("This provider has no resource type {name:?}."));
            to_pb_diags(&d)
        })
    }
}

fn any_write_only_set(block: &Block, config: &Value) -> Option<String> {
    for a in &block.attributes {
        if a.write_only && !config.get_attr(&a.name).unwrap_or(&Value::Null).is_null() {
            return Some(a.name.clone());
        }
    }
    None
}

fn decode(dv: Option<&pb::DynamicValue>, ty: &Type) -> Result<Value, String> {
    match dv {
        Some(d) if !d.msgpack.is_empty() => cty::msgpack::decode(&d.msgpack, ty).map_err(|e| e.to_string()),
        Some(d) if !d.json.is_empty() => cty::json::decode(&d.json, ty).map_err(|e| e.to_string()),
        _ => Ok(Value::Null),
    }
}

fn encode(v: &Value, ty: &Type) -> Result<pb::DynamicValue, String> {
    cty::msgpack::encode(v, ty).map(|msgpack| pb::DynamicValue { msgpack, json: Vec::new() }).map_err(|e| e.to_string())
}

/// The identity of the object `state` describes, on the wire; `None` for a resource without
/// identity, a null state, or an identity not known yet.
fn identity_data(res: &dyn Resource, state: &Value) -> Option<pb::ResourceIdentityData> {
    let schema = res.identity_schema()?;
    if state.is_null() || state.is_unknown() {
        return None;
    }
    identity_wire(&schema, &res.identity(state)?)
}

/// An identity of `schema` on the wire.
fn identity_wire(schema: &super::IdentitySchema, identity: &Value) -> Option<pb::ResourceIdentityData> {
    encode(identity, &schema.ty()).ok().map(|v| pb::ResourceIdentityData { identity_data: Some(v) })
}

fn to_pb_identity_schema(s: &super::IdentitySchema) -> pb::ResourceIdentitySchema {
    pb::ResourceIdentitySchema {
        version: 0,
        identity_attributes: s
            .attributes
            .iter()
            .map(|a| pb::resource_identity_schema::IdentityAttribute {
                name: a.name.to_string(),
                r#type: Type::String.to_json(),
                required_for_import: a.required_for_import,
                optional_for_import: !a.required_for_import,
                description: a.description.to_string(),
            })
            .collect(),
    }
}

fn wire_error(what: &str, err: String) -> Vec<pb::Diagnostic> {
    let mut d = Diagnostics::new();
    d.error(
        "Provider Wire Format Error",
        format!("Could not process the {what}: {err}. This is a bug in the provider; please report it."),
    );
    to_pb_diags(&d)
}

fn to_pb_path(p: &AttributePath) -> pb::AttributePath {
    use pb::attribute_path::{Step, step::Selector};
    pb::AttributePath {
        steps: p
            .0
            .iter()
            .map(|s| Step {
                selector: Some(match s {
                    PathStep::Attr(a) => Selector::AttributeName(a.clone()),
                    PathStep::Key(k) => Selector::ElementKeyString(k.clone()),
                    PathStep::Index(i) => Selector::ElementKeyInt(*i),
                }),
            })
            .collect(),
    }
}

fn to_pb_diags(d: &Diagnostics) -> Vec<pb::Diagnostic> {
    d.iter().map(to_pb_diag).collect()
}

fn to_pb_diag(d: &Diagnostic) -> pb::Diagnostic {
    pb::Diagnostic {
        severity: match d.severity {
            Severity::Error => pb::diagnostic::Severity::Error as i32,
            Severity::Warning => pb::diagnostic::Severity::Warning as i32,
        },
        summary: d.summary.clone(),
        detail: with_path(d),
        attribute: d.path.as_ref().filter(|p| !p.is_root()).map(to_pb_path),
    }
}

/// Terraform shows the configuration line, not the path inside a block; name it in the text too.
fn with_path(d: &Diagnostic) -> String {
    match &d.path {
        Some(p) if !p.is_root() && !d.detail.contains(&p.to_string()) => format!("`{p}`: {}", d.detail),
        _ => d.detail.clone(),
    }
}

fn to_pb_schema(s: &Schema) -> pb::Schema {
    pb::Schema { version: s.version, block: Some(to_pb_block(&s.block)) }
}

fn to_pb_block(b: &Block) -> pb::schema::Block {
    pb::schema::Block {
        attributes: b.attributes.iter().map(to_pb_attr).collect(),
        block_types: b.blocks.iter().map(to_pb_nested_block).collect(),
        description: b.description.clone(),
        description_kind: pb::StringKind::Markdown as i32,
        ..Default::default()
    }
}

fn to_pb_nesting_block(n: Nesting) -> i32 {
    use pb::schema::nested_block::NestingMode as M;
    (match n {
        Nesting::Single => M::Single,
        Nesting::Group => M::Group,
        Nesting::List => M::List,
        Nesting::Set => M::Set,
        Nesting::Map => M::Map,
    }) as i32
}

fn to_pb_nested_block(b: &NestedBlock) -> pb::schema::NestedBlock {
    pb::schema::NestedBlock {
        type_name: b.type_name.clone(),
        block: Some(to_pb_block(&b.block)),
        nesting: to_pb_nesting_block(b.nesting),
        min_items: b.min_items,
        max_items: b.max_items,
    }
}

fn to_pb_attr(a: &super::Attribute) -> pb::schema::Attribute {
    let (ty, nested_type) = match &a.ty {
        AttributeType::Type(t) => (t.to_json(), None),
        AttributeType::Nested { nesting, attributes } => {
            use pb::schema::object::NestingMode as M;
            let nesting = match nesting {
                Nesting::Single | Nesting::Group => M::Single,
                Nesting::List => M::List,
                Nesting::Set => M::Set,
                Nesting::Map => M::Map,
            } as i32;
            let obj = pb::schema::Object {
                attributes: attributes.iter().map(to_pb_attr).collect(),
                nesting,
                ..Default::default()
            };
            (Vec::new(), Some(obj))
        }
    };
    pb::schema::Attribute {
        name: a.name.clone(),
        r#type: ty,
        nested_type,
        description: a.description.clone(),
        required: a.required,
        optional: a.optional,
        computed: a.computed,
        sensitive: a.sensitive,
        write_only: a.write_only,
        description_kind: pb::StringKind::Markdown as i32,
        ..Default::default()
    }
}

fn to_pb_function(f: &dyn Function) -> pb::Function {
    pb::Function {
        parameters: f
            .parameters()
            .into_iter()
            .map(|p| pb::function::Parameter {
                name: p.name.to_owned(),
                r#type: p.ty.to_json(),
                description: p.description.to_owned(),
                description_kind: pb::StringKind::Markdown as i32,
                ..Default::default()
            })
            .collect(),
        r#return: Some(pb::function::Return { r#type: f.return_type().to_json() }),
        summary: f.summary().to_owned(),
        description: f.description().to_owned(),
        description_kind: pb::StringKind::Markdown as i32,
        ..Default::default()
    }
}

fn capabilities() -> pb::ServerCapabilities {
    pb::ServerCapabilities {
        plan_destroy: true,
        get_provider_schema_optional: true,
        generate_resource_config: true,
        ..Default::default()
    }
}

fn log_rpc(rpc: &str, type_name: &str) {
    crate::plugin::log::trace("rpc", &[("rpc", rpc), ("tf_resource_type", type_name)]);
}

#[tonic::async_trait]
impl pb::provider_server::Provider for ProviderServer {
    async fn get_metadata(
        &self,
        _req: Request<pb::get_metadata::Request>,
    ) -> Result<Response<pb::get_metadata::Response>, Status> {
        log_rpc("GetMetadata", "");
        Ok(Response::new(pb::get_metadata::Response {
            server_capabilities: Some(capabilities()),
            resources: self
                .resources
                .keys()
                .map(|n| pb::get_metadata::ResourceMetadata { type_name: n.to_string() })
                .collect(),
            functions: self
                .functions
                .keys()
                .map(|n| pb::get_metadata::FunctionMetadata { name: n.to_string() })
                .collect(),
            data_sources: self
                .data_sources
                .keys()
                .map(|n| pb::get_metadata::DataSourceMetadata { type_name: n.to_string() })
                .collect(),
            list_resources: self
                .resources
                .iter()
                .filter(|(_, (r, _, _))| r.list_schema().is_some())
                .map(|(n, _)| pb::get_metadata::ListResourceMetadata { type_name: n.to_string() })
                .collect(),
            actions: self
                .actions
                .keys()
                .map(|n| pb::get_metadata::ActionMetadata { type_name: n.to_string() })
                .collect(),
            ..Default::default()
        }))
    }

    async fn get_provider_schema(
        &self,
        _req: Request<pb::get_provider_schema::Request>,
    ) -> Result<Response<pb::get_provider_schema::Response>, Status> {
        log_rpc("GetProviderSchema", "");
        let resource_schemas: HashMap<String, pb::Schema> =
            self.resources.iter().map(|(n, (_, s, _))| (n.to_string(), to_pb_schema(s))).collect();
        Ok(Response::new(pb::get_provider_schema::Response {
            provider: Some(to_pb_schema(&self.provider_schema)),
            resource_schemas,
            server_capabilities: Some(capabilities()),
            functions: self.pb_functions(),
            data_source_schemas: self
                .data_sources
                .iter()
                .map(|(n, (_, s, _))| (n.to_string(), to_pb_schema(s)))
                .collect(),
            list_resource_schemas: self
                .resources
                .iter()
                .filter_map(|(n, (r, _, _))| r.list_schema().map(|b| (n.to_string(), to_pb_schema(&Schema::new(b)))))
                .collect(),
            action_schemas: self
                .actions
                .iter()
                .map(|(n, (_, s, _))| (n.to_string(), pb::ActionSchema { schema: Some(to_pb_schema(s)) }))
                .collect(),
            ..Default::default()
        }))
    }

    async fn validate_list_resource_config(
        &self,
        req: Request<pb::validate_list_resource_config::Request>,
    ) -> Result<Response<pb::validate_list_resource_config::Response>, Status> {
        let req = req.into_inner();
        log_rpc("ValidateListResourceConfig", &req.type_name);
        let block = match self.listable(&req.type_name) {
            Ok((_, b)) => b,
            Err(diagnostics) => return Ok(Response::new(pb::validate_list_resource_config::Response { diagnostics })),
        };
        let mut diags = Diagnostics::new();
        match decode(req.config.as_ref(), &block.implied_type()) {
            Ok(config) => validate_block(&block, &config, &AttributePath::root(), &mut diags),
            Err(e) => {
                return Ok(Response::new(pb::validate_list_resource_config::Response {
                    diagnostics: wire_error("list configuration", e),
                }));
            }
        }
        Ok(Response::new(pb::validate_list_resource_config::Response { diagnostics: to_pb_diags(&diags) }))
    }

    async fn list_resource(
        &self,
        req: Request<pb::list_resource::Request>,
    ) -> Result<Response<tonic::codegen::BoxStream<pb::list_resource::Event>>, Status> {
        let req = req.into_inner();
        log_rpc("ListResource", &req.type_name);
        let only = |diagnostic: Vec<pb::Diagnostic>| -> Result<Response<tonic::codegen::BoxStream<pb::list_resource::Event>>, Status> {
            let event = pb::list_resource::Event { diagnostic, ..Default::default() };
            Ok(Response::new(Box::pin(tokio_stream::iter([Ok(event)]))))
        };
        let ((res, schema, ty), block) = match self.listable(&req.type_name) {
            Ok(found) => found,
            Err(diagnostics) => return only(diagnostics),
        };
        let config = match decode(req.config.as_ref(), &block.implied_type()) {
            Ok(v) => v,
            Err(e) => return only(wire_error("list configuration", e)),
        };
        let Some(identity) = res.identity_schema() else {
            let mut d = Diagnostics::new();
            d.error("No Resource Identity", format!("{} lists nothing without an identity.", req.type_name));
            return only(to_pb_diags(&d));
        };
        let mut diags = Diagnostics::new();
        let mut found = res.list(&config, req.include_resource_object, &mut diags).await;
        if req.limit > 0 {
            found.truncate(req.limit as usize);
        }
        let mut events = Vec::new();
        for item in found {
            let identity_data = identity_wire(&identity, &item.identity);
            let resource_object = match item.object.filter(|_| req.include_resource_object) {
                Some(mut object) => {
                    super::plan::null_write_only(&schema.block, &mut object);
                    encode(&object, ty).ok()
                }
                None => None,
            };
            events.push(Ok(pb::list_resource::Event {
                identity: identity_data,
                display_name: item.display_name,
                resource_object,
                diagnostic: vec![],
            }));
        }
        if !diags.is_empty() {
            events.push(Ok(pb::list_resource::Event { diagnostic: to_pb_diags(&diags), ..Default::default() }));
        }
        Ok(Response::new(Box::pin(tokio_stream::iter(events))))
    }

    async fn get_resource_identity_schemas(
        &self,
        _req: Request<pb::get_resource_identity_schemas::Request>,
    ) -> Result<Response<pb::get_resource_identity_schemas::Response>, Status> {
        log_rpc("GetResourceIdentitySchemas", "");
        let identity_schemas = self
            .resources
            .iter()
            .filter_map(|(n, (r, _, _))| r.identity_schema().map(|s| (n.to_string(), to_pb_identity_schema(&s))))
            .collect();
        Ok(Response::new(pb::get_resource_identity_schemas::Response { identity_schemas, diagnostics: vec![] }))
    }

    async fn upgrade_resource_identity(
        &self,
        req: Request<pb::upgrade_resource_identity::Request>,
    ) -> Result<Response<pb::upgrade_resource_identity::Response>, Status> {
        let req = req.into_inner();
        log_rpc("UpgradeResourceIdentity", &req.type_name);
        let (res, _, _) = match self.resource(&req.type_name) {
            Ok(r) => r,
            Err(diagnostics) => {
                return Ok(Response::new(pb::upgrade_resource_identity::Response {
                    diagnostics,
                    ..Default::default()
                }));
            }
        };
        let Some(schema) = res.identity_schema() else {
            let mut d = Diagnostics::new();
            d.error("No Resource Identity", format!("{} has no identity to upgrade.", req.type_name));
            return Ok(Response::new(pb::upgrade_resource_identity::Response {
                diagnostics: to_pb_diags(&d),
                ..Default::default()
            }));
        };
        // Version 0 is the only one: the stored identity is today's shape.
        let raw = req.raw_identity.map(|r| r.json).unwrap_or_default();
        let upgraded =
            cty::json::decode(&raw, &schema.ty()).map_err(|e| e.to_string()).and_then(|v| encode(&v, &schema.ty()));
        match upgraded {
            Ok(v) => Ok(Response::new(pb::upgrade_resource_identity::Response {
                upgraded_identity: Some(pb::ResourceIdentityData { identity_data: Some(v) }),
                diagnostics: vec![],
            })),
            Err(e) => Ok(Response::new(pb::upgrade_resource_identity::Response {
                diagnostics: wire_error("stored identity", e),
                ..Default::default()
            })),
        }
    }

    async fn validate_provider_config(
        &self,
        req: Request<pb::validate_provider_config::Request>,
    ) -> Result<Response<pb::validate_provider_config::Response>, Status> {
        log_rpc("ValidateProviderConfig", "");
        let req = req.into_inner();
        let config = match decode(req.config.as_ref(), &self.provider_schema.implied_type()) {
            Ok(v) => v,
            Err(e) => {
                return Ok(Response::new(pb::validate_provider_config::Response {
                    diagnostics: wire_error("provider configuration", e),
                }));
            }
        };
        let mut diags = Diagnostics::new();
        validate_block(&self.provider_schema.block, &config, &AttributePath::root(), &mut diags);
        self.provider.validate(&config, &mut diags);
        Ok(Response::new(pb::validate_provider_config::Response { diagnostics: to_pb_diags(&diags) }))
    }

    async fn validate_resource_config(
        &self,
        req: Request<pb::validate_resource_config::Request>,
    ) -> Result<Response<pb::validate_resource_config::Response>, Status> {
        let req = req.into_inner();
        log_rpc("ValidateResourceConfig", &req.type_name);
        let (res, schema, ty) = match self.resource(&req.type_name) {
            Ok(r) => r,
            Err(diagnostics) => return Ok(Response::new(pb::validate_resource_config::Response { diagnostics })),
        };
        let config = match decode(req.config.as_ref(), ty) {
            Ok(v) => v,
            Err(e) => {
                return Ok(Response::new(pb::validate_resource_config::Response {
                    diagnostics: wire_error("configuration", e),
                }));
            }
        };
        let mut diags = Diagnostics::new();
        let wo_allowed = req.client_capabilities.as_ref().is_some_and(|c| c.write_only_attributes_allowed);
        if !wo_allowed && let Some(name) = any_write_only_set(&schema.block, &config) {
            diags.error_at(
                AttributePath::attr(name),
                "Write-only Attribute Not Allowed",
                "This Terraform version does not support write-only attributes; upgrade to Terraform 1.11 or later.",
            );
        }
        validate_block(&schema.block, &config, &AttributePath::root(), &mut diags);
        res.validate(schema, &config, &mut diags);
        Ok(Response::new(pb::validate_resource_config::Response { diagnostics: to_pb_diags(&diags) }))
    }

    async fn validate_data_resource_config(
        &self,
        req: Request<pb::validate_data_resource_config::Request>,
    ) -> Result<Response<pb::validate_data_resource_config::Response>, Status> {
        let req = req.into_inner();
        log_rpc("ValidateDataResourceConfig", &req.type_name);
        let (ds, schema, ty) = match self.data_source(&req.type_name) {
            Ok(d) => d,
            Err(diagnostics) => return Ok(Response::new(pb::validate_data_resource_config::Response { diagnostics })),
        };
        let config = match decode(req.config.as_ref(), ty) {
            Ok(v) => v,
            Err(e) => {
                return Ok(Response::new(pb::validate_data_resource_config::Response {
                    diagnostics: wire_error("configuration", e),
                }));
            }
        };
        let mut diags = Diagnostics::new();
        validate_block(&schema.block, &config, &AttributePath::root(), &mut diags);
        ds.validate(&config, &mut diags);
        Ok(Response::new(pb::validate_data_resource_config::Response { diagnostics: to_pb_diags(&diags) }))
    }

    async fn upgrade_resource_state(
        &self,
        req: Request<pb::upgrade_resource_state::Request>,
    ) -> Result<Response<pb::upgrade_resource_state::Response>, Status> {
        let req = req.into_inner();
        log_rpc("UpgradeResourceState", &req.type_name);
        let (res, schema, ty) = match self.resource(&req.type_name) {
            Ok(r) => r,
            Err(diagnostics) => {
                return Ok(Response::new(pb::upgrade_resource_state::Response { diagnostics, ..Default::default() }));
            }
        };
        let mut diags = Diagnostics::new();
        if req.version > schema.version {
            diags.error(
                "State From A Newer Provider",
                format!(
                    "The state of this {} was written by a newer provider (schema version {}, this one knows {}). Use that provider version or newer.",
                    req.type_name, req.version, schema.version
                ),
            );
            return Ok(Response::new(pb::upgrade_resource_state::Response {
                diagnostics: to_pb_diags(&diags),
                ..Default::default()
            }));
        }
        let raw = req.raw_state.unwrap_or_default();
        if raw.json.is_empty() && !raw.flatmap.is_empty() {
            diags.error(
                "Unsupported State Format",
                "This state predates Terraform 0.12; refresh it with an older provider first.",
            );
            return Ok(Response::new(pb::upgrade_resource_state::Response {
                diagnostics: to_pb_diags(&diags),
                ..Default::default()
            }));
        }
        let mut stored: serde_json::Value = if raw.json.iter().all(u8::is_ascii_whitespace) {
            serde_json::Value::Null
        } else {
            match serde_json::from_slice(&raw.json) {
                Ok(j) => j,
                Err(e) => {
                    return Ok(Response::new(pb::upgrade_resource_state::Response {
                        diagnostics: wire_error("stored state", e.to_string()),
                        ..Default::default()
                    }));
                }
            }
        };
        if req.version < schema.version && stored.is_object() {
            res.upgrade_stored(req.version, &mut stored);
        }
        let mut value = match cty::json::from_json(&stored, ty) {
            Ok(v) => v,
            Err(e) => {
                return Ok(Response::new(pb::upgrade_resource_state::Response {
                    diagnostics: wire_error("stored state", e.to_string()),
                    ..Default::default()
                }));
            }
        };
        if req.version < schema.version && !value.is_null() {
            value = res.upgrade_state(req.version, value);
        }
        super::plan::null_write_only(&schema.block, &mut value);
        match encode(&value, ty) {
            Ok(v) => {
                Ok(Response::new(pb::upgrade_resource_state::Response { upgraded_state: Some(v), diagnostics: vec![] }))
            }
            Err(e) => Ok(Response::new(pb::upgrade_resource_state::Response {
                diagnostics: wire_error("upgraded state", e),
                ..Default::default()
            })),
        }
    }

    async fn configure_provider(
        &self,
        req: Request<pb::configure_provider::Request>,
    ) -> Result<Response<pb::configure_provider::Response>, Status> {
        log_rpc("ConfigureProvider", "");
        let req = req.into_inner();
        let config = match decode(req.config.as_ref(), &self.provider_schema.implied_type()) {
            Ok(v) => v,
            Err(e) => {
                return Ok(Response::new(pb::configure_provider::Response {
                    diagnostics: wire_error("provider configuration", e),
                }));
            }
        };
        let mut diags = Diagnostics::new();
        self.provider.configure(&config, &mut diags).await;
        Ok(Response::new(pb::configure_provider::Response { diagnostics: to_pb_diags(&diags) }))
    }

    async fn read_resource(
        &self,
        req: Request<pb::read_resource::Request>,
    ) -> Result<Response<pb::read_resource::Response>, Status> {
        let req = req.into_inner();
        log_rpc("ReadResource", &req.type_name);
        let (res, _, ty) = match self.resource(&req.type_name) {
            Ok(r) => r,
            Err(diagnostics) => {
                return Ok(Response::new(pb::read_resource::Response { diagnostics, ..Default::default() }));
            }
        };
        let state = match decode(req.current_state.as_ref(), ty) {
            Ok(v) => v,
            Err(e) => {
                return Ok(Response::new(pb::read_resource::Response {
                    diagnostics: wire_error("current state", e),
                    ..Default::default()
                }));
            }
        };
        let mut diags = Diagnostics::new();
        let new_state = match res.read(&state, &mut diags).await {
            Some(Some(v)) => v,
            Some(None) => Value::Null,
            None => state,
        };
        let new_identity =
            if new_state.is_null() { None } else { identity_data(res.as_ref(), &new_state).or(req.current_identity) };
        let new_state = match encode(&new_state, ty) {
            Ok(v) => v,
            Err(e) => {
                return Ok(Response::new(pb::read_resource::Response {
                    diagnostics: wire_error("new state", e),
                    ..Default::default()
                }));
            }
        };
        Ok(Response::new(pb::read_resource::Response {
            new_state: Some(new_state),
            diagnostics: to_pb_diags(&diags),
            private: req.private,
            new_identity,
            ..Default::default()
        }))
    }

    async fn plan_resource_change(
        &self,
        req: Request<pb::plan_resource_change::Request>,
    ) -> Result<Response<pb::plan_resource_change::Response>, Status> {
        let req = req.into_inner();
        log_rpc("PlanResourceChange", &req.type_name);
        let (res, schema, ty) = match self.resource(&req.type_name) {
            Ok(r) => r,
            Err(diagnostics) => {
                return Ok(Response::new(pb::plan_resource_change::Response { diagnostics, ..Default::default() }));
            }
        };
        let decoded = (|| {
            Ok::<_, String>((
                decode(req.prior_state.as_ref(), ty)?,
                decode(req.proposed_new_state.as_ref(), ty)?,
                decode(req.config.as_ref(), ty)?,
            ))
        })();
        let (prior, proposed, config) = match decoded {
            Ok(v) => v,
            Err(e) => {
                return Ok(Response::new(pb::plan_resource_change::Response {
                    diagnostics: wire_error("plan request", e),
                    ..Default::default()
                }));
            }
        };
        let mut out = plan_resource_change(res.as_ref(), schema, &prior, &config, &proposed).await;
        if cfg!(debug_assertions) && !out.diags.has_error() {
            let errs = check_plan_valid(&schema.block, &prior, &config, &out.planned);
            if !errs.is_empty() {
                out.diags.error("Provider Bug: Invalid Plan", errs.join("\n"));
            }
        }
        // The planned object's identity; an update whose plan leaves part of it unknown keeps the
        // prior one (identity attributes force replacement, so an update never changes it).
        let planned_identity =
            if out.planned.is_null() { None } else { identity_data(res.as_ref(), &out.planned).or(req.prior_identity) };
        let planned = match encode(&out.planned, ty) {
            Ok(v) => v,
            Err(e) => {
                return Ok(Response::new(pb::plan_resource_change::Response {
                    diagnostics: wire_error("planned state", e),
                    ..Default::default()
                }));
            }
        };
        Ok(Response::new(pb::plan_resource_change::Response {
            planned_state: Some(planned),
            requires_replace: out.requires_replace.iter().map(to_pb_path).collect(),
            planned_private: req.prior_private,
            diagnostics: to_pb_diags(&out.diags),
            planned_identity,
            ..Default::default()
        }))
    }

    async fn apply_resource_change(
        &self,
        req: Request<pb::apply_resource_change::Request>,
    ) -> Result<Response<pb::apply_resource_change::Response>, Status> {
        let req = req.into_inner();
        log_rpc("ApplyResourceChange", &req.type_name);
        let (res, schema, ty) = match self.resource(&req.type_name) {
            Ok(r) => r,
            Err(diagnostics) => {
                return Ok(Response::new(pb::apply_resource_change::Response { diagnostics, ..Default::default() }));
            }
        };
        let decoded = (|| {
            Ok::<_, String>((
                decode(req.prior_state.as_ref(), ty)?,
                decode(req.planned_state.as_ref(), ty)?,
                decode(req.config.as_ref(), ty)?,
            ))
        })();
        let (prior, planned, config) = match decoded {
            Ok(v) => v,
            Err(e) => {
                return Ok(Response::new(pb::apply_resource_change::Response {
                    diagnostics: wire_error("apply request", e),
                    ..Default::default()
                }));
            }
        };
        let mut diags = Diagnostics::new();
        let new_state = if planned.is_null() {
            res.delete(&prior, &mut diags).await;
            if diags.has_error() { prior.clone() } else { Value::Null }
        } else {
            let result = if prior.is_null() {
                res.create(&planned, &config, &mut diags).await
            } else {
                res.update(&prior, &planned, &config, &mut diags).await
            };
            match result {
                Some(mut v) => {
                    super::plan::null_write_only(&schema.block, &mut v);
                    v
                }
                // Nothing was written: keep what Terraform had (null on a failed create).
                None => prior.clone(),
            }
        };
        if cfg!(debug_assertions) && !diags.has_error() {
            let errs = check_apply_consistent(&schema.block, &planned, &new_state);
            if !errs.is_empty() {
                diags.error("Provider Bug: Inconsistent Apply", errs.join("\n"));
            }
        }
        let new_identity = identity_data(res.as_ref(), &new_state);
        let new_state = match encode(&new_state, ty) {
            Ok(v) => v,
            Err(e) => {
                return Ok(Response::new(pb::apply_resource_change::Response {
                    diagnostics: wire_error("new state", e),
                    ..Default::default()
                }));
            }
        };
        Ok(Response::new(pb::apply_resource_change::Response {
            new_state: Some(new_state),
            private: req.planned_private,
            diagnostics: to_pb_diags(&diags),
            new_identity,
            ..Default::default()
        }))
    }

    async fn import_resource_state(
        &self,
        req: Request<pb::import_resource_state::Request>,
    ) -> Result<Response<pb::import_resource_state::Response>, Status> {
        let req = req.into_inner();
        log_rpc("ImportResourceState", &req.type_name);
        let (res, _, ty) = match self.resource(&req.type_name) {
            Ok(r) => r,
            Err(diagnostics) => {
                return Ok(Response::new(pb::import_resource_state::Response { diagnostics, ..Default::default() }));
            }
        };
        let mut diags = Diagnostics::new();
        let mut imported = Vec::new();
        // `import { identity = {...} }` sends the identity and no id.
        let by_identity = match (&req.identity, res.identity_schema()) {
            (Some(data), Some(schema)) if req.id.is_empty() => {
                match decode(data.identity_data.as_ref(), &schema.ty()) {
                    Ok(v) => Some(v),
                    Err(e) => {
                        return Ok(Response::new(pb::import_resource_state::Response {
                            diagnostics: wire_error("identity", e),
                            ..Default::default()
                        }));
                    }
                }
            }
            _ => None,
        };
        let state = match &by_identity {
            Some(identity) => res.import_identity(identity, &mut diags).await,
            None => res.import(&req.id, &mut diags).await,
        };
        if let Some(state) = state {
            let identity = identity_data(res.as_ref(), &state).or(req.identity.clone());
            match encode(&state, ty) {
                Ok(v) => imported.push(pb::import_resource_state::ImportedResource {
                    type_name: req.type_name.clone(),
                    state: Some(v),
                    identity,
                    ..Default::default()
                }),
                Err(e) => {
                    return Ok(Response::new(pb::import_resource_state::Response {
                        diagnostics: wire_error("imported state", e),
                        ..Default::default()
                    }));
                }
            }
        }
        Ok(Response::new(pb::import_resource_state::Response {
            imported_resources: imported,
            diagnostics: to_pb_diags(&diags),
            ..Default::default()
        }))
    }

    async fn generate_resource_config(
        &self,
        req: Request<pb::generate_resource_config::Request>,
    ) -> Result<Response<pb::generate_resource_config::Response>, Status> {
        let req = req.into_inner();
        log_rpc("GenerateResourceConfig", &req.type_name);
        let (res, schema, ty) = match self.resource(&req.type_name) {
            Ok(r) => r,
            Err(diagnostics) => {
                return Ok(Response::new(pb::generate_resource_config::Response { diagnostics, ..Default::default() }));
            }
        };
        let state = match decode(req.state.as_ref(), ty) {
            Ok(v) => v,
            Err(e) => {
                return Ok(Response::new(pb::generate_resource_config::Response {
                    diagnostics: wire_error("state", e),
                    ..Default::default()
                }));
            }
        };
        let mut diags = Diagnostics::new();
        // A list block without `include_resource` sends a null state: its configuration is null too.
        let config = if state.is_null() { Some(Value::Null) } else { res.generate_config(&state, &mut diags).await };
        let config = config.map(|mut c| {
            super::plan::config_from_state(&schema.block, &mut c);
            c
        });
        let config = match config.map(|c| encode(&c, ty)).transpose() {
            Ok(c) => c,
            Err(e) => {
                return Ok(Response::new(pb::generate_resource_config::Response {
                    diagnostics: wire_error("generated configuration", e),
                    ..Default::default()
                }));
            }
        };
        Ok(Response::new(pb::generate_resource_config::Response { config, diagnostics: to_pb_diags(&diags) }))
    }

    async fn validate_action_config(
        &self,
        req: Request<pb::validate_action_config::Request>,
    ) -> Result<Response<pb::validate_action_config::Response>, Status> {
        let req = req.into_inner();
        log_rpc("ValidateActionConfig", &req.type_name);
        let diagnostics = match self.action_config(&req.type_name, req.config.as_ref()) {
            Ok((_, _, diags)) => to_pb_diags(&diags),
            Err(diagnostics) => diagnostics,
        };
        Ok(Response::new(pb::validate_action_config::Response { diagnostics }))
    }

    async fn plan_action(
        &self,
        req: Request<pb::plan_action::Request>,
    ) -> Result<Response<pb::plan_action::Response>, Status> {
        let req = req.into_inner();
        log_rpc("PlanAction", &req.action_type);
        let diagnostics = match self.action_config(&req.action_type, req.config.as_ref()) {
            Ok((action, config, mut diags)) => {
                if !diags.has_error() {
                    action.plan(&config, &mut diags).await;
                }
                to_pb_diags(&diags)
            }
            Err(diagnostics) => diagnostics,
        };
        Ok(Response::new(pb::plan_action::Response { diagnostics, ..Default::default() }))
    }

    async fn invoke_action(
        &self,
        req: Request<pb::invoke_action::Request>,
    ) -> Result<Response<tonic::codegen::BoxStream<pb::invoke_action::Event>>, Status> {
        use pb::invoke_action::event::{Completed, Progress as PbProgress, Type};
        let req = req.into_inner();
        log_rpc("InvokeAction", &req.action_type);
        let completed = |diagnostics: Vec<pb::Diagnostic>| pb::invoke_action::Event {
            r#type: Some(Type::Completed(Completed { diagnostics })),
        };
        let (action, config, diags) = match self.action_config(&req.action_type, req.config.as_ref()) {
            Ok(found) => found,
            Err(diagnostics) => return Ok(Response::new(Box::pin(tokio_stream::iter([Ok(completed(diagnostics))])))),
        };
        // Progress goes into the stream as the action runs, then one Completed.
        let (events, stream) = tokio::sync::mpsc::unbounded_channel::<Result<pb::invoke_action::Event, Status>>();
        tokio::spawn(async move {
            let mut diags = diags;
            if !diags.has_error() {
                let sender = events.clone();
                let progress = Progress(Arc::new(move |message| {
                    let _ = sender
                        .send(Ok(pb::invoke_action::Event { r#type: Some(Type::Progress(PbProgress { message })) }));
                }));
                action.invoke(&config, &progress, &mut diags).await;
            }
            let _ = events.send(Ok(completed(to_pb_diags(&diags))));
        });
        Ok(Response::new(Box::pin(tokio_stream::wrappers::UnboundedReceiverStream::new(stream))))
    }

    async fn move_resource_state(
        &self,
        req: Request<pb::move_resource_state::Request>,
    ) -> Result<Response<pb::move_resource_state::Response>, Status> {
        let mut d = Diagnostics::new();
        d.error(
            "Move Not Supported",
            format!("{} cannot take state moved from another resource type.", req.get_ref().target_type_name),
        );
        Ok(Response::new(pb::move_resource_state::Response { diagnostics: to_pb_diags(&d), ..Default::default() }))
    }

    async fn read_data_source(
        &self,
        req: Request<pb::read_data_source::Request>,
    ) -> Result<Response<pb::read_data_source::Response>, Status> {
        let req = req.into_inner();
        log_rpc("ReadDataSource", &req.type_name);
        let (ds, schema, ty) = match self.data_source(&req.type_name) {
            Ok(d) => d,
            Err(diagnostics) => {
                return Ok(Response::new(pb::read_data_source::Response { diagnostics, ..Default::default() }));
            }
        };
        let config = match decode(req.config.as_ref(), ty) {
            Ok(v) => v,
            Err(e) => {
                return Ok(Response::new(pb::read_data_source::Response {
                    diagnostics: wire_error("configuration", e),
                    ..Default::default()
                }));
            }
        };
        let mut diags = Diagnostics::new();
        let config = super::with_defaults(&schema.block, &config);
        let Some(state) = ds.read(&config, &mut diags).await else {
            return Ok(Response::new(pb::read_data_source::Response {
                diagnostics: to_pb_diags(&diags),
                ..Default::default()
            }));
        };
        match encode(&state, ty) {
            Ok(v) => Ok(Response::new(pb::read_data_source::Response {
                state: Some(v),
                diagnostics: to_pb_diags(&diags),
                ..Default::default()
            })),
            Err(e) => Ok(Response::new(pb::read_data_source::Response {
                diagnostics: wire_error("data source state", e),
                ..Default::default()
            })),
        }
    }

    async fn get_functions(
        &self,
        _req: Request<pb::get_functions::Request>,
    ) -> Result<Response<pb::get_functions::Response>, Status> {
        log_rpc("GetFunctions", "");
        Ok(Response::new(pb::get_functions::Response { functions: self.pb_functions(), diagnostics: Vec::new() }))
    }

    async fn call_function(
        &self,
        req: Request<pb::call_function::Request>,
    ) -> Result<Response<pb::call_function::Response>, Status> {
        let req = req.into_inner();
        log_rpc("CallFunction", &req.name);
        Ok(Response::new(match self.call(&req.name, &req.arguments) {
            Ok(v) => pb::call_function::Response { result: Some(v), error: None },
            Err(e) => pb::call_function::Response {
                result: None,
                error: Some(pb::FunctionError { text: e.text, function_argument: e.argument.map(|i| i as i64) }),
            },
        }))
    }

    async fn stop_provider(
        &self,
        _req: Request<pb::stop_provider::Request>,
    ) -> Result<Response<pb::stop_provider::Response>, Status> {
        Ok(Response::new(Default::default()))
    }
}
