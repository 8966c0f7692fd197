//! One experiment framework (issue 12 §1). An experiment is a type implementing
//! [`Experiment`]: typed settings for a scale and seed (every field settable by name
//! with `--set key=value`), a run that returns typed results and the figures/files it
//! wrote, and its claims as a pure function of (settings, results), so that
//! `widenet rejudge DIR` recomputes them from a finished `result.json`. The registry
//! (`suite::registry`) holds each experiment once, behind the object-safe
//! [`Registered`] trait, which every experiment gets for free.
//!
//! Settings are declared as a plain struct deriving `Serialize`/`Deserialize`: its
//! field names are the `--set` keys, its field types the value types (integers,
//! floats, booleans, strings and enums, lists as `a,b,c`, `Option`s as `none` or a
//! value). Ranges are checked by [`Experiment::validate`], naming the key.

use super::claim::Claim;
use super::common::{relative_to, ExperimentOutput, Scale};
use crate::artifacts::files::{read_json, write_json};
use crate::artifacts::nonfinite;
use crate::error::{Error, Result};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// What a run may use besides its settings.
#[derive(Clone, Debug)]
pub struct Context {
    /// The output directory; the experiment writes under `out/NAME/`.
    pub out: PathBuf,
    /// Show progress bars and cache messages on stderr.
    pub progress: bool,
}

impl Context {
    /// A context writing into `out`, without progress bars.
    pub fn new(out: impl Into<PathBuf>) -> Self {
        Context {
            out: out.into(),
            progress: false,
        }
    }

    /// The experiment's own directory `out/name`.
    pub fn dir(&self, name: &str) -> PathBuf {
        self.out.join(name)
    }
}

/// What a run wrote besides its results: the description of what ran (on what data)
/// and the figures and data files (absolute paths or paths under `Context::out`).
#[derive(Clone, Debug, Default)]
pub struct Artifacts {
    /// What was run, on what data, with the resolved sizes.
    pub description: String,
    /// PNG figures.
    pub figures: Vec<PathBuf>,
    /// Data files (CSV, JSON) other than `result.json`.
    pub files: Vec<PathBuf>,
}

/// One experiment. Implement this; registration is one line in `suite::registry`.
pub trait Experiment: Sync + Send + 'static {
    /// Every setting, declared as a struct; its field names are the `--set` keys.
    type Settings: Serialize + DeserializeOwned + Clone + std::fmt::Debug;
    /// Everything the claims need (saved in `result.json` under `results`).
    type Results: Serialize + DeserializeOwned;

    /// The command name, e.g. `arora-sec6`.
    fn name(&self) -> &'static str;
    /// The report's heading.
    fn title(&self) -> &'static str;
    /// The default settings at `scale` with `seed`.
    fn settings(&self, scale: Scale, seed: u64) -> Self::Settings;
    /// Checks ranges after overrides, naming the key (`Error::Invalid { name: key }`).
    fn validate(&self, _settings: &Self::Settings) -> Result<()> {
        Ok(())
    }
    /// The old flags (`--width`, ...) that mean a differently named setting here:
    /// (flag without dashes, setting key). A flag whose name is a key needs no alias.
    fn flag_aliases(&self) -> &'static [(&'static str, &'static str)] {
        &[]
    }
    /// Settings of the (shared) settings struct this experiment does not use: setting
    /// one by name is refused instead of silently ignored.
    fn unused_keys(&self) -> &'static [&'static str] {
        &[]
    }
    /// Runs the experiment, writing figures and files under `ctx.dir(self.name())`.
    fn run(&self, settings: &Self::Settings, ctx: &Context) -> Result<(Self::Results, Artifacts)>;
    /// The paper's claims with their verdicts: a pure function of settings and results.
    fn claims(&self, settings: &Self::Settings, results: &Self::Results) -> Vec<Claim>;
}

/// The object-safe face of an [`Experiment`], working on JSON settings and results;
/// implemented for every `Experiment`.
pub trait Registered: Sync + Send {
    /// The command name.
    fn name(&self) -> &'static str;
    /// The report's heading.
    fn title(&self) -> &'static str;
    /// Default settings at `scale` / `seed` with `overrides` (key, value text) applied,
    /// parsed to the settings' types and validated.
    fn resolve(&self, scale: Scale, seed: u64, overrides: &[(String, String)]) -> Result<Value>;
    /// The `--set` keys and the old flags this experiment accepts.
    fn keys(&self) -> Vec<String>;
    /// The setting key an old flag (`width`, `steps`, or `iters`, the old name of
    /// `steps`) maps to here, if any.
    fn flag_key(&self, flag: &str) -> Option<String>;
    /// Runs with resolved `settings`, judges the claims, writes `out/NAME/result.json`.
    fn run_json(&self, settings: &Value, ctx: &Context) -> Result<ExperimentOutput>;
    /// The claims recomputed from saved settings and results.
    fn judge_json(&self, settings: &Value, results: &Value) -> Result<Vec<Claim>>;
}

