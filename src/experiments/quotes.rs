//! The seeds' exact words that claims quote (issue 26): every verbatim [`Quote`] is declared
//! here, once, and [`ALL`] lists them, so that one test (`tests/claim_quotes.rs`) matches each
//! against the seed text in `../shared/seeds/` after [`normalize`] (whitespace, LaTeX and
//! Unicode). A claim attaches one with [`super::claim::Claim::quote`]; a statement that is
//! not the seed's words goes through `Claim::paper` (widenet's paraphrase) or
//! `Claim::own_check` (widenet's own check) and is shown as such.

use super::claim::{QuoteKind, Statement};

/// The seed's exact words at one place. Only this module builds one (the fields are
/// private), so every verbatim quote is in [`ALL`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quote {
    seed: &'static str,
    location: &'static str,
    text: &'static str,
}

impl Quote {
    /// Seed file prefix, e.g. "001".
    pub fn seed(&self) -> &'static str {
        self.seed
    }
    /// Section, theorem or figure.
    pub fn location(&self) -> &'static str {
        self.location
    }
    /// The words.
    pub fn text(&self) -> &'static str {
        self.text
    }
    /// As a claim's verbatim [`Statement`].
    pub fn statement(&self) -> Statement {
        Statement {
            seed: self.seed.to_string(),
            location: self.location.to_string(),
            quote: self.text.to_string(),
            kind: QuoteKind::Verbatim,
        }
    }
}

