//! Which accounts `compliance scan` covers: the caller's own (the default), every ACTIVE
//! account of the organization (`--organization`), or a list (`--accounts`). The flags become
//! the core's accounts setting, which decides how each account is reached.

use clap::Args;
use compliance_core::accounts::{AccountsConfig, DEFAULT_MEMBER_ROLE};
use compliance_core::contract::AccountId;
use compliance_core::CoreError;
use serde_json::json;

#[derive(Debug, Default, Args)]
// The flags are not one group: --organization and --accounts are (one of them at most), and
// the role flags need one of them.
#[group(skip)]
pub struct AccountFlags {
    /// Scan every ACTIVE account of the organization (listed with AWS Organizations: run from
    /// the management account or a delegated administrator); members through their role.
    #[arg(long, group = "member_accounts")]
    pub organization: bool,
    /// Scan these accounts (comma-separated ids); members through their role.
    #[arg(long, value_name = "ID,ID", group = "member_accounts")]
    pub accounts: Option<String>,
    /// The role assumed in each member account.
    #[arg(long, value_name = "NAME", requires = "member_accounts",
          default_value = DEFAULT_MEMBER_ROLE)]
    pub role_name: String,
    /// The external id the member role's trust policy requires, if any.
    #[arg(long, value_name = "ID", requires = "member_accounts")]
    pub external_id: Option<String>,
}

impl AccountFlags {
    /// The accounts setting the flags describe; `None` scans the caller's account alone.
    pub fn setting(&self) -> Result<Option<AccountsConfig>, String> {
        let (source, accounts) = match (&self.accounts, self.organization) {
            (Some(list), _) => ("list", parse_account_list(list)?),
            (None, true) => ("organization", Vec::new()),
            (None, false) => return Ok(None),
        };
        let setting = json!({
            "source": source,
            "accounts": accounts,
            "role_name": self.role_name,
            "external_id": self.external_id,
        });
        AccountsConfig::parse(&setting.to_string())
            .map(Some)
            .map_err(|e| flag_error(&e))
    }
}

/// `111111111111,222222222222`: every id that is not one is named.
fn parse_account_list(list: &str) -> Result<Vec<String>, String> {
    let ids: Vec<&str> = list
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if ids.is_empty() {
        return Err("--accounts: no account id given".into());
    }
    let invalid: Vec<String> = ids
        .iter()
        .filter(|id| AccountId::parse(id).is_err())
        .map(|id| format!("`{id}`"))
        .collect();
    if !invalid.is_empty() {
        return Err(format!(
            "--accounts: {} {}",
            invalid.join(", "),
            if invalid.len() == 1 {
                "is not a 12-digit AWS account id"
            } else {
                "are not 12-digit AWS account ids"
            }
        ));
    }
    Ok(ids.into_iter().map(str::to_string).collect())
}

/// The core names the parameter's fields; on the command line they are flags.
pub fn flag_error(e: &CoreError) -> String {
    match e {
        CoreError::InvalidParameter { reason, .. } => reason
            .replace("`role_name`", "--role-name")
            .replace("`external_id`", "--external-id"),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use compliance_core::accounts::AccountSource;

    use super::*;

    fn flags(organization: bool, accounts: Option<&str>) -> AccountFlags {
        AccountFlags {
            organization,
            accounts: accounts.map(str::to_string),
            role_name: DEFAULT_MEMBER_ROLE.into(),
            external_id: None,
        }
    }

    #[test]
    fn without_flags_the_callers_account_alone_is_scanned() {
        assert_eq!(flags(false, None).setting().unwrap(), None);
    }

    #[test]
    fn organization_and_list_become_the_accounts_setting() {
        let mut org = flags(true, None);
        org.role_name = "Auditor".into();
        org.external_id = Some("ext-42".into());
        let setting = org.setting().unwrap().unwrap();
        assert_eq!(setting.source, AccountSource::Organization);
        assert_eq!(setting.role_name, "Auditor");
        assert_eq!(setting.external_id.as_deref(), Some("ext-42"));

        let list = flags(false, Some(" 111111111111, 222222222222 ,"))
            .setting()
            .unwrap()
            .unwrap();
        assert_eq!(list.source, AccountSource::List);
        let ids: Vec<&str> = list.accounts.iter().map(AccountId::as_str).collect();
        assert_eq!(ids, ["111111111111", "222222222222"]);
        assert_eq!(list.role_name, DEFAULT_MEMBER_ROLE);
    }

    #[test]
    fn invalid_ids_and_role_settings_are_named_by_their_flags() {
        let err = flags(false, Some("111111111111,12345,abc"))
            .setting()
            .unwrap_err();
        assert_eq!(
            err,
            "--accounts: `12345`, `abc` are not 12-digit AWS account ids"
        );
        let err = flags(false, Some("12")).setting().unwrap_err();
        assert_eq!(err, "--accounts: `12` is not a 12-digit AWS account id");
        assert!(flags(false, Some(" , ")).setting().is_err());

        let mut bad_role = flags(true, None);
        bad_role.role_name = "a/b".into();
        let err = bad_role.setting().unwrap_err();
        assert!(
            err.starts_with("--role-name: `a/b` is not an IAM role name"),
            "{err}"
        );
        let mut bad_external = flags(true, None);
        bad_external.external_id = Some("x".into());
        let err = bad_external.setting().unwrap_err();
        assert!(err.starts_with("--external-id must be"), "{err}");
    }
}
