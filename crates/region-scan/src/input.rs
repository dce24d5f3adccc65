//! The function's input, checked field by field so that a wrong event names what is wrong.

use compliance_aws::lambda::{expect_object, required_string, run_id, StateError};
use compliance_core::config::is_region_name;
use compliance_core::Service;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionScanInput {
    pub run_id: String,
    pub region: String,
    pub service: Service,
    /// For cross-account scans later; defaults to the caller's own account.
    pub account_id: Option<String>,
}

fn invalid(msg: String) -> StateError {
    StateError::InvalidInput(msg)
}

impl RegionScanInput {
    pub fn parse(event: &Value) -> Result<Self, StateError> {
        expect_object(event, r#"{"run_id", "region", "service"}"#)?;
        let run_id = run_id(event)?;
        let region = required_string(event, "region")?;
        if !is_region_name(region) {
            return Err(invalid(format!(
                "field `region`: `{region}` is not an AWS region name"
            )));
        }
        let service = required_string(event, "service")?
            .parse::<Service>()
            .map_err(|e| invalid(format!("field `service`: {e}")))?;
        let account_id = match event.get("account_id") {
            None | Some(Value::Null) => None,
            Some(Value::String(a)) if a.len() == 12 && a.chars().all(|c| c.is_ascii_digit()) => {
                Some(a.clone())
            }
            Some(other) => {
                return Err(invalid(format!(
                    "field `account_id` must be a 12-digit string, got {other}"
                )));
            }
        };
        Ok(RegionScanInput {
            run_id: run_id.to_string(),
            region: region.to_string(),
            service,
            account_id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn accepts_the_sample_event() {
        let sample: Value =
            serde_json::from_str(include_str!("../../../events/region-scan.json")).unwrap();
        let input = RegionScanInput::parse(&sample).unwrap();
        assert_eq!(input.service, Service::Ec2);
    }

    #[test]
    fn names_the_wrong_field() {
        let err = |v: Value| RegionScanInput::parse(&v).unwrap_err().to_string();
        assert!(err(json!([])).contains("expected an object"));
        assert!(err(json!({"region": "us-east-1", "service": "ec2"}))
            .contains("missing field `run_id`"));
        assert!(
            err(json!({"run_id": 5, "region": "us-east-1", "service": "ec2"}))
                .contains("`run_id` must be a string, got a number")
        );
        assert!(
            err(json!({"run_id": "../etc", "region": "us-east-1", "service": "ec2"}))
                .contains("field `run_id`")
        );
        assert!(
            err(json!({"run_id": "r", "region": "mars-1", "service": "ec2"}))
                .contains("field `region`")
        );
        assert!(
            err(json!({"run_id": "r", "region": "us-east-1", "service": "iam"}))
                .contains("field `service`")
        );
        assert!(err(
            json!({"run_id": "r", "region": "us-east-1", "service": "s3", "account_id": "12"})
        )
        .contains("`account_id`"));
        let ok = RegionScanInput::parse(
            &json!({"run_id": "r", "region": "us-east-1", "service": "S3", "extra": 1}),
        )
        .unwrap();
        assert_eq!(ok.service, Service::S3);
    }
}
