//! Tests of the report module: PNG/SVG figures, JSON/CSV files, the claims
//! table and the HTML report.

use serde::{Deserialize, Serialize};
use serde_json::json;
use std::io::Read;
use std::path::{Path, PathBuf};
use widenet::artifacts::files::{atomic_write, csv_string, read_json, write_csv, write_json};
use widenet::artifacts::plot::{
    axis_range, format_tick, kept_points, palette_color, render_rgb, save_figure,
    save_figure_sized, Figure, Series, Style,
};
use widenet::experiments::claim::Claim;
use widenet::report::html::{render_report, write_report, ReportSection};
use widenet::report::table::claims_table;

// ---------------------------------------------------------------- helpers

/// A decoded 8-bit PNG: width, height, channels, raw pixel bytes.
struct Png {
    width: u32,
    height: u32,
    channels: usize,
    pixels: Vec<u8>,
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

/// Minimal PNG decoder (8-bit gray/RGB/RGBA, non-interlaced) for the tests.
fn decode_png(bytes: &[u8]) -> Png {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "PNG signature");
    let mut pos = 8;
    let (mut width, mut height, mut channels) = (0, 0, 0);
    let mut idat = Vec::new();
    let mut first = true;
    while pos + 8 <= bytes.len() {
        let len = be32(&bytes[pos..]) as usize;
        let kind = &bytes[pos + 4..pos + 8];
        let data = &bytes[pos + 8..pos + 8 + len];
        if first {
            assert_eq!(kind, b"IHDR", "first chunk is IHDR");
            first = false;
        }
        match kind {
            b"IHDR" => {
                width = be32(data);
                height = be32(&data[4..]);
                assert_eq!(data[8], 8, "bit depth");
                channels = match data[9] {
                    0 => 1,
                    2 => 3,
                    4 => 2,
                    6 => 4,
                    t => panic!("unsupported colour type {t}"),
                };
                assert_eq!(data[12], 0, "interlace");
            }
            b"IDAT" => idat.extend_from_slice(data),
            b"IEND" => break,
            _ => {}
        }
        pos += 12 + len;
    }
    let mut raw = Vec::new();
    flate2::read::ZlibDecoder::new(&idat[..])
        .read_to_end(&mut raw)
        .expect("zlib");
    let stride = width as usize * channels;
    assert_eq!(raw.len(), (stride + 1) * height as usize, "IDAT size");
    let mut pixels = vec![0u8; stride * height as usize];
    for r in 0..height as usize {
        let filter = raw[r * (stride + 1)];
        let line = &raw[r * (stride + 1) + 1..(r + 1) * (stride + 1)];
        for i in 0..stride {
            let a = if i >= channels {
                pixels[r * stride + i - channels] as i32
            } else {
                0
            };
            let b = if r > 0 {
                pixels[(r - 1) * stride + i] as i32
            } else {
                0
            };
            let c = if r > 0 && i >= channels {
                pixels[(r - 1) * stride + i - channels] as i32
            } else {
                0
            };
            let pred = match filter {
                0 => 0,
                1 => a,
                2 => b,
                3 => (a + b) / 2,
                4 => {
                    let p = a + b - c;
                    let (pa, pb, pc) = ((p - a).abs(), (p - b).abs(), (p - c).abs());
                    if pa <= pb && pa <= pc {
                        a
                    } else if pb <= pc {
                        b
                    } else {
                        c
                    }
                }
                f => panic!("bad filter {f}"),
            };
            pixels[r * stride + i] = (line[i] as i32 + pred) as u8;
        }
    }
    Png {
        width,
        height,
        channels,
        pixels,
    }
}

impl Png {
    fn rgb(&self, x: usize, y: usize) -> (u8, u8, u8) {
        let i = (y * self.width as usize + x) * self.channels;
        let p = &self.pixels[i..i + self.channels];
        match self.channels {
            1 | 2 => (p[0], p[0], p[0]),
            _ => (p[0], p[1], p[2]),
        }
    }
    fn distinct_colors(&self) -> usize {
        let mut set = std::collections::HashSet::new();
        for y in 0..self.height as usize {
            for x in 0..self.width as usize {
                set.insert(self.rgb(x, y));
            }
        }
        set.len()
    }
}

