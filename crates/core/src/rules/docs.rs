//! The catalog as documentation: the generated part of docs/control-mappings.md (the rule
//! table, the parameters, the controls no rule checks) and the README's rule count and rule
//! list. Tests fail when either disagrees with the catalog;
//! `UPDATE_DOCS=1 cargo test -p compliance-core` rewrites them.

use std::fmt::Write as _;

use super::catalog;
use super::frameworks::{framework_controls, framework_source, not_automated};
use crate::report::frameworks::Framework;

/// The lines around the generated section of docs/control-mappings.md.
pub const GENERATED_BEGIN: &str =
    "<!-- BEGIN GENERATED from the rule catalog: UPDATE_DOCS=1 cargo test -p compliance-core -->";
pub const GENERATED_END: &str = "<!-- END GENERATED from the rule catalog -->";

/// The rule table and the rule parameter table, as markdown.
pub fn control_mappings_markdown() -> String {
    let mut out = String::from(
        "| rule | title | severity | FSBP | Security Hub | CIS v1.4.0 | CIS v3.0.0 | CIS v5.0.0 | PCI DSS | NIST 800-53 r5 | runbook |\n\
         |---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for rule in catalog() {
        let c = &rule.controls;
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            rule.id,
            cell(rule.title),
            rule.severity,
            ids(c.aws_fsbp),
            ids(c.security_hub),
            ids(c.cis_v1_4_0),
            ids(c.cis_v3_0_0),
            ids(c.cis_v5_0_0),
            ids(c.pci_dss),
            ids(c.nist_800_53_r5),
            rule.runbook
                .map_or_else(|| "none".to_string(), |r| format!("`{r}`")),
        );
    }
    out.push_str(
        "\nRule parameters (`/compliance/scanner/config/rule-parameters`, see [parameters.md](parameters.md)):\n\n\
         | rule | parameter | type | meaning | default | allowed |\n\
         |---|---|---|---|---|---|\n",
    );
    for rule in catalog() {
        for p in rule.parameters {
            let _ = writeln!(
                out,
                "| `{}` | `{}` | {} | {} | `{}` | {} |",
                rule.id,
                p.name(),
                p.type_name(),
                cell(p.description()),
                p.default_value(),
                cell(&p.allowed()),
            );
        }
    }
    out.push_str(&not_automated_markdown());
    out
}

/// Per framework with a scope list, the controls no rule checks, with the reason.
fn not_automated_markdown() -> String {
    let mut out = String::from(
        "\nControls no rule checks (`compliance rules --framework NAME` lists them too), per framework \
         whose whole scope is listed in `crates/core/src/rules/frameworks/`:\n",
    );
    for framework in Framework::ALL {
        let Some(controls) = framework_controls(framework) else {
            continue;
        };
        let missing: Vec<_> = not_automated(framework).collect();
        let _ = write!(
            out,
            "\n#### {}: {} of {} controls not automated\n\n{}.\n\n\
             | control | title | reason | what is missing |\n|---|---|---|---|\n",
            framework.name(),
            missing.len(),
            controls.len(),
            framework_source(framework).unwrap_or_default(),
        );
        for (control, why) in missing {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                control.id,
                cell(&control.title),
                why.reason.describe(),
                cell(&why.note),
            );
        }
    }
    out
}

/// The lines around the generated rule list in the README's Rules section.
pub const README_RULES_BEGIN: &str =
    "<!-- BEGIN GENERATED rule list: UPDATE_DOCS=1 cargo test -p compliance-core -->";
pub const README_RULES_END: &str = "<!-- END GENERATED rule list -->";

/// The README's rule list: every rule by service (catalog order), with its severity.
pub fn readme_rule_list() -> String {
    let mut groups: Vec<(String, Vec<&super::Rule>)> = Vec::new();
    for rule in catalog() {
        let service = rule
            .service()
            .map_or_else(|| "any taggable resource".to_string(), |s| format!("`{s}`"));
        match groups.iter_mut().find(|(name, _)| *name == service) {
            Some((_, rules)) => rules.push(rule),
            None => groups.push((service, vec![rule])),
        }
    }
    let mut out = String::new();
    for (service, rules) in groups {
        let _ = writeln!(
            out,
            "- {service} ({} rule{}):",
            rules.len(),
            if rules.len() == 1 { "" } else { "s" }
        );
        for rule in rules {
            let _ = writeln!(
                out,
                "  - `{}` ({}): {}",
                rule.id,
                rule.severity.as_str().to_ascii_lowercase(),
                rule.title
            );
        }
    }
    out
}

