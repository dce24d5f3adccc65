//! RDS event notification subscriptions (RDS.19 to RDS.22). Security Hub evaluates each
//! existing subscription (resource type `AWS::RDS::EventSubscription`), so a region without
//! subscriptions produces no finding ("the control passes if there are no existing event
//! subscriptions"). A control judges the subscriptions of its source type, and those without a
//! source type (which receive every source's events); a subscription passes when it is enabled
//! and subscribes to every required event category (an empty category list is all of them).

use serde_json::json;

use super::{Check, Context, Controls, Rule};
use crate::finding::{Outcome, Severity};
use crate::model::RdsEventSubscription;

/// The rules of this file, in the catalog's order.
pub const RULES: &[Rule] = &[
    RDS_EVENT_SUBSCRIPTION_CLUSTER_EVENTS,
    RDS_EVENT_SUBSCRIPTION_INSTANCE_EVENTS,
    RDS_EVENT_SUBSCRIPTION_PARAMETER_GROUP_EVENTS,
    RDS_EVENT_SUBSCRIPTION_SECURITY_GROUP_EVENTS,
];

/// Judges a subscription against one control's source type and categories.
fn covers(s: &RdsEventSubscription, source_type: &str, required: &[&str]) -> Outcome {
    if s.source_type.as_deref().is_some_and(|t| t != source_type) {
        return Outcome::NotApplicable;
    }
    let missing: Vec<&str> = if s.event_categories.is_empty() {
        Vec::new()
    } else {
        required
            .iter()
            .copied()
            .filter(|c| !s.event_categories.iter().any(|have| have == c))
            .collect()
    };
    if s.enabled && missing.is_empty() {
        Outcome::Pass
    } else {
        Outcome::fail(json!({
            "source_type": s.source_type,
            "enabled": s.enabled,
            "event_categories": s.event_categories,
            "missing_event_categories": missing,
        }))
    }
}

const NIST_EVENTS: &[&str] = &["CA-7", "SI-2"];

pub const RDS_EVENT_SUBSCRIPTION_CLUSTER_EVENTS: Rule = Rule {
    id: "rds_event_subscription_cluster_events",
    title: "RDS event subscription for DB clusters misses critical events",
    severity: Severity::Low,
    rationale: "Maintenance and failure events of a cluster call for action; a subscription that leaves them out lets them pass unnoticed.",
    remediation: "Enable the subscription and include the maintenance and failure categories (or all categories) for source type db-cluster.",
    remediation_url: "https://docs.aws.amazon.com/securityhub/latest/userguide/rds-controls.html#rds-19",
    runbook: None,
    controls: Controls {
        aws_fsbp: &["RDS.19"],
        security_hub: &["RDS.19"],
        nist_800_53_r5: NIST_EVENTS,
        ..Controls::NONE
    },
    parameters: &[],
    check: Check::RdsEventSubscription(cluster_events),
};

/// RDS.19: `DBCluster: ["maintenance", "failure"]`.
pub fn cluster_events(s: &RdsEventSubscription, _: &Context) -> Outcome {
    covers(s, "db-cluster", &["maintenance", "failure"])
}

pub const RDS_EVENT_SUBSCRIPTION_INSTANCE_EVENTS: Rule = Rule {
    id: "rds_event_subscription_instance_events",
    title: "RDS event subscription for DB instances misses critical events",
    severity: Severity::Low,
    rationale: "Maintenance, configuration change and failure events of an instance call for action; a subscription that leaves them out lets them pass unnoticed.",
    remediation: "Enable the subscription and include the maintenance, configuration change and failure categories (or all categories) for source type db-instance.",
    remediation_url: "https://docs.aws.amazon.com/securityhub/latest/userguide/rds-controls.html#rds-20",
    runbook: None,
    controls: Controls {
        aws_fsbp: &["RDS.20"],
        security_hub: &["RDS.20"],
        pci_dss: &["v4.0.1/11.5.2"],
        nist_800_53_r5: NIST_EVENTS,
        ..Controls::NONE
    },
    parameters: &[],
    check: Check::RdsEventSubscription(instance_events),
};

/// RDS.20: `DBInstance: ["maintenance", "configuration change", "failure"]`.
pub fn instance_events(s: &RdsEventSubscription, _: &Context) -> Outcome {
    covers(
        s,
        "db-instance",
        &["maintenance", "configuration change", "failure"],
    )
}

pub const RDS_EVENT_SUBSCRIPTION_PARAMETER_GROUP_EVENTS: Rule = Rule {
    id: "rds_event_subscription_parameter_group_events",
    title: "RDS event subscription for DB parameter groups misses critical events",
    severity: Severity::Low,
    rationale: "A parameter group change can switch off logging or TLS; a subscription that leaves it out lets it pass unnoticed.",
    remediation: "Enable the subscription and include the configuration change category (or all categories) for source type db-parameter-group.",
    remediation_url: "https://docs.aws.amazon.com/securityhub/latest/userguide/rds-controls.html#rds-21",
    runbook: None,
    controls: Controls {
        aws_fsbp: &["RDS.21"],
        security_hub: &["RDS.21"],
        pci_dss: &["v4.0.1/11.5.2"],
        nist_800_53_r5: NIST_EVENTS,
        ..Controls::NONE
    },
    parameters: &[],
    check: Check::RdsEventSubscription(parameter_group_events),
};

