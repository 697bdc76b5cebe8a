//! Metrics parsed from the logs with the profile's regexes (numeric captures only: the seed's
//! `IoU=0.5` regexes also match the `IoU=0.5:0.95` lines), a table of the latest values, and
//! an SVG plot of the loss and mAP curves over time.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::logs::{LogLine, rfc3339_millis};
use super::profile::Profile;

/// Every value of every metric, in time order: name -> [(ms since epoch, value)], all hosts.
pub type Series = BTreeMap<String, Vec<(i64, f64)>>;

/// One metric's values per host: host -> [(ms since epoch, value)].
pub type ByHost = BTreeMap<String, Vec<(i64, f64)>>;

/// Every metric per host: name -> host -> [(ms since epoch, value)].
pub type HostSeries = BTreeMap<String, ByHost>;

/// Extracts the profile's metrics from log lines, per host.
pub fn extract_by_host(profile: &Profile, lines: &[LogLine]) -> HostSeries {
    let compiled: Vec<(String, regex_lite::Regex)> = profile
        .metrics
        .iter()
        .filter_map(|m| {
            regex_lite::Regex::new(&m.regex)
                .ok()
                .map(|r| (m.name.clone(), r))
        })
        .collect();
    let mut series = HostSeries::new();
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
                    .entry(line.host.clone())
                    .or_default()
                    .push((line.timestamp, value));
            }
        }
    }
    series
}

/// Extracts the profile's metrics from log lines, every host's values merged in time order.
pub fn extract(profile: &Profile, lines: &[LogLine]) -> Series {
    merged(&extract_by_host(profile, lines))
}

/// Every host's values of each metric in one time-ordered list.
pub fn merged(by_host: &HostSeries) -> Series {
    by_host
        .iter()
        .map(|(name, hosts)| {
            let mut all: Vec<(i64, f64)> = hosts.values().flatten().copied().collect();
            all.sort_by_key(|p| p.0);
            (name.clone(), all)
        })
        .collect()
}

/// The `job metrics --output json` document (docs/json-output.md): each metric's latest value
/// and count, every point as `{metric, host, time (RFC 3339), value}` in time order, and the
/// plot written (null without `--plot`).
pub fn json(
    job: &str,
    model: &str,
    by_host: &HostSeries,
    plot: Option<&std::path::Path>,
) -> serde_json::Value {
    let metrics: Vec<serde_json::Value> = merged(by_host)
        .iter()
        .map(|(name, points)| {
            let last = points.last();
            serde_json::json!({
                "metric": name,
                "latest": last.map(|p| p.1),
                "latest_time": last.map(|p| rfc3339_millis(p.0)),
                "count": points.len(),
            })
        })
        .collect();
    let mut points: Vec<(i64, &String, &String, f64)> = by_host
        .iter()
        .flat_map(|(name, hosts)| {
            hosts
                .iter()
                .flat_map(move |(host, pts)| pts.iter().map(move |(t, v)| (*t, name, host, *v)))
        })
        .collect();
    points.sort_by(|a, b| (a.0, a.1, a.2).cmp(&(b.0, b.1, b.2)));
    let points: Vec<serde_json::Value> = points
        .into_iter()
        .map(|(t, metric, host, value)| {
            serde_json::json!({
                "metric": metric,
                "host": host,
                "time": rfc3339_millis(t),
                "value": value,
            })
        })
        .collect();
    serde_json::json!({
        "job": job,
        "model": model,
        "metrics": metrics,
        "points": points,
        "plot": plot,
    })
}

/// Chooses the metrics of a plot panel by name.
type Pick = fn(&str) -> bool;

/// Plot geometry, in SVG user units.
const WIDTH: f64 = 1100.0;
const PANEL_HEIGHT: f64 = 330.0;
const MARGIN_LEFT: f64 = 70.0;
const GAP: f64 = 90.0;
const TOP: f64 = 50.0;
const AXIS_SPACE: f64 = 45.0;
const LEGEND_ROW: f64 = 16.0;

