//! Thin AWS adapters over the core: collectors, configuration loading and object storage.
//! Everything here talks to AWS; everything it decides is delegated to `compliance-core`.

#[cfg(feature = "ssm")]
pub mod automation;
#[cfg(feature = "scan")]
pub mod collect;
pub mod error;
pub mod fault;
#[cfg(feature = "tables")]
pub mod findings_table;
#[cfg(feature = "tables")]
pub mod history;
#[cfg(feature = "tables")]
pub mod ledger;
#[cfg(feature = "member")]
pub mod member;
#[cfg(feature = "cloudwatch")]
pub mod metrics;
#[cfg(feature = "sns")]
pub mod notify;
#[cfg(feature = "organizations")]
pub mod organizations;
#[cfg(feature = "ssm")]
pub mod params;
#[cfg(feature = "scan")]
pub mod scanner;
pub mod sdk;
#[cfg(feature = "security-hub")]
pub mod security_hub;
pub mod store;
pub mod upload;
#[cfg(feature = "webhook")]
pub mod webhook;
#[cfg(feature = "workflow")]
pub mod workflow;

pub use error::AwsError;

/// The in-memory adapters' state: a panic while it was held already failed the test that
/// caused it, so a poisoned lock is still read.
pub(crate) fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
#[cfg(feature = "scan")]
pub use scanner::{AccountScan, Scanner, UnitDone};
