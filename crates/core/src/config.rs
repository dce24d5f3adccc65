//! Scanner settings from Parameter Store (`/compliance/scanner/config/...`), validated with
//! errors that name the parameter at fault.

use std::collections::BTreeMap;

use crate::accounts::{AccountsConfig, PARAM_ACCOUNTS};
use crate::error::CoreError;
use crate::model::Service;
use crate::mutelist::Mutelist;
use crate::rules::{RuleParameters, PARAM_RULE_PARAMETERS};

pub const CONFIG_PREFIX: &str = "/compliance/scanner/config/";
pub const PARAM_REGIONS: &str = "/compliance/scanner/config/regions";
pub const PARAM_SERVICES: &str = "/compliance/scanner/config/services";
pub const PARAM_REQUIRED_TAGS: &str = "/compliance/scanner/config/required-tags";
pub const PARAM_MUTELIST: &str = "/compliance/scanner/config/mutelist";

pub const DEFAULT_REGIONS: [&str; 3] = ["us-east-1", "eu-west-1", "ap-southeast-1"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScannerConfig {
    pub regions: Vec<String>,
    pub services: Vec<Service>,
    pub required_tags: Vec<String>,
    pub mutelist: Mutelist,
    pub rule_parameters: RuleParameters,
    /// The accounts setting; `None` scans the scanner's own account only.
    pub accounts: Option<AccountsConfig>,
}

impl Default for ScannerConfig {
    fn default() -> Self {
        ScannerConfig {
            regions: DEFAULT_REGIONS
                .iter()
                .map(std::string::ToString::to_string)
                .collect(),
            services: Service::ALL.to_vec(),
            required_tags: Vec::new(),
            mutelist: Mutelist::default(),
            rule_parameters: RuleParameters::default(),
            accounts: None,
        }
    }
}

impl ScannerConfig {
    /// Builds the config from parameter name → value; absent parameters keep their defaults,
    /// parameters this version does not know are ignored (later stages own them).
    pub fn from_parameters(params: &BTreeMap<String, String>) -> Result<Self, CoreError> {
        let mut config = ScannerConfig::default();
        if let Some(value) = params.get(PARAM_REGIONS) {
            config.regions = parse_regions(value, PARAM_REGIONS)?;
        }
        if let Some(value) = params.get(PARAM_SERVICES) {
            config.services = parse_services(value, PARAM_SERVICES)?;
        }
        if let Some(value) = params.get(PARAM_REQUIRED_TAGS) {
            config.required_tags = parse_list(value)
                .into_iter()
                .map(|key| validate_tag_key(&key, PARAM_REQUIRED_TAGS).map(|()| key))
                .collect::<Result<_, _>>()?;
        }
        if let Some(value) = params.get(PARAM_MUTELIST) {
            config.mutelist = Mutelist::parse(value, PARAM_MUTELIST)?;
        }
        if let Some(value) = params.get(PARAM_ACCOUNTS) {
            config.accounts = Some(AccountsConfig::parse(value)?);
        }
        if let Some(value) = params.get(PARAM_RULE_PARAMETERS) {
            config.rule_parameters = RuleParameters::parse(value)?;
        }
        Ok(config)
    }
}

/// A comma-separated list (the StringList form), trimmed, blanks dropped, duplicates removed.
pub fn parse_list(value: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        if !out.iter().any(|o| o == item) {
            out.push(item.to_string());
        }
    }
    out
}

pub fn parse_regions(value: &str, source: &str) -> Result<Vec<String>, CoreError> {
    let regions = parse_list(value);
    if regions.is_empty() {
        return Err(invalid(source, "no region given"));
    }
    for region in &regions {
        if !is_region_name(region) {
            return Err(invalid(
                source,
                &format!("`{region}` is not an AWS region name (like eu-west-1)"),
            ));
        }
    }
    Ok(regions)
}

