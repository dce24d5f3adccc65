//! The trend chart: the compliance score of the account's runs, oldest first, as an inline SVG
//! line chart (no script, no external asset), with a data table for screen readers and print.

use std::fmt::Write;

use super::escape;
use crate::report::document::TrendPoint;

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 260.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 24.0;
/// Room between the axes and the first and last runs, for their labels.
const INSET: f64 = 40.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 56.0;
/// At most this many x-axis labels; the others are left to the points' tooltips.
const MAX_X_LABELS: usize = 8;

/// The chart section's body: the SVG and the same numbers as a table.
pub(super) fn trend_section(trend: &[TrendPoint]) -> String {
    if trend.is_empty() {
        return "<p class=\"empty\">No runs to chart.</p>\n".into();
    }
    let mut out = trend_svg(trend);
    if trend.len() == 1 {
        out.push_str(
            "<p class=\"muted\">Only one run so far: the trend builds up with the next runs.</p>\n",
        );
    }
    out.push_str(&trend_table(trend));
    out
}

/// A score usable on the chart: present, finite, clamped to 0–100.
fn score(point: &TrendPoint) -> Option<f64> {
    point
        .compliance_score
        .filter(|s| s.is_finite())
        .map(|s| s.clamp(0.0, 100.0))
}

fn x_of(index: usize, count: usize) -> f64 {
    let plot = WIDTH - LEFT - RIGHT - 2.0 * INSET;
    if count <= 1 {
        LEFT + INSET + plot / 2.0
    } else {
        LEFT + INSET + plot * index as f64 / (count - 1) as f64
    }
}

fn y_of(score: f64) -> f64 {
    TOP + (HEIGHT - TOP - BOTTOM) * (100.0 - score) / 100.0
}

/// The date part of an RFC 3339 timestamp (the whole value when it is something else).
fn date_label(created_at: &str) -> &str {
    match created_at.get(..10) {
        Some(date) if created_at.as_bytes().get(10) == Some(&b'T') => date,
        _ => created_at,
    }
}

fn point_label(point: &TrendPoint) -> String {
    let score = match score(point) {
        Some(s) => format!("{s:.1}%"),
        None => "no score (nothing evaluated)".into(),
    };
    format!(
        "{} ({}): {score}, {} findings",
        point.run_id, point.created_at, point.findings_total
    )
}

pub(super) fn trend_svg(trend: &[TrendPoint]) -> String {
    let n = trend.len();
    let baseline = y_of(0.0);
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg class=\"trend\" id=\"trend-chart\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" \
         aria-labelledby=\"trend-title trend-desc\">\n\
         <title id=\"trend-title\">Compliance score over the last {n} run{}</title>\n\
         <desc id=\"trend-desc\">{}</desc>\n",
        if n == 1 { "" } else { "s" },
        escape(&summary(trend)),
    );
    // Horizontal grid with the y-axis labels.
    svg.push_str("<g class=\"grid\">\n");
    for tick in [0.0, 25.0, 50.0, 75.0, 100.0] {
        let y = y_of(tick);
        let _ = writeln!(
            svg,
            "<line x1=\"{LEFT}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{tick}%</text>",
            WIDTH - RIGHT,
            LEFT - 6.0,
            y + 4.0
        );
    }
    svg.push_str("</g>\n");
    let _ = writeln!(
        svg,
        "<line class=\"axis\" x1=\"{LEFT}\" x2=\"{LEFT}\" y1=\"{TOP}\" y2=\"{baseline:.1}\"/>\
         <line class=\"axis\" x1=\"{LEFT}\" x2=\"{:.1}\" y1=\"{baseline:.1}\" y2=\"{baseline:.1}\"/>",
        WIDTH - RIGHT
    );
    // Axis titles.
    let _ = writeln!(
        svg,
        "<text class=\"axis-title\" transform=\"translate(14 {:.1}) rotate(-90)\" \
         text-anchor=\"middle\">Compliance score</text>\
         <text class=\"axis-title\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">Run date</text>",
        TOP + (HEIGHT - TOP - BOTTOM) / 2.0,
        LEFT + (WIDTH - LEFT - RIGHT) / 2.0,
        HEIGHT - 6.0
    );
    // x-axis labels: every `step`-th run, and always the last one.
    let step = n.div_ceil(MAX_X_LABELS).max(1);
    for (i, point) in trend.iter().enumerate() {
        if i == n - 1 || (i % step == 0 && n - 1 - i >= step) {
            let _ = writeln!(
                svg,
                "<text class=\"x-label\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                x_of(i, n),
                baseline + 18.0,
                escape(date_label(&point.created_at))
            );
        }
    }
    // The line: one segment per run of consecutive scored points (a run without a score breaks it).
    let mut segment: Vec<String> = Vec::new();
    let flush = |segment: &mut Vec<String>, svg: &mut String| {
        if segment.len() > 1 {
            let _ = writeln!(
                svg,
                "<polyline class=\"trend-line\" points=\"{}\"/>",
                segment.join(" ")
            );
        }
        segment.clear();
    };
    // Runs without a score between two scored ones: a dashed line bridges the gap.
    let mut previous: Option<(usize, f64)> = None;
    for (i, point) in trend.iter().enumerate() {
        let Some(s) = score(point) else {
            flush(&mut segment, &mut svg);
            continue;
        };
        if let Some((j, p)) = previous.filter(|(j, _)| i - j > 1) {
            let _ = writeln!(
                svg,
                "<polyline class=\"trend-gap\" points=\"{:.1},{:.1} {:.1},{:.1}\"/>",
                x_of(j, n),
                y_of(p),
                x_of(i, n),
                y_of(s)
            );
        }
        segment.push(format!("{:.1},{:.1}", x_of(i, n), y_of(s)));
        previous = Some((i, s));
    }
    flush(&mut segment, &mut svg);
    // One marker per run; runs without a score sit hollow on the baseline, marked "n/a".
    for (i, point) in trend.iter().enumerate() {
        let x = x_of(i, n);
        let current = if i == n - 1 { " current" } else { "" };
        let (class, y, value) = match score(point) {
            Some(s) => ("trend-point", y_of(s), format!("{s:.1}")),
            None => ("trend-point no-score", baseline, String::new()),
        };
        let _ = writeln!(
            svg,
            "<circle class=\"{class}{current}\" cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"5\" \
             data-run=\"{}\" data-score=\"{value}\"><title>{}</title></circle>",
            escape(&point.run_id),
            escape(&point_label(point))
        );
        if value.is_empty() {
            let _ = writeln!(
                svg,
                "<text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">n/a</text>",
                baseline - 10.0
            );
        } else if n <= MAX_X_LABELS * 2 {
            let _ = writeln!(
                svg,
                "<text class=\"value-label\" x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{value}%</text>",
                if y - 10.0 >= TOP + 4.0 { y - 10.0 } else { y + 18.0 }
            );
        }
    }
    svg.push_str("</svg>\n");
    svg
}

