//! A paper's claim as an experiment checks it: the paper's own statement (seed
//! file, section or figure, a short quote), what was measured, and one of three
//! verdicts — held, not held, or inconclusive with the reason when the run cannot
//! test the claim (the net did not train, the scale is below what the claim is
//! about, the seeds disagree).
//!
//! # Bounds with unstated constants (issue 26)
//!
//! A bound whose paper statement hides a constant in O(·) is tested in exactly one of
//! three ways, recorded in the claim's [`BoundRule`]:
//!
//! (a) [`BoundRule::ProofConstant`]: with the constant the proof gives, derived and cited
//!     in the doc comment of the code that computes it;
//! (b) [`BoundRule::Scaling`]: by its rate: the measured quantity against the bound's
//!     exponent across a sweep (n, m, L, N), with the fitted exponent and its 95%
//!     interval; *not held* when the interval lies entirely above the bound's exponent
//!     (the measured quantity grows faster than the bound allows);
//! (c) [`BoundRule::CappedConstant`]: with an implied constant capped in the settings
//!     *before* the run (printed in the claim): the constant C that the O(·) term would
//!     need to cover the measurement, *not held* above the cap.
//!
//! *Inconclusive* is kept for runs that cannot test the statement: nothing trained or
//! the run diverged ([`Claim::requires`], [`Claim::requires_finite`]), the scale below
//! what the claim is about, seeds disagreeing, or the theorem's assumptions not met
//! ([`Claim::assume`], which records every assumption checked, met or not, so that each
//! claim says whether its run is inside the theorem's assumptions).

use serde::{Deserialize, Serialize};

/// What a [`Statement`]'s text is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuoteKind {
    /// The seed's exact words (from [`super::quotes`]; a test matches every one against
    /// the seed text after normalizing whitespace, LaTeX and Unicode).
    Verbatim,
    /// widenet's paraphrase of what the seed says at `location` (not its words).
    #[default]
    Paraphrase,
    /// widenet's own consistency check, supporting the seed's result at `location`; the
    /// text says what is checked, not what the paper says.
    Check,
}

impl QuoteKind {
    /// How the report labels the text: "quote", "paraphrase" or "widenet's check".
    pub fn label(self) -> &'static str {
        match self {
            QuoteKind::Verbatim => "quote",
            QuoteKind::Paraphrase => "widenet's paraphrase",
            QuoteKind::Check => "widenet's check",
        }
    }
}

/// Where a claim comes from: the seed paper, the place in it, and its words.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statement {
    /// Seed file, e.g. "001" (seeds/001-*.md).
    pub seed: String,
    /// Section, theorem or figure, e.g. "Thm 4.1" or "Fig. 2(a)".
    pub location: String,
    /// The seed's words ([`QuoteKind::Verbatim`]), widenet's paraphrase, or what
    /// widenet's own check tests.
    pub quote: String,
    /// Which of the three `quote` is (results written before issue 26 read as paraphrase).
    #[serde(default)]
    pub kind: QuoteKind,
}

/// One assumption of the theorem a claim tests, checked on the run's parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Assumption {
    /// The assumption as the paper states it, e.g. "kappa = O(lambda_0 delta / n)".
    pub name: String,
    /// Whether the run satisfies it.
    pub holds: bool,
    /// The run's values behind the check, e.g. "kappa = 1, lambda_0 delta / n = 2e-4".
    pub detail: String,
}

/// How a bound with an unstated constant was tested (the module docs give the rule).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum BoundRule {
    /// (a) With the proof's constant.
    ProofConstant {
        /// The constant used.
        constant: f64,
        /// Where the proof gives it (seed, equation or lemma).
        source: String,
    },
    /// (b) By the rate: fitted exponent of the measured quantity in the swept variable
    /// with its 95% interval, against the bound's exponent.
    Scaling {
        /// The swept variable ("n", "m", "L", "N", ...).
        variable: String,
        /// The bound's exponent in that variable.
        bound_exponent: f64,
        /// The fitted exponent.
        fitted: f64,
        /// Lower end of its 95% interval.
        ci_low: f64,
        /// Upper end of its 95% interval.
        ci_high: f64,
    },
    /// (c) With an implied constant capped before the run.
    CappedConstant {
        /// The cap (a setting).
        cap: f64,
        /// The constant the O(·) term needs to cover the measurement (0 when the explicit
        /// part alone covers it).
        implied: f64,
    },
}

