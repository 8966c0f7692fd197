//! The claims table grouped by paper (issue 26): for every seed, each claim of every
//! experiment with the seed's words (or "widenet's paraphrase" / "widenet's check"), the
//! verdict with its reason, how a bound was tested, the measured numbers and whether the
//! run lies inside the theorem's assumptions. Written as `claims_by_paper.md` next to the
//! report and as the report's first table.

use crate::experiments::claim::{Claim, QuoteKind, Verdict};
use crate::report::table::compact_measured;
use std::collections::BTreeMap;
use std::fmt::Write;

/// The papers' titles by seed prefix, for the group headings.
pub fn paper_title(seed: &str) -> &'static str {
    match seed {
        "000" | "004" => "Wang et al., On the Provable Generalization of Recurrent Neural Networks",
        "001" => {
            "Arora et al., Fine-Grained Analysis of Optimization and Generalization for \
                  Overparameterized Two-Layer Neural Networks"
        }
        "002" => {
            "Allen-Zhu and Li, Can SGD Learn Recurrent Neural Networks with Provable \
                  Generalization?"
        }
        "003" => "Allen-Zhu and Li, What Can ResNet Learn Efficiently, Going Beyond Kernels?",
        _ => "claims without a paper statement",
    }
}

/// One row of the grouped table.
#[derive(Clone, Debug)]
pub struct PaperRow {
    /// The experiment that checked it.
    pub experiment: String,
    /// The claim.
    pub claim: Claim,
}

/// The claims of `rows` (experiment, claims) grouped by seed ("-" for a claim without a
/// statement), seeds in order, claims in run order within a seed.
pub fn group_by_paper(rows: &[(String, Vec<Claim>)]) -> BTreeMap<String, Vec<PaperRow>> {
    let mut groups: BTreeMap<String, Vec<PaperRow>> = BTreeMap::new();
    for (exp, claims) in rows {
        for c in claims {
            let seed = c.paper.as_ref().map_or("-".to_string(), |p| p.seed.clone());
            groups.entry(seed).or_default().push(PaperRow {
                experiment: exp.clone(),
                claim: c.clone(),
            });
        }
    }
    groups
}

/// The paper statement as the table shows it: `quote (Thm 5.1): "..."`,
/// `widenet's paraphrase (Thm 5.1): ...` or `widenet's check (Thm 5.1): ...`.
pub fn statement_text(c: &Claim) -> String {
    match &c.paper {
        None => "no paper statement".to_string(),
        Some(p) => match p.kind {
            QuoteKind::Verbatim => format!("quote ({}): \"{}\"", p.location, p.quote),
            k => format!("{} ({}): {}", k.label(), p.location, p.quote),
        },
    }
}

/// The assumption check: "inside: A; B", "outside: A fails (detail)" or "not checked".
pub fn assumption_text(c: &Claim) -> String {
    match c.inside_assumptions() {
        None => "assumptions not checked".to_string(),
        Some(true) => format!(
            "inside the assumptions: {}",
            c.assumptions
                .iter()
                .map(|a| format!("{} ({})", a.name, a.detail))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        Some(false) => format!(
            "outside the assumptions: {}",
            c.assumptions
                .iter()
                .filter(|a| !a.holds)
                .map(|a| format!("{} fails ({})", a.name, a.detail))
                .collect::<Vec<_>>()
                .join("; ")
        ),
    }
}

/// The verdict with its reason when inconclusive.
pub fn verdict_text(c: &Claim) -> String {
    match &c.verdict {
        Verdict::Inconclusive { reason } => format!("inconclusive: {reason}"),
        v => v.word().to_string(),
    }
}

/// The grouped table as Markdown: one section per paper, one block per claim.
pub fn claims_by_paper_markdown(rows: &[(String, Vec<Claim>)]) -> String {
    let mut out = String::from("# The papers' claims, by paper\n");
    for (seed, claims) in group_by_paper(rows) {
        let (h, n, i) = crate::experiments::claim::tally(claims.iter().map(|r| &r.claim));
        let _ = write!(
            out,
            "\n## seed {seed}: {}\n\n{h} held, {n} not held, {i} inconclusive\n\n",
            paper_title(&seed)
        );
        for r in &claims {
            let c = &r.claim;
            let _ = writeln!(
                out,
                "- **{}** [{}] {}",
                verdict_text(c),
                r.experiment,
                c.claim
            );
            let _ = writeln!(out, "  - {}", statement_text(c));
            if let Some(rule) = &c.rule {
                let _ = writeln!(out, "  - bound tested by {}", rule.describe());
            }
            let _ = writeln!(out, "  - {}", assumption_text(c));
            let _ = writeln!(
                out,
                "  - measured: `{}`",
                compact_measured(&c.measured, 400)
            );
        }
    }
    out
}

/// The grouped table as an HTML fragment (escaped), for the top of `report.html`.
pub fn claims_by_paper_html(rows: &[(String, Vec<Claim>)]) -> String {
    let e = crate::report::html::escape_html;
    let mut h = String::from("<h2>The papers' claims, by paper</h2>\n");
    for (seed, claims) in group_by_paper(rows) {
        let (held, not_held, inc) =
            crate::experiments::claim::tally(claims.iter().map(|r| &r.claim));
        let _ = writeln!(
            h,
            "<h3>seed {}: {} <small>({held} held, {not_held} not held, {inc} inconclusive)</small></h3>",
            e(&seed),
            e(paper_title(&seed))
        );
        let _ = writeln!(
            h,
            "<table class=\"claims\">\n<tr><th>the paper says</th><th>claim checked</th><th>result</th><th>assumptions</th><th>measured</th></tr>"
        );
        for r in &claims {
            let c = &r.claim;
            let cls = match c.verdict {
                Verdict::Held => "held",
                Verdict::NotHeld => "failed",
                Verdict::Inconclusive { .. } => "inconclusive",
            };
            let rule = c
                .rule
                .as_ref()
                .map(|r| format!("<br><small>{}</small>", e(&r.describe())))
                .unwrap_or_default();
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{}<br><small>{}</small>{rule}</td><td class=\"{cls}\">{}</td><td>{}</td><td><code>{}</code></td></tr>",
                e(&statement_text(c)),
                e(&c.claim),
                e(&r.experiment),
                e(&verdict_text(c)),
                e(&assumption_text(c)),
                e(&compact_measured(&c.measured, 400))
            );
        }
        let _ = writeln!(h, "</table>");
    }
    h
}
