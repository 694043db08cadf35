//! The hub: the organisation's shared incident state on PostgreSQL, for every desktop of every
//! team (docs/hub.md). Any number of `stopline hub` processes run on one database; correctness
//! rests on row locks, unique constraints and transactions retried on serialization failures,
//! never on session advisory locks, so PostgreSQL-compatible distributed engines stay possible.
//!
//! What is here: connecting to the database ([`Database`]) and its schema, migrated forward
//! only and refused when newer than this build ([`Database::migrate`]); intake of routed alerts
//! ([`Database::ingest`]) and escalation ([`Database::escalate`]); desktops' pushes of
//! mutations ([`Database::push`]) and pulls of changes in commit order ([`Database::pull`]);
//! and the server ([`HubServer`]) senders deliver to and desktops push, pull and stream from,
//! which keeps `stopline-http`'s contract as a desktop's `stopline serve` does. The rules the
//! hub applies are `stopline-core`'s, the same a desktop applies.

mod ack_link;
mod audit;
mod contacts;
mod database;
mod error;
mod escalation;
mod intake;
mod oncall;
mod polling;
mod protocol;
mod pull;
mod push;
mod rows;
mod schema;
mod server;
mod sources;
mod state;
mod stream;
mod tokens;
mod writeback;

pub use audit::{AuditEntry, AuditFilter};
pub use contacts::{ContactSender, SecretResolver};
pub use database::Database;
pub use error::HubError;
pub use escalation::{EscalationPass, escalate_every};
pub use intake::IntakeSummary;
pub use polling::Pollers;
pub use pull::{COOKIE_LIFETIME, Cookie, Pulled, PulledAlert, PulledIncident};
pub use push::{Outcome, Pushed};
pub use schema::{Migrated, SCHEMA_VERSION};
pub use server::HubServer;
pub use state::{HubState, RoutingKey};
pub use stopline_alertmanager::{AlertmanagerClient, AlertmanagerSource};
pub use stopline_core::routing::AlertObservation;
pub use stopline_http::{TlsAcceptor, tls_acceptor};
pub use tokens::{NewToken, TokenInfo};
pub use writeback::WriteBack;

pub type Result<T, E = HubError> = std::result::Result<T, E>;