pub fn parse_services(value: &str, source: &str) -> Result<Vec<Service>, CoreError> {
    let services = parse_list(value)
        .iter()
        .map(|s| {
            s.parse::<Service>()
                .map_err(|e| invalid(source, &e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if services.is_empty() {
        return Err(invalid(source, "no service given"));
    }
    Ok(services)
}

/// `xx-name-N` or `xx-name-name-N` (e.g. `us-gov-west-1`, `ap-southeast-1`).
pub fn is_region_name(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
        && parts[parts.len() - 1].chars().all(|c| c.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty()
}

fn validate_tag_key(key: &str, source: &str) -> Result<(), CoreError> {
    if key.chars().count() > 128 || key.starts_with("aws:") {
        return Err(invalid(
            source,
            &format!("`{key}` is not a valid user tag key"),
        ));
    }
    Ok(())
}

fn invalid(parameter: &str, reason: &str) -> CoreError {
    CoreError::InvalidParameter {
        parameter: parameter.to_string(),
        reason: reason.to_string(),
    }
}

/// A setting's JSON as a `T`; an error names the field at fault (`field `max_high`: invalid
/// type: string "5", expected i64 at line 1 column 17`), which serde's own message does not.
pub(crate) fn from_json_naming_field<T: serde::de::DeserializeOwned>(
    json: &str,
) -> Result<T, String> {
    serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_str(json)).map_err(|e| {
        let path = e.path().to_string();
        if path == "." {
            e.into_inner().to_string()
        } else {
            format!("field `{path}`: {}", e.into_inner())
        }
    })
}

/// A JSON setting kept in one Parameter Store parameter, with a default for when the parameter
/// does not exist (an existing but invalid one is an error, never the default).
pub trait Setting: Default + Sized {
    /// The parameter's name.
    const PARAMETER: &'static str;

    fn parse_json(json: &str) -> Result<Self, CoreError>;

    /// The setting from the parameter's value, or the default when there is none.
    fn from_parameter(value: Option<&str>) -> Result<Self, CoreError> {
        value.map_or_else(|| Ok(Self::default()), Self::parse_json)
    }
}

impl Setting for crate::analysis::Thresholds {
    const PARAMETER: &'static str = crate::analysis::PARAM_THRESHOLDS;
    fn parse_json(json: &str) -> Result<Self, CoreError> {
        Self::parse(json)
    }
}

impl Setting for crate::remediation::RemediationConfig {
    const PARAMETER: &'static str = crate::remediation::PARAM_REMEDIATION;
    fn parse_json(json: &str) -> Result<Self, CoreError> {
        Self::parse(json)
    }
}

impl Setting for crate::lifecycle::FindingsConfig {
    const PARAMETER: &'static str = crate::lifecycle::PARAM_FINDINGS;
    fn parse_json(json: &str) -> Result<Self, CoreError> {
        Self::parse(json)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_without_parameters() {
        let config = ScannerConfig::from_parameters(&BTreeMap::new()).unwrap();
        assert_eq!(config.regions, DEFAULT_REGIONS);
        assert_eq!(config.services, Service::ALL);
        assert!(config.required_tags.is_empty());
        assert_eq!(config.rule_parameters, RuleParameters::DEFAULTS);
    }

    #[test]
    fn rule_parameters_come_from_their_parameter() {
        let config = ScannerConfig::from_parameters(&params(&[(
            PARAM_RULE_PARAMETERS,
            r#"{"rds_instance_backup_retention": {"backupRetentionMinimum": 14}}"#,
        )]))
        .unwrap();
        assert_eq!(
            config
                .rule_parameters
                .integer(&crate::rules::rds::BACKUP_RETENTION_MINIMUM),
            14
        );
        let err = ScannerConfig::from_parameters(&params(&[(
            PARAM_RULE_PARAMETERS,
            r#"{"rds_instance_backup_retention": {"backupRetentionMinimum": 40}}"#,
        )]))
        .unwrap_err()
        .to_string();
        assert!(
            err.contains(PARAM_RULE_PARAMETERS) && err.contains("40"),
            "{err}"
        );
    }

    #[test]
    fn parses_lists_and_rejects_bad_values_by_name() {
        let config = ScannerConfig::from_parameters(&params(&[
            (PARAM_REGIONS, " eu-west-1, us-gov-west-1 ,eu-west-1,"),
            (PARAM_SERVICES, "s3,EC2"),
            (PARAM_REQUIRED_TAGS, "Owner,CostCenter"),
            ("/compliance/scanner/config/thresholds", "{}"),
        ]))
        .unwrap();
        assert_eq!(config.regions, ["eu-west-1", "us-gov-west-1"]);
        assert_eq!(config.services, [Service::S3, Service::Ec2]);
        assert_eq!(config.required_tags, ["Owner", "CostCenter"]);

        let err = ScannerConfig::from_parameters(&params(&[(PARAM_REGIONS, "us-east-1,Europe")]))
            .unwrap_err();
        assert!(
            err.to_string().contains(PARAM_REGIONS) && err.to_string().contains("Europe"),
            "{err}"
        );
        let err = ScannerConfig::from_parameters(&params(&[(PARAM_SERVICES, "sqs")])).unwrap_err();
        assert!(err.to_string().contains("sqs"));
        assert!(ScannerConfig::from_parameters(&params(&[(PARAM_REGIONS, " , ")])).is_err());
        assert!(
            ScannerConfig::from_parameters(&params(&[(PARAM_REQUIRED_TAGS, "aws:createdBy")]))
                .is_err()
        );
        assert!(ScannerConfig::from_parameters(&params(&[(PARAM_MUTELIST, "nope")])).is_err());
    }

    #[test]
    fn a_mute_entry_without_reason_or_scope_is_named_in_the_configuration_error() {
        let err = ScannerConfig::from_parameters(&params(&[(
            PARAM_MUTELIST,
            r#"{"entries":[{"rule_id":"s3_bucket_versioning"}]}"#,
        )]))
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "parameter `{PARAM_MUTELIST}` is invalid: entries[0] \
                 {{\"rule_id\":\"s3_bucket_versioning\"}} lacks `reason` and `resource` or `tags`"
            )
        );
    }

    #[test]
    fn region_names() {
        for ok in [
            "us-east-1",
            "ap-southeast-1",
            "us-gov-west-1",
            "eu-central-2",
        ] {
            assert!(is_region_name(ok), "{ok}");
        }
        for bad in [
            "",
            "us-east",
            "US-EAST-1",
            "useast1",
            "us-east-1a",
            "-east-1",
        ] {
            assert!(!is_region_name(bad), "{bad}");
        }
    }
}
