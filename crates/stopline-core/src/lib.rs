//! The Stopline domain: what a workspace, team, application, alert and incident are, and the rules
//! that tie them together (the application mapping, the incident state machine, availability
//! targets, on-call rotas and escalation, the Stop The Line checklist and roles, severity from
//! money, what on-call costs and what outages lose, configuration as code).
//!
//! This crate is plain data and pure functions. It does no I/O (the caller reads files and passes
//! text in), spawns no tasks and never reads the system clock on its own: anything that needs the
//! time takes it from a [`Clock`] or as a `now` argument, so tests can move time at will.

pub mod alert;
pub mod application;
pub mod calendar;
pub mod callout;
pub mod clock;
pub mod config;
pub mod cover;
pub mod delivery;
pub mod desk;
pub mod economics;
pub mod escalation;
pub mod ids;
pub mod incident;
pub mod mapping;
pub mod money;
pub mod mutation;
pub mod pay;
pub mod payload;
pub mod pipeline;
pub mod reach;
pub mod rota;
pub mod routing;
pub mod settings;
pub mod severity;
pub mod situation;
pub mod swarm;
pub mod target;
pub mod team;
pub mod text;
pub mod timeline;
pub mod workspace;

pub use alert::{Alert, AlertState, Fingerprint, Labels};
pub use application::{Application, LabelMatcher, MatchOp};
pub use callout::{Callout, EscalationPlan, EscalationStep, Recipient};
pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{Config, ConfigError};
pub use ids::{ApplicationId, IdError, PersonId, RotaId, StepId, TeamId};
pub use incident::{Incident, IncidentId, IncidentState, Severity, Transition, TransitionError};
pub use mapping::{ApplicationMapping, Route};
pub use money::{Currency, ExposurePerHour};
pub use rota::{Rota, Shift};
pub use target::AvailabilityTarget;
pub use team::{EscalationPolicy, Person, Team, TeamKind};
pub use timeline::{TimelineEvent, TimelineKind};
pub use workspace::{WorkingHours, WorkspaceSettings};