/// RDS.21: `DBParameterGroup: ["configuration change"]`.
pub fn parameter_group_events(s: &RdsEventSubscription, _: &Context) -> Outcome {
    covers(s, "db-parameter-group", &["configuration change"])
}

pub const RDS_EVENT_SUBSCRIPTION_SECURITY_GROUP_EVENTS: Rule = Rule {
    id: "rds_event_subscription_security_group_events",
    title: "RDS event subscription for DB security groups misses critical events",
    severity: Severity::Low,
    rationale: "A DB security group change or failure can open or cut access to databases; a subscription that leaves it out lets it pass unnoticed.",
    remediation: "Enable the subscription and include the configuration change and failure categories (or all categories) for source type db-security-group.",
    remediation_url: "https://docs.aws.amazon.com/securityhub/latest/userguide/rds-controls.html#rds-22",
    runbook: None,
    controls: Controls {
        aws_fsbp: &["RDS.22"],
        security_hub: &["RDS.22"],
        pci_dss: &["v4.0.1/11.5.2"],
        nist_800_53_r5: NIST_EVENTS,
        ..Controls::NONE
    },
    parameters: &[],
    check: Check::RdsEventSubscription(security_group_events),
};

/// RDS.22: `DBSecurityGroup: ["configuration change", "failure"]`.
pub fn security_group_events(s: &RdsEventSubscription, _: &Context) -> Outcome {
    covers(s, "db-security-group", &["configuration change", "failure"])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::RuleParameters;

    const CTX: Context = Context {
        account_id: "1",
        required_tags: &[],
        account_public_access_block: None,
        parameters: &RuleParameters::DEFAULTS,
    };

    fn sub(source_type: Option<&str>, categories: &[&str], enabled: bool) -> RdsEventSubscription {
        RdsEventSubscription {
            id: "e".into(),
            arn: "arn:aws:rds:us-east-1:1:es:e".into(),
            region: "us-east-1".into(),
            source_type: source_type.map(str::to_string),
            event_categories: categories.iter().map(|c| (*c).to_string()).collect(),
            enabled,
            ..RdsEventSubscription::default()
        }
    }

    #[test]
    fn required_categories_per_source_type() {
        assert_eq!(
            cluster_events(
                &sub(
                    Some("db-cluster"),
                    &["failure", "maintenance", "notification"],
                    true
                ),
                &CTX
            ),
            Outcome::Pass
        );
        match cluster_events(&sub(Some("db-cluster"), &["maintenance"], true), &CTX) {
            Outcome::Fail { evidence, .. } => {
                assert_eq!(evidence["missing_event_categories"], json!(["failure"]));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            instance_events(
                &sub(Some("db-instance"), &["maintenance", "failure"], true),
                &CTX
            ),
            Outcome::Fail { .. }
        ));
        assert_eq!(
            instance_events(
                &sub(
                    Some("db-instance"),
                    &["maintenance", "failure", "configuration change"],
                    true
                ),
                &CTX
            ),
            Outcome::Pass
        );
        assert_eq!(
            parameter_group_events(
                &sub(Some("db-parameter-group"), &["configuration change"], true),
                &CTX
            ),
            Outcome::Pass
        );
        assert!(matches!(
            security_group_events(&sub(Some("db-security-group"), &["failure"], true), &CTX),
            Outcome::Fail { .. }
        ));
    }

    #[test]
    fn all_categories_and_all_sources() {
        // No categories: every category of the source type.
        assert_eq!(
            cluster_events(&sub(Some("db-cluster"), &[], true), &CTX),
            Outcome::Pass
        );
        // No source type: every source, so every control judges it.
        let everything = sub(None, &[], true);
        for check in [
            cluster_events,
            instance_events,
            parameter_group_events,
            security_group_events,
        ] {
            assert_eq!(check(&everything, &CTX), Outcome::Pass);
        }
    }

    #[test]
    fn disabled_fails_and_other_source_types_do_not_apply() {
        match cluster_events(&sub(Some("db-cluster"), &[], false), &CTX) {
            Outcome::Fail { evidence, .. } => assert_eq!(evidence["enabled"], json!(false)),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            cluster_events(&sub(Some("db-instance"), &["maintenance"], true), &CTX),
            Outcome::NotApplicable
        );
        assert_eq!(
            security_group_events(&sub(Some("db-snapshot"), &[], false), &CTX),
            Outcome::NotApplicable
        );
    }
}
