//! How people name what is broken, and where it leads: an application's id or name, alert labels
//! written as text, or a customer's words about a journey. The service desk and the command line
//! both go through here, so a search finds the same application from either.

use crate::alert::Labels;
use crate::application::Application;
use crate::config::Config;
use crate::mapping::Route;

/// Why text is not a list of labels, naming the part that is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LabelsError {
    #[error("give at least one key=value (for example service=checkout-api,env=prod)")]
    Empty,
    #[error("{0:?} is not key=value (expected for example service=checkout-api,env=prod)")]
    NotAPair(String),
    #[error("{0:?} has an empty label name")]
    EmptyName(String),
    #[error("{0:?} has an empty value")]
    EmptyValue(String),
    #[error("{0:?} has a quote that is never closed")]
    Unclosed(String),
}

/// Labels as people type them: `name=value` pairs separated by commas or spaces (or both), such
/// as `service=payment-gateway, env=prod`. A value with spaces or commas goes in double quotes
/// (`summary="disk full"`, with `\"` for a quote inside). Names and values must not be empty;
/// a name given twice keeps its last value.
pub fn parse_labels(text: &str) -> Result<Labels, LabelsError> {
    let mut labels = Labels::new();
    for part in split_pairs(text)? {
        let Some((name, value)) = part.split_once('=') else {
            return Err(LabelsError::NotAPair(part));
        };
        let name = name.trim();
        if name.is_empty() {
            return Err(LabelsError::EmptyName(part.clone()));
        }
        let value = unquote(value.trim());
        if value.is_empty() {
            return Err(LabelsError::EmptyValue(part.clone()));
        }
        labels.insert(name.to_owned(), value);
    }
    if labels.is_empty() {
        return Err(LabelsError::Empty);
    }
    Ok(labels)
}

/// Splits at commas and whitespace outside double quotes.
fn split_pairs(text: &str) -> Result<Vec<String>, LabelsError> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' if quoted => {
                current.push(c);
                if let Some(next) = chars.next() {
                    current.push(next);
                }
            }
            '"' => {
                quoted = !quoted;
                current.push(c);
            }
            ',' | ' ' | '\t' | '\n' if !quoted => {
                if !current.is_empty() {
                    parts.push(std::mem::take(&mut current));
                }
            }
            _ => current.push(c),
        }
    }
    if quoted {
        return Err(LabelsError::Unclosed(current));
    }
    if !current.is_empty() {
        parts.push(current);
    }
    // `name = value` with spaces around `=` reads as one pair.
    let mut joined: Vec<String> = Vec::new();
    for part in parts {
        match joined.last_mut() {
            Some(last)
                if (last.ends_with('=') && !part.contains('='))
                    || (part.starts_with('=') && !last.contains('=')) =>
            {
                last.push_str(&part)
            }
            _ => joined.push(part),
        }
    }
    Ok(joined)
}

/// A value without its surrounding quotes, with `\"` and `\\` read as the character.
fn unquote(value: &str) -> String {
    let Some(inner) = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) else {
        return value.to_owned();
    };
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(next) = chars.next() {
                out.push(next);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// How the service desk names what is broken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenTarget {
    /// An application id.
    Application(String),
    /// A customer journey or keyword ("checkout").
    Journey(String),
    /// Alert-style labels (`service=checkout-api`).
    Labels(Labels),
}

/// Why a target leads to no application.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("unknown application {0:?}: expected an application id")]
    UnknownApplication(String),
    #[error("{0} matches no application: name the application instead")]
    Unrouted(String),
}

/// The application a target names, through the application mapping.
pub fn resolve_target<'a>(
    config: &'a Config,
    target: &OpenTarget,
) -> Result<&'a Application, TargetError> {
    match target {
        OpenTarget::Application(id) => config
            .applications
            .iter()
            .find(|a| a.id.as_str() == id)
            .ok_or_else(|| TargetError::UnknownApplication(id.clone())),
        OpenTarget::Journey(journey) => match config.mapping().route_journey(journey) {
            Route::Routed(app) => Ok(app),
            Route::Unrouted => Err(TargetError::Unrouted(format!("journey {journey:?}"))),
        },
        OpenTarget::Labels(labels) => match config.mapping().route_labels(labels) {
            Route::Routed(app) => Ok(app),
            Route::Unrouted => {
                let text: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
                Err(TargetError::Unrouted(format!("labels {}", text.join(","))))
            }
        },
    }
}

