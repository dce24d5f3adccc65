//! Thin AWS adapters over the core: collectors, configuration loading and object storage.
//! Everything here talks to AWS; everything it decides is delegated to `compliance-core`.

pub mod automation;
pub mod collect;
pub mod error;
pub mod findings_table;
pub mod history;
pub mod ledger;
pub mod metrics;
pub mod notify;
pub mod params;
pub mod scanner;
pub mod sdk;
pub mod security_hub;
pub mod store;
pub mod webhook;
pub mod workflow;

pub use error::AwsError;
pub use scanner::{ScanPlan, Scanner};
