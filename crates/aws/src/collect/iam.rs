//! IAM: the root user's settings, once per account (IAM is global): GetAccountSummary and the
//! assigned virtual MFA devices (ListVirtualMFADevices), concurrently.

use aws_sdk_iam::types::{AssignmentStatusType, SummaryKeyType};
use compliance_core::model::IamAccountSettings;
use compliance_core::{Inventory, Service};
use futures::future::BoxFuture;

use super::{Collected, Collector};
use crate::error::scan_error;
use crate::sdk::ClientFactory;

const PAGE: i32 = 1000;

pub struct IamCollector {
    factory: ClientFactory,
}

impl IamCollector {
    pub fn new(factory: ClientFactory) -> Self {
        IamCollector { factory }
    }
}

/// The root user's ARN ends in `:root`.
fn is_root(arn: &str) -> bool {
    arn.ends_with(":root")
}

impl Collector for IamCollector {
    fn service(&self) -> Service {
        Service::Iam
    }

    /// `region` is where the account-level findings are reported.
    fn collect<'a>(&'a self, account_id: &'a str, region: &'a str) -> BoxFuture<'a, Collected> {
        Box::pin(async move {
            let client = self.factory.iam();
            let mut out = Collected {
                inventory: Inventory::new(account_id),
                errors: Vec::new(),
            };
            let devices = async {
                let mut pages = client
                    .list_virtual_mfa_devices()
                    .assignment_status(AssignmentStatusType::Assigned)
                    .max_items(PAGE)
                    .into_paginator()
                    .send();
                let mut root = Vec::new();
                while let Some(page) = pages.next().await {
                    let page = page.map_err(|e| {
                        scan_error(region, Service::Iam, "ListVirtualMFADevices", None, &e)
                    })?;
                    root.extend(
                        page.virtual_mfa_devices()
                            .iter()
                            .filter(|d| d.user().is_some_and(|u| is_root(u.arn())))
                            .map(|d| d.serial_number().to_string()),
                    );
                }
                Ok(root)
            };
            let (summary, devices) = tokio::join!(client.get_account_summary().send(), devices);
            let (mut mfa, mut keys) = (None, None);
            match summary {
                Ok(summary) => {
                    let value = |key: SummaryKeyType| {
                        summary
                            .summary_map()
                            .and_then(|m| m.get(&key))
                            .map(|n| *n > 0)
                    };
                    mfa = value(SummaryKeyType::AccountMfaEnabled);
                    keys = value(SummaryKeyType::AccountAccessKeysPresent);
                }
                Err(e) => out.errors.push(scan_error(
                    region,
                    Service::Iam,
                    "GetAccountSummary",
                    None,
                    &e,
                )),
            }
            let devices = match devices {
                Ok(d) => Some(d),
                Err(e) => {
                    out.errors.push(e);
                    None
                }
            };
            out.inventory.iam_account = Some(IamAccountSettings {
                region: region.to_string(),
                root_mfa_enabled: mfa,
                root_access_keys_present: keys,
                root_virtual_mfa_devices: devices,
            });
            out
        })
    }
}