/// Where the service desk's words lead, trying in turn: an application's id, its name (any
/// case), alert labels through the application mapping, then a customer journey. `None` when
/// nothing matches.
pub fn find_application<'a>(config: &'a Config, query: &str) -> Option<&'a Application> {
    let query = query.trim();
    if query.is_empty() {
        return None;
    }
    config
        .applications
        .iter()
        .find(|a| a.id.as_str() == query)
        .or_else(|| {
            config
                .applications
                .iter()
                .find(|a| a.name.eq_ignore_ascii_case(query))
        })
        .or_else(|| {
            let labels = parse_labels(query).ok()?;
            config.mapping().route_labels(&labels).application()
        })
        .or_else(|| config.mapping().route_journey(query).application())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DEMO_CONFIG;

    #[test]
    fn labels_read_with_commas_spaces_and_quotes() {
        let labels = parse_labels("service=payment-gateway, env=\"prod\"").unwrap();
        assert_eq!(labels["service"], "payment-gateway");
        assert_eq!(labels["env"], "prod");
        let spaced = parse_labels("service = api summary=\"disk \\\"full\\\", again\"").unwrap();
        assert_eq!(spaced["service"], "api");
        assert_eq!(spaced["summary"], "disk \"full\", again");
        assert_eq!(parse_labels("job=a,job=b").unwrap()["job"], "b");
    }

    #[test]
    fn what_is_not_labels_is_named() {
        assert_eq!(
            parse_labels("customers can't pay"),
            Err(LabelsError::NotAPair("customers".into()))
        );
        assert_eq!(
            parse_labels("service"),
            Err(LabelsError::NotAPair("service".into()))
        );
        assert_eq!(
            parse_labels("service= env=prod"),
            Err(LabelsError::EmptyValue("service=".into()))
        );
        assert_eq!(
            parse_labels("=prod"),
            Err(LabelsError::EmptyName("=prod".into()))
        );
        assert_eq!(parse_labels(" , "), Err(LabelsError::Empty));
        assert!(matches!(
            parse_labels("a=\"open"),
            Err(LabelsError::Unclosed(_))
        ));
    }

    #[test]
    fn the_desk_finds_an_application_by_id_name_labels_or_journey() {
        let config = Config::parse("demo.toml", DEMO_CONFIG).unwrap();
        let found = |q: &str| find_application(&config, q).map(|a| a.id.to_string());
        assert_eq!(found("payment-gateway").as_deref(), Some("payment-gateway"));
        assert_eq!(found("PAYMENT GATEWAY").as_deref(), Some("payment-gateway"));
        assert_eq!(
            found("service=payment-gateway").as_deref(),
            Some("payment-gateway")
        );
        assert!(found("checkout").is_some(), "a journey");
        assert_eq!(found("  "), None);
        assert_eq!(found("no such thing anywhere"), None);
    }
}

/// Why a customer's report cannot be added to an incident.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CustomerReportError {
    #[error("the customer's words must not be empty")]
    NoWords,
    #[error("the reference is longer than {MAX_REFERENCE} characters")]
    LongReference,
}

/// The longest reference (a ticket or call number) a customer report keeps.
pub const MAX_REFERENCE: usize = 100;

/// A customer's report as the note it becomes on an incident that is already open, so the
/// service desk adds to the swarm's picture instead of opening a duplicate:
/// `Customer report (ref CS-4411): "I can't pay"`. An empty reference is no reference.
pub fn customer_report_note(
    words: &str,
    reference: Option<&str>,
) -> Result<String, CustomerReportError> {
    let words = words.trim();
    if words.is_empty() {
        return Err(CustomerReportError::NoWords);
    }
    let reference = reference.map(str::trim).filter(|r| !r.is_empty());
    if reference.is_some_and(|r| r.chars().count() > MAX_REFERENCE) {
        return Err(CustomerReportError::LongReference);
    }
    Ok(match reference {
        Some(reference) => format!("Customer report (ref {reference}): \"{words}\""),
        None => format!("Customer report: \"{words}\""),
    })
}

#[cfg(test)]
mod customer_report_tests {
    use super::*;

    #[test]
    fn a_customer_report_keeps_the_words_and_the_reference() {
        assert_eq!(
            customer_report_note("  I can't pay ", Some(" CS-4411 ")),
            Ok("Customer report (ref CS-4411): \"I can't pay\"".to_owned())
        );
        assert_eq!(
            customer_report_note("I can't pay", Some("")),
            Ok("Customer report: \"I can't pay\"".to_owned())
        );
        assert_eq!(
            customer_report_note(" ", None),
            Err(CustomerReportError::NoWords)
        );
        assert_eq!(
            customer_report_note("x", Some(&"r".repeat(101))),
            Err(CustomerReportError::LongReference)
        );
    }
}
