//! The `DataSource` trait: a read-only type Terraform reads at plan (or at apply when its
//! configuration is not known yet). The framework validates and encodes; the data source reads.

use super::{Diagnostics, Schema};
use crate::cty::Value;
use async_trait::async_trait;

/// One data source type.
#[async_trait]
pub trait DataSource: Send + Sync {
    /// The Terraform type name, e.g. `jenkins_eks_cluster`.
    fn type_name(&self) -> &'static str;

    fn schema(&self) -> Schema;

    /// Checks across attributes that validators cannot express. Values may be unknown.
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}

    /// The configuration with every computed attribute filled in, or `None` when `diags` says why.
    async fn read(&self, config: &Value, diags: &mut Diagnostics) -> Option<Value>;
}
