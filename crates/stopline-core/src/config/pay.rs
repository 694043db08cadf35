//! The money part of the config: `[pay]` (the workspace's pay model and how standby is split
//! into application lines), a team's own `pay`, and an application's `deploys`.

use serde::Deserialize;
use toml::Spanned;

use super::checker::Checker;
use crate::application::DeployFrequency;
use crate::pay::{CostSplit, PayBasis, PayModel, PaySettings};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPay {
    #[serde(default)]
    model: Option<Spanned<String>>,
    #[serde(default)]
    standby: Option<u64>,
    #[serde(default)]
    per: Option<Spanned<String>>,
    #[serde(default)]
    callout_per_hour: Option<Spanned<u64>>,
    /// Only in `[pay]`: a team cannot split its own rota differently.
    #[serde(default)]
    split: Option<Spanned<String>>,
}

impl Checker<'_> {
    /// `[pay]`: `None` model when absent.
    pub(super) fn pay(&mut self, raw: Option<&RawPay>) -> PaySettings {
        let Some(raw) = raw else {
            return PaySettings::default();
        };
        let split = match &raw.split {
            None => CostSplit::Equal,
            Some(text) => match text.get_ref().as_str() {
                "equal" => CostSplit::Equal,
                "exposure" => CostSplit::Exposure,
                other => {
                    self.problem(
                        text.span(),
                        "pay.split",
                        format!("unknown split {other:?}: expected \"equal\" or \"exposure\""),
                    );
                    CostSplit::Equal
                }
            },
        };
        PaySettings {
            model: self.pay_model(raw, "pay"),
            split,
        }
    }

    /// A team's `pay = { … }`.
    pub(super) fn team_pay(&mut self, raw: &RawPay, key: &str) -> Option<PayModel> {
        if let Some(split) = &raw.split {
            self.problem(
                split.span(),
                format!("{key}.split"),
                "split is set once for the workspace, in [pay]",
            );
        }
        self.pay_model(raw, key)
    }

    fn pay_model(&mut self, raw: &RawPay, key: &str) -> Option<PayModel> {
        let per = match &raw.per {
            None => PayBasis::Week,
            Some(text) => match text.get_ref().as_str() {
                "hour" => PayBasis::Hour,
                "day" => PayBasis::Day,
                "week" => PayBasis::Week,
                other => {
                    self.problem(
                        text.span(),
                        format!("{key}.per"),
                        format!("unknown period {other:?}: expected \"hour\", \"day\" or \"week\""),
                    );
                    return None;
                }
            },
        };
        let standby = raw.standby.unwrap_or(0);
        let model = raw.model.as_ref().map(|m| (m.get_ref().as_str(), m.span()));
        let callout = raw.callout_per_hour.as_ref();
        match model {
            None | Some(("standby_only", _)) => {
                if let Some(callout) = callout {
                    self.problem(
                        callout.span(),
                        format!("{key}.callout_per_hour"),
                        "callout_per_hour needs model = \"standby_and_callout\"",
                    );
                    return None;
                }
                Some(PayModel {
                    standby,
                    per,
                    callout_per_hour: None,
                })
            }
            Some(("standby_and_callout", span)) => match callout {
                Some(rate) => Some(PayModel {
                    standby,
                    per,
                    callout_per_hour: Some(*rate.get_ref()),
                }),
                None => {
                    self.problem(
                        span,
                        format!("{key}.callout_per_hour"),
                        "model \"standby_and_callout\" needs callout_per_hour (paid per hour of out-of-hours response)",
                    );
                    None
                }
            },
            Some(("callout_only", span)) => {
                self.problem(
                    span,
                    format!("{key}.model"),
                    "callout-only pay is unfair (nothing for the disruption of being on call): use \"standby_only\" or \"standby_and_callout\"",
                );
                None
            }
            Some((other, span)) => {
                self.problem(
                    span,
                    format!("{key}.model"),
                    format!("unknown pay model {other:?}: expected \"standby_only\" or \"standby_and_callout\""),
                );
                None
            }
        }
    }

    /// An application's `deploys`.
    pub(super) fn deploys(
        &mut self,
        raw: Option<&Spanned<String>>,
        key: &str,
    ) -> Option<DeployFrequency> {
        let raw = raw?;
        let parsed = DeployFrequency::parse(raw.get_ref());
        if parsed.is_none() {
            self.problem(
                raw.span(),
                key,
                format!(
                    "unknown deployment frequency {:?}: expected \"monthly\", \"fortnightly\", \"weekly\" or \"daily\"",
                    raw.get_ref()
                ),
            );
        }
        parsed
    }
}
