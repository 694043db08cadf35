//! Identifiers of things defined in configuration: people, teams, applications and rotas.
//!
//! An id is a short slug (`payments`, `checkout-api`, `alice`) that appears in config files, on the
//! command line and in the store, so it is restricted to characters that need no quoting anywhere.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a string is not a valid id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid id {value:?}: use 1 to 64 characters from a-z, 0-9, '-', '_' and '.', starting with a letter or digit"
)]
pub struct IdError {
    pub value: String,
}

fn validate(value: &str) -> Result<(), IdError> {
    let valid = !value.is_empty()
        && value.len() <= 64
        && value.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'));
    if valid {
        Ok(())
    } else {
        Err(IdError {
            value: value.to_owned(),
        })
    }
}

macro_rules! slug_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn new(value: impl Into<String>) -> Result<Self, IdError> {
                let value = value.into();
                validate(&value)?;
                Ok(Self(value))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(value: String) -> Result<Self, IdError> {
                Self::new(value)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl std::str::FromStr for $name {
            type Err = IdError;
            fn from_str(value: &str) -> Result<Self, IdError> {
                Self::new(value)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

slug_id!(
    /// A person, as named in config (`alice`).
    PersonId
);
slug_id!(
    /// A team, as named in config (`payments`).
    TeamId
);
slug_id!(
    /// An application, as named in config (`checkout-api`).
    ApplicationId
);
slug_id!(
    /// An on-call rota, as named in config (`payments-oncall`).
    RotaId
);
slug_id!(
    /// A checklist step (`restart-the-line`).
    StepId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_slugs() {
        for ok in [
            "a",
            "payments",
            "checkout-api",
            "svc_2",
            "eu.west",
            "9lives",
        ] {
            assert!(TeamId::new(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn rejects_what_would_need_quoting() {
        for bad in ["", "Payments", "-x", "a b", "ä", "a/b", &"x".repeat(65)] {
            assert!(TeamId::new(bad).is_err(), "{bad}");
        }
    }
}