fn parse_settings<S: DeserializeOwned>(name: &str, v: &Value) -> Result<S> {
    serde_json::from_value(v.clone()).map_err(|e| {
        Error::invalid(
            "--set",
            format!("settings of experiment '{name}' do not parse: {e}"),
        )
    })
}

impl<E: Experiment> Registered for E {
    fn name(&self) -> &'static str {
        Experiment::name(self)
    }
    fn title(&self) -> &'static str {
        Experiment::title(self)
    }
    fn resolve(&self, scale: Scale, seed: u64, overrides: &[(String, String)]) -> Result<Value> {
        let name = Experiment::name(self);
        let mut v = serde_json::to_value(self.settings(scale, seed))
            .map_err(|e| Error::invalid("settings", format!("{name}: {e}")))?;
        for (key, text) in overrides {
            if self.unused_keys().contains(&key.as_str()) {
                return Err(Error::invalid(
                    format!("--set {key}"),
                    format!("experiment '{name}' does not use the setting '{key}'"),
                ));
            }
            apply_override(name, &mut v, key, text)?;
            // a value of the right JSON type may still not fit the field (an unknown
            // enum variant, a negative count): say which key
            serde_json::from_value::<E::Settings>(v.clone()).map_err(|e| {
                Error::invalid(format!("--set {key}"), format!("{name}: '{text}': {e}"))
            })?;
        }
        let s: E::Settings = parse_settings(name, &v)?;
        self.validate(&s)?;
        // the canonical form: what the run receives and result.json records
        serde_json::to_value(&s).map_err(|e| Error::invalid("settings", format!("{name}: {e}")))
    }
    fn keys(&self) -> Vec<String> {
        let mut keys = serde_json::to_value(self.settings(Scale::Quick, 0))
            .map(|v| setting_keys(&v))
            .unwrap_or_default();
        keys.retain(|k| !self.unused_keys().contains(&k.as_str()));
        keys
    }
    fn flag_key(&self, flag: &str) -> Option<String> {
        if let Some((_, k)) = self.flag_aliases().iter().find(|(f, _)| *f == flag) {
            return Some(k.to_string());
        }
        // `iters` is the old name of every experiment's `steps` (issue 24: one name for
        // a count of gradient steps, full-batch or stochastic)
        let flag = if flag == "iters" { "steps" } else { flag };
        let key = flag.replace('-', "_");
        self.keys().into_iter().find(|k| *k == key)
    }
    fn run_json(&self, settings: &Value, ctx: &Context) -> Result<ExperimentOutput> {
        let s: E::Settings = parse_settings(Experiment::name(self), settings)?;
        Ok(run_typed(self, &s, ctx)?.0)
    }
    fn judge_json(&self, settings: &Value, results: &Value) -> Result<Vec<Claim>> {
        let name = Experiment::name(self);
        let s: E::Settings = parse_settings(name, settings)?;
        // float fields read back NaN and ±inf as written by `write_result` (artifacts::nonfinite)
        let r: E::Results = nonfinite::from_value(results.clone()).map_err(|e| {
            Error::invalid(
                "result.json",
                format!("results of experiment '{name}' do not parse: {e}"),
            )
        })?;
        Ok(self.claims(&s, &r))
    }
}

/// Runs `exp` with typed `settings` (validated first), judges its claims and writes
/// `out/NAME/result.json` holding the settings, the claims and the results.
pub fn run_typed<E: Experiment>(
    exp: &E,
    settings: &E::Settings,
    ctx: &Context,
) -> Result<(ExperimentOutput, E::Results)> {
    let name = exp.name();
    exp.validate(settings)?;
    let t0 = Instant::now();
    let (results, artifacts) = exp.run(settings, ctx)?;
    let claims = exp.claims(settings, &results);
    let rel = |v: &[PathBuf]| v.iter().map(|f| relative_to(f, &ctx.out)).collect();
    let mut output = ExperimentOutput {
        name: name.to_string(),
        title: exp.title().to_string(),
        description: artifacts.description,
        claims,
        figures: rel(&artifacts.figures),
        files: rel(&artifacts.files),
        settings: serde_json::to_value(settings)
            .map_err(|e| Error::invalid("settings", format!("{name}: {e}")))?,
        seconds: t0.elapsed().as_secs_f64(),
    };
    super::common::write_result(&ctx.out, &mut output, &results)?;
    Ok((output, results))
}