/// How the README's Rules section starts: the number of rules.
pub fn readme_rule_count() -> String {
    format!("{} rules", catalog().len())
}

fn ids(list: &[&str]) -> String {
    if list.is_empty() {
        "none".to_string()
    } else {
        cell(&list.join(", "))
    }
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn repo_file(name: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(name)
    }

    /// Compares `file` with what `regenerate` makes of it; rewrites it under UPDATE_DOCS=1.
    fn check_generated(name: &str, regenerate: impl Fn(&str) -> String) {
        let path = repo_file(name);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let expected = regenerate(&text);
        if expected == text {
            return;
        }
        if std::env::var("UPDATE_DOCS").is_ok_and(|v| v == "1") {
            std::fs::write(&path, expected)
                .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        } else {
            panic!(
                "{name} disagrees with the rule catalog; run `UPDATE_DOCS=1 cargo test -p compliance-core` and commit the result"
            );
        }
    }

    #[test]
    fn control_mappings_doc_shows_the_catalog() {
        check_generated("docs/control-mappings.md", |text| {
            let (before, rest) = text
                .split_once(GENERATED_BEGIN)
                .expect("docs/control-mappings.md has the BEGIN GENERATED marker");
            let (_, after) = rest
                .split_once(GENERATED_END)
                .expect("docs/control-mappings.md has the END GENERATED marker");
            format!(
                "{before}{GENERATED_BEGIN}\n\n{}\n{GENERATED_END}{after}",
                control_mappings_markdown()
            )
        });
    }

    #[test]
    fn readme_states_the_rule_count() {
        check_generated("README.md", |text| {
            let (before, section) = text
                .split_once("\n## Rules\n\n")
                .expect("README.md has a `## Rules` section");
            let (count, rest) = section
                .split_once(" rules ")
                .expect("the Rules section starts with `N rules `");
            assert!(
                count.chars().all(|c| c.is_ascii_digit()),
                "the Rules section starts with a number, not `{count}`"
            );
            format!("{before}\n## Rules\n\n{} {rest}", readme_rule_count())
        });
    }

    #[test]
    fn readme_lists_every_rule_by_service() {
        check_generated("README.md", |text| {
            let (before, rest) = text
                .split_once(README_RULES_BEGIN)
                .expect("README.md has the BEGIN GENERATED rule list marker");
            let (_, after) = rest
                .split_once(README_RULES_END)
                .expect("README.md has the END GENERATED rule list marker");
            format!(
                "{before}{README_RULES_BEGIN}\n{}{README_RULES_END}{after}",
                readme_rule_list()
            )
        });
        let list = readme_rule_list();
        for rule in catalog() {
            assert!(list.contains(&format!("`{}`", rule.id)), "{}", rule.id);
        }
        assert!(list.starts_with("- `s3` ("), "{list}");
    }

    #[test]
    fn the_table_lists_every_rule_with_its_controls() {
        let table = control_mappings_markdown();
        for rule in catalog() {
            let row = table
                .lines()
                .find(|l| l.starts_with(&format!("| `{}` |", rule.id)))
                .unwrap_or_else(|| panic!("no row for {}", rule.id));
            for id in rule.controls.nist_800_53_r5 {
                assert!(row.contains(id), "{}: {id}", rule.id);
            }
        }
        assert!(table.contains("| `ec2_instance_imdsv2` | EC2 instance allows IMDSv1 | HIGH | EC2.8 | EC2.8 | none | 5.6 | 5.7 |"));
        assert!(table.contains("#### CIS AWS Foundations Benchmark v5.0.0: "));
        assert!(table.contains("| 1.3 | Ensure security questions are registered in the AWS account | data no API exposes |"));
        assert!(table.contains(
            "| `rds_instance_backup_retention` | `backupRetentionMinimum` | int | Minimum backup retention period in days | `7` | 7 to 35 |"
        ));
    }
}
