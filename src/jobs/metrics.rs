//! Metrics parsed from the logs with the profile's regexes (numeric captures only: the seed's
//! `IoU=0.5` regexes also match the `IoU=0.5:0.95` lines), a table of the latest values, and
//! an SVG plot of the loss and mAP curves over time.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::logs::LogLine;
use super::profile::Profile;

/// Every value of every metric, in time order: name -> [(ms since epoch, value)].
pub type Series = BTreeMap<String, Vec<(i64, f64)>>;

/// Extracts the profile's metrics from log lines.
pub fn extract(profile: &Profile, lines: &[LogLine]) -> Series {
    let compiled: Vec<(String, regex_lite::Regex)> = profile
        .metrics
        .iter()
        .filter_map(|m| {
            regex_lite::Regex::new(&m.regex)
                .ok()
                .map(|r| (m.name.clone(), r))
        })
        .collect();
    let mut series = Series::new();
    for line in lines {
        for (name, regex) in &compiled {
            if let Some(value) = regex
                .captures(&line.message)
                .and_then(|c| c.get(1))
                .and_then(|v| v.as_str().parse::<f64>().ok())
            {
                series
                    .entry(name.clone())
                    .or_default()
                    .push((line.timestamp, value));
            }
        }
    }
    series
}

/// Chooses the metrics of a plot panel by name.
type Pick = fn(&str) -> bool;

/// An SVG with two panels: losses (left) and mAP (right), each metric a polyline over time.
pub fn svg(job: &str, series: &Series) -> String {
    let (w, h, pad) = (1000.0, 420.0, 50.0);
    let panel_w = (w - 3.0 * pad) / 2.0;
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="11"><rect width="100%" height="100%" fill="white"/><text x="{pad}" y="20" font-size="14">{}</text>"#,
        escape(job)
    );
    let colors = [
        "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    ];
    let t_min = series.values().flatten().map(|p| p.0).min().unwrap_or(0);
    let t_max = series
        .values()
        .flatten()
        .map(|p| p.0)
        .max()
        .unwrap_or(1)
        .max(t_min + 1);
    let panels: [(&str, Pick); 2] = [
        ("loss", |n| n.contains("loss")),
        ("mAP", |n| n.starts_with("mAP")),
    ];
    for (panel, (title, pick)) in panels.into_iter().enumerate() {
        let x0 = pad + panel as f64 * (panel_w + pad);
        let (y0, ph) = (40.0, h - 40.0 - pad);
        let chosen: Vec<(&String, &Vec<(i64, f64)>)> =
            series.iter().filter(|(n, _)| pick(n)).collect();
        let v_max = chosen
            .iter()
            .flat_map(|(_, s)| s.iter().map(|p| p.1))
            .fold(0.0_f64, f64::max)
            .max(1e-9);
        let _ = write!(
            out,
            r##"<rect x="{x0}" y="{y0}" width="{panel_w}" height="{ph}" fill="none" stroke="#999"/><text x="{x0}" y="{}">{title} (max {v_max:.4})</text>"##,
            y0 - 5.0
        );
        for (i, (name, points)) in chosen.iter().enumerate() {
            let color = colors[i % colors.len()];
            let pts: Vec<String> = points
                .iter()
                .map(|(t, v)| {
                    let x = x0 + (*t - t_min) as f64 / (t_max - t_min) as f64 * panel_w;
                    let y = y0 + ph - v / v_max * ph;
                    format!("{x:.1},{y:.1}")
                })
                .collect();
            let _ = write!(
                out,
                r#"<polyline fill="none" stroke="{color}" stroke-width="1.5" points="{}"/><text x="{}" y="{}" fill="{color}">{}</text>"#,
                pts.join(" "),
                x0 + 5.0,
                y0 + 14.0 + 13.0 * i as f64,
                escape(name)
            );
        }
    }
    out.push_str("</svg>\n");
    out
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::file::ModelName;

    #[test]
    fn numeric_values_only_and_a_plot() {
        let p = Profile::embedded(ModelName::Tensorpack).unwrap();
        let line = |t: i64, m: &str| LogLine {
            timestamp: t,
            host: "algo-1".into(),
            message: m.into(),
        };
        let lines = vec![
            line(1000, "fastrcnn_losses/box_loss: 0.50"),
            line(2000, "fastrcnn_losses/box_loss: 0.25"),
            line(3000, "mAP(bbox)/IoU=0.5:0.95: 0.3741"),
        ];
        let s = extract(&p, &lines);
        assert_eq!(s["fastrcnn_losses/box_loss"], [(1000, 0.5), (2000, 0.25)]);
        assert_eq!(s["mAP(bbox)/IoU=0.5:0.95"], [(3000, 0.3741)]);
        assert!(
            !s.contains_key("mAP(bbox)/IoU=0.5"),
            "the non-numeric capture is dropped"
        );
        let plot = svg("job-1", &s);
        assert!(
            plot.starts_with("<svg")
                && plot.contains("polyline")
                && plot.contains("mAP(bbox)/IoU=0.5:0.95")
        );
    }
}