/// Colours per metric within a panel (Okabe-Ito's colour-blind-safe eight, then four of Tol's
/// muted palette: the tensorpack profile has 12 mAP metrics) and dash patterns per host.
const COLORS: [&str; 12] = [
    "#0072b2", "#e69f00", "#009e73", "#d55e00", "#cc79a7", "#56b4e9", "#f0e442", "#000000",
    "#882255", "#44aa99", "#999933", "#332288",
];
const DASHES: [&str; 4] = ["", "6 3", "2 2", "8 3 2 3"];

/// An SVG with two panels, losses (left) and mAP (right): one line per metric and host (colour
/// by metric, dash by host), axes with ticks and units (time since the first value, in seconds
/// or minutes; the value), and the legend below the panels so it covers no curve.
pub fn svg(job: &str, series: &HostSeries) -> String {
    let panel_w = (WIDTH - MARGIN_LEFT - GAP - 30.0) / 2.0;
    let panels: [(&str, Pick); 2] = [
        // A loss is a metric whose last part says so (`fastrcnn_losses/box_loss`), not every
        // statistic under a `losses/` scope (a label count or an accuracy would set the scale).
        ("loss", |n| {
            n.rsplit('/').next().is_some_and(|l| l.contains("loss"))
        }),
        ("mAP", |n| n.starts_with("mAP")),
    ];
    let hosts: Vec<&String> = {
        let mut h: Vec<&String> = series.values().flat_map(|m| m.keys()).collect();
        h.sort();
        h.dedup();
        h
    };
    // Each panel's legend lists its own lines, below it.
    let entries_of = |pick: Pick| -> Vec<(&String, &String)> {
        series
            .iter()
            .filter(|(name, _)| pick(name))
            .flat_map(|(name, by_host)| by_host.keys().map(move |h| (name, h)))
            .collect()
    };
    let legend_rows = panels
        .iter()
        .map(|(_, pick)| entries_of(*pick).len())
        .max()
        .unwrap_or(0);
    let height = TOP + PANEL_HEIGHT + AXIS_SPACE + 20.0 + legend_rows as f64 * LEGEND_ROW + 10.0;
    let all_t = series
        .values()
        .flat_map(|m| m.values())
        .flatten()
        .map(|p| p.0);
    let t_min = all_t.clone().min().unwrap_or(0);
    let t_max = all_t.max().unwrap_or(1).max(t_min + 1);
    let span_s = (t_max - t_min) as f64 / 1000.0;
    let (unit, per) = if span_s > 120.0 {
        ("min", 60.0)
    } else {
        ("s", 1.0)
    };
    let color_of = |name: &str| {
        let pick = panels
            .iter()
            .map(|p| p.1)
            .find(|pick| pick(name))
            .unwrap_or(|_| true);
        let i = series
            .keys()
            .filter(|k| pick(k))
            .position(|k| k == name)
            .unwrap_or(0);
        COLORS[i % COLORS.len()]
    };
    let dash_of = |host: &str| {
        let i = hosts.iter().position(|h| *h == host).unwrap_or(0);
        DASHES[i % DASHES.len()]
    };

    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="12"><rect width="100%" height="100%" fill="white"/><text x="{MARGIN_LEFT}" y="20" font-size="16">{}: training metrics from the logs</text>"#,
        escape(job)
    );
    for (panel, (title, pick)) in panels.into_iter().enumerate() {
        let x0 = MARGIN_LEFT + panel as f64 * (panel_w + GAP);
        let (y0, ph) = (TOP, PANEL_HEIGHT);
        let chosen: Vec<(&String, &ByHost)> = series.iter().filter(|(n, _)| pick(n)).collect();
        let v_max = nice_max(
            chosen
                .iter()
                .flat_map(|(_, h)| h.values().flatten().map(|p| p.1))
                .fold(0.0_f64, f64::max),
        );
        let _ = write!(
            out,
            r##"<rect x="{x0}" y="{y0}" width="{panel_w}" height="{ph}" fill="none" stroke="#444"/><text x="{x0}" y="{}" font-size="14">{title}</text>"##,
            y0 - 8.0
        );
        // Ticks: five on each axis, with grid lines.
        for k in 0..=4 {
            let f = f64::from(k) / 4.0;
            let y = y0 + ph - f * ph;
            let x = x0 + f * panel_w;
            let _ = write!(
                out,
                r##"<line x1="{x0}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text><line x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}" stroke="#444"/><text x="{x:.1}" y="{:.1}" text-anchor="middle">{}</text>"##,
                x0 + panel_w,
                x0 - 6.0,
                y + 4.0,
                tick(f * v_max),
                y0 + ph,
                y0 + ph + 5.0,
                y0 + ph + 18.0,
                tick(f * span_s / per)
            );
        }
        let _ = write!(
            out,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">time since the first value ({unit})</text><text x="{:.1}" y="{:.1}" text-anchor="middle" transform="rotate(-90 {:.1} {:.1})">{title} (value)</text>"#,
            x0 + panel_w / 2.0,
            y0 + ph + 36.0,
            x0 - 50.0,
            y0 + ph / 2.0,
            x0 - 50.0,
            y0 + ph / 2.0
        );
        if chosen.is_empty() {
            let _ = write!(
                out,
                r##"<text x="{:.1}" y="{:.1}" text-anchor="middle" fill="#777">no {title} values in the logs</text>"##,
                x0 + panel_w / 2.0,
                y0 + ph / 2.0
            );
        }
        for (name, by_host) in &chosen {
            for (host, points) in *by_host {
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
                    r#"<polyline fill="none" stroke="{}" stroke-width="2" stroke-dasharray="{}" points="{}"><title>{} ({})</title></polyline>"#,
                    color_of(name),
                    dash_of(host),
                    pts.join(" "),
                    escape(name),
                    escape(host)
                );
                // A dot on every value: one evaluation (a single mAP value) is a point, which
                // a polyline alone does not draw.
                for p in &pts {
                    let (x, y) = p.split_once(',').unwrap_or(("0", "0"));
                    let _ = write!(
                        out,
                        r#"<circle cx="{x}" cy="{y}" r="3" fill="{}"/>"#,
                        color_of(name)
                    );
                }
            }
        }
    }
    // The legends, each below its panel.
    let legend_top = TOP + PANEL_HEIGHT + AXIS_SPACE + 16.0;
    for (panel, (_, pick)) in panels.into_iter().enumerate() {
        let x = MARGIN_LEFT + panel as f64 * (panel_w + GAP);
        for (i, (name, host)) in entries_of(pick).into_iter().enumerate() {
            let y = legend_top + i as f64 * LEGEND_ROW;
            let _ = write!(
                out,
                r#"<line x1="{x:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="{}" stroke-width="2" stroke-dasharray="{}"/><text x="{:.1}" y="{y:.1}">{} ({})</text>"#,
                y - 4.0,
                x + 28.0,
                y - 4.0,
                color_of(name),
                dash_of(host),
                x + 34.0,
                escape(name),
                escape(host)
            );
        }
    }
    out.push_str("</svg>\n");
    out
}