impl BoundRule {
    /// A one-line description for tables.
    pub fn describe(&self) -> String {
        match self {
            BoundRule::ProofConstant { constant, source } => {
                format!("proof constant {constant} ({source})")
            }
            BoundRule::Scaling {
                variable,
                bound_exponent,
                fitted,
                ci_low,
                ci_high,
            } => format!(
                "scaling in {variable}: fitted exponent {fitted:.3} (95% CI [{ci_low:.3}, \
                 {ci_high:.3}]) against the bound's {bound_exponent}"
            ),
            BoundRule::CappedConstant { cap, implied } => format!(
                "implied constant {implied:.3} against the cap {} set before the run",
                (cap * 1e4).round() / 1e4
            ),
        }
    }
}

/// The outcome of checking a claim.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    /// The measurement supports the claim.
    Held,
    /// The measurement contradicts the claim.
    NotHeld,
    /// The run cannot test the claim; `reason` says why.
    Inconclusive {
        /// Why the claim could not be tested (e.g. "SGD did not fit: training error 0.94").
        reason: String,
    },
}

impl Verdict {
    /// `Held` or `NotHeld`.
    pub fn from_bool(held: bool) -> Self {
        if held {
            Verdict::Held
        } else {
            Verdict::NotHeld
        }
    }

    /// The word used in tables: "held", "not held" or "inconclusive".
    pub fn word(&self) -> &'static str {
        match self {
            Verdict::Held => "held",
            Verdict::NotHeld => "not held",
            Verdict::Inconclusive { .. } => "inconclusive",
        }
    }
}

/// One checked claim of a paper.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Claim {
    /// What is checked, in words (how widenet tests the paper's statement).
    pub claim: String,
    /// The paper's own statement (absent only in results written before issue 12).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paper: Option<Statement>,
    /// The verdict (`"verdict": "held" | "not_held" | "inconclusive"`, with `"reason"`).
    #[serde(flatten)]
    pub verdict: Verdict,
    /// The measured quantities behind the verdict.
    pub measured: serde_json::Value,
    /// How a bound with an unstated constant was tested (absent for other claims).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<BoundRule>,
    /// The theorem's assumptions checked on the run's parameters (empty: not checked).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assumptions: Vec<Assumption>,
}

/// z of a two-sided 95% interval.
pub const Z95: f64 = 1.959_963_984_540_054;

impl Claim {
    /// A claim with a held / not-held verdict and its measured evidence.
    pub fn new(claim: impl Into<String>, held: bool, measured: serde_json::Value) -> Self {
        Claim {
            claim: claim.into(),
            paper: None,
            verdict: Verdict::from_bool(held),
            measured,
            rule: None,
            assumptions: Vec::new(),
        }
    }

    /// A claim the run cannot test, with the reason.
    pub fn inconclusive(
        claim: impl Into<String>,
        reason: impl Into<String>,
        measured: serde_json::Value,
    ) -> Self {
        Claim {
            claim: claim.into(),
            paper: None,
            verdict: Verdict::Inconclusive {
                reason: reason.into(),
            },
            measured,
            rule: None,
            assumptions: Vec::new(),
        }
    }

    /// Rule (c): the bound `measured_lhs <= explicit + C * rate_term` with the implied
    /// constant C = max(0, (lhs - explicit) / rate_term) held iff C <= `cap` (a setting
    /// fixed before the run). A non-finite left side (a diverged run) or a rate term that
    /// is not positive makes the claim inconclusive, saying which.
    pub fn capped(
        claim: impl Into<String>,
        measured_lhs: f64,
        explicit: f64,
        rate_term: f64,
        cap: f64,
        measured: serde_json::Value,
    ) -> Self {
        let claim = claim.into();
        if !measured_lhs.is_finite() {
            return Claim::inconclusive(
                claim,
                format!("the run diverged: the measured quantity is {measured_lhs}"),
                measured,
            );
        }
        if !(rate_term > 0.0 && rate_term.is_finite() && explicit.is_finite()) {
            return Claim::inconclusive(
                claim,
                format!(
                    "the bound's terms are not usable (explicit {explicit}, O(.) term {rate_term})"
                ),
                measured,
            );
        }
        let implied = ((measured_lhs - explicit) / rate_term).max(0.0);
        let mut c = Claim::new(claim, implied <= cap, measured);
        c.rule = Some(BoundRule::CappedConstant { cap, implied });
        c
    }