fn hex((r, g, b): (u8, u8, u8)) -> String {
    format!("#{r:02X}{g:02X}{b:02X}")
}

/// The `<tag ...>` elements of an SVG document.
fn elements<'a>(svg: &'a str, tag: &str) -> Vec<&'a str> {
    let open = format!("<{tag} ");
    svg.match_indices(&open)
        .map(|(i, _)| {
            let end = svg[i..].find('>').expect("unterminated element") + i;
            &svg[i..=end]
        })
        .collect()
}

/// Asserts that the directory tree holds no temporary files.
fn assert_no_temp_files(dir: &Path) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        assert!(
            !name.starts_with('.') && !name.contains(".tmp"),
            "temporary file left behind: {}",
            entry.path().display()
        );
        if entry.file_type().unwrap().is_dir() {
            assert_no_temp_files(&entry.path());
        }
    }
}

fn demo_figure() -> Figure {
    let t: Vec<f64> = (0..50).map(|i| i as f64).collect();
    let actual: Vec<f64> = t.iter().map(|&t| (-0.1 * t).exp()).collect();
    let predicted: Vec<f64> = t.iter().map(|&t| (-0.11 * t).exp()).collect();
    let noisy: Vec<f64> = t.iter().map(|&t| 0.5 + 0.3 * (t * 0.7).sin()).collect();
    Figure::new("Training loss vs prediction", "iteration t", "loss")
        .with_series(Series::line("m=100 actual", t.clone(), actual).with_color(3))
        .with_series(Series::dashed("m=100 predicted", t.clone(), predicted).with_color(3))
        .with_series(Series::points("noise", t, noisy))
}

// ---------------------------------------------------------------- figures

#[test]
fn png_has_signature_requested_size_and_drawn_content() {
    let dir = tempfile::tempdir().unwrap();
    let fig = demo_figure();
    let (png, svg) = save_figure_sized(&fig, dir.path(), "sized", (640, 480)).unwrap();
    assert_eq!(png, dir.path().join("sized.png"));
    assert_eq!(svg, dir.path().join("sized.svg"));
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(&bytes[12..16], b"IHDR");
    assert_eq!(be32(&bytes[16..]), 640);
    assert_eq!(be32(&bytes[20..]), 480);
    let img = decode_png(&bytes);
    assert_eq!((img.width, img.height), (640, 480));
    assert!(img.distinct_colors() > 2, "blank image");

    // Default size 900x600, and the title band holds dark (text) pixels,
    // which proves the embedded font rendered.
    let (png, _) = save_figure(&fig, dir.path(), "default").unwrap();
    let img = decode_png(&std::fs::read(png).unwrap());
    assert_eq!((img.width, img.height), (900, 600));
    let dark_in_title = (0..40)
        .flat_map(|y| (0..900).map(move |x| (x, y)))
        .filter(|&(x, y)| {
            let (r, g, b) = img.rgb(x, y);
            r < 90 && g < 90 && b < 90
        })
        .count();
    assert!(
        dark_in_title > 200,
        "no title text drawn ({dark_in_title} dark pixels)"
    );
    // The series colour (shared red of actual/predicted) appears in the plot.
    let red = palette_color(3);
    let red_pixels = (0..600)
        .flat_map(|y| (0..900).map(move |x| (x, y)))
        .filter(|&(x, y)| img.rgb(x, y) == red)
        .count();
    assert!(red_pixels > 100, "series not drawn ({red_pixels} pixels)");
    assert_no_temp_files(dir.path());
}

