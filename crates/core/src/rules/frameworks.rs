//! Every control of the frameworks whose whole scope the scanner accounts for (CIS AWS
//! Foundations v1.4.0, v3.0.0 and v5.0.0: all recommendations; FSBP: the controls of the
//! scanned areas), each either checked by a rule of the catalog or listed as not automated
//! with the reason. The lists are data files beside this one (`frameworks/<framework>.json`,
//! one control a line); tests fail when a control is both listed as not automated and claimed
//! by a rule, when a control is in neither, and when a rule claims a control the list lacks.
//! PCI DSS and NIST 800-53 have no such list: their views show the controls rules claim.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use super::catalog;
use crate::report::frameworks::Framework;

/// Why no rule checks a control.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotAutomatedReason {
    /// A person must judge it (CIS assesses it manually, or it is a matter of process).
    Manual,
    /// No AWS API exposes the data it needs.
    NoApi,
    /// The scanner does not collect the resource type or setting yet.
    NotScanned,
    /// The scanner collects the resource, but no rule checks this yet.
    NoRule,
}

impl NotAutomatedReason {
    pub fn as_str(self) -> &'static str {
        match self {
            NotAutomatedReason::Manual => "manual",
            NotAutomatedReason::NoApi => "no_api",
            NotAutomatedReason::NotScanned => "not_scanned",
            NotAutomatedReason::NoRule => "no_rule",
        }
    }

    /// The reason in words, for tables and pages.
    pub fn describe(self) -> &'static str {
        match self {
            NotAutomatedReason::Manual => "needs a person",
            NotAutomatedReason::NoApi => "data no API exposes",
            NotAutomatedReason::NotScanned => "resource type or setting not scanned yet",
            NotAutomatedReason::NoRule => "scanned, no rule yet",
        }
    }
}

/// Why a control is not automated: the kind of reason and what exactly is missing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotAutomated {
    pub reason: NotAutomatedReason,
    pub note: String,
}

/// One control of a framework's scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrameworkControl {
    pub id: String,
    pub title: String,
    /// `None`: a rule of the catalog checks it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_automated: Option<NotAutomated>,
}

#[derive(Debug, Deserialize)]
struct ControlList {
    framework: Framework,
    source: String,
    controls: Vec<FrameworkControl>,
}

/// The data files, by framework.
const LISTS: [(Framework, &str); 4] = [
    (
        Framework::CisV5_0_0,
        include_str!("frameworks/cis_v5_0_0.json"),
    ),
    (
        Framework::CisV3_0_0,
        include_str!("frameworks/cis_v3_0_0.json"),
    ),
    (
        Framework::CisV1_4_0,
        include_str!("frameworks/cis_v1_4_0.json"),
    ),
    (Framework::AwsFsbp, include_str!("frameworks/aws_fsbp.json")),
];

fn parse(framework: Framework, text: &str) -> Result<ControlList, String> {
    let list: ControlList = serde_json::from_str(text)
        .map_err(|e| format!("frameworks/{}.json: {e}", framework.key()))?;
    if list.framework != framework {
        return Err(format!(
            "frameworks/{}.json names the framework {}",
            framework.key(),
            list.framework.key()
        ));
    }
    Ok(list)
}

fn lists() -> &'static [(Framework, ControlList)] {
    static LISTS_PARSED: OnceLock<Vec<(Framework, ControlList)>> = OnceLock::new();
    LISTS_PARSED.get_or_init(|| {
        LISTS
            .iter()
            .map(|(framework, text)| {
                // The files are compiled in and parsed by a test: a failure is a build defect.
                let list = parse(*framework, text).unwrap_or_else(|e| panic!("{e}"));
                (*framework, list)
            })
            .collect()
    })
}

/// Every control of `framework`'s scope, in the data file's order; `None` for a framework
/// without a scope list (PCI DSS, NIST 800-53).
pub fn framework_controls(framework: Framework) -> Option<&'static [FrameworkControl]> {
    lists()
        .iter()
        .find(|(f, _)| *f == framework)
        .map(|(_, list)| list.controls.as_slice())
}

/// Where the list of `framework`'s controls comes from.
pub fn framework_source(framework: Framework) -> Option<&'static str> {
    lists()
        .iter()
        .find(|(f, _)| *f == framework)
        .map(|(_, list)| list.source.as_str())
}

/// The control `id` of `framework`'s scope, when it has a list and lists it.
pub fn framework_control(framework: Framework, id: &str) -> Option<&'static FrameworkControl> {
    framework_controls(framework)?.iter().find(|c| c.id == id)
}

/// The controls of `framework`'s scope that no rule checks.
pub fn not_automated(
    framework: Framework,
) -> impl Iterator<Item = (&'static FrameworkControl, &'static NotAutomated)> {
    framework_controls(framework)
        .unwrap_or_default()
        .iter()
        .filter_map(|c| c.not_automated.as_ref().map(|n| (c, n)))
}

/// One control of a framework as the catalog covers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlCoverage {
    pub id: String,
    /// `None` for frameworks without a scope list (PCI DSS, NIST 800-53).
    pub title: Option<&'static str>,
    /// The rules that check it, in catalog order.
    pub rules: Vec<&'static str>,
    /// Why no rule checks it (then `rules` is empty).
    pub not_automated: Option<&'static NotAutomated>,
}