    /// Rule (b): a bound growing like `variable^bound_exponent`, tested by the fitted
    /// exponent `fitted` (standard error `se`) of the measured quantity across a sweep:
    /// not held when the 95% interval lies entirely above the bound's exponent. A fit
    /// without a finite standard error (too few points) is inconclusive.
    pub fn scaling(
        claim: impl Into<String>,
        variable: &str,
        bound_exponent: f64,
        fitted: f64,
        se: f64,
        measured: serde_json::Value,
    ) -> Self {
        let claim = claim.into();
        if !(fitted.is_finite() && se.is_finite() && se >= 0.0) {
            return Claim::inconclusive(
                claim,
                format!(
                    "the sweep in {variable} gives no usable fit (exponent {fitted}, standard \
                     error {se}); too few or non-finite points"
                ),
                measured,
            );
        }
        let (lo, hi) = (fitted - Z95 * se, fitted + Z95 * se);
        let mut c = Claim::new(claim, lo <= bound_exponent, measured);
        c.rule = Some(BoundRule::Scaling {
            variable: variable.to_string(),
            bound_exponent,
            fitted,
            ci_low: lo,
            ci_high: hi,
        });
        c
    }

    /// Rule (b) from the sweep itself: fits y ≈ C·x^p by least squares on (ln x, ln y)
    /// ([`crate::theory::rate_fit::fit_power_law`]) and judges p with its 95% interval
    /// against `bound_exponent` as [`Claim::scaling`] does, the interval's half-width being
    /// Student's t quantile ([`crate::theory::rate_fit::t95`], k − 2 degrees of freedom for
    /// k points) times the standard error, not the normal's 1.96 (a sweep has few points).
    /// The sweep's values go into
    /// `measured` (under "sweep"). A sweep that cannot be fitted (fewer than three points,
    /// a value that is not positive and finite) is inconclusive, saying why.
    pub fn scaling_fit(
        claim: impl Into<String>,
        variable: &str,
        bound_exponent: f64,
        x: &[f64],
        y: &[f64],
        mut measured: serde_json::Value,
    ) -> Self {
        let claim = claim.into();
        if let serde_json::Value::Object(m) = &mut measured {
            m.insert(
                "sweep".into(),
                serde_json::json!({ variable: x, "measured": y }),
            );
        }
        if x.len() < 3 {
            return Claim::inconclusive(
                claim,
                format!(
                    "the sweep in {variable} has {} point(s); a fitted exponent with a 95% \
                     interval needs at least 3",
                    x.len()
                ),
                measured,
            );
        }
        match crate::theory::rate_fit::fit_power_law(x, y) {
            Ok(f) => {
                if let serde_json::Value::Object(m) = &mut measured {
                    m.insert("fit".into(), serde_json::json!(f));
                }
                // Claim::scaling's interval is ±Z95·se: pass the se scaled to ±t·se
                let t = crate::theory::rate_fit::t95(f.points.saturating_sub(2));
                let se = f.exponent_se * t / Z95;
                Claim::scaling(claim, variable, bound_exponent, f.exponent, se, measured)
            }
            Err(e) => Claim::inconclusive(
                claim,
                format!("the sweep in {variable} cannot be fitted: {e}"),
                measured,
            ),
        }
    }

    /// Records rule (a): the bound was checked with the proof's `constant` (from `source`).
    pub fn proof_constant(mut self, constant: f64, source: impl Into<String>) -> Self {
        self.rule = Some(BoundRule::ProofConstant {
            constant,
            source: source.into(),
        });
        self
    }

