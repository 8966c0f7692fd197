//! `widenet rejudge DIR`: the claims of finished runs recomputed from their result.json
//! ([`widenet::report::run::rejudge`]).

use anyhow::Result;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct RejudgeArgs {
    /// An experiment or output directory.
    dir: PathBuf,
    /// Print only; leave the result files as they are.
    #[arg(long)]
    dry_run: bool,
}

pub fn run(a: RejudgeArgs) -> Result<()> {
    let r = widenet::report::run::rejudge(&a.dir, !a.dry_run)?;
    println!("{}", r.table);
    for (path, changed) in &r.changed {
        if *changed > 0 {
            println!("{}: {changed} verdict(s) changed", path.display());
        }
    }
    if let Some(report) = &r.report {
        println!("report: {}", report.display());
    }
    Ok(())
}
