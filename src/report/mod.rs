//! Reports: plots (PNG and SVG), JSON/CSV results, the HTML report and the
//! claims table.
