//! The catalog: every rule, in a fixed order (reports and framework views list rules in it).
//! Each rule is defined next to its check in the file of its service; control ids were looked
//! up in the Security Hub control reference and the CIS AWS Foundations Benchmark mappings
//! (sources in docs/control-mappings.md), and a framework without a matching control is left
//! empty rather than approximated.

use std::sync::OnceLock;

use super::{
    cloudtrail, ec2, ec2_compute, ec2_network, iam, lambda, rds, rds_cluster, rds_event,
    rds_instance, rds_snapshot, s3, s3_access_points, s3_protection, tags, Rule,
};

/// Each service's rules, listed in its own file next to their definitions.
const BY_SERVICE: [&[Rule]; 15] = [
    s3::RULES,
    s3_protection::RULES,
    s3_access_points::RULES,
    ec2::RULES,
    ec2_network::RULES,
    ec2_compute::RULES,
    rds::RULES,
    rds_instance::RULES,
    rds_cluster::RULES,
    rds_snapshot::RULES,
    rds_event::RULES,
    cloudtrail::RULES,
    iam::RULES,
    lambda::RULES,
    tags::RULES,
];

/// All rules, in a fixed order.
pub fn catalog() -> &'static [Rule] {
    static CATALOG: OnceLock<Vec<Rule>> = OnceLock::new();
    CATALOG.get_or_init(|| BY_SERVICE.concat())
}

pub fn rule(id: &str) -> Option<&'static Rule> {
    catalog().iter().find(|r| r.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Parameter;
    use std::collections::HashSet;

    #[test]
    fn catalog_is_large_unique_and_complete() {
        let rules = catalog();
        assert!(rules.len() >= 25, "{} rules", rules.len());
        let ids: HashSet<_> = rules.iter().map(|r| r.id).collect();
        assert_eq!(ids.len(), rules.len(), "duplicate rule id");
        for r in rules {
            assert!(
                r.id.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                "{}",
                r.id
            );
            assert!(
                !r.title.is_empty() && !r.rationale.is_empty() && !r.remediation.is_empty(),
                "{}",
                r.id
            );
            assert!(r.remediation_url.starts_with("https://"), "{}", r.id);
            if let Some(runbook) = r.runbook {
                assert!(
                    runbook.document_name().starts_with("ComplianceScanner-"),
                    "{runbook}"
                );
            }
        }
    }

    #[test]
    fn rule_parameters_belong_to_their_rule_and_default_within_range() {
        for r in catalog() {
            let mut names = HashSet::new();
            for p in r.parameters {
                assert_eq!(p.rule_id(), r.id, "{}", p.name());
                assert!(names.insert(p.name()), "{}: duplicate {}", r.id, p.name());
                let defaults_ok = match p {
                    Parameter::Integer(p) => p.min <= p.default && p.default <= p.max,
                    Parameter::IntegerList(p) => {
                        p.default.len() <= p.max_items
                            && p.default.iter().all(|n| (p.min..=p.max).contains(n))
                    }
                    Parameter::StringList(p) => {
                        p.default.len() <= p.max_items
                            && (p.allowed.is_empty()
                                || p.default.iter().all(|s| p.allowed.contains(s)))
                    }
                };
                assert!(defaults_ok, "{}.{}", r.id, p.name());
            }
        }
    }

    #[test]
    fn control_ids_have_the_framework_shape() {
        let fsbp = |id: &str| {
            id.split_once('.')
                .is_some_and(|(svc, n)| !svc.is_empty() && n.parse::<u32>().is_ok())
        };
        let cis = |id: &str| id.split('.').all(|p| p.parse::<u32>().is_ok());
        for r in catalog() {
            let c = &r.controls;
            assert!(
                c.aws_fsbp.iter().all(|id| fsbp(id)),
                "{}: {:?}",
                r.id,
                c.aws_fsbp
            );
            assert!(
                c.cis_v1_4_0
                    .iter()
                    .chain(c.cis_v3_0_0)
                    .chain(c.cis_v5_0_0)
                    .all(|id| cis(id)),
                "{}",
                r.id
            );
            assert!(
                c.pci_dss
                    .iter()
                    .all(|id| id.starts_with("v3.2.1/") || id.starts_with("v4.0.1/")),
                "{}: {:?}",
                r.id,
                c.pci_dss
            );
            assert!(
                c.nist_800_53_r5
                    .iter()
                    .all(|id| id.len() >= 4 && id.as_bytes()[2] == b'-'),
                "{}: {:?}",
                r.id,
                c.nist_800_53_r5
            );
        }
    }
}