#[test]
fn render_rgb_matches_requested_size_and_rejects_silly_sizes() {
    let fig = demo_figure();
    let buf = render_rgb(&fig, (300, 200)).unwrap();
    assert_eq!(buf.len(), 300 * 200 * 3);
    assert!(buf.iter().any(|&b| b != 255));
    assert!(render_rgb(&fig, (0, 200)).is_err());
    assert!(render_rgb(&fig, (300, 100_000)).is_err());
}

#[test]
fn svg_has_one_path_per_visible_series_and_legend_names() {
    let dir = tempfile::tempdir().unwrap();
    let mut fig = demo_figure();
    fig.push(Series::line("all <NaN>", vec![0.0, 1.0], vec![f64::NAN, f64::NAN]).with_color(5));
    let (_, svg_path) = save_figure(&fig, dir.path(), "fig").unwrap();
    let svg = std::fs::read_to_string(svg_path).unwrap();
    assert!(
        svg.trim_start().starts_with("<svg"),
        "{}",
        &svg[..100.min(svg.len())]
    );
    assert!(svg.trim_end().ends_with("</svg>"));
    assert_eq!(svg.matches("<svg").count(), 1);
    // Tags open and close in balance (every element self-closes or has an end tag).
    let opens = svg.matches('<').count();
    let closes = svg.matches('>').count();
    assert_eq!(opens, closes);

    let polylines = elements(&svg, "polyline");
    let with_color = |c: (u8, u8, u8)| {
        let h = hex(c);
        polylines.iter().filter(|p| p.contains(&h)).count()
    };
    // Solid "actual" and dashed "predicted" share palette colour 3; the solid
    // one is a single polyline, the dashed one many short ones.
    let red = palette_color(3);
    let solid = polylines
        .iter()
        .filter(|p| p.contains(&hex(red)) && p.matches(',').count() >= 50)
        .count();
    assert_eq!(
        solid, 1,
        "exactly one 50-point polyline for the solid series"
    );
    assert!(with_color(red) > 5, "dashed series drawn as dashes");
    // Automatic colour of the points series skips the explicit 3 and 5: index 0.
    assert_eq!(fig.color_indices(), vec![3, 3, 0, 5]);
    let blue = hex(palette_color(0));
    let circles = elements(&svg, "circle");
    assert!(circles.iter().filter(|c| c.contains(&blue)).count() >= 50);
    // The all-NaN series draws nothing but is listed in the legend.
    assert_eq!(with_color(palette_color(5)), 0);
    for name in [
        "m=100 actual",
        "m=100 predicted",
        "noise",
        "all &lt;NaN&gt; (no data)",
    ] {
        assert!(svg.contains(name), "legend name {name} missing");
    }
    assert!(svg.contains("Training loss vs prediction"));
    assert!(svg.contains("iteration t"));
    assert!(svg.contains("2 points dropped"), "dropped-point note");
}

#[test]
fn log_axis_drops_exactly_nonpositive_and_nonfinite_points() {
    let x = vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0, f64::INFINITY];
    let y = vec![1e-3, 0.0, -2.0, f64::NAN, 10.0, 1e-8, 5.0];
    let kept = kept_points(&x, &y, false, true);
    assert_eq!(kept, vec![(1.0, 1e-3), (5.0, 10.0), (6.0, 1e-8)]);
    // On a linear axis the zero and negative values are kept.
    let kept_lin = kept_points(&x, &y, false, false);
    assert_eq!(
        kept_lin,
        vec![
            (1.0, 1e-3),
            (2.0, 0.0),
            (3.0, -2.0),
            (5.0, 10.0),
            (6.0, 1e-8)
        ]
    );
    // Log x drops x <= 0.
    assert_eq!(
        kept_points(&[-1.0, 0.0, 2.0], &[1.0, 1.0, 1.0], true, false),
        vec![(2.0, 1.0)]
    );

    let dir = tempfile::tempdir().unwrap();
    let fig = Figure::new("log", "t", "loss")
        .with_log(false, true)
        .with_series(Series::line("loss", x, y));
    let (png, svg) = save_figure(&fig, dir.path(), "log").unwrap();
    assert!(png.is_file() && svg.is_file());
    let svg = std::fs::read_to_string(svg).unwrap();
    assert!(
        svg.contains("4 points dropped"),
        "note of the 4 dropped points"
    );
    let line = elements(&svg, "polyline")
        .into_iter()
        .find(|p| p.contains(&hex(palette_color(0))))
        .expect("the series polyline");
    // Three kept points => three coordinate pairs.
    let pts = line
        .split("points=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    assert_eq!(pts.split_whitespace().count(), 3, "{pts}");
    assert_no_temp_files(dir.path());
}

