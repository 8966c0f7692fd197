//! The HTML report: one self-contained page (inline CSS, no scripts) with a
//! section per experiment holding its figures, claims table, settings and
//! links to its data files. Figures and files are linked relatively, so the
//! report directory can be moved or archived as a whole.

use crate::artifacts::files::atomic_write;
use crate::error::Result;
use crate::experiments::claim::{Claim, Verdict};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::path::{Component, Path, PathBuf};

/// One experiment's part of the report.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ReportSection {
    /// Short identifier (e.g. "fig2-convergence"); also the section's anchor.
    pub name: String,
    /// Human-readable heading.
    pub title: String,
    /// What the experiment does and what the paper claims (plain text;
    /// blank lines separate paragraphs).
    pub description: String,
    /// PNG figures, relative to the report directory.
    pub figures: Vec<PathBuf>,
    /// The checked claims.
    pub claims: Vec<Claim>,
    /// The settings the experiment ran with.
    pub settings: serde_json::Value,
    /// Data files (JSON, CSV), relative to the report directory.
    pub files: Vec<PathBuf>,
}

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A relative URL for `path` as seen from `dir`: paths under `dir` lose that
/// prefix, separators become '/', and bytes outside the URL-safe set are
/// percent-encoded. The result still needs [`escape_html`] (a no-op on it).
pub fn relative_url(dir: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(dir).unwrap_or(path);
    let parts: Vec<String> = rel
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            Component::ParentDir => Some("..".into()),
            _ => None,
        })
        .collect();
    let mut out = String::new();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            out.push('/');
        }
        for b in p.bytes() {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                out.push(b as char);
            } else {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

/// An HTML id made of the name's alphanumerics, '-' and '_'.
fn anchor(name: &str, index: usize) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    if s.is_empty() {
        format!("section-{index}")
    } else {
        format!("exp-{s}")
    }
}

