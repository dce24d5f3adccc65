//! The catalog as documentation: the generated part of docs/control-mappings.md and the rule
//! count of the README. Tests fail when either disagrees with the catalog;
//! `UPDATE_DOCS=1 cargo test -p compliance-core` rewrites them.

use std::fmt::Write as _;

use super::catalog;

/// The lines around the generated section of docs/control-mappings.md.
pub const GENERATED_BEGIN: &str =
    "<!-- BEGIN GENERATED from the rule catalog: UPDATE_DOCS=1 cargo test -p compliance-core -->";
pub const GENERATED_END: &str = "<!-- END GENERATED from the rule catalog -->";

/// The rule table and the rule parameter table, as markdown.
pub fn control_mappings_markdown() -> String {
    let mut out = String::from(
        "| rule | title | severity | FSBP | Security Hub | CIS v1.4.0 | CIS v3.0.0 | PCI DSS | NIST 800-53 r5 | runbook |\n\
         |---|---|---|---|---|---|---|---|---|---|\n",
    );
    for rule in catalog() {
        let c = &rule.controls;
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            rule.id,
            cell(rule.title),
            rule.severity,
            ids(c.aws_fsbp),
            ids(c.security_hub),
            ids(c.cis_v1_4_0),
            ids(c.cis_v3_0_0),
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
        assert!(table.contains(
            "| `rds_instance_backup_retention` | `backupRetentionMinimum` | int | Minimum backup retention period in days | `7` | 7 to 35 |"
        ));
    }
}