#[test]
fn empty_and_all_dropped_figures_still_plot_with_a_note() {
    let dir = tempfile::tempdir().unwrap();
    let empty = Figure::new("nothing", "x", "y").with_log(true, true);
    let (png, svg) = save_figure(&empty, dir.path(), "empty").unwrap();
    assert_eq!(decode_png(&std::fs::read(png).unwrap()).width, 900);
    assert!(std::fs::read_to_string(svg)
        .unwrap()
        .contains("no data to plot"));

    let dropped = Figure::new("bad", "x", "y")
        .with_log(false, true)
        .with_series(Series::points("neg", vec![1.0, 2.0], vec![-1.0, 0.0]))
        .with_series(Series::line("nan", vec![f64::NAN], vec![1.0]));
    let (png, svg) = save_figure(&dropped, dir.path(), "dropped").unwrap();
    assert!(decode_png(&std::fs::read(png).unwrap()).distinct_colors() > 2);
    let svg = std::fs::read_to_string(svg).unwrap();
    assert!(
        svg.contains(
            "no plottable data: 3 points dropped (non-finite or non-positive on a log axis)"
        ),
        "note missing"
    );
    assert_no_temp_files(dir.path());
}

#[test]
fn bad_figures_are_errors_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    let fig = Figure::new("t", "x", "y").with_series(Series::line("s", vec![1.0, 2.0], vec![1.0]));
    assert!(save_figure(&fig, dir.path(), "mismatch").is_err());
    assert!(save_figure(&demo_figure(), dir.path(), "a/b").is_err());
    assert!(save_figure(&demo_figure(), dir.path(), "").is_err());
    // Extreme but finite values and a single point draw fine.
    let fig = Figure::new("extreme", "x", "y")
        .with_series(Series::line(
            "huge",
            vec![-1e308, 1e308],
            vec![f64::MAX, -f64::MAX],
        ))
        .with_series(Series::line("one", vec![0.0], vec![0.0]));
    save_figure(&fig, dir.path(), "extreme").unwrap();
    let fig = Figure::new("tiny", "x", "y")
        .with_log(true, true)
        .with_series(Series::points(
            "t",
            vec![5e-324, 1e-300],
            vec![1e300, 1e-320],
        ));
    save_figure(&fig, dir.path(), "tiny").unwrap();
    assert_no_temp_files(dir.path());
}

#[test]
fn axis_ranges_are_padded_and_log_ranges_hold_a_power_of_ten() {
    let (a, b) = axis_range(&[0.0, 10.0], false);
    assert_eq!(a, 0.0, "non-negative data is not padded below zero");
    assert!(b > 10.0 && b < 11.0);
    let (a, b) = axis_range(&[-5.0, 5.0], false);
    assert!(a < -5.0 && b > 5.0);
    let (a, b) = axis_range(&[3.0, 3.0], false);
    assert!(a < 3.0 && b > 3.0);
    assert_eq!(axis_range(&[], false), (0.0, 1.0));
    let (a, b) = axis_range(&[2.0, 5.0], true);
    assert!(a <= 1.0 + 1e-12 && b > 5.0, "({a}, {b})");
    let (a, b) = axis_range(&[1e-6, 1.0], true);
    assert!(a < 1e-6 && b > 1.0);
    assert!(a > 1e-7 && b < 10.0);
    assert_eq!(format_tick(0.30000000000000004), "0.3");
    assert_eq!(format_tick(1e-5), "1e-5");
    assert_eq!(format_tick(2500.0), "2500");
    assert_eq!(format_tick(0.09999999999999999), "0.1");
}

