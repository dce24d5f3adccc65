//! How the run's member accounts are reached: the member role the run's plan gave each
//! (`runs/{run}/plan.json`), with the accounts setting's external id.

use compliance_aws::params::ParameterStore;
use compliance_aws::store::{get_optional_json, ObjectStore};
use compliance_core::accounts::{AccountsConfig, PARAM_ACCOUNTS};
use compliance_core::contract::RunId;
use compliance_core::plan::ScanPlan;
use compliance_lambda::StateError;

pub struct MemberRoles {
    plan: Option<ScanPlan>,
    plan_key: String,
    external_id: Option<String>,
}

impl MemberRoles {
    /// The run's plan and the accounts setting. A run without a plan has no member to reach
    /// (each member's role is named there); a broken setting is an error.
    pub async fn load(
        store: &dyn ObjectStore,
        parameters: &dyn ParameterStore,
        run_id: &RunId,
    ) -> Result<MemberRoles, StateError> {
        let plan_key = run_id.keys().plan();
        let plan = get_optional_json(store, &plan_key, "the run's plan").await?;
        let accounts = parameters
            .parameter(PARAM_ACCOUNTS)
            .await?
            .map(|json| AccountsConfig::parse(&json))
            .transpose()?;
        Ok(MemberRoles {
            plan,
            plan_key,
            external_id: accounts.and_then(|a| a.external_id),
        })
    }

    /// The member role the run assumed in `account_id`.
    pub fn role_of(&self, account_id: &str) -> Result<&str, String> {
        self.plan
            .as_ref()
            .and_then(|p| {
                p.accounts
                    .iter()
                    .find(|a| a.account_id.as_str() == account_id)
            })
            .and_then(|a| a.role_arn.as_deref())
            .ok_or_else(|| {
                format!(
                    "account {account_id} has no member role in the run's plan ({})",
                    self.plan_key
                )
            })
    }

    pub fn external_id(&self) -> Option<&str> {
        self.external_id.as_deref()
    }
}
