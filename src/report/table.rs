//! The plain-text table of the papers' claims printed in the terminal.

use crate::experiments::claim::{Claim, Verdict};

/// Target width of [`claims_table`] in columns (characters).
pub const TABLE_WIDTH: usize = 120;

/// Splits `text` into lines of at most `width` characters, breaking at
/// spaces where possible and inside over-long words otherwise.
pub(crate) fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    for para in text.split('\n') {
        let mut line = String::new();
        let mut len = 0usize;
        for word in para.split_whitespace() {
            let mut word: Vec<char> = word.chars().collect();
            loop {
                let wl = word.len();
                let need = if len == 0 { wl } else { len + 1 + wl };
                if need <= width {
                    if len > 0 {
                        line.push(' ');
                    }
                    line.extend(word.iter());
                    len = need;
                    break;
                }
                if len > 0 {
                    lines.push(std::mem::take(&mut line));
                    len = 0;
                    continue;
                }
                // An over-long word on an empty line: hard-break it.
                let rest = word.split_off(width);
                lines.push(word.iter().collect());
                word = rest;
            }
        }
        lines.push(line);
    }
    if lines.is_empty() {
        lines.push(String::new());
    }
    lines
}

fn pad(s: &str, width: usize) -> String {
    let n = s.chars().count();
    let mut out = s.to_string();
    out.extend(std::iter::repeat_n(' ', width.saturating_sub(n)));
    out
}

/// At most this many characters of a claim's measured value appear in the
/// terminal table (the JSON and HTML keep everything).
pub const MEASURED_CHARS: usize = 140;

fn compact_number(x: f64) -> String {
    if x == x.trunc() && x.abs() < 1e9 {
        format!("{x}")
    } else if x != 0.0 && (x.abs() < 1e-3 || x.abs() >= 1e5) {
        format!("{x:.3e}")
    } else {
        format!("{x:.4}")
    }
}

fn compact_value(v: &serde_json::Value, out: &mut String) {
    use serde_json::Value;
    match v {
        Value::Number(n) => out.push_str(
            &n.as_f64()
                .map(compact_number)
                .unwrap_or_else(|| n.to_string()),
        ),
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                compact_value(x, out);
            }
            out.push(']');
        }
        Value::Object(o) => {
            out.push('{');
            for (i, (k, x)) in o.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(k);
                out.push(':');
                compact_value(x, out);
            }
            out.push('}');
        }
        Value::String(s) => out.push_str(s),
        other => out.push_str(&other.to_string()),
    }
}

/// A short rendering of a measured value for the terminal: numbers to four
/// significant places, no quotes, cut at `max` characters with "...".
pub fn compact_measured(v: &serde_json::Value, max: usize) -> String {
    let mut s = String::new();
    compact_value(v, &mut s);
    if s.chars().count() > max {
        let cut: String = s.chars().take(max.saturating_sub(3)).collect();
        format!("{cut}...")
    } else {
        s
    }
}

/// The verdict word of a two-way verdict: "held" or "not held" (see [`Verdict::word`]).
pub fn verdict(held: bool) -> &'static str {
    Verdict::from_bool(held).word()
}

/// Renders the claims of every experiment as a plain-text table for the
/// terminal, about [`TABLE_WIDTH`] columns wide:
/// `experiment | claim [seed, location] | held / not held / inconclusive | measured`
/// (an inconclusive claim's reason leads its measured cell), long cells wrapped, a
/// rule between experiments and a final count of each verdict.
pub fn claims_table(experiment_rows: &[(String, Vec<Claim>)]) -> String {
    const SEP: &str = " | ";
    let measured_text = |c: &Claim| compact_measured(&c.measured, MEASURED_CHARS);
    let max_len = |it: &mut dyn Iterator<Item = usize>| it.max().unwrap_or(0);

    let w_exp = max_len(&mut experiment_rows.iter().map(|(e, _)| e.chars().count()))
        .clamp("experiment".len(), 24);
    let w_verdict = "inconclusive".len();
    let w_meas = max_len(
        &mut experiment_rows
            .iter()
            .flat_map(|(_, cs)| cs.iter().map(|c| measured_text(c).chars().count())),
    )
    .clamp("measured".len(), 36);
    let fixed = w_exp + w_verdict + w_meas + 3 * SEP.len();
    let w_claim = TABLE_WIDTH.saturating_sub(fixed).max(24);

    let widths = [w_exp, w_claim, w_verdict, w_meas];
    let rule = widths
        .iter()
        .map(|&w| "-".repeat(w))
        .collect::<Vec<_>>()
        .join("-+-");
    let row = |cells: [&str; 4]| -> String {
        let wrapped: Vec<Vec<String>> = cells.iter().zip(widths).map(|(c, w)| wrap(c, w)).collect();
        let height = wrapped.iter().map(Vec::len).max().unwrap_or(1);
        let mut out = String::new();
        for i in 0..height {
            let line: Vec<String> = wrapped
                .iter()
                .zip(widths)
                .map(|(col, w)| pad(col.get(i).map(String::as_str).unwrap_or(""), w))
                .collect();
            out.push_str(line.join(SEP).trim_end());
            out.push('\n');
        }
        out
    };

    let mut out = row(["experiment", "claim", "result", "measured"]);
    out.push_str(&rule);
    out.push('\n');
    let mut total = 0usize;
    for (k, (exp, claims)) in experiment_rows.iter().enumerate() {
        if k > 0 {
            out.push_str(&rule);
            out.push('\n');
        }
        if claims.is_empty() {
            out.push_str(&row([exp, "(no claims checked)", "", ""]));
        }
        for (i, c) in claims.iter().enumerate() {
            total += 1;
            let mut m = measured_text(c);
            if let Verdict::Inconclusive { reason } = &c.verdict {
                m = format!("({reason}) {m}");
            }
            let what = match &c.paper {
                Some(p) => format!(
                    "{} [seed {} {}, {}]",
                    c.claim,
                    p.seed,
                    p.location,
                    p.kind.label()
                ),
                None => c.claim.clone(),
            };
            out.push_str(&row([
                if i == 0 { exp } else { "" },
                &what,
                c.verdict.word(),
                &m,
            ]));
        }
    }
    out.push_str(&rule);
    out.push('\n');
    let (held, not_held, inconclusive) =
        crate::experiments::claim::tally(experiment_rows.iter().flat_map(|(_, cs)| cs));
    out.push_str(&format!(
        "{total} claims: {held} held, {not_held} not held, {inconclusive} inconclusive\n"
    ));
    out
}
