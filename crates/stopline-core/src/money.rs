//! Money as the domain uses it: a workspace currency and each application's financial exposure.

use std::fmt;

use serde::{Deserialize, Serialize};

/// An ISO 4217 currency code such as `EUR` or `GBP`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid currency {0:?}: expected a three-letter ISO 4217 code such as \"EUR\"")]
pub struct CurrencyError(pub String);

impl Currency {
    pub fn new(code: impl Into<String>) -> Result<Self, CurrencyError> {
        let code = code.into();
        if code.len() == 3 && code.chars().all(|c| c.is_ascii_uppercase()) {
            Ok(Self(code))
        } else {
            Err(CurrencyError(code))
        }
    }

    /// ISO 4217's code for "no currency" (`XXX`): what the config checker carries on with when
    /// the workspace's currency is invalid, so it can report every other problem too. A config
    /// with that problem is never returned, so no amount is ever shown in it.
    pub fn none() -> Self {
        Self("XXX".to_owned())
    }

    pub fn code(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Currency {
    type Error = CurrencyError;
    fn try_from(code: String) -> Result<Self, CurrencyError> {
        Self::new(code)
    }
}

impl From<Currency> for String {
    fn from(currency: Currency) -> String {
        currency.0
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Revenue lost per hour while an application is unavailable, in whole units of the workspace
/// currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ExposurePerHour(pub u64);

impl fmt::Display for ExposurePerHour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&group_thousands(self.0))
    }
}

/// `250000` → `250,000`, for tables people read.
pub fn group_thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn currency_is_three_capitals() {
        assert!(Currency::new("EUR").is_ok());
        assert!(Currency::new("eur").is_err());
        assert!(Currency::new("EURO").is_err());
    }

    #[test]
    fn groups_thousands() {
        assert_eq!(group_thousands(0), "0");
        assert_eq!(group_thousands(999), "999");
        assert_eq!(group_thousands(7000), "7,000");
        assert_eq!(group_thousands(250_000), "250,000");
        assert_eq!(group_thousands(1_234_567), "1,234,567");
    }
}