/// One sentence for the chart's description.
fn summary(trend: &[TrendPoint]) -> String {
    let scored: Vec<f64> = trend.iter().filter_map(score).collect();
    match (scored.first(), scored.last()) {
        (Some(first), Some(last)) if scored.len() > 1 => {
            format!("From {first:.1}% to {last:.1}% over {} runs.", trend.len())
        }
        (Some(only), _) => format!("{only:.1}% in the only run with a score."),
        _ => "No run evaluated any check.".into(),
    }
}

fn trend_table(trend: &[TrendPoint]) -> String {
    let mut out = String::from(
        "<details class=\"trend-data\"><summary>Trend data</summary>\n<table>\
         <thead><tr><th scope=\"col\">Run</th><th scope=\"col\">Date</th>\
         <th scope=\"col\" class=\"num\">Score</th><th scope=\"col\" class=\"num\">Findings</th></tr></thead>\n<tbody>\n",
    );
    for point in trend {
        let _ = writeln!(
            out,
            "<tr><td><code>{}</code></td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            escape(&point.run_id),
            escape(&point.created_at),
            score(point).map_or_else(|| "—".to_string(), |s| format!("{s:.1}%")),
            point.findings_total
        );
    }
    out.push_str("</tbody></table></details>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(run: &str, day: u32, score: Option<f64>) -> TrendPoint {
        TrendPoint {
            run_id: run.into(),
            created_at: format!("2024-05-{day:02}T06:00:00Z"),
            compliance_score: score,
            findings_total: 3,
        }
    }

    #[test]
    fn one_marker_per_run_and_a_line_through_the_scored_ones() {
        let trend = [
            point("r1", 1, Some(50.0)),
            point("r2", 2, Some(62.5)),
            point("r3", 3, None),
            point("r4", 4, Some(80.0)),
            point("r5", 5, Some(90.0)),
        ];
        let svg = trend_svg(&trend);
        assert_eq!(svg.matches("<circle class=\"trend-point").count(), 5);
        assert_eq!(svg.matches("no-score").count(), 1);
        // r3 has no score: two segments (r1-r2 and r4-r5), and a dashed bridge r2-r4.
        assert_eq!(svg.matches("<polyline class=\"trend-line\"").count(), 2);
        assert_eq!(svg.matches("<polyline class=\"trend-gap\"").count(), 1);
        assert!(svg.contains("data-score=\"62.5\""));
        assert!(svg.contains(">2024-05-01<") && svg.contains(">2024-05-05<"));
        assert!(svg.contains("From 50.0% to 90.0% over 5 runs."));
    }

    #[test]
    fn a_single_run_is_a_centred_point_without_a_line() {
        let out = trend_section(&[point("only", 1, Some(75.0))]);
        assert_eq!(out.matches("<circle").count(), 1);
        assert!(!out.contains("<polyline"));
        assert!(out.contains(&format!("cx=\"{:.1}\"", x_of(0, 1))));
        assert!(out.contains("Only one run so far"));
    }

    #[test]
    fn runs_without_a_score_and_no_runs() {
        let out = trend_section(&[point("a", 1, None), point("b", 2, Some(f64::NAN))]);
        assert_eq!(out.matches("no-score").count(), 2);
        assert!(!out.contains("<polyline"));
        assert!(out.contains("No run evaluated any check."));
        assert!(trend_section(&[]).contains("No runs to chart."));
    }

    #[test]
    fn many_runs_get_a_bounded_number_of_date_labels() {
        let trend: Vec<TrendPoint> = (1..=30).map(|d| point("r", d, Some(50.0))).collect();
        let svg = trend_svg(&trend);
        let labels = svg.matches("class=\"x-label\"").count();
        assert!((2..=MAX_X_LABELS + 1).contains(&labels), "{labels}");
        assert!(
            svg.contains(">2024-05-30<"),
            "the last run is always labelled"
        );
    }

    #[test]
    fn scores_are_clamped() {
        let svg = trend_svg(&[point("a", 1, Some(140.0)), point("b", 2, Some(-3.0))]);
        assert!(svg.contains("data-score=\"100.0\"") && svg.contains("data-score=\"0.0\""));
    }
}
