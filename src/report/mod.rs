//! Reports, above the experiments: the HTML report, the terminal claims table, and the
//! default run / `rejudge` that write them. Figures and result files are
//! [`crate::artifacts`] (a low-level module every layer may use).
//!
//! - [`table`]: the terminal [`claims_table`].
//! - [`html`]: [`ReportSection`] and [`write_report`] (`report.html`).
//! - [`run`]: [`run_default`], [`rejudge`] and [`finish_report`].
//! - [`by_paper`]: the claims grouped by paper (`claims_by_paper.md`, the report's top).

pub mod by_paper;
pub mod html;
pub mod run;
pub mod table;

pub use html::{write_report, ReportSection};
pub use run::{finish_report, rejudge, run_default, Rejudged};
pub use table::claims_table;