/// Parses `text` as the JSON type of `current` (the default's value of the key):
/// integers stay integers, lists are comma-separated, `none`/`null`/`auto` clear an
/// optional setting, anything else in an optional setting is read as JSON or text.
fn parse_like(current: &Value, text: &str) -> std::result::Result<Value, String> {
    let t = text.trim();
    match current {
        Value::Bool(_) => match t {
            "true" | "yes" | "1" | "on" => Ok(Value::Bool(true)),
            "false" | "no" | "0" | "off" => Ok(Value::Bool(false)),
            _ => Err(format!("'{t}' is not a boolean (true/false)")),
        },
        Value::Number(n) if n.is_u64() || n.is_i64() => {
            if let Ok(i) = t.parse::<u64>() {
                return Ok(Value::from(i));
            }
            if let Ok(i) = t.parse::<i64>() {
                return Ok(Value::from(i));
            }
            // 1e4 is a fine way to write 10000
            match t.parse::<f64>() {
                Ok(x) if x.is_finite() && x == x.trunc() && x.abs() < 9.0e15 => {
                    if x >= 0.0 {
                        Ok(Value::from(x as u64))
                    } else {
                        Ok(Value::from(x as i64))
                    }
                }
                _ => Err(format!("'{t}' is not an integer")),
            }
        }
        Value::Number(_) => match t.parse::<f64>() {
            Ok(x) if x.is_finite() => Ok(Value::from(x)),
            _ => Err(format!("'{t}' is not a finite number")),
        },
        Value::String(_) => Ok(Value::String(t.to_string())),
        Value::Array(items) => {
            if t.is_empty() {
                return Ok(Value::Array(Vec::new()));
            }
            if t.starts_with('[') {
                return serde_json::from_str(t)
                    .map_err(|e| format!("'{t}' is not a JSON list: {e}"));
            }
            let proto = items.first().cloned().unwrap_or(Value::Null);
            t.split(',')
                .map(|p| parse_like(&proto, p))
                .collect::<std::result::Result<Vec<_>, _>>()
                .map(Value::Array)
        }
        Value::Null => match t {
            "none" | "null" | "auto" | "" => Ok(Value::Null),
            _ => Ok(serde_json::from_str(t).unwrap_or_else(|_| Value::String(t.to_string()))),
        },
        Value::Object(_) => {
            serde_json::from_str(t).map_err(|e| format!("'{t}' is not a JSON object: {e}"))
        }
    }
}

/// The settable keys of a settings object: its fields, with a nested settings struct's
/// fields as `outer.inner` (e.g. `sgd.width`).
pub fn setting_keys(v: &Value) -> Vec<String> {
    fn walk(prefix: &str, v: &Value, out: &mut Vec<String>) {
        if let Value::Object(m) = v {
            for (k, x) in m {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                match x {
                    Value::Object(_) => walk(&key, x, out),
                    _ => out.push(key),
                }
            }
        }
    }
    let mut out = Vec::new();
    walk("", v, &mut out);
    out
}

/// Applies `key=text` to the settings object `v` of experiment `name` (`outer.inner`
/// reaches a nested settings struct): unknown keys are refused with the list of valid
/// ones; `scale` and `seed` are set by their own flags (the defaults depend on them).
pub fn apply_override(name: &str, v: &mut Value, key: &str, text: &str) -> Result<()> {
    if key == "scale" || key == "seed" {
        return Err(Error::invalid(
            format!("--set {key}"),
            format!("set the {key} with --{key} (the other settings' defaults depend on it)"),
        ));
    }
    let valid = {
        let mut keys: Vec<String> = setting_keys(v)
            .into_iter()
            .filter(|k| k != "scale" && k != "seed")
            .collect();
        keys.sort();
        keys
    };
    let unknown = || {
        Error::invalid(
            format!("--set {key}"),
            format!(
                "experiment '{name}' has no setting '{key}'; its settings: {}",
                valid.join(", ")
            ),
        )
    };
    let mut slot = &mut *v;
    for part in key.split('.') {
        slot = match slot {
            Value::Object(m) => m.get_mut(part).ok_or_else(unknown)?,
            _ => return Err(unknown()),
        };
    }
    if slot.is_object() {
        return Err(unknown());
    }
    // `none` clears an optional setting whatever its current value (a setting that is
    // not optional refuses it when the settings are parsed)
    let parsed = if matches!(text.trim(), "none" | "null") {
        Value::Null
    } else {
        parse_like(slot, text)
            .map_err(|msg| Error::invalid(format!("--set {key}"), format!("{name}: {msg}")))?
    };
    *slot = parsed;
    Ok(())
}

