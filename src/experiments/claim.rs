//! A paper's claim as an experiment checks it: the paper's own statement (seed
//! file, section or figure, a short quote), what was measured, and one of three
//! verdicts — held, not held, or inconclusive with the reason when the run cannot
//! test the claim (the net did not train, the scale is below what the claim is
//! about, the seeds disagree).

use serde::{Deserialize, Serialize};

/// Where a claim comes from: the seed paper, the place in it, and its words.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statement {
    /// Seed file, e.g. "001" (seeds/001-*.md).
    pub seed: String,
    /// Section, theorem or figure, e.g. "Thm 4.1" or "Fig. 2(a)".
    pub location: String,
    /// A short quote or faithful paraphrase of what the paper says.
    pub quote: String,
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
}

impl Claim {
    /// A claim with a held / not-held verdict and its measured evidence.
    pub fn new(claim: impl Into<String>, held: bool, measured: serde_json::Value) -> Self {
        Claim {
            claim: claim.into(),
            paper: None,
            verdict: Verdict::from_bool(held),
            measured,
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
        }
    }

    /// Attaches the paper's statement: seed file ("001"), location ("Thm 4.1"), quote.
    pub fn paper(
        mut self,
        seed: impl Into<String>,
        location: impl Into<String>,
        quote: impl Into<String>,
    ) -> Self {
        self.paper = Some(Statement {
            seed: seed.into(),
            location: location.into(),
            quote: quote.into(),
        });
        self
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
/// quote) of the i-th claim; claims past the end of `refs` take its last entry.
pub fn cite(claims: Vec<Claim>, refs: &[(&str, &str, &str)]) -> Vec<Claim> {
    claims
        .into_iter()
        .enumerate()
        .map(|(i, c)| match refs.get(i).or(refs.last()) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn verdicts_round_trip_through_json_with_their_reason() {
        let c = Claim::new("x", true, json!(1.0))
            .paper("001", "Thm 4.1", "GD follows the kernel dynamics")
            .requires(false, "net did not train");
        let v = serde_json::to_value(&c).unwrap();
        assert_eq!(v["verdict"], "inconclusive");
        assert_eq!(v["reason"], "net did not train");
        assert_eq!(v["paper"]["location"], "Thm 4.1");
        let back: Claim = serde_json::from_value(v).unwrap();
        assert_eq!(back, c);
        let n = Claim::new("y", false, json!(null));
        assert_eq!(serde_json::to_value(&n).unwrap()["verdict"], "not_held");
        assert_eq!(tally([&c, &n]), (0, 1, 1));
        // a precondition that holds leaves the verdict alone
        assert!(Claim::new("z", true, json!(0)).requires(true, "-").held());
    }
}
