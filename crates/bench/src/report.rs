//! What a scenario hands back: tables printed as Markdown (ready for
//! `docs/benchmarks.md`), its figures as JSON under `target/bench/`, and an SVG plot.

use anyhow::{Context, Result};
use serde::Serialize;
use std::path::Path;

/// One table of figures.
#[derive(Debug, Clone, Serialize)]
pub struct Table {
    pub title: String,
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(title: impl Into<String>, header: &[&str]) -> Self {
        Self { title: title.into(), header: header.iter().map(|h| (*h).to_owned()).collect(), rows: Vec::new() }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn markdown(&self) -> String {
        let line = |cells: &[String]| format!("| {} |", cells.join(" | "));
        let mut out = vec![format!("**{}**", self.title), String::new(), line(&self.header)];
        out.push(format!("|{}", " --- |".repeat(self.header.len())));
        out.extend(self.rows.iter().map(|r| line(r)));
        out.join("\n")
    }
}

/// The outcome of one scenario.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioReport {
    /// Short name: the JSON file is `NAME.json`, the plot `NAME.svg`.
    pub name: String,
    pub tables: Vec<Table>,
    /// What the reader must know to read the figures (setup, substitutions).
    pub notes: Vec<String>,
    /// Failures seen during the run (refused frames, lost deliveries, closed sockets).
    pub errors: Vec<String>,
    /// Every figure, for scripts.
    pub data: serde_json::Value,
}

impl ScenarioReport {
    pub fn print(&self) {
        let mut out = format!("\n## {}\n", self.name);
        for table in &self.tables {
            out.push('\n');
            out.push_str(&table.markdown());
            out.push('\n');
        }
        for note in &self.notes {
            out.push_str(&format!("\nnote: {note}"));
        }
        for error in &self.errors {
            out.push_str(&format!("\nERROR: {error}"));
        }
        println!("{out}");
    }

    /// Writes `DIR/NAME.json` with the run's context.
    pub fn write_json(&self, dir: &Path, context: &impl Serialize) -> Result<()> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let path = dir.join(format!("{}.json", self.name));
        let body = serde_json::json!({ "run": context, "report": self });
        std::fs::write(&path, serde_json::to_string_pretty(&body)?).with_context(|| format!("{}", path.display()))
    }
}

/// A rate with thousands separated by commas: 12,345.
pub fn rate(value: f64) -> String {
    let whole = value.round().max(0.0) as u64;
    let digits = whole.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A ratio as `0.42×`.
pub fn ratio(value: f64) -> String {
    if value.is_finite() {
        format!("{value:.2}×")
    } else {
        "n/a".to_owned()
    }
}

/// Milliseconds with two decimals.
pub fn ms(value: f64) -> String {
    format!("{value:.2}")
}

/// `a / b`, NaN when b is 0.
pub fn div(a: f64, b: f64) -> f64 {
    if b == 0.0 {
        f64::NAN
    } else {
        a / b
    }
}