macro_rules! quotes {
    ($($(#[$doc:meta])* $name:ident = ($seed:expr, $loc:expr, $text:expr);)*) => {
        $($(#[$doc])* pub const $name: Quote = Quote { seed: $seed, location: $loc, text: $text };)*
        /// Every quote of this module, by name.
        pub const ALL: &[(&str, Quote)] = &[$((stringify!($name), $name)),*];
    };
}

quotes! {
    /// Seed 001 Theorem 3.3, the informal Theorem 5.1.
    A001_THM_5_1 = ("001", "Thm 3.3 (informal Thm 5.1), eqs. (4), (9)",
        "For any 1-Lipschitz loss function, the generalization error of the two-layer ReLU \
         network found by GD is at most sqrt(2 y^T (H^∞)^{-1} y / n).");
    /// Seed 001 §5.1 after Theorem 5.1: the bound has no m.
    A001_WIDTH_FREE = ("001", "§5.1, after Thm 5.1",
        "our bound is completely independent of the network width m");
    /// Seed 001 Corollary 5.2's lead-in.
    A001_COR_5_2 = ("001", "§5, Cor. 5.2",
        "for binary classification problems (i.e., labels are ±1), we can show that (9) also \
         bounds the population classification error of the learned classifier");
    /// Seed 001 Lemma 5.3, second part.
    A001_LEMMA_5_3 = ("001", "Lemma 5.3",
        "||W(k) - W(0)||_F ≤ sqrt(y^T (H^∞)^{-1} y) + O(nκ/(λ_0 δ)) + \
         poly(n, λ_0^{-1}, δ^{-1})/(m^{1/4} κ^{1/2})");
    /// Seed 001 §5.1 on Lemma 5.4 (the Rademacher complexity of the GD class).
    A001_LEMMA_5_4 = ("001", "§5.1, Lemmas 5.3-5.4",
        "combining Lemmas 5.3 and 5.4, we are able to conclude that the neural network found \
         by GD belongs to a function class with Rademacher complexity at most \
         sqrt(y^T (H^∞)^{-1} y / (2n)) (plus negligible errors)");
    /// Seed 001 §5.2's linearized trajectory.
    A001_SEC_5_2 = ("001", "§5.2",
        "We prove ||W~(∞) - W~(0)||_F = sqrt(y^T H(0)^{-1} y) in Section 5.2.");
    /// Seed 001 §4, Fig. 1(b): eigenvalue decay.
    A001_FAST_DECAY = ("001", "§4, Fig. 1(b)",
        "The plot shows the eigenvalues of H^∞ admit a fast decay.");
    /// Seed 001 §4, Fig. 1(b): random labels.
    A001_RANDOM_UNIFORM = ("001", "§4, Fig. 1(b)",
        "projections of random labels are close to being uniform");
    /// Seed 001 §4, Fig. 1(b): true labels.
    A001_TRUE_ALIGN = ("001", "§4, Fig. 1(b)",
        "true labels align well with top eigenvectors");
    /// Seed 001 §4, Fig. 1(a): true labels converge faster.
    A001_FASTER = ("001", "§4, Fig. 1(a)",
        "true labels have much better alignment with top eigenvectors, thus enjoying faster \
         convergence");
    /// Seed 001 §4, Fig. 1(a): the worst-case labels.
    A001_WORST = ("001", "§4, Fig. 1(a)",
        "if a set of labels align with the eigenvector associated with the least eigenvalue, \
         the convergence rate of gradient descent will be extremely slow");
    /// Seed 001 Theorem 4.1's assumption and statement (eq. 8).
    A001_THM_4_1 = ("001", "Thm 4.1, eq. (8)",
        "||y - u(k)||_2 = sqrt(sum_{i=1}^n (1 - η λ_i)^{2k} (v_i^T y)^2) ± ε");
    /// Seed 001 §5, Fig. 2: the measure grows with the random portion.
    A001_FIG2_GROWS = ("001", "§5, Fig. 2",
        "Random and true labels have significantly different complexity measures, and as the \
         portion of random labels increases, our complexity measure also increases.");
    /// Seed 001 Fig. 2's caption.
    A001_FIG2_TREND = ("001", "Fig. 2 (caption)",
        "Our complexity measure almost matches the trend of generalization error as the \
         portion of random labels increases.");
    /// Seed 004 §2.2 on the additive class.
    W004_ADDITIVE_POLY = ("004", "§1, after Thm 1 (informal)",
        "For (4), C(F^*) is almost-polynomial in L.");
    /// Seed 003 §6, Fig. 2(c).
    R003_FIG2C = ("003", "§6, Fig. 2(c)",
        "The plot shows that for our specific target function, one can tolerate α/β ≤ 1.");
    /// Seed 003 §7, the example after Corollary 7.1 (Theorem 2 against Corollary 7.1).
    R003_COR_7_1_EXAMPLE = ("003", "§7, Thm 2 / Cor. 7.1 (the example after it)",
        "As an example, when k ≥ 4 and α = d^{-0.01}, ResNet achieves regression error α^4 in \
         N = O~(d^{1.08}) samples; kernel methods cannot achieve α^2 error even with \
         N = Θ~(d^{k/2}) = Ω~(d^2) samples.");
    /// Seed 004 Remark 2.2, small N.
    W004_REMARK_2_2 = ("004", "Remark 2.2",
        "Especially when N is small (e.g. N=2), even if l_0 = L - 1, functions with the form \
         f(β^T [X_l, X_{l+l_0}]) are still learnable with a low complexity.");
    /// Seed 004 Remark 2.2, eq. 12's two forms.
    W004_EQ_12 = ("004", "Remark 2.2, eq. (12)",
        "The complexity sum_r C_N(ψ_r, C_0 sqrt(L)) and sum_r C(ψ_r, 2^{l_0} C_0 sqrt(L)) are \
         exponential in N and l_0 respectively. And C(F^*) is less or equal than both.");
    /// Seed 004 Theorem 2, eq. 17.
    W004_EQ_17 = ("004", "Thm 2, eq. (17)",
        "(1/n) sum_{k=1}^n L_D^{0-1}(W^k) ≤ O~[(C^*)^2/n] + O(log(1/δ)/n)");
    /// Seed 004 Theorem 4, eq. 20.
    W004_EQ_20 = ("004", "Thm 4, eq. (20)",
        "sqrt(y~^T (H^∞)^{-1} y~) ≤ O(C^*)");
    /// Seed 004 Theorem 5, eq. 24.
    W004_EQ_24 = ("004", "Thm 5, eq. (24)",
        "|\\langle h_l(x_i), h_l(x_j) \\rangle - K_{i,j}^l| \\leq \\mathcal{O}(l^2 \\cdot \\log^2 m/m)");
    /// Seed 004 §5, on Remark 4.2: the backward correlation's constant part.
    W004_BACK_POLY = ("004", "§5 (on Remark 4.2)",
        "since we do no use the normalized condition, we must show the polynomial decay of the \
         constant part in Back");
    /// Seed 004 Remark 3.1.
    W004_REMARK_3_1 = ("004", "Remark 3.1",
        "to achieve population 0 – 1 error (rather than empirical loss) being less than ϵ, it is \
         enough to train the network using Algorithm 1 with \\tilde{\\Omega}((L \\cdot \\mathcal{C}^*)^2/\\epsilon) steps");
    /// Seed 003 App. A.1, Fig. 3(b)'s norm statement.
    R003_FIG3B_NORM = ("003", "App. A.1, Fig. 3(b)",
        "SGD cannot find solution with small training error and small Frobenius norm (see \
         Figure 3(b))");
    /// Seed 002 Theorem 1's sample and width conditions.
    E002_THM_1 = ("002", "Thm 1",
        "if the number of neurons m ≥ poly(C, ε^{-1}) and the number of samples is \
         N = |Z| ≥ poly(C, ε^{-1}, log m), then SGD with η = Θ~(1/(ε L^2 d^2 m))");
}

/// The text a quote is matched in: lower-case letters and digits only, after LaTeX
/// commands lose their backslash (formatting commands such as `\mathbf`, `\left`, `\text`
/// vanish), Greek letters and symbols are spelled as LaTeX names (λ → lambda, ≤ → leq,
/// ∞ → infty), superscript digits become digits and ligatures are split.
pub fn normalize(text: &str) -> String {
    const DROP: &[&str] = &[
        "mathbf",
        "mathcal",
        "mathbb",
        "mathrm",
        "mathfrak",
        "boldsymbol",
        "text",
        "textbf",
        "textit",
        "emph",
        "left",
        "right",
        "big",
        "bigg",
        "quad",
        "qquad",
        "frac",
        "dfrac",
        "tfrac",
        "widetilde",
        "tilde",
        "hat",
        "operatorname",
        "displaystyle",
        "cdot",
        "cdots",
        "dots",
        "ldots",
    ];
    const ALIAS: &[(&str, &str)] = &[
        ("varepsilon", "epsilon"),
        ("top", "t"),
        ("intercal", "t"),
        ("le", "leq"),
        ("ge", "geq"),
        ("to", "rightarrow"),
        ("vert", ""),
        ("mid", ""),
    ];
    let mut spelled = String::with_capacity(text.len());
    for ch in text.chars() {
        let s: Option<&str> = match ch {
            'α' => Some("alpha"),
            'β' => Some("beta"),
            'γ' => Some("gamma"),
            'δ' => Some("delta"),
            'ε' | 'ϵ' => Some("epsilon"),
            'η' => Some("eta"),
            'θ' => Some("theta"),
            'κ' => Some("kappa"),
            'λ' => Some("lambda"),
            'μ' => Some("mu"),
            'ρ' => Some("rho"),
            'σ' => Some("sigma"),
            'φ' | 'ϕ' => Some("phi"),
            'ψ' => Some("psi"),
            'Θ' => Some("theta"),
            'Ω' => Some("omega"),
            'ℓ' => Some("ell"),
            '∞' => Some("infty"),
            '≤' => Some("leq"),
            '≥' => Some("geq"),
            '≫' => Some("gg"),
            '≪' => Some("ll"),
            '±' => Some("pm"),
            '×' => Some("times"),
            '→' => Some("rightarrow"),
            '·' | '⋅' => Some(" "),
            'ﬁ' => Some("fi"),
            'ﬂ' => Some("fl"),
            'ﬀ' => Some("ff"),
            '⁰' => Some("0"),
            '¹' => Some("1"),
            '²' => Some("2"),
            '³' => Some("3"),
            '⁴' => Some("4"),
            _ => None,
        };
        match s {
            Some(s) => {
                spelled.push(' ');
                spelled.push_str(s);
                spelled.push(' ');
            }
            None => spelled.push(ch),
        }
    }
    let spelled = spelled
        .replace("<=", " leq ")
        .replace(">=", " geq ")
        .replace(">>", " gg ");
    let mut out = String::with_capacity(spelled.len());
    let chars: Vec<char> = spelled.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' {
            let start = i + 1;
            let mut j = start;
            while j < chars.len() && chars[j].is_ascii_alphabetic() {
                j += 1;
            }
            let word: String = chars[start..j].iter().collect();
            if !DROP.contains(&word.as_str()) {
                let w = ALIAS
                    .iter()
                    .find(|(a, _)| *a == word)
                    .map_or(word.as_str(), |(_, b)| b);
                out.push_str(&w.to_lowercase());
            }
            i = j.max(start);
            continue;
        }
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        }
        i += 1;
    }
    out
}

/// Whether `quote` occurs in `seed_text` after [`normalize`] on both.
pub fn occurs_in(quote: &str, seed_text: &str) -> bool {
    let q = normalize(quote);
    !q.is_empty() && normalize(seed_text).contains(&q)
}