/// Every control of `framework` with the rules that check it: the whole scope list for CIS and
/// FSBP (not automated controls included), the controls rules claim for PCI DSS and NIST.
pub fn coverage(framework: Framework) -> Vec<ControlCoverage> {
    let rules_of = |id: &str| -> Vec<&'static str> {
        catalog()
            .iter()
            .filter(|r| framework.controls(&r.controls).contains(&id))
            .map(|r| r.id)
            .collect()
    };
    if let Some(controls) = framework_controls(framework) {
        return controls
            .iter()
            .map(|c| ControlCoverage {
                id: c.id.clone(),
                title: Some(c.title.as_str()),
                rules: rules_of(&c.id),
                not_automated: c.not_automated.as_ref(),
            })
            .collect();
    }
    let mut ids: Vec<&'static str> = catalog()
        .iter()
        .flat_map(|r| framework.controls(&r.controls).iter().copied())
        .collect();
    ids.sort_by(|a, b| crate::report::frameworks::natural_cmp(a, b));
    ids.dedup();
    ids.into_iter()
        .map(|id| ControlCoverage {
            id: id.to_string(),
            title: None,
            rules: rules_of(id),
            not_automated: None,
        })
        .collect()
}

/// What is wrong between the lists and the catalog, one line per problem (empty: consistent).
pub fn consistency_problems() -> Vec<String> {
    let mut problems = Vec::new();
    for framework in Framework::ALL {
        let Some(controls) = framework_controls(framework) else {
            continue;
        };
        let file = format!("crates/core/src/rules/frameworks/{}.json", framework.key());
        let mut seen = std::collections::BTreeSet::new();
        for c in controls {
            if !seen.insert(c.id.as_str()) {
                problems.push(format!("{file}: {} is listed twice", c.id));
            }
        }
        for rule in catalog() {
            for id in framework.controls(&rule.controls) {
                if !seen.contains(id) {
                    problems.push(format!(
                        "{file}: rule {} claims {id}, which the list lacks: add it with its title",
                        rule.id
                    ));
                }
            }
        }
        for c in controls {
            let claimed_by: Vec<&str> = catalog()
                .iter()
                .filter(|r| framework.controls(&r.controls).contains(&c.id.as_str()))
                .map(|r| r.id)
                .collect();
            match (&c.not_automated, claimed_by.is_empty()) {
                (Some(_), false) => problems.push(format!(
                    "{file}: {} is listed as not automated but {} checks it: remove its `not_automated`",
                    c.id,
                    claimed_by.join(", ")
                )),
                (None, true) => problems.push(format!(
                    "{file}: no rule checks {} and it is not listed as not automated: give it a `not_automated` reason",
                    c.id
                )),
                _ => {}
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_list_parses_and_names_its_framework() {
        for (framework, text) in LISTS {
            let list = parse(framework, text).unwrap();
            assert!(!list.controls.is_empty(), "{}", framework.key());
            assert!(!list.source.is_empty());
            for c in &list.controls {
                assert!(!c.id.is_empty() && !c.title.is_empty(), "{c:?}");
                if let Some(n) = &c.not_automated {
                    assert!(!n.note.is_empty(), "{}: {}", framework.key(), c.id);
                }
            }
        }
        assert!(framework_controls(Framework::PciDss).is_none());
        assert!(parse(Framework::CisV3_0_0, LISTS[0].1)
            .unwrap_err()
            .contains("names the framework cis_v5_0_0"));
        assert!(parse(Framework::AwsFsbp, "{").is_err());
    }

    #[test]
    fn the_lists_and_the_catalog_agree() {
        let problems = consistency_problems();
        assert!(
            problems.is_empty(),
            "the framework lists disagree with the catalog:\n{}",
            problems.join("\n")
        );
    }

    #[test]
    fn the_cis_lists_hold_every_recommendation() {
        // Counts of the benchmarks' recommendations (Prowler's compliance files).
        assert_eq!(framework_controls(Framework::CisV1_4_0).unwrap().len(), 58);
        assert_eq!(framework_controls(Framework::CisV3_0_0).unwrap().len(), 62);
        assert_eq!(framework_controls(Framework::CisV5_0_0).unwrap().len(), 63);
        let v5 = framework_control(Framework::CisV5_0_0, "1.10").unwrap();
        assert!(v5.title.starts_with("Do not create access keys"), "{v5:?}");
        let questions = framework_control(Framework::CisV3_0_0, "1.3").unwrap();
        assert_eq!(
            questions.not_automated.as_ref().map(|n| n.reason),
            Some(NotAutomatedReason::NoApi)
        );
        assert!(not_automated(Framework::AwsFsbp).any(|(c, _)| c.id == "IAM.8"));
        let v5 = coverage(Framework::CisV5_0_0);
        assert_eq!(v5.len(), 63);
        let bpa = v5.iter().find(|c| c.id == "2.1.4").unwrap();
        assert_eq!(
            bpa.rules,
            [
                "s3_bucket_public_access_block",
                "s3_account_public_access_block"
            ]
        );
        let pci = coverage(Framework::PciDss);
        assert!(pci.iter().all(|c| !c.rules.is_empty() && c.title.is_none()));
        assert!(pci.windows(2).all(|w| w[0].id != w[1].id));
        assert_eq!(not_automated(Framework::Nist80053R5).count(), 0);
    }
}
