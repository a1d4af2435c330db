//! SVG plots of the figures (plotters' SVG backend: the SVG names a font family
//! and the viewer draws the text, so no font is needed here).

use anyhow::{anyhow, Result};
use plotters::coord::ranged1d::{AsRangedCoord, Ranged, ValueFormatter};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::path::Path;

const SIZE: (u32, u32) = (900, 500);
const COLORS: [RGBColor; 6] = [
    RGBColor(0x4c, 0x78, 0xa8),
    RGBColor(0xf5, 0x85, 0x18),
    RGBColor(0x54, 0xa2, 0x4b),
    RGBColor(0xe4, 0x57, 0x56),
    RGBColor(0x72, 0xb7, 0xb2),
    RGBColor(0xb2, 0x79, 0xa2),
];

fn color(i: usize) -> RGBColor {
    COLORS[i % COLORS.len()]
}

fn err(error: impl std::fmt::Display) -> anyhow::Error {
    anyhow!("plot: {error}")
}

/// One series of a bar chart: its name and one value per category.
pub struct Bars<'a> {
    pub name: &'a str,
    pub values: Vec<f64>,
}

/// Grouped bars: one group per category, one bar per series; a logarithmic value
/// axis when `log` is set (for latencies that span orders of magnitude).
pub fn bars(path: &Path, title: &str, y_label: &str, categories: &[String], series: &[Bars], log: bool) -> Result<()> {
    let finite = || series.iter().flat_map(|s| s.values.iter().copied()).filter(|v| v.is_finite() && *v > 0.0);
    let top = finite().fold(0.0f64, f64::max).max(1e-3);
    if log {
        let bottom = finite().fold(f64::INFINITY, f64::min).min(top) / 2.0;
        draw_bars(path, title, y_label, categories, series, (bottom..top * 2.0).log_scale(), bottom)
    } else {
        draw_bars(path, title, y_label, categories, series, 0.0..top * 1.15, 0.0)
    }
}

fn draw_bars<Y>(
    path: &Path,
    title: &str,
    y_label: &str,
    categories: &[String],
    series: &[Bars],
    y: Y,
    base: f64,
) -> Result<()>
where
    Y: AsRangedCoord<Value = f64>,
    Y::CoordDescType: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let groups = categories.len().max(1) as f64;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(20)
        .x_label_area_size(40)
        .y_label_area_size(80)
        .build_cartesian_2d(-0.5f64..groups - 0.5, y)
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .light_line_style(TRANSPARENT)
        .x_labels(0)
        .y_desc(y_label)
        .y_label_formatter(&|v| short(*v))
        .draw()
        .map_err(err)?;
    let width = 0.8 / series.len().max(1) as f64;
    for (s, bars) in series.iter().enumerate() {
        let fill = color(s).filled();
        chart
            .draw_series(bars.values.iter().enumerate().filter(|(_, v)| v.is_finite() && **v > base).map(
                |(c, value)| {
                    let left = c as f64 - 0.4 + s as f64 * width;
                    Rectangle::new([(left, base), (left + width * 0.92, *value)], fill)
                },
            ))
            .map_err(err)?
            .label(bars.name)
            .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 12, y + 6)], fill));
    }
    legend(&mut chart)?;
    // Category names under their groups, placed in pixels below the axis.
    let style = TextStyle::from(("sans-serif", 15).into_font()).pos(Pos::new(HPos::Center, VPos::Top));
    for (c, name) in categories.iter().enumerate() {
        let (x, y) = chart.backend_coord(&(c as f64, base));
        root.draw(&Text::new(name.clone(), (x, y + 8), style.clone())).map_err(err)?;
    }
    root.present().map_err(err)
}

fn legend<'a, Y: Ranged<ValueType = f64>>(
    chart: &mut ChartContext<'a, SVGBackend<'a>, Cartesian2d<plotters::coord::types::RangedCoordf64, Y>>,
) -> Result<()> {
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(err)
}

/// One line of a line chart.
pub struct Line<'a> {
    pub name: &'a str,
    pub points: Vec<(f64, f64)>,
}

pub fn lines(path: &Path, title: &str, x_label: &str, y_label: &str, series: &[Line]) -> Result<()> {
    let all = || series.iter().flat_map(|s| s.points.iter().copied()).filter(|(x, y)| x.is_finite() && y.is_finite());
    let x_max = all().map(|(x, _)| x).fold(0.0f64, f64::max).max(1.0);
    let y_max = all().map(|(_, y)| y).fold(0.0f64, f64::max).max(1e-3);
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(20)
        .x_label_area_size(45)
        .y_label_area_size(80)
        .build_cartesian_2d(0.0..x_max * 1.05, 0.0..y_max * 1.15)
        .map_err(err)?;
    chart
        .configure_mesh()
        .light_line_style(TRANSPARENT)
        .x_desc(x_label)
        .y_desc(y_label)
        .x_label_formatter(&|v| short(*v))
        .y_label_formatter(&|v| short(*v))
        .draw()
        .map_err(err)?;
    for (s, line) in series.iter().enumerate() {
        let stroke = color(s).stroke_width(2);
        chart
            .draw_series(LineSeries::new(line.points.iter().copied(), stroke))
            .map_err(err)?
            .label(line.name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], stroke));
        chart.draw_series(line.points.iter().map(|&p| Circle::new(p, 4, color(s).filled()))).map_err(err)?;
    }
    legend(&mut chart)?;
    root.present().map_err(err)
}

/// 1.5k, 20k, 1.2M, 0.25.
fn short(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude >= 1e6 {
        format!("{:.1}M", value / 1e6)
    } else if magnitude >= 1e4 {
        format!("{:.0}k", value / 1e3)
    } else if magnitude >= 1e3 {
        format!("{:.1}k", value / 1e3)
    } else if magnitude >= 10.0 || magnitude == 0.0 {
        format!("{value:.0}")
    } else if magnitude >= 1.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}
