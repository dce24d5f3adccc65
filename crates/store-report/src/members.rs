//! How each account of the run is reached: the scanner's own with its own credentials, a member
//! through the member role the run's plan gave it (`runs/{run}/plan.json`), with the accounts
//! setting's external id.

use compliance_core::plan::ScanPlan;

pub struct MemberRoles {
    own_account: String,
    plan: Option<ScanPlan>,
    plan_key: String,
    external_id: Option<String>,
}

impl MemberRoles {
    pub fn new(
        own_account: &str,
        plan: Option<ScanPlan>,
        plan_key: String,
        external_id: Option<String>,
    ) -> Self {
        MemberRoles {
            own_account: own_account.to_string(),
            plan,
            plan_key,
            external_id,
        }
    }

    pub fn is_own(&self, account_id: &str) -> bool {
        account_id == self.own_account
    }

    /// The role to assume in `account_id`: `None` for the scanner's own account. A member the
    /// plan does not name cannot be reached (the run never scanned it through a role).
    pub fn role_of(&self, account_id: &str) -> Result<Option<&str>, String> {
        let planned = self.plan.as_ref().and_then(|p| {
            p.accounts
                .iter()
                .find(|a| a.account_id.as_str() == account_id)
        });
        match planned {
            Some(target) => Ok(target.role_arn.as_deref()),
            None if self.is_own(account_id) => Ok(None),
            None => Err(format!(
                "account {account_id} has no member role in the run's plan ({})",
                self.plan_key
            )),
        }
    }

    pub fn external_id(&self) -> Option<&str> {
        self.external_id.as_deref()
    }
}
