//! Artifacts every layer writes: result files ([`files`]: atomic writes, JSON, CSV) and
//! figures ([`plot`]: [`Figure`] / [`Series`], [`save_figure`] to PNG + SVG). Low-level,
//! like [`crate::error`] or [`crate::linalg`]: these modules import nothing of widenet but
//! `error`, so experiments write their CSVs and figures without importing the report layer
//! (`report`, the HTML report and the claims table, sits above the experiments).

pub mod files;
pub mod nonfinite;
pub mod plot;

pub use files::{atomic_write, csv_string, read_json, write_csv, write_json};
pub use plot::{kept_points, save_figure, save_figure_sized, Figure, Series, Style};