// ---------------------------------------------------------------- files

#[test]
fn csv_round_trips_columns_of_different_lengths() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub/dir/data.csv");
    let cols = vec![
        vec![
            0.1 + 0.2,
            1e-300,
            -0.0,
            f64::NAN,
            f64::INFINITY,
            1.0 / 3.0,
            std::f64::consts::PI * 1e10,
        ],
        vec![f64::NEG_INFINITY, 2.5],
        vec![],
    ];
    write_csv(&path, &["t", "loss, train", "empty"], &cols).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next().unwrap(), "t,\"loss, train\",empty");
    let mut back: Vec<Vec<f64>> = vec![vec![]; 3];
    let mut rows = 0;
    for line in lines {
        rows += 1;
        let cells: Vec<&str> = line.split(',').collect();
        assert_eq!(cells.len(), 3, "row {line:?}");
        for (c, cell) in cells.iter().enumerate() {
            if !cell.is_empty() {
                back[c].push(cell.parse().unwrap());
            }
        }
    }
    assert_eq!(rows, 7);
    for (a, b) in cols.iter().zip(&back) {
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(b) {
            assert_eq!(x.to_bits(), y.to_bits(), "{x} != {y}");
        }
    }
    assert!(write_csv(&path, &["a", "b"], &cols).is_err());
    assert!(csv_string(&["a"], &[]).is_err());
    assert_no_temp_files(dir.path());
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Results {
    name: String,
    losses: Vec<f64>,
    claims: Vec<Claim>,
}

#[test]
fn json_round_trips_and_claim_fields_are_named_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/results.json");
    let r = Results {
        name: "fig1".into(),
        losses: vec![1.0, 0.5, 1e-12],
        claims: vec![Claim::new("loss decays", true, json!({"rate": 0.93}))],
    };
    write_json(&path, &r).unwrap();
    let back: Results = read_json(&path).unwrap();
    assert_eq!(back, r);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("\n  "), "pretty printed");
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let claim = v["claims"][0].as_object().unwrap();
    let mut keys: Vec<&str> = claim.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["claim", "measured", "verdict"]);
    assert_eq!(claim["verdict"], "held");
    // A bad read names the file.
    std::fs::write(dir.path().join("bad.json"), "{").unwrap();
    let e = read_json::<Results>(dir.path().join("bad.json")).unwrap_err();
    assert!(e.to_string().contains("bad.json"));
    assert_no_temp_files(dir.path());
}