const CSS: &str = r#"
body { font-family: -apple-system, "Segoe UI", "DejaVu Sans", Helvetica, Arial, sans-serif;
       max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { border-bottom: 2px solid #ddd; padding-bottom: .3em; }
h2 { margin-top: 2.2em; border-bottom: 1px solid #e3e3e3; padding-bottom: .2em; }
h2 .name { font-size: .6em; color: #888; font-weight: normal; margin-left: .6em; font-family: monospace; }
table { border-collapse: collapse; margin: 1em 0; width: 100%; }
th, td { border: 1px solid #d6d6d6; padding: .35em .6em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
td.held { background: #e3f6e3; color: #17631a; font-weight: bold; white-space: nowrap; }
td.inconclusive { background: #f6f0dc; color: #6b5510; font-weight: bold; }
td.failed { background: #fbe3e3; color: #9b1c1c; font-weight: bold; white-space: nowrap; }
td code { font-size: .85em; word-break: break-all; }
figure { margin: 1em 0; }
figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { font-size: .85em; color: #666; }
pre { background: #f7f7f7; border: 1px solid #e5e5e5; padding: .8em; overflow-x: auto; font-size: .85em; }
.summary td.num { text-align: right; }
.muted { color: #888; }
"#;

/// Renders the report page as a string (see [`write_report`]); `dir` is only
/// used to make absolute figure and file paths relative.
pub fn render_report(dir: &Path, title: &str, sections: &[ReportSection]) -> String {
    let e = escape_html;
    let mut h = String::new();
    let _ = writeln!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">"
    );
    let _ = writeln!(
        h,
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    );
    let _ = writeln!(
        h,
        "<title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>",
        e(title)
    );
    let _ = writeln!(h, "<h1>{}</h1>", e(title));

    // Summary with links to every section.
    if !sections.is_empty() {
        let _ = writeln!(
            h,
            "<table class=\"summary\">\n<tr><th>experiment</th><th>held / not held / inconclusive</th></tr>"
        );
        for (i, s) in sections.iter().enumerate() {
            let (held, not_held, inconclusive) = crate::experiments::claim::tally(&s.claims);
            let cls = if not_held > 0 {
                "failed"
            } else if inconclusive > 0 {
                "inconclusive"
            } else {
                "held"
            };
            let label = if s.title.is_empty() {
                &s.name
            } else {
                &s.title
            };
            let _ = writeln!(
                h,
                "<tr><td><a href=\"#{}\">{}</a></td><td class=\"{cls} num\">{held} / {not_held} / {inconclusive}</td></tr>",
                anchor(&s.name, i),
                e(label)
            );
        }
        let _ = writeln!(h, "</table>");
        let rows: Vec<(String, Vec<crate::experiments::claim::Claim>)> = sections
            .iter()
            .map(|s| (s.name.clone(), s.claims.clone()))
            .collect();
        h.push_str(&crate::report::by_paper::claims_by_paper_html(&rows));
    }

    for (i, s) in sections.iter().enumerate() {
        let _ = writeln!(h, "<section id=\"{}\">", anchor(&s.name, i));
        let heading = if s.title.is_empty() {
            &s.name
        } else {
            &s.title
        };
        let _ = writeln!(
            h,
            "<h2>{}<span class=\"name\">{}</span></h2>",
            e(heading),
            e(&s.name)
        );
        for para in s
            .description
            .split("\n\n")
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            let _ = writeln!(h, "<p>{}</p>", e(para));
        }

        for f in &s.figures {
            let url = relative_url(dir, f);
            let _ = writeln!(
                h,
                "<figure><img src=\"{}\" alt=\"{}\" loading=\"lazy\"><figcaption>{}</figcaption></figure>",
                e(&url),
                e(&f.display().to_string()),
                e(&f.display().to_string())
            );
        }

        let _ = writeln!(h, "<h3>Claims</h3>");
        if s.claims.is_empty() {
            let _ = writeln!(h, "<p class=\"muted\">No claims checked.</p>");
        } else {
            let _ = writeln!(
                h,
                "<table class=\"claims\">\n<tr><th>the paper says</th><th>claim checked</th><th>result</th><th>measured</th></tr>"
            );
            for c in &s.claims {
                let (cls, reason) = match &c.verdict {
                    Verdict::Held => ("held", String::new()),
                    Verdict::NotHeld => ("failed", String::new()),
                    Verdict::Inconclusive { reason } => {
                        ("inconclusive", format!("<br><small>{}</small>", e(reason)))
                    }
                };
                let paper = c
                    .paper
                    .as_ref()
                    .map(|p| match p.kind {
                        crate::experiments::claim::QuoteKind::Verbatim => format!(
                            "seed {} {}: &ldquo;{}&rdquo;",
                            e(&p.seed),
                            e(&p.location),
                            e(&p.quote)
                        ),
                        k => format!(
                            "seed {} {}, {}: {}",
                            e(&p.seed),
                            e(&p.location),
                            e(k.label()),
                            e(&p.quote)
                        ),
                    })
                    .unwrap_or_default();
                let measured = serde_json::to_string(&c.measured).unwrap_or_default();
                let _ = writeln!(
                    h,
                    "<tr><td>{paper}</td><td>{}</td><td class=\"{cls}\">{}{reason}</td><td><code>{}</code></td></tr>",
                    e(&c.claim),
                    c.verdict.word(),
                    e(&measured)
                );
            }
            let _ = writeln!(h, "</table>");
        }

        if !s.settings.is_null() {
            let settings = serde_json::to_string_pretty(&s.settings).unwrap_or_default();
            let _ = writeln!(h, "<h3>Settings</h3>\n<pre>{}</pre>", e(&settings));
        }

        if !s.files.is_empty() {
            let _ = writeln!(h, "<h3>Data</h3>\n<ul>");
            for f in &s.files {
                let url = relative_url(dir, f);
                let _ = writeln!(
                    h,
                    "<li><a href=\"{}\">{}</a></li>",
                    e(&url),
                    e(&f.display().to_string())
                );
            }
            let _ = writeln!(h, "</ul>");
        }
        let _ = writeln!(h, "</section>");
    }
    let _ = writeln!(h, "</body>\n</html>");
    h
}

/// Writes `dir/report.html` (atomically; `dir` is created if missing) and
/// returns its path: a self-contained page with one section per experiment,
/// its figures (`<img>` with paths relative to `dir`), a claims table (held
/// in green, did not hold in red), the settings as pretty JSON and links to
/// the data files. All text is HTML-escaped.
pub fn write_report(
    dir: impl AsRef<Path>,
    title: &str,
    sections: &[ReportSection],
) -> Result<PathBuf> {
    let dir = dir.as_ref();
    let path = dir.join("report.html");
    atomic_write(&path, render_report(dir, title, sections).as_bytes())?;
    Ok(path)
}
