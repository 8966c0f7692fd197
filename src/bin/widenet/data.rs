//! `widenet data mnist|cifar10`: unit-norm arrays of two classes, or of every class
//! under a labeling ([`widenet::commands::export_data`], which decides between them).

use anyhow::Result;
use std::path::PathBuf;
use widenet::commands::{export_data, DataExport};
use widenet::data::labeling::Splits;
use widenet::data::DatasetName;

#[derive(clap::Args)]
pub struct DataArgs {
    /// Dataset.
    dataset: DatasetName,
    /// Directory with the dataset's files.
    #[arg(long)]
    dir: PathBuf,
    /// The two classes, first gets label +1; or `all` (every class, labelled by
    /// --labeling).
    #[arg(long, default_value = "0,1")]
    classes: String,
    /// With --classes all: even-odd, one-vs-rest:K or pair:A,B (+1 for the even
    /// digits, for class K, for A). Named in the sidecar Y.json next to --out-y.
    #[arg(long)]
    labeling: Option<String>,
    /// Which split.
    #[arg(long, value_enum, default_value = "train")]
    split: Splits,
    /// Keep only the first N images of the two classes.
    #[arg(long)]
    limit: Option<usize>,
    /// Output inputs (.npy, n x d, f64).
    #[arg(long)]
    out_x: PathBuf,
    /// Output labels (.npy, n, f64).
    #[arg(long)]
    out_y: PathBuf,
}

pub fn run(a: DataArgs) -> Result<()> {
    let (out_x, out_y) = (a.out_x.clone(), a.out_y.clone());
    let written = export_data(&widenet::commands::DataArgs {
        dataset: a.dataset,
        dir: a.dir,
        classes: a.classes,
        labeling: a.labeling,
        split: a.split,
        limit: a.limit,
        out_x: a.out_x,
        out_y: a.out_y,
    })?;
    match written {
        DataExport::Labeled(s) => eprintln!(
            "wrote {} x {} inputs to {} and labels to {} ({} {}, labeling {}: {} \
             labelled +1 (classes {:?}), {} labelled -1; settings in {})",
            s.n,
            s.d,
            out_x.display(),
            out_y.display(),
            s.dataset,
            s.split,
            s.labeling,
            s.n_positive,
            s.positive_classes,
            s.n_negative,
            out_y.with_extension("json").display()
        ),
        DataExport::TwoClass { n, d } => eprintln!(
            "wrote {n} x {d} inputs to {} and labels to {}",
            out_x.display(),
            out_y.display()
        ),
    }
    Ok(())
}
