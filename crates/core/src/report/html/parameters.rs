//! The rule parameters the run used, and, visibly, any whose value changed while it ran.

use super::{escape, table};
use crate::report::RunReport;

pub(super) fn parameters_section(report: &RunReport) -> String {
    let Some(used) = &report.rule_parameters else {
        return "<p class=\"empty\">Not recorded: this run's units did not record their rule parameters.</p>\n"
            .into();
    };
    let mut out = String::new();
    if !used.differing.is_empty() {
        out.push_str(
            "<p id=\"parameters-changed\"><span class=\"badge fail\">changed during the run</span> \
             Units of this run used different values for the parameters below: each value is \
             listed with the units (account/region/service) that used it.</p>\n",
        );
        let rows = used.differing.iter().flat_map(|d| {
            d.values.iter().map(move |u| {
                vec![
                    format!("<code>{}</code>", escape(&d.rule_id)),
                    format!("<code>{}</code>", escape(&d.parameter)),
                    format!("<code>{}</code>", escape(&u.value.to_string())),
                    escape(&u.units.join(", ")),
                ]
            })
        });
        out.push_str(&table(
            "Parameters that differed between units",
            &["Rule", "Parameter", "Value", "Units"],
            rows,
        ));
    }
    let rows: Vec<Vec<String>> = used
        .values
        .iter()
        .flat_map(|(rule, params)| {
            params
                .as_object()
                .into_iter()
                .flatten()
                .map(move |(name, value)| {
                    vec![
                        format!("<code>{}</code>", escape(rule)),
                        format!("<code>{}</code>", escape(name)),
                        format!("<code>{}</code>", escape(&value.to_string())),
                    ]
                })
        })
        .collect();
    if rows.is_empty() && used.differing.is_empty() {
        out.push_str("<p class=\"empty\">No rule of this run takes parameters.</p>\n");
    } else if !rows.is_empty() {
        out.push_str(&table(
            "Values in effect",
            &["Rule", "Parameter", "Value"],
            rows.into_iter(),
        ));
    }
    out
}
