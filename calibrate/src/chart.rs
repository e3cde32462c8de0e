//! The chart of the table: nanoseconds per gas of every row as a horizontal bar, coloured by
//! group, with the conversion and the 2x band around the fastest row marked, so an outlier shows
//! at a glance. Written as SVG.

use std::path::Path;

use plotters::prelude::*;

use crate::error::Error;
use crate::report::{Line, Summary};
use crate::row::Group;
use crate::solve::NS_PER_GAS;

fn colour(group: Group) -> RGBColor {
    match group {
        Group::Operator => RGBColor(0x4c, 0x72, 0xb0),
        Group::Memory => RGBColor(0x55, 0xa8, 0x68),
        Group::Module => RGBColor(0x81, 0x72, 0xb2),
        Group::Host => RGBColor(0xdd, 0x84, 0x52),
        Group::State => RGBColor(0xc4, 0x4e, 0x52),
        Group::Transaction => RGBColor(0x93, 0x78, 0x60),
    }
}

fn chart_error(e: impl std::fmt::Display) -> Error {
    Error::Chart(e.to_string())
}

/// Writes the chart of `lines` to `path`.
pub fn write(path: &Path, lines: &[Line], summary: &Summary) -> Result<(), Error> {
    let bars: Vec<(&Line, f64)> = lines
        .iter()
        .filter_map(|l| l.ns_per_gas.map(|r| (l, r)))
        .collect();
    let n = bars.len();
    let top = bars.iter().map(|(_, r)| *r).fold(NS_PER_GAS, f64::max) * 1.1;
    let height = 120 + 18 * n as u32;
    let root = SVGBackend::new(path, (960, height)).into_drawing_area();
    root.fill(&WHITE).map_err(chart_error)?;
    let caption = format!(
        "Nanoseconds per gas by row (spread {:.2}x; line: the conversion, {NS_PER_GAS} ns per gas; band: 2x the fastest row)",
        summary.spread
    );
    let mut chart = ChartBuilder::on(&root)
        .caption(caption, ("sans-serif", 15))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(240)
        .build_cartesian_2d(0f64..top, -0.5f64..(n as f64 - 0.5))
        .map_err(chart_error)?;
    let label = |y: &f64| {
        let at = y.round();
        if (y - at).abs() > 0.01 || at < 0.0 {
            return String::new();
        }
        let index = n.checked_sub(1 + at as usize);
        index.map_or_else(String::new, |i| bars[i].0.name.clone())
    };
    chart
        .configure_mesh()
        .y_labels(n)
        .y_label_formatter(&label)
        .x_desc("ns per gas")
        .disable_y_mesh()
        .draw()
        .map_err(chart_error)?;
    let band = [(summary.min.1, 0.0), (summary.min.1 * 2.0, n as f64)];
    chart
        .draw_series(std::iter::once(Rectangle::new(
            [(band[0].0, -0.5), (band[1].0, n as f64 - 0.5)],
            RGBColor(0xee, 0xee, 0xee).filled(),
        )))
        .map_err(chart_error)?;
    let groups = [
        Group::Operator,
        Group::Memory,
        Group::Module,
        Group::Host,
        Group::State,
        Group::Transaction,
    ];
    for group in groups {
        let colour = colour(group);
        chart
            .draw_series(
                bars.iter()
                    .enumerate()
                    .filter(|(_, (line, _))| line.group == group)
                    .map(|(i, (_, r))| {
                        let y = (n - 1 - i) as f64;
                        Rectangle::new([(0.0, y - 0.35), (*r, y + 0.35)], colour.filled())
                    }),
            )
            .map_err(chart_error)?
            .label(group.name())
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], colour.filled()));
    }
    chart
        .draw_series(std::iter::once(PathElement::new(
            vec![(NS_PER_GAS, -0.5), (NS_PER_GAS, n as f64 - 0.5)],
            BLACK.stroke_width(2),
        )))
        .map_err(chart_error)?;
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE)
        .border_style(BLACK)
        .draw()
        .map_err(chart_error)?;
    root.present().map_err(chart_error)
}
