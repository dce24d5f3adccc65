//! Which accounts a run scans (`/compliance/scanner/config/accounts`) and how each is reached:
//! the scanner's own account with its own credentials, every other one through the member role.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::contract::AccountId;
use crate::error::CoreError;

pub const PARAM_ACCOUNTS: &str = "/compliance/scanner/config/accounts";
pub const DEFAULT_MEMBER_ROLE: &str = "ComplianceScannerMemberRole";

/// Where the account list comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountSource {
    /// Every ACTIVE account of the organization (or of `organizational_units`), minus `exclude`.
    Organization,
    /// Exactly `accounts`, minus `exclude`.
    List,
}

/// The accounts setting. Without the parameter a run scans its own account only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountsConfig {
    pub source: AccountSource,
    #[serde(default)]
    pub accounts: Vec<AccountId>,
    /// OU (`ou-...`) or root (`r-...`) ids whose accounts, nested OUs included, are scanned;
    /// empty means the whole organization.
    #[serde(default)]
    pub organizational_units: Vec<String>,
    #[serde(default)]
    pub exclude: Vec<AccountId>,
    #[serde(default = "default_role")]
    pub role_name: String,
    #[serde(default)]
    pub external_id: Option<String>,
}

fn default_role() -> String {
    DEFAULT_MEMBER_ROLE.to_string()
}

/// How the scanner reaches member accounts: the role's name in every member, and the external
/// id its trust policy may require (not a secret, but kept out of logs and payloads anyway).
#[derive(Clone, PartialEq, Eq)]
pub struct MemberRole {
    pub role_name: String,
    pub external_id: Option<String>,
}

impl std::fmt::Debug for MemberRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemberRole")
            .field("role_name", &self.role_name)
            .field("external_id", &self.external_id.as_ref().map(|_| "<set>"))
            .finish()
    }
}

impl Default for MemberRole {
    fn default() -> Self {
        MemberRole {
            role_name: default_role(),
            external_id: None,
        }
    }
}

impl MemberRole {
    /// `arn:{partition}:iam::{account}:role/{name}` (the partition follows the region).
    pub fn arn(&self, account: &AccountId, region: &str) -> String {
        format!(
            "arn:{}:iam::{account}:role/{}",
            partition_of(region),
            self.role_name
        )
    }
}

/// The ARN partition of a region.
pub fn partition_of(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// An account as AWS Organizations lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgAccount {
    pub id: AccountId,
    pub name: String,
    /// `ACTIVE`, `SUSPENDED`, `PENDING_CLOSURE`: only active accounts are scanned.
    pub status: String,
}

/// One account a run scans.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanTarget {
    pub account_id: AccountId,
    /// The name Organizations knows it by, when it was listed from there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The role assumed to scan it; `None` for the scanner's own account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
}

impl AccountsConfig {
    pub fn parse(json: &str) -> Result<Self, CoreError> {
        let invalid = |reason: String| CoreError::InvalidParameter {
            parameter: PARAM_ACCOUNTS.into(),
            reason,
        };
        let config: AccountsConfig =
            crate::config::from_json_naming_field(json).map_err(invalid)?;
        config.validate().map_err(invalid)?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), String> {
        if self.source == AccountSource::List && self.accounts.is_empty() {
            return Err("`source` is \"list\" but `accounts` is empty".into());
        }
        if self.source == AccountSource::List && !self.organizational_units.is_empty() {
            return Err("`organizational_units` applies to `source: \"organization\"` only".into());
        }
        for ou in &self.organizational_units {
            if !is_parent_id(ou) {
                return Err(format!(
                    "`organizational_units`: `{ou}` is not an OU id (ou-xxxx-xxxxxxxx) or root id (r-xxxx)"
                ));
            }
        }
        if !is_role_name(&self.role_name) {
            return Err(format!(
                "`role_name`: `{}` is not an IAM role name (1-64 of letters, digits and +=,.@_-)",
                self.role_name
            ));
        }
        if let Some(id) = &self.external_id {
            // sts:AssumeRole's ExternalId: 2-1224 of [\w+=,.@:/-].
            let ok = (2..=1224).contains(&id.len())
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_+=,.@:/-".contains(c));
            if !ok {
                return Err(
                    "`external_id` must be 2-1224 characters of letters, digits and _+=,.@:/-"
                        .into(),
                );
            }
        }
        Ok(())
    }

    pub fn member_role(&self) -> MemberRole {
        MemberRole {
            role_name: self.role_name.clone(),
            external_id: self.external_id.clone(),
        }
    }

    /// The accounts to scan, in account id order: `listed` is what Organizations answered for
    /// the `organization` source (ignored for `list`). The own account is reached with its own
    /// credentials; excluded and inactive accounts are dropped. An empty result is an error: a
    /// run that scans nothing must not look like a clean one.
    pub fn targets(
        &self,
        own_account: &AccountId,
        home_region: &str,
        listed: &[OrgAccount],
    ) -> Result<Vec<ScanTarget>, CoreError> {
        let excluded: BTreeSet<&AccountId> = self.exclude.iter().collect();
        let role = self.member_role();
        let target = |id: &AccountId, name: Option<&str>| ScanTarget {
            account_id: id.clone(),
            name: name.map(str::to_string),
            role_arn: (id != own_account).then(|| role.arn(id, home_region)),
        };
        let mut targets: Vec<ScanTarget> = match self.source {
            AccountSource::List => self
                .accounts
                .iter()
                .map(|id| {
                    let name = listed.iter().find(|a| &a.id == id).map(|a| a.name.as_str());
                    target(id, name)
                })
                .collect(),
            AccountSource::Organization => listed
                .iter()
                .filter(|a| a.status == "ACTIVE")
                .map(|a| target(&a.id, Some(&a.name)))
                .collect(),
        };
        targets.retain(|t| !excluded.contains(&t.account_id));
        targets.sort_by(|a, b| a.account_id.cmp(&b.account_id));
        targets.dedup_by(|a, b| a.account_id == b.account_id);
        if targets.is_empty() {
            return Err(CoreError::InvalidParameter {
                parameter: PARAM_ACCOUNTS.into(),
                reason:
                    "no account is left to scan (every listed account is excluded or not ACTIVE)"
                        .into(),
            });
        }
        Ok(targets)
    }
}

