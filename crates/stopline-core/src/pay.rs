//! How people are paid for being on call: the pay models (standby only, or standby and callout;
//! callout-only pay is unfair and not offered), and how a rota's standby cost is split into one
//! line per application. The config sets them (`[pay]`, a team's `pay`); `economics` adds up
//! what they cost.

use serde::Serialize;

/// What a rate is paid per.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PayBasis {
    Hour,
    Day,
    Week,
}

impl PayBasis {
    pub fn hours(self) -> f64 {
        match self {
            Self::Hour => 1.0,
            Self::Day => 24.0,
            Self::Week => 168.0,
        }
    }
}

/// How people are paid for being on call: a flat standby rate, and with "standby and callout" an
/// hourly rate while responding out of hours. (Callout-only pay is unfair and not offered.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PayModel {
    /// Paid per `per` on call, whether paged or not, in whole units of the currency.
    pub standby: u64,
    pub per: PayBasis,
    /// Paid per hour of out-of-hours response; `None` for "standby only".
    pub callout_per_hour: Option<u64>,
}

impl PayModel {
    pub fn standby_per_hour(&self) -> f64 {
        self.standby as f64 / self.per.hours()
    }

    pub fn name(&self) -> &'static str {
        if self.callout_per_hour.is_some() {
            "standby and callout"
        } else {
            "standby only"
        }
    }
}

impl Default for PayModel {
    /// Nothing configured: nothing paid, and the report says so.
    fn default() -> Self {
        Self {
            standby: 0,
            per: PayBasis::Week,
            callout_per_hour: None,
        }
    }
}

/// How a rota's standby cost is split into one line per application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CostSplit {
    /// Every application the rota covers gets the same share.
    #[default]
    Equal,
    /// Shares in proportion to each application's exposure per hour.
    Exposure,
}

/// The workspace's `[pay]`: the default pay model and how standby is split.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PaySettings {
    /// `None` when the config has no `[pay]`: costs are zero and the report warns.
    pub model: Option<PayModel>,
    pub split: CostSplit,
}
