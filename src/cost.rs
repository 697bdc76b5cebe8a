//! Cost estimates from the price table in `templates/pricing/prices.yaml` (embedded).
//!
//! Estimates only: on-demand list prices of one region, recorded by hand on the date the table
//! names; no data transfer, requests, taxes or free tier. The table says where its numbers
//! come from.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::spec::StackSpec;
use crate::spec::file::{FsxDeploymentType, NatMode};
use crate::spec::{Network, Notebook};

/// The embedded price table.
pub const PRICES_YAML: &str = include_str!("../templates/pricing/prices.yaml");

/// The price table.
#[derive(Debug, Clone, Deserialize)]
pub struct Prices {
    /// Currency of every price.
    pub currency: String,
    /// Region the prices are from.
    pub region: String,
    /// When they were recorded.
    pub recorded: String,
    /// Hours in a billing month.
    pub hours_per_month: f64,
    /// Per NAT gateway hour.
    pub nat_gateway_hour: f64,
    /// Per public IPv4 address hour.
    pub public_ipv4_hour: f64,
    /// FSx for Lustre per GB-month, by deployment type (and throughput for PERSISTENT_2).
    pub fsx_lustre_gb_month: BTreeMap<String, f64>,
    /// EFS Standard per GB-month.
    pub efs_standard_gb_month: f64,
    /// S3 Standard per GB-month.
    pub s3_standard_gb_month: f64,
    /// SageMaker ML storage per GB-month.
    pub sagemaker_ml_storage_gb_month: f64,
    /// Notebook instances per hour.
    pub notebook_hour: BTreeMap<String, f64>,
    /// Training instances per hour.
    pub training_hour: BTreeMap<String, f64>,
}

impl Prices {
    /// The embedded table.
    pub fn embedded() -> Self {
        serde_yaml::from_str(PRICES_YAML).expect("the embedded price table parses (tested)")
    }
}

/// One line of an estimate.
#[derive(Debug, Clone, Serialize)]
pub struct CostLine {
    /// What is billed.
    pub item: String,
    /// Per hour, when it runs all the time.
    pub hourly: Option<f64>,
    /// Per month.
    pub monthly: Option<f64>,
    /// How the number was made, or why there is none.
    pub note: String,
}

/// The estimate of a stack's running cost.
#[derive(Debug, Clone, Serialize)]
pub struct Estimate {
    /// The lines.
    pub lines: Vec<CostLine>,
    /// Sum of the hourly figures.
    pub hourly_total: f64,
    /// Sum of the monthly figures.
    pub monthly_total: f64,
    /// Currency, region and date of the prices.
    pub basis: String,
}

/// A price with enough digits to read: two decimals from 1 up, three significant digits
/// below (0.045, not 0.04; 0.0123; 0.50).
pub fn money(v: f64) -> String {
    if v == 0.0 || !v.is_finite() || v.abs() >= 1.0 {
        return format!("{v:.2}");
    }
    let decimals = (2 - v.abs().log10().floor() as i32).max(2) as usize;
    let text = format!("{v:.decimals$}");
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    let frac = frac.trim_end_matches('0');
    format!("{int}.{frac:0<2}")
}

