//! Reports: plots (PNG and SVG), JSON/CSV results, the HTML report and the
//! claims table.
//!
//! - [`plot`]: [`Figure`] / [`Series`] and [`save_figure`] (PNG + SVG).
//! - [`table`]: [`atomic_write`], [`write_json`], [`write_csv`], [`Claim`]
//!   and the terminal [`claims_table`].
//! - [`html`]: [`ReportSection`] and [`write_report`] (`report.html`).

pub mod html;
pub mod plot;
pub mod table;

pub use html::{write_report, ReportSection};
pub use plot::{kept_points, save_figure, save_figure_sized, Figure, Series, Style};
pub use table::{atomic_write, claims_table, read_json, write_csv, write_json, Claim};
