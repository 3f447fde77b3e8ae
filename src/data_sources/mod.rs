//! The data sources: what the provider can discover, so configurations need not type it. Each
//! reads with the provider's own credentials and writes nothing.

mod controller;
mod eks_cluster;

use crate::framework::DataSource;
use crate::provider::ProviderContext;
use std::sync::Arc;

/// Every data source this provider serves, in the order the docs list them.
pub fn all(context: &Arc<ProviderContext>) -> Vec<Arc<dyn DataSource>> {
    vec![
        Arc::new(controller::Controller { context: context.clone() }),
        Arc::new(eks_cluster::EksCluster { context: context.clone() }),
    ]
}
