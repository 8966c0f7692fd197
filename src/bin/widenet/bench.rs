//! `widenet bench`: benchmarks as ratios against baselines measured in the same run
//! ([`widenet::bench`]).

use anyhow::Result;
use widenet::bench;

#[derive(clap::Args)]
pub struct BenchArgs {
    /// Print a JSON list of records.
    #[arg(long)]
    json: bool,
    /// Small sizes (a smoke run of a few seconds).
    #[arg(long)]
    quick: bool,
    /// Run only the records whose names start with one of these (comma-separated, e.g.
    /// `rnn,resnet_step_ntk`); default: all.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
}

pub fn run(a: BenchArgs) -> Result<()> {
    let sizes = if a.quick {
        bench::BenchSizes::quick()
    } else {
        bench::BenchSizes::full()
    };
    let records = bench::run_only(&sizes, &a.only, |r| {
        if !a.json {
            println!(
                "{:<21} {:>10}  {:>8}  ratio {:>6}  {}",
                r.name,
                if r.seconds < 1e-3 {
                    format!("{:.1} us", r.seconds * 1e6)
                } else if r.seconds < 1.0 {
                    format!("{:.2} ms", r.seconds * 1e3)
                } else {
                    format!("{:.3} s", r.seconds)
                },
                r.gflops.map(|g| format!("{g:.0} GF/s")).unwrap_or_default(),
                r.ratio.map(|x| format!("{x:.2}")).unwrap_or_default(),
                r.detail
            );
        }
    })?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&records)?);
    }
    Ok(())
}
