//! The organization's accounts, as AWS Organizations lists them (the `plan` state's source for
//! `"source": "organization"`).

use compliance_core::accounts::OrgAccount;
use compliance_core::contract::AccountId;
use futures::future::BoxFuture;

use crate::error::AwsError;

pub trait Organization: Send + Sync {
    /// Every account of the organization, or of the given OUs and roots with their nested OUs.
    fn accounts<'a>(
        &'a self,
        parents: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<OrgAccount>, AwsError>>;
}

pub struct OrganizationsApi {
    client: aws_sdk_organizations::Client,
}

impl OrganizationsApi {
    pub fn new(client: aws_sdk_organizations::Client) -> Self {
        OrganizationsApi { client }
    }

    async fn all(&self) -> Result<Vec<OrgAccount>, AwsError> {
        let mut out = Vec::new();
        let mut pages = self.client.list_accounts().into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| AwsError::api("organizations", "ListAccounts", &e))?;
            for account in page.accounts() {
                out.push(org_account(account)?);
            }
        }
        Ok(out)
    }

    /// Walks each parent's tree: its accounts, then its child OUs in turn.
    async fn under(&self, parents: &[String]) -> Result<Vec<OrgAccount>, AwsError> {
        let mut out = Vec::new();
        let mut pending: Vec<String> = parents.to_vec();
        while let Some(parent) = pending.pop() {
            let mut pages = self
                .client
                .list_accounts_for_parent()
                .parent_id(&parent)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page =
                    page.map_err(|e| AwsError::api("organizations", "ListAccountsForParent", &e))?;
                for account in page.accounts() {
                    out.push(org_account(account)?);
                }
            }
            let mut pages = self
                .client
                .list_organizational_units_for_parent()
                .parent_id(&parent)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| {
                    AwsError::api("organizations", "ListOrganizationalUnitsForParent", &e)
                })?;
                pending.extend(
                    page.organizational_units()
                        .iter()
                        .filter_map(|ou| ou.id().map(str::to_string)),
                );
            }
        }
        out.sort_by(|a, b| a.id.cmp(&b.id));
        out.dedup_by(|a, b| a.id == b.id);
        Ok(out)
    }
}

fn org_account(a: &aws_sdk_organizations::types::Account) -> Result<OrgAccount, AwsError> {
    let id = a.id().unwrap_or_default();
    let id = AccountId::parse(id).map_err(|e| AwsError::Api {
        service: "organizations",
        api: "ListAccounts",
        code: "InvalidAccountId".into(),
        message: e.to_string(),
    })?;
    #[allow(deprecated)] // `Status` is what every Organizations endpoint still answers.
    let status = a
        .status()
        .map(|s| s.as_str().to_string())
        .unwrap_or_default();
    Ok(OrgAccount {
        id,
        name: a.name().unwrap_or_default().to_string(),
        status,
    })
}

impl Organization for OrganizationsApi {
    fn accounts<'a>(
        &'a self,
        parents: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<OrgAccount>, AwsError>> {
        Box::pin(async move {
            if parents.is_empty() {
                self.all().await
            } else {
                self.under(parents).await
            }
        })
    }
}

/// A fixed organization, for the handlers' tests: `parents` picks accounts by their OU.
#[derive(Default)]
pub struct MemoryOrganization {
    /// (parent id, account)
    pub accounts: Vec<(String, OrgAccount)>,
}

impl Organization for MemoryOrganization {
    fn accounts<'a>(
        &'a self,
        parents: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<OrgAccount>, AwsError>> {
        let found = self
            .accounts
            .iter()
            .filter(|(parent, _)| parents.is_empty() || parents.contains(parent))
            .map(|(_, a)| a.clone())
            .collect();
        Box::pin(async move { Ok(found) })
    }
}
