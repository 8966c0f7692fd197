//! `widenet run` (and `widenet` alone): every experiment at quick scale, the report and
//! the claims table.

use anyhow::Result;
use std::path::PathBuf;
use widenet::experiments::claim::tally;
use widenet::report::run::run_default;

#[derive(clap::Args)]
pub struct RunArgs {
    /// Output directory.
    #[arg(long, default_value = "widenet-results")]
    out: PathBuf,
    /// Seed of every random draw.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

impl Default for RunArgs {
    /// The main job's settings when `widenet` runs without a subcommand.
    fn default() -> Self {
        RunArgs {
            out: PathBuf::from("widenet-results"),
            seed: 0,
        }
    }
}

pub fn run(a: RunArgs) -> Result<()> {
    // one owner per output directory (released when this returns)
    let _lock = widenet::lock::OutputLock::acquire(&a.out)?;
    eprintln!(
        "widenet: running every experiment at quick scale into {}",
        a.out.display()
    );
    let (outputs, report, table) = run_default(&a.out, a.seed, true, |o| {
        let (held, not_held, inconclusive) = tally(&o.claims);
        eprintln!(
            "  {:<22} {:>6.1} s  {held} held, {not_held} not held, {inconclusive} inconclusive",
            o.name, o.seconds,
        );
    })?;
    println!("{table}");
    let (held, not_held, inconclusive) = tally(outputs.iter().flat_map(|o| &o.claims));
    println!(
        "{held} held, {not_held} not held, {inconclusive} inconclusive. Report: {}",
        report.display()
    );
    Ok(())
}