/// Estimates what the stack costs while it exists (data stored and traffic not included
/// except where a line says so).
pub fn estimate(spec: &StackSpec, prices: &Prices) -> Estimate {
    let h = prices.hours_per_month;
    let mut lines = Vec::new();
    let hourly_line = |item: String, hourly: f64, note: String| CostLine {
        item,
        hourly: Some(hourly),
        monthly: Some(hourly * h),
        note,
    };
    if let Network::Create(n) = &spec.network {
        let nats = match n.nat {
            NatMode::Single => 1,
            NatMode::PerAz => n.public_subnets.len(),
        };
        lines.push(hourly_line(
            format!("NAT gateway x{nats}"),
            nats as f64 * prices.nat_gateway_hour,
            format!(
                "{} per hour each, plus {} per GB processed",
                prices.nat_gateway_hour, prices.nat_gateway_hour
            ),
        ));
        lines.push(hourly_line(
            format!("public IPv4 x{nats}"),
            nats as f64 * prices.public_ipv4_hour,
            "the NAT gateways' Elastic IPs".to_owned(),
        ));
    }
    if let Some(fsx) = &spec.fsx {
        let key = match fsx.deployment_type {
            FsxDeploymentType::Scratch2 => "SCRATCH_2".to_owned(),
            FsxDeploymentType::Persistent2 => {
                format!(
                    "PERSISTENT_2_{}",
                    fsx.per_unit_storage_throughput.unwrap_or(125)
                )
            }
        };
        match prices.fsx_lustre_gb_month.get(&key) {
            Some(per_gb) => {
                let monthly = f64::from(fsx.storage_gib) * per_gb;
                lines.push(CostLine {
                    item: format!("FSx for Lustre {key} {} GiB", fsx.storage_gib),
                    hourly: Some(monthly / h),
                    monthly: Some(monthly),
                    note: format!("{per_gb} per GB-month"),
                });
            }
            None => lines.push(CostLine {
                item: format!("FSx for Lustre {key}"),
                hourly: None,
                monthly: None,
                note: "no price in the table".to_owned(),
            }),
        }
    }
    if let Some(notebook) = &spec.notebook {
        lines.push(notebook_line(notebook, prices));
        let storage = f64::from(notebook.volume_gib.get()) * prices.sagemaker_ml_storage_gb_month;
        lines.push(CostLine {
            item: format!("notebook volume {} GiB", notebook.volume_gib),
            hourly: Some(storage / h),
            monthly: Some(storage),
            note: format!("{} per GB-month", prices.sagemaker_ml_storage_gb_month),
        });
    }
    if spec.efs.is_some() {
        lines.push(CostLine {
            item: "EFS storage".to_owned(),
            hourly: None,
            monthly: None,
            note: format!(
                "{} per GB-month stored; the COCO 2017 layout (about 20 GB) costs about {:.2} per month",
                prices.efs_standard_gb_month,
                20.0 * prices.efs_standard_gb_month
            ),
        });
    }
    lines.push(CostLine {
        item: "S3 data".to_owned(),
        hourly: None,
        monthly: None,
        note: format!(
            "{} per GB-month; the COCO 2017 layout (about 20 GB) costs about {:.2} per month",
            prices.s3_standard_gb_month,
            20.0 * prices.s3_standard_gb_month
        ),
    });
    let hourly_total = lines.iter().filter_map(|l| l.hourly).sum();
    let monthly_total = lines.iter().filter_map(|l| l.monthly).sum();
    Estimate {
        lines,
        hourly_total,
        monthly_total,
        basis: format!(
            "{} on-demand list prices of {}, recorded {} (templates/pricing/prices.yaml)",
            prices.currency, prices.region, prices.recorded
        ),
    }
}

fn notebook_line(notebook: &Notebook, prices: &Prices) -> CostLine {
    let ty = notebook.instance_type.as_str();
    match prices.notebook_hour.get(ty) {
        Some(hourly) => CostLine {
            item: format!("notebook {ty}"),
            hourly: Some(*hourly),
            monthly: Some(hourly * prices.hours_per_month),
            note: "while running; stop it to pay only for its volume".to_owned(),
        },
        None => CostLine {
            item: format!("notebook {ty}"),
            hourly: None,
            monthly: None,
            note: "no price in the table".to_owned(),
        },
    }
}

/// The most a training job can cost: instances x hourly price x max run; `None` when the
/// instance type is not in the table.
pub fn training_ceiling(
    prices: &Prices,
    instance_type: &str,
    count: u32,
    max_run_seconds: u32,
) -> Option<f64> {
    prices
        .training_hour
        .get(instance_type)
        .map(|hourly| hourly * f64::from(count) * f64::from(max_run_seconds) / 3600.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::SpecSource;

    #[test]
    fn the_default_stack_costs_what_the_table_says() {
        let prices = Prices::embedded();
        let spec = SpecSource::embedded_default().load().unwrap();
        let e = estimate(&spec, &prices);
        // NAT 0.045 + IPv4 0.005 + FSx 1200*0.14/730 + notebook 0.461 + volume 200*0.14/730.
        let expected = 0.045 + 0.005 + 1200.0 * 0.14 / 730.0 + 0.461 + 200.0 * 0.14 / 730.0;
        assert!((e.hourly_total - expected).abs() < 1e-9, "{e:?}");
        assert!((e.monthly_total - expected * 730.0).abs() < 1e-6);
        assert!(e.basis.contains("recorded 2026-11-22"));
        assert!(prices.training_hour.contains_key("ml.p3.16xlarge"));
    }
}

#[cfg(test)]
mod money_tests {
    #[test]
    fn small_prices_keep_three_significant_digits() {
        let cases = [
            (0.045, "0.045"),
            (0.0123, "0.0123"),
            (0.5, "0.50"),
            (0.0, "0.00"),
            (1.234, "1.23"),
            (570.0, "570.00"),
            (0.1, "0.10"),
        ];
        for (v, text) in cases {
            assert_eq!(super::money(v), text, "{v}");
        }
    }
}