/// The axis maximum: the largest value rounded up to 1, 2 or 5 times a power of ten.
fn nice_max(v: f64) -> f64 {
    if v <= 0.0 || !v.is_finite() {
        return 1.0;
    }
    let p = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * p)
        .find(|c| *c >= v)
        .unwrap_or(10.0 * p)
}

/// A tick label with up to three significant digits.
fn tick(v: f64) -> String {
    let text = if v == 0.0 {
        "0".to_owned()
    } else if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    };
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
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

    /// Seen in the demo's plot (issue 13, item 7): the label count under `fastrcnn_losses/` set
    /// the loss panel's scale to 50, and the one evaluation's mAP values were invisible.
    #[test]
    fn the_loss_panel_holds_losses_and_a_single_value_is_a_dot() {
        let p = Profile::embedded(ModelName::Tensorpack).unwrap();
        let line = |t: i64, m: &str| LogLine {
            timestamp: t,
            host: "algo-1".into(),
            message: m.into(),
        };
        let lines = vec![
            line(1000, "fastrcnn_losses/box_loss: 0.50"),
            line(1000, "fastrcnn_losses/num_fg_label: 42.0"),
            line(2000, "fastrcnn_losses/box_loss: 0.25"),
            line(3000, "mAP(segm)/small: 0.158"),
        ];
        let plot = svg("job-1", &extract_by_host(&p, &lines));
        assert!(!plot.contains("num_fg_label"), "{plot}");
        // The loss axis ends at 0.5 (the largest loss), not at 50.
        assert!(
            plot.contains(">0.5</text>") && !plot.contains(">50</text>"),
            "{plot}"
        );
        // 2 values of box_loss and the one mAP value: a dot each.
        assert_eq!(plot.matches("<circle").count(), 3, "{plot}");
    }

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
        let mut two_hosts = lines.clone();
        two_hosts.push(LogLine {
            timestamp: 1500,
            host: "algo-2".into(),
            message: "fastrcnn_losses/box_loss: 0.60".into(),
        });
        let plot = svg("job-1", &extract_by_host(&p, &two_hosts));
        assert!(plot.starts_with("<svg") && plot.contains("mAP(bbox)/IoU=0.5:0.95 (algo-1)"));
        // One line per metric and host, not two hosts merged into one.
        assert_eq!(plot.matches("<polyline").count(), 3, "{plot}");
        assert!(plot.contains("fastrcnn_losses/box_loss (algo-2)"));
        assert!(
            plot.contains("time since the first value (s)"),
            "x axis with its unit"
        );
        assert!(plot.contains(">loss (value)<"), "y axis label");
        // Ticks: 0 to the nice maximum (0.6 -> 1), five of them.
        assert!(plot.contains(">0.25<") && plot.contains(">1<"), "{plot}");
        assert_eq!(
            (nice_max(0.6), nice_max(0.3741), nice_max(2.5)),
            (1.0, 0.5, 5.0)
        );
    }

    #[test]
    fn json_points_in_time_order_with_rfc3339_times() {
        let p = Profile::embedded(ModelName::Tensorpack).unwrap();
        let line = |t: i64, host: &str, m: &str| LogLine {
            timestamp: t,
            host: host.into(),
            message: m.into(),
        };
        let lines = [
            line(
                1_795_000_002_000,
                "algo-1",
                "fastrcnn_losses/box_loss: 0.25",
            ),
            line(
                1_795_000_001_000,
                "algo-2",
                "fastrcnn_losses/box_loss: 0.50",
            ),
        ];
        let v = json("job-1", "tensorpack", &extract_by_host(&p, &lines), None);
        assert_eq!(
            v["points"],
            serde_json::json!([
                {"metric": "fastrcnn_losses/box_loss", "host": "algo-2", "time": "2026-11-18T11:06:41Z", "value": 0.5},
                {"metric": "fastrcnn_losses/box_loss", "host": "algo-1", "time": "2026-11-18T11:06:42Z", "value": 0.25},
            ])
        );
        assert_eq!(
            v["metrics"],
            serde_json::json!([{"metric": "fastrcnn_losses/box_loss", "latest": 0.25, "latest_time": "2026-11-18T11:06:42Z", "count": 2}])
        );
        assert_eq!(v["plot"], serde_json::Value::Null);
        let empty = json("job-1", "tensorpack", &HostSeries::new(), None);
        assert_eq!(
            (empty["metrics"].clone(), empty["points"].clone()),
            (serde_json::json!([]), serde_json::json!([]))
        );
    }
}
