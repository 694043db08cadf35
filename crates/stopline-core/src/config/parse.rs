//! Reading the file: TOML into the raw shape ([`super::raw`]), syntax errors placed at their
//! `file:line:column`, then the cross-checks ([`super::check`]) that make a [`Config`].

use super::checker::Checker;
use super::model::Config;
use super::problems::{ConfigError, ConfigProblem, LineIndex};
use super::raw::RawConfig;

impl Config {
    /// Parses and cross-checks `text`; `file` is only used to name places in errors.
    pub fn parse(file: &str, text: &str) -> Result<Config, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| ConfigError {
            problems: vec![syntax_problem(file, text, &e)],
        })?;
        let mut checker = Checker {
            file,
            lines: LineIndex::new(text),
            problems: Vec::new(),
        };
        let config = checker.check(raw);
        if checker.problems.is_empty() {
            Ok(config)
        } else {
            Err(ConfigError {
                problems: checker.problems,
            })
        }
    }
}

fn syntax_problem(file: &str, text: &str, error: &toml::de::Error) -> ConfigProblem {
    let span = error.span().unwrap_or(0..0);
    let (line, column) = LineIndex::new(text).position(span.start);
    // The message toml gives is the useful part ("unknown field `colour`, expected one of …");
    // the key, when the span covers one, is the word at that place.
    let at = text.get(span.clone()).unwrap_or("").trim();
    let key = if !at.is_empty()
        && at.len() <= 64
        && at
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
    {
        at.to_owned()
    } else {
        String::new()
    };
    ConfigProblem {
        file: file.to_owned(),
        line,
        column,
        key,
        message: error.message().trim().to_owned(),
    }
}
