//! The compliance scanner's domain, pure and free of AWS calls: the resource model, the rule
//! catalog with its compliance mappings, findings, the mute list, configuration and reports.

pub mod accounts;
pub mod alert;
pub mod analysis;
pub mod config;
pub mod contract;
pub mod engine;
pub mod error;
pub mod finding;
pub mod lifecycle;
pub mod map_results;
pub mod model;
pub mod mutelist;
pub mod plan;
pub mod policy;
pub mod remediation;
pub mod report;
pub mod rules;
pub mod run;
pub mod summary;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod time;
pub mod unit;
pub mod webhook;

pub use engine::{evaluate, Evaluation, EvaluationSettings};
pub use error::CoreError;
pub use finding::{Finding, FindingStatus, ScanError, Severity, SeverityCounts};
pub use model::{Inventory, Service};
pub use report::{ScanReport, Summary};
