//! The report's figures as an SVG bar chart: one panel per route, one bar per variant,
//! requests per second on a log scale (SQLite writes are a hundred times slower than
//! memory reads; a linear axis would hide them).

use std::path::Path;

use anyhow::Context as _;
use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::args::Route;
use crate::load::Updates;
use crate::report::Summary;
use crate::variant::Variant;

const WIDTH: u32 = 1000;
const ROW_HEIGHT: u32 = 34;
const PANEL_EXTRA: u32 = 90;

const NONE_COLOR: RGBColor = RGBColor(140, 140, 140);
const PEER_COLOR: RGBColor = RGBColor(230, 140, 40);
const OURS_COLOR: RGBColor = RGBColor(40, 110, 200);

/// Draws the chart to `path`.
pub(crate) fn draw(path: &Path, summaries: &[Summary], routes: &[Route]) -> anyhow::Result<()> {
    let rows_per_panel = routes
        .iter()
        .map(|&route| summaries.iter().filter(|s| s.route == route).count())
        .max()
        .unwrap_or(0);
    let panel_height = u32::try_from(rows_per_panel)?.saturating_mul(ROW_HEIGHT) + PANEL_EXTRA;
    let height = panel_height.saturating_mul(u32::try_from(routes.len())?.max(1));
    let root = SVGBackend::new(path, (WIDTH, height)).into_drawing_area();
    root.fill(&WHITE).map_err(plot_error)?;
    let panels = root.split_evenly((routes.len().max(1), 1));
    for (panel, &route) in panels.iter().zip(routes) {
        let rows: Vec<&Summary> = summaries.iter().filter(|s| s.route == route).collect();
        draw_panel(panel, route, &rows)?;
    }
    root.present()
        .map_err(plot_error)
        .with_context(|| format!("writing {}", path.display()))
}

fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    route: Route,
    rows: &[&Summary],
) -> anyhow::Result<()>
where
    DB::ErrorType: 'static,
{
    let fastest = rows.iter().map(|s| s.rps).fold(1.0_f64, f64::max);
    let slowest = rows
        .iter()
        .map(|s| s.rps)
        .filter(|rps| *rps > 0.0)
        .fold(fastest, f64::min);
    let x_range = (slowest / 2.0).max(1.0)..fastest * 4.0;
    // Segment i from the top holds row i: the first variant (no sessions) on top.
    let n = i32::try_from(rows.len())?;
    let row = |i: i32| n - 1 - i;
    let names: Vec<&'static str> = rows.iter().map(|s| s.variant.name()).collect();
    let mut chart = ChartBuilder::on(area)
        .caption(
            format!(
                "{} — requests/s (log scale), ratio to no sessions",
                route.label()
            ),
            ("sans-serif", 18),
        )
        .margin(12)
        .x_label_area_size(30)
        .y_label_area_size(150)
        .build_cartesian_2d(
            x_range.clone().log_scale(),
            (0..(n - 1).max(1)).into_segmented(),
        )
        .map_err(plot_error)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(rows.len())
        .y_label_formatter(&|value| match value {
            SegmentValue::CenterOf(i) => usize::try_from(row(*i))
                .ok()
                .and_then(|i| names.get(i))
                .map_or_else(String::new, |name| (*name).to_owned()),
            _ => String::new(),
        })
        .x_label_formatter(&|x| format!("{:.0}", x))
        .draw()
        .map_err(plot_error)?;
    let floor = x_range.start;
    chart
        .draw_series(rows.iter().zip(0..).map(|(s, i)| {
            let rps = if s.rps.is_finite() {
                s.rps.max(floor)
            } else {
                floor
            };
            let mut bar = Rectangle::new(
                [
                    (floor, SegmentValue::Exact(row(i))),
                    (rps, SegmentValue::Exact(row(i) + 1)),
                ],
                color(s.variant).filled(),
            );
            bar.set_margin(4, 4, 0, 0);
            bar
        }))
        .map_err(plot_error)?;
    chart
        .draw_series(rows.iter().zip(0..).map(|(s, i)| {
            Text::new(
                label(s),
                (s.rps.max(floor) * 1.08, SegmentValue::CenterOf(row(i))),
                TextStyle::from(("sans-serif", 13).into_font())
                    .pos(Pos::new(HPos::Left, VPos::Center)),
            )
        }))
        .map_err(plot_error)?;
    Ok(())
}

fn label(s: &Summary) -> String {
    let mut text = format!("{:.0}/s", s.rps);
    if s.variant != Variant::None && s.vs_none.is_finite() {
        text.push_str(&format!("  {:.2}× none", s.vs_none));
    }
    for (peer, ratio) in s.vs_peers.iter().filter(|(_, ratio)| ratio.is_finite()) {
        text.push_str(&format!(", {ratio:.2}× {}", peer.name()));
    }
    if let Some(lost) = s.updates.map(Updates::lost).filter(|lost| *lost > 0) {
        text.push_str(&format!("  lost {lost}"));
    }
    text
}

fn color(variant: Variant) -> RGBColor {
    match variant {
        Variant::None => NONE_COLOR,
        Variant::TsMemory
        | Variant::TsCookie
        | Variant::TsSqlite
        | Variant::TsSqliteWal
        | Variant::TsPg
        | Variant::TsRedis => PEER_COLOR,
        _ => OURS_COLOR,
    }
}

fn plot_error<E: std::error::Error + Send + Sync + 'static>(error: E) -> anyhow::Error {
    anyhow::Error::new(error).context("drawing the chart")
}