#[test]
fn atomic_write_creates_parents_replaces_and_leaves_no_temp_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a/b/c.txt");
    atomic_write(&path, b"first").unwrap();
    atomic_write(&path, b"second").unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), b"second");
    // Writing over a directory fails and cleans up after itself.
    assert!(atomic_write(dir.path().join("a/b"), b"x").is_err());
    assert_no_temp_files(dir.path());
    let names: Vec<PathBuf> = std::fs::read_dir(dir.path().join("a/b"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(names, vec![path]);
}

// ---------------------------------------------------------------- tables

#[test]
fn claims_table_lists_every_claim_and_verdict_within_the_width() {
    let long = "the training loss decreases at a linear rate whose exponent matches \
                the smallest eigenvalue of the infinite-width Gram matrix H-infinity \
                up to the learning rate, for every width in the sweep";
    let rows = vec![
        (
            "fig1-convergence".to_string(),
            vec![
                Claim::new(
                    "loss decays geometrically",
                    true,
                    json!({"rate": 0.931, "r2": 0.999}),
                ),
                Claim::new(
                    long,
                    false,
                    json!([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0]),
                ),
            ],
        ),
        (
            "fig2-stability".to_string(),
            vec![Claim::new(
                "weights stay close to init",
                true,
                json!(0.0123),
            )],
        ),
        ("fig3-empty".to_string(), vec![]),
    ];
    let t = claims_table(&rows);
    println!("{t}");
    for (exp, claims) in &rows {
        assert!(t.contains(exp.as_str()));
        for c in claims {
            for word in c.claim.split_whitespace() {
                assert!(t.contains(word), "word {word} of a claim missing");
            }
        }
    }
    assert!(t.contains("loss decays geometrically"));
    assert!(t.contains("weights stay close to init"));
    // one row and the footer's count
    assert_eq!(t.matches("not held").count(), 2);
    assert_eq!(t.matches("| held").count(), 2);
    assert!(t.contains("0.931"));
    assert!(t.contains("3 claims: 2 held, 1 not held, 0 inconclusive"));
    for line in t.lines() {
        assert!(line.chars().count() <= 120, "line too wide: {line:?}");
    }
}

// ---------------------------------------------------------------- html

#[test]
fn html_report_escapes_text_and_references_every_figure() {
    let dir = tempfile::tempdir().unwrap();
    let fig = demo_figure();
    save_figure(&fig, dir.path().join("figs"), "loss").unwrap();
    let sections = vec![
        ReportSection {
            name: "fig1".into(),
            title: "Convergence <fast> & sure".into(),
            description: "First paragraph.\n\nSecond \"quoted\" paragraph.".into(),
            figures: vec![
                PathBuf::from("figs/loss.png"),
                PathBuf::from("figs/other fig.png"),
            ],
            claims: vec![
                Claim::new(
                    "<script>alert(1)</script> is escaped",
                    true,
                    json!({"x": "<b>"}),
                ),
                Claim::new("this one fails", false, json!(null)),
                Claim::new("untestable here", true, json!(1))
                    .paper("003", "Fig. 3", "SGD <cannot> find it")
                    .requires(false, "SGD did not fit <at all>"),
                Claim::new("eigenvalues decay", true, json!(0.01))
                    .quote(&widenet::experiments::quotes::A001_FAST_DECAY),
            ],
            settings: json!({"m": 100, "eta": 0.1, "label": "a<b"}),
            files: vec![
                PathBuf::from("fig1/results.json"),
                dir.path().join("fig1/loss.csv"),
            ],
        },
        ReportSection {
            name: "fig 2".into(),
            title: String::new(),
            description: String::new(),
            figures: vec![PathBuf::from("figs/f2.png")],
            claims: vec![],
            settings: serde_json::Value::Null,
            files: vec![],
        },
    ];
    let path = write_report(dir.path(), "widenet <report>", &sections).unwrap();
    assert_eq!(path, dir.path().join("report.html"));
    let html = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        html,
        render_report(dir.path(), "widenet <report>", &sections)
    );
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<style>"), "inline CSS");
    assert!(!html.contains("<script"), "unescaped script tag");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; is escaped"));
    assert!(html.contains("Convergence &lt;fast&gt; &amp; sure"));
    assert!(html.contains("widenet &lt;report&gt;"));
    assert!(
        html.contains("&quot;&lt;b&gt;&quot;"),
        "measured JSON escaped"
    );
    assert!(html.contains("<p>Second &quot;quoted&quot; paragraph.</p>"));
    for src in ["figs/loss.png", "figs/other%20fig.png", "figs/f2.png"] {
        assert!(
            html.contains(&format!("<img src=\"{src}\"")),
            "figure {src} missing"
        );
    }
    assert!(html.contains("<td class=\"held\">held</td>"));
    assert!(html.contains("<td class=\"failed\">not held</td>"));
    // the third verdict with its reason, and the paper's statement, escaped
    assert!(html.contains(
        "<td class=\"inconclusive\">inconclusive<br><small>SGD did not fit &lt;at all&gt;</small></td>"
    ));
    // a paraphrase is labelled as widenet's, not shown as the paper's words
    assert!(html.contains("seed 003 Fig. 3, widenet"));
    assert!(html.contains("paraphrase: SGD &lt;cannot&gt; find it"));
    assert!(!html.contains("&ldquo;SGD &lt;cannot&gt; find it&rdquo;"));
    // a verbatim quote is in quotation marks; the claims also appear grouped by paper
    assert!(
        html.contains("&ldquo;The plot shows the eigenvalues of H^∞ admit a fast decay.&rdquo;")
    );
    assert!(html.contains("claims, by paper</h2>"));
    assert!(html.contains("seed 003: Allen-Zhu and Li, What Can ResNet Learn Efficiently"));
    assert!(html.contains("<td class=\"failed num\">2 / 1 / 1</td>"));
    assert!(
        html.contains("<pre>{\n  &quot;eta&quot;: 0.1"),
        "settings block"
    );
    assert!(html.contains("&quot;a&lt;b&quot;"));
    // Absolute paths under the report dir become relative links.
    assert!(html.contains("<a href=\"fig1/results.json\">"));
    assert!(html.contains("<a href=\"fig1/loss.csv\">"));
    assert!(html.contains("id=\"exp-fig1\"") && html.contains("href=\"#exp-fig-2\""));
    // summary: held / not held / inconclusive
    assert!(html.contains("2 / 1 / 1"), "summary count");
    assert_no_temp_files(dir.path());
}