/// The targets of a run without the accounts parameter: the scanner's own account.
pub fn own_account_only(own_account: &AccountId) -> Vec<ScanTarget> {
    vec![ScanTarget {
        account_id: own_account.clone(),
        name: None,
        role_arn: None,
    }]
}

fn is_parent_id(id: &str) -> bool {
    let lower_alnum = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    };
    if let Some(rest) = id.strip_prefix("ou-") {
        let mut parts = rest.split('-');
        matches!((parts.next(), parts.next(), parts.next()),
            (Some(a), Some(b), None) if (4..=32).contains(&a.len()) && (8..=32).contains(&b.len())
                && lower_alnum(a) && lower_alnum(b))
    } else if let Some(rest) = id.strip_prefix("r-") {
        (4..=32).contains(&rest.len()) && lower_alnum(rest)
    } else {
        false
    }
}

fn is_role_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> AccountId {
        AccountId::parse(s).unwrap()
    }

    fn listed() -> Vec<OrgAccount> {
        [
            ("111111111111", "management", "ACTIVE"),
            ("222222222222", "prod", "ACTIVE"),
            ("333333333333", "closing", "SUSPENDED"),
            ("444444444444", "sandbox", "ACTIVE"),
        ]
        .into_iter()
        .map(|(i, n, s)| OrgAccount {
            id: id(i),
            name: n.into(),
            status: s.into(),
        })
        .collect()
    }

    #[test]
    fn organization_source_takes_active_accounts_minus_exclusions() {
        let config = AccountsConfig::parse(
            r#"{"source": "organization", "exclude": ["444444444444"], "external_id": "ext-1"}"#,
        )
        .unwrap();
        let targets = config
            .targets(&id("111111111111"), "eu-west-1", &listed())
            .unwrap();
        assert_eq!(
            targets,
            vec![
                ScanTarget {
                    account_id: id("111111111111"),
                    name: Some("management".into()),
                    role_arn: None,
                },
                ScanTarget {
                    account_id: id("222222222222"),
                    name: Some("prod".into()),
                    role_arn: Some(
                        "arn:aws:iam::222222222222:role/ComplianceScannerMemberRole".into()
                    ),
                },
            ]
        );
        assert_eq!(config.member_role().external_id.as_deref(), Some("ext-1"));
        assert!(!format!("{:?}", config.member_role()).contains("ext-1"));
    }

    #[test]
    fn list_source_keeps_the_given_accounts_and_names_known_ones() {
        let config = AccountsConfig::parse(
            r#"{"source": "list", "accounts": ["444444444444", "555555555555", "444444444444"],
                "role_name": "Auditor"}"#,
        )
        .unwrap();
        let targets = config
            .targets(&id("111111111111"), "cn-north-1", &listed())
            .unwrap();
        assert_eq!(targets.len(), 2);
        assert_eq!(targets[0].name.as_deref(), Some("sandbox"));
        assert_eq!(targets[1].name, None);
        assert_eq!(
            targets[1].role_arn.as_deref(),
            Some("arn:aws-cn:iam::555555555555:role/Auditor")
        );
    }

    #[test]
    fn invalid_settings_are_named() {
        for (json, expected) in [
            (r#"{"source": "everything"}"#, "field `source`"),
            (r#"{"source": "list"}"#, "`accounts` is empty"),
            (r#"{"source": "list", "accounts": ["12"]}"#, "accounts[0]"),
            (
                r#"{"source": "organization", "organizational_units": ["finance"]}"#,
                "`finance` is not an OU id",
            ),
            (
                r#"{"source": "organization", "role_name": "a/b"}"#,
                "role_name",
            ),
            (
                r#"{"source": "organization", "external_id": "x"}"#,
                "external_id",
            ),
            (
                r#"{"source": "organization", "acounts": []}"#,
                "unknown field `acounts`",
            ),
            (r#""organization""#, "expected struct AccountsConfig"),
        ] {
            let err = AccountsConfig::parse(json).unwrap_err().to_string();
            assert!(err.contains(PARAM_ACCOUNTS), "{json}: {err}");
            assert!(err.contains(expected), "{json}: {err}");
        }
        assert!(AccountsConfig::parse(
            r#"{"source": "organization", "organizational_units": ["ou-ab12-cdef3456", "r-ab12"]}"#
        )
        .is_ok());
    }

    #[test]
    fn nothing_left_to_scan_is_an_error() {
        let config = AccountsConfig::parse(
            r#"{"source": "list", "accounts": ["222222222222"], "exclude": ["222222222222"]}"#,
        )
        .unwrap();
        let err = config
            .targets(&id("111111111111"), "eu-west-1", &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("no account is left"), "{err}");
    }
}
