//! `widenet complexity FUNCTION`: function and concept complexities of an analytic
//! function ([`widenet::theory::complexity::complexity_json`]).

use anyhow::Result;
use widenet::options::parse;

#[derive(clap::Args)]
pub struct ComplexityArgs {
    /// exp, sin, cos, tanh, sigmoid, arctan(z/2), z*arctan(z/2), a scale inside
    /// (exp(2z), sin(3z)), or poly:c0,c1,...
    function: String,
    /// C (seed 004 eq. 6), CN (eq. 7), ceps / cs (seeds 002/003), cs1 (cs with seed 003's
    /// exponent), arora (seed 001 Cor. 6.2); case and underscores ignored.
    #[arg(long)]
    measure: String,
    /// The radius R at which the series is evaluated.
    #[arg(long = "R")]
    r: f64,
    /// Number of variables N (measure CN).
    #[arg(long = "N")]
    n: Option<usize>,
    /// Sequence length L (measures CN and C).
    #[arg(long = "L")]
    l: Option<usize>,
    /// Target error epsilon (measure ceps).
    #[arg(long)]
    eps: Option<f64>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(a: ComplexityArgs) -> Result<()> {
    let v = widenet::theory::complexity::complexity_json(
        &a.function,
        parse("--measure", &a.measure)?,
        a.r,
        a.n,
        a.l,
        a.eps,
    )?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    println!(
        "{} of {} at R = {}: {}",
        v["measure"].as_str().unwrap_or(&a.measure),
        v["function"].as_str().unwrap_or(&a.function),
        a.r,
        match &v["value"] {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        }
    );
    if let Some(note) = v["note"].as_str() {
        println!("note: {note}");
    }
    Ok(())
}