/// Splits `key=value` (from `--set`), naming the flag when the `=` is missing.
pub fn parse_assignment(s: &str) -> Result<(String, String)> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().replace('-', "_"), v.to_string())),
        _ => Err(Error::invalid(
            "--set",
            format!("'{s}' is not key=value (e.g. --set width=2000)"),
        )),
    }
}

/// The resolved settings as `key = value` lines, for `--show-settings`.
pub fn show_settings(name: &str, scale: Scale, settings: &Value) -> String {
    let mut out = format!("{name} at {} scale:\n", scale.name());
    let keys = setting_keys(settings);
    let w = keys.iter().map(String::len).max().unwrap_or(0);
    for k in &keys {
        let v = k
            .split('.')
            .fold(settings, |v, part| v.get(part).unwrap_or(&Value::Null));
        let kind = match v {
            _ if k == "scale" || k == "seed" => format!("set with --{k}"),
            Value::Null => "optional, none = automatic".to_string(),
            Value::Bool(_) => "boolean".into(),
            Value::Number(n) if n.is_u64() || n.is_i64() => "integer".into(),
            Value::Number(_) => "number".into(),
            Value::String(_) => "text".into(),
            Value::Array(_) => "list, comma-separated".into(),
            Value::Object(_) => "JSON object".into(),
        };
        out.push_str(&format!("  {k:<w$} = {}    ({kind})\n", compact(v)));
    }
    out
}

fn compact(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "none".into(),
        Value::Array(a) => a.iter().map(compact).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

/// A finished `result.json` as `rejudge` reads it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SavedResult {
    /// Experiment name.
    pub experiment: String,
    /// Report heading.
    pub title: String,
    /// What ran.
    pub description: String,
    /// Settings the run used.
    pub settings: Value,
    /// The claims as judged when the run finished.
    pub claims: Vec<Claim>,
    /// Wall-clock seconds of the run.
    pub seconds: f64,
    /// Figures, relative to the output directory.
    #[serde(default)]
    pub figures: Vec<PathBuf>,
    /// Data files (without result.json), relative to the output directory.
    #[serde(default)]
    pub files: Vec<PathBuf>,
    /// The typed results, as JSON.
    pub results: Value,
}

/// The `result.json` files under `dir`: `dir/result.json` itself, or one per
/// experiment directory `dir/*/result.json` (sorted by name).
pub fn find_results(dir: &Path) -> Result<Vec<PathBuf>> {
    let own = dir.join("result.json");
    if own.is_file() {
        return Ok(vec![own]);
    }
    let mut found = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for e in entries {
        let p = e.map_err(|e| Error::io(dir, e))?.path().join("result.json");
        if p.is_file() {
            found.push(p);
        }
    }
    found.sort();
    if found.is_empty() {
        return Err(Error::invalid(
            "DIR",
            format!(
                "{} holds no result.json (neither DIR/result.json nor DIR/*/result.json)",
                dir.display()
            ),
        ));
    }
    Ok(found)
}

/// Recomputes the claims of the finished run saved in `path` (a `result.json`) with
/// `experiment`'s current claims function, without rerunning; returns the saved file
/// and the new claims.
pub fn rejudge_file(
    registry: &[&'static dyn Registered],
    path: &Path,
) -> Result<(SavedResult, Vec<Claim>)> {
    let saved: SavedResult = read_json(path)?;
    let exp = registry
        .iter()
        .find(|e| e.name() == saved.experiment)
        .ok_or_else(|| {
            Error::format(
                path,
                format!(
                    "names experiment '{}', which is not registered",
                    saved.experiment
                ),
            )
        })?;
    let claims = exp
        .judge_json(&saved.settings, &saved.results)
        .map_err(|e| Error::format(path, e.to_string()))?;
    Ok((saved, claims))
}

impl SavedResult {
    /// The finished run as an [`ExperimentOutput`] with `claims`.
    pub fn to_output(&self, claims: Vec<Claim>) -> ExperimentOutput {
        let mut files = self.files.clone();
        files.push(PathBuf::from(&self.experiment).join("result.json"));
        ExperimentOutput {
            name: self.experiment.clone(),
            title: self.title.clone(),
            description: self.description.clone(),
            claims,
            figures: self.figures.clone(),
            files,
            settings: self.settings.clone(),
            seconds: self.seconds,
        }
    }
}

/// Writes `saved` back to `path` with `claims` in place of its old ones.
pub fn store_rejudged(path: &Path, saved: &SavedResult, claims: &[Claim]) -> Result<()> {
    let mut s = saved.clone();
    s.claims = claims.to_vec();
    write_json(path, &s)
}