#[test]
fn style_default_is_line() {
    assert_eq!(Style::default(), Style::Line);
    let s = Series::points("p", vec![], vec![]);
    assert_eq!(s.style, Style::Points);
    assert_eq!(s.color, None);
}

/// Issue 26: the claims grouped by paper show, for every claim, the seed's words (or that
/// the text is widenet's paraphrase or check), the verdict with its reason, how a bound
/// was tested, the assumption check and the measured numbers.
#[test]
fn claims_by_paper_group_and_label_every_claim() {
    use widenet::experiments::quotes;
    use widenet::report::by_paper::{claims_by_paper_markdown, group_by_paper};
    let rows = vec![
        (
            "exp-a".to_string(),
            vec![
                Claim::capped("bound b", 0.5, 0.1, 0.1, 2.0, json!({"lhs": 0.5}))
                    .quote(&quotes::A001_THM_5_1)
                    .assume("kappa small", false, "kappa = 1"),
                Claim::new("consistency", true, json!(1)).own_check(
                    "004",
                    "Thm 2",
                    "two codes agree",
                ),
            ],
        ),
        (
            "exp-b".to_string(),
            vec![
                Claim::new("trend", true, json!(2)).paper("001", "Fig. 2", "it goes up"),
                Claim::new("orphan", false, json!(3)),
            ],
        ),
    ];
    let g = group_by_paper(&rows);
    let seeds: Vec<&String> = g.keys().collect();
    assert_eq!(seeds, ["-", "001", "004"]);
    assert_eq!(g["001"].len(), 2);
    assert_eq!(g["001"][1].experiment, "exp-b");
    let md = claims_by_paper_markdown(&rows);
    println!("{md}");
    // implied constant (0.5 - 0.1)/0.1 = 4 > 2 would be not held, but kappa is outside
    assert!(md.contains("**inconclusive: outside the theorem's assumptions: kappa small fails (kappa = 1)** [exp-a] bound b"));
    assert!(md.contains("quote (Thm 3.3 (informal Thm 5.1), eqs. (4), (9)): \"For any 1-Lipschitz"));
    assert!(md.contains("bound tested by implied constant 4.000 against the cap 2"));
    assert!(md.contains("outside the assumptions: kappa small fails (kappa = 1)"));
    assert!(md.contains("widenet's check (Thm 2): two codes agree"));
    assert!(md.contains("widenet's paraphrase (Fig. 2): it goes up"));
    assert!(md.contains("- **not held** [exp-b] orphan\n  - no paper statement"));
    assert!(md.contains("assumptions not checked"));
    assert!(md.contains("1 held, 0 not held, 1 inconclusive"));
}