    /// Records one of the theorem's assumptions checked on the run; when it does not
    /// hold the verdict becomes inconclusive, naming the assumption (an already
    /// inconclusive verdict keeps its first reason).
    pub fn assume(
        mut self,
        name: impl Into<String>,
        holds: bool,
        detail: impl Into<String>,
    ) -> Self {
        let (name, detail) = (name.into(), detail.into());
        let reason = format!("outside the theorem's assumptions: {name} fails ({detail})");
        self.assumptions.push(Assumption {
            name,
            holds,
            detail,
        });
        self.requires(holds, reason)
    }

    /// Whether the run lies inside every assumption checked (None: none were checked).
    pub fn inside_assumptions(&self) -> Option<bool> {
        if self.assumptions.is_empty() {
            None
        } else {
            Some(self.assumptions.iter().all(|a| a.holds))
        }
    }

    /// Makes the verdict inconclusive when a measured value the verdict rests on is not
    /// finite: a diverged run (NaN or infinite loss, written as null) says nothing.
    pub fn requires_finite(self, values: &[f64], what: &str) -> Self {
        let bad = values.iter().filter(|v| !v.is_finite()).count();
        self.requires(
            bad == 0,
            format!(
                "the run diverged: {bad} of {} values of {what} are not finite",
                values.len()
            ),
        )
    }

    /// Attaches the seed's exact words from the quote registry ([`super::quotes`]).
    pub fn quote(mut self, q: &super::quotes::Quote) -> Self {
        self.paper = Some(q.statement());
        self
    }

    /// Marks the claim as widenet's own consistency check supporting the seed's result
    /// at `location`; `what` says what is checked (it is not the paper's words).
    pub fn own_check(
        self,
        seed: impl Into<String>,
        location: impl Into<String>,
        what: impl Into<String>,
    ) -> Self {
        self.statement(QuoteKind::Check, seed.into(), location.into(), what.into())
    }

    fn statement(mut self, kind: QuoteKind, seed: String, location: String, quote: String) -> Self {
        self.paper = Some(Statement {
            seed,
            location,
            quote,
            kind,
        });
        self
    }

    /// Attaches widenet's paraphrase of the paper's statement: seed file ("001"),
    /// location ("Thm 4.1"), text. The seed's exact words go through [`Claim::quote`].
    pub fn paper(
        self,
        seed: impl Into<String>,
        location: impl Into<String>,
        quote: impl Into<String>,
    ) -> Self {
        self.statement(
            QuoteKind::Paraphrase,
            seed.into(),
            location.into(),
            quote.into(),
        )
    }

    /// Makes the verdict inconclusive (with `reason`) unless the precondition `ok`
    /// holds: a claim about a trained net says nothing when the net did not train.
    /// An already inconclusive verdict keeps its first reason.
    pub fn requires(mut self, ok: bool, reason: impl Into<String>) -> Self {
        if !ok && !matches!(self.verdict, Verdict::Inconclusive { .. }) {
            self.verdict = Verdict::Inconclusive {
                reason: reason.into(),
            };
        }
        self
    }

    /// Whether the verdict is `Held`.
    pub fn held(&self) -> bool {
        self.verdict == Verdict::Held
    }

    /// Whether the verdict is `Inconclusive`.
    pub fn is_inconclusive(&self) -> bool {
        matches!(self.verdict, Verdict::Inconclusive { .. })
    }
}

/// Attaches the papers' statements to `claims` in order: `refs[i]` = (seed, location,
/// paraphrase) of the i-th claim, as widenet's paraphrase. A claim past the end of `refs`
/// gets none (no claim borrows another's statement); one that already has a statement
/// keeps it.
pub fn cite(claims: Vec<Claim>, refs: &[(&str, &str, &str)]) -> Vec<Claim> {
    claims
        .into_iter()
        .enumerate()
        .map(|(i, c)| match refs.get(i) {
            Some((seed, loc, quote)) if c.paper.is_none() => c.paper(*seed, *loc, *quote),
            _ => c,
        })
        .collect()
}

/// Counts (held, not held, inconclusive) over `claims`.
pub fn tally<'a>(claims: impl IntoIterator<Item = &'a Claim>) -> (usize, usize, usize) {
    let (mut h, mut n, mut i) = (0, 0, 0);
    for c in claims {
        match c.verdict {
            Verdict::Held => h += 1,
            Verdict::NotHeld => n += 1,
            Verdict::Inconclusive { .. } => i += 1,
        }
    }
    (h, n, i)
}
