//! The page's only style sheet and script, both static, and the Content-Security-Policy that
//! allows exactly them (by SHA-256 hash) and nothing else.
//!
//! Neither contains report data: the script reads what it needs from the DOM (`data-*`
//! attributes and text, escaped when the page was rendered), so its hash never changes with
//! the report and nothing from AWS can end up executing.

use sha2::{Digest, Sha256};

pub(super) const STYLE: &str = r#"
:root{--fg:#1b1f24;--muted:#57606a;--bg:#fff;--line:#d0d7de;--soft:#f6f8fa;--accent:#0a58ca;
--critical:#7a0010;--high:#c62828;--medium:#8a5300;--low:#0a58ca;--informational:#57606a;
--pass:#1a7f37;--fail:#c62828;--none:#6e7781;--warn-bg:#fff8c5;--warn-line:#d4a72c}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;color:var(--fg);background:var(--bg);
font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main,header.page,footer.page{max-width:1200px;margin:0 auto;padding:0 20px}
header.page{padding-top:20px}
h1{font-size:1.6em;margin:.2em 0}
h2{font-size:1.25em;margin:1.6em 0 .5em;padding-bottom:.2em;border-bottom:1px solid var(--line)}
h3{font-size:1.05em;margin:1.2em 0 .4em}
a{color:var(--accent)}
a:focus,button:focus,select:focus,input:focus,summary:focus{outline:2px solid var(--accent);outline-offset:2px}
code,pre{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
code{overflow-wrap:break-word}
code.arn{overflow-wrap:anywhere}
.nowrap{white-space:nowrap}
pre{background:var(--soft);border:1px solid var(--line);padding:8px;overflow:auto;max-height:20em;white-space:pre-wrap;overflow-wrap:anywhere}
.skip{position:absolute;left:-9999px}
.skip:focus{left:8px;top:8px;background:var(--bg);padding:4px 8px}
nav.toc ul{list-style:none;display:flex;flex-wrap:wrap;gap:4px 16px;padding:0;margin:.5em 0}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:.5em 0}
dl.meta dt{color:var(--muted)}
dl.meta dd{margin:0}
.muted{color:var(--muted)}
.empty{color:var(--muted);font-style:italic}
.notice{border:1px solid var(--warn-line);background:var(--warn-bg);padding:8px 12px;margin:1em 0}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:1em 0}
.card{border:1px solid var(--line);border-radius:6px;padding:12px 16px;min-width:11em}
.card .value{font-size:1.6em;font-weight:600;display:block}
.score .value{font-size:3.2em;line-height:1.1}
.score.good .value{color:var(--pass)}
.score.fair .value{color:var(--medium)}
.score.poor .value{color:var(--fail)}
table{border-collapse:collapse;width:100%;margin:.5em 0}
th,td{text-align:left;vertical-align:top;padding:4px 8px;border-bottom:1px solid var(--line)}
th{background:var(--soft);font-weight:600}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
table.findings td:nth-child(3),table.findings td:nth-child(4){min-width:13em}
table.breakdown{width:auto;min-width:24em}
table.accounts td:nth-child(2){min-width:10em}
table.breakdown td.barcell{width:12em}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(22em,1fr));gap:0 24px}
svg.bar{display:block;width:100%;height:.9em}
svg.bar .track{fill:var(--soft)}
.fill{fill:var(--accent)}
.fill.critical,.badge.critical{fill:var(--critical);background:var(--critical)}
.fill.high,.badge.high{fill:var(--high);background:var(--high)}
.fill.medium,.badge.medium{fill:var(--medium);background:var(--medium)}
.fill.low,.badge.low{fill:var(--low);background:var(--low)}
.fill.informational,.badge.informational{fill:var(--informational);background:var(--informational)}
.fill.pass,.badge.pass{fill:var(--pass);background:var(--pass)}
.fill.fail,.badge.fail{fill:var(--fail);background:var(--fail)}
.fill.none,.badge.none{fill:var(--none);background:var(--none)}
.badge{display:inline-block;color:#fff;background:var(--muted);border-radius:3px;padding:0 6px;font-size:.85em;font-weight:600;white-space:nowrap;-webkit-print-color-adjust:exact;print-color-adjust:exact}
.badge.lc{background:var(--soft);color:var(--fg);border:1px solid var(--line)}
.badge.lc.new,.badge.lc.reopened{border-color:var(--fail);color:var(--fail)}
.badge.muted-flag{background:var(--soft);color:var(--muted);border:1px solid var(--line)}
ul.plain{list-style:none;margin:0;padding:0}
ul.controls{list-style:none;margin:0;padding:0;font-size:.9em}
details{margin:.3em 0}
summary{cursor:pointer}
details.finding dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:.4em 0}
details.finding dd{margin:0}
svg.trend{width:100%;max-width:900px;height:auto;display:block}
svg.trend .grid line{stroke:var(--line)}
svg.trend .axis{stroke:var(--fg)}
svg.trend text{font-size:11px;fill:var(--muted)}
svg.trend text.axis-title{fill:var(--fg);font-weight:600}
svg.trend .trend-line{fill:none;stroke:var(--accent);stroke-width:2}
svg.trend .trend-gap{fill:none;stroke:var(--accent);stroke-width:1.5;stroke-dasharray:4 4;opacity:.6}
svg.trend circle.trend-point{fill:var(--accent);stroke:#fff;stroke-width:1.5}
svg.trend circle.trend-point.current{fill:var(--fg)}
svg.trend circle.trend-point.no-score{fill:#fff;stroke:var(--none);stroke-width:1.5;stroke-dasharray:2 2}
.filters{display:flex;flex-wrap:wrap;gap:8px 16px;align-items:end;margin:.5em 0;padding:8px 12px;background:var(--soft);border:1px solid var(--line)}
.filters label{display:flex;flex-direction:column;font-size:.9em;color:var(--muted)}
.filters input,.filters select,.filters button{font:inherit;padding:3px 6px}
.filters input{min-width:18em}
#findings-count{font-weight:600}
[hidden]{display:none!important}
@media print{
body{font-size:10.5px}
.filters,.skip,nav.toc{display:none!important}
main,header.page,footer.page{max-width:none;padding:0}
h2{break-after:avoid}
tr,.card,svg{break-inside:avoid}
pre{max-height:none}
a{color:inherit;text-decoration:none}
}
"#;

pub(super) const SCRIPT: &str = r##"
(function () {
  "use strict";
  var table = document.getElementById("findings");
  var panel = document.getElementById("filters");
  if (!table || !panel) { return; }
  var rows = Array.prototype.slice.call(table.tBodies[0].rows);
  var query = document.getElementById("filter-q");
  var count = document.getElementById("findings-count");
  var none = document.getElementById("findings-none");
  // The account filter exists only in a report of several accounts.
  var names = ["severity", "region", "service", "lifecycle", "account"].filter(function (n) {
    return document.getElementById("filter-" + n);
  });
  var selects = {};
  names.forEach(function (n) { selects[n] = document.getElementById("filter-" + n); });
  function norm(s) { return String(s || "").toLowerCase(); }
  var texts = rows.map(function (r) { return norm(r.textContent); });

  function choose(select, value) {
    var wanted = norm(value);
    for (var i = 0; i < select.options.length; i++) {
      if (norm(select.options[i].value) === wanted) { select.selectedIndex = i; return; }
    }
    // A shared link may name a value this report does not have: keep it (nothing matches).
    var option = document.createElement("option");
    option.value = value;
    option.textContent = value;
    select.appendChild(option);
    select.value = value;
  }

  function apply() {
    var terms = norm(query.value).split(/\s+/).filter(Boolean);
    var shown = 0;
    rows.forEach(function (row, i) {
      var match = terms.every(function (t) { return texts[i].indexOf(t) !== -1; }) &&
        names.every(function (n) {
          var v = selects[n].value;
          return !v || norm(row.getAttribute("data-" + n)) === norm(v);
        });
      row.hidden = !match;
      if (match) { shown++; }
    });
    count.textContent = shown + " of " + rows.length + " findings shown";
    none.hidden = shown !== 0;
  }

  function readFragment() {
    var hash = window.location.hash.replace(/^#/, "");
    if (hash.indexOf("=") === -1) { return false; }
    var params = new URLSearchParams(hash);
    query.value = params.get("q") || "";
    names.forEach(function (n) { choose(selects[n], params.get(n) || ""); });
    return true;
  }

  function writeFragment() {
    var params = new URLSearchParams();
    if (query.value) { params.set("q", query.value); }
    names.forEach(function (n) { if (selects[n].value) { params.set(n, selects[n].value); } });
    var text = params.toString();
    try {
      history.replaceState(null, "", text ? "#" + text : window.location.href.split("#")[0]);
    } catch (e) { /* some file: contexts refuse; the filter still works */ }
  }

  function changed() { apply(); writeFragment(); }
  query.addEventListener("input", changed);
  names.forEach(function (n) { selects[n].addEventListener("change", changed); });
  document.getElementById("filter-reset").addEventListener("click", function () {
    query.value = "";
    names.forEach(function (n) { selects[n].value = ""; });
    changed();
  });
  // A link such as the accounts table's `#account=…` filters, then shows the findings.
  window.addEventListener("hashchange", function () {
    if (readFragment()) { apply(); table.scrollIntoView(); }
  });

  // Closed <details> do not print: open them for printing, restore afterwards.
  var reopened = [];
  window.addEventListener("beforeprint", function () {
    reopened = Array.prototype.filter.call(document.querySelectorAll("details"), function (d) { return !d.open; });
    reopened.forEach(function (d) { d.open = true; });
  });
  window.addEventListener("afterprint", function () {
    reopened.forEach(function (d) { d.open = false; });
    reopened = [];
  });

  panel.hidden = false;
  readFragment();
  apply();
})();
"##;

/// The policy of the page: nothing may load, only this style sheet and this script may apply.
pub(super) fn content_security_policy() -> String {
    format!(
        "default-src 'none'; style-src '{}'; script-src '{}'; img-src data:; \
         base-uri 'none'; form-action 'none'",
        csp_hash(STYLE),
        csp_hash(SCRIPT)
    )
}

/// A CSP hash source (`sha256-<base64>`) of an inline element's exact text.
pub(super) fn csp_hash(text: &str) -> String {
    format!("sha256-{}", base64(&Sha256::digest(text.as_bytes())))
}

/// Standard base64 with padding (RFC 4648 §4), as CSP hash sources want it.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> shift) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (input, expected) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes()), expected, "{input}");
        }
    }

    #[test]
    fn csp_hash_of_a_known_script() {
        // `echo -n "alert('Hello, world.');" | openssl dgst -sha256 -binary | base64` (the
        // example of the CSP specification).
        assert_eq!(
            csp_hash("alert('Hello, world.');"),
            "sha256-qznLcsROx4GACP2dm0UCKCzCG+HiZ1guq6ZZDob/Tng="
        );
    }

    #[test]
    fn the_script_carries_no_markup_terminator() {
        assert!(
            !SCRIPT.contains("</"),
            "the script must not close its element"
        );
        assert!(!STYLE.contains("</"));
    }
}
