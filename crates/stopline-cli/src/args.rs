//! The command line, as clap reads it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "stopline",
    version = stopline_engine::VERSION,
    about = "Incident command for teams that build and run their own software",
    long_about = "Incident command for teams that build and run their own software.\n\n\
        Configuration is a TOML file (see docs/config.md); incidents live in a local SQLite store \
        in the data directory, shared with the desktop app."
)]
pub struct Cli {
    /// Directory holding the incident store.
    #[arg(long, global = true, env = "STOPLINE_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// The configuration file.
    #[arg(long, global = true, env = "STOPLINE_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Print machine-readable JSON (documented in docs/cli.md) instead of tables.
    #[arg(long, global = true)]
    pub json: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a commented example config (or, with --demo, a full demo workspace).
    Init {
        /// Write the demo workspace: 14 delivery teams, a service desk, 35 applications.
        #[arg(long)]
        demo: bool,
        /// Replace an existing config file.
        #[arg(long)]
        force: bool,
    },
    /// Validate the config; every problem is reported with file:line:column.
    Check,
    /// List teams with their members and applications.
    Teams,
    /// List applications with their owner, availability target and exposure.
    Apps,
    /// Show which application and team alert labels or a customer journey route to.
    Route(RouteArgs),
    /// Open an incident for the application a name, journey or labels route to.
    Open(OpenArgs),
    /// List incidents (open ones by default).
    Incidents {
        /// Which incidents to list.
        #[arg(long, value_enum, default_value_t = StateFilter::Open)]
        state: StateFilter,
    },
    /// Show one incident with its timeline.
    Incident {
        #[command(subcommand)]
        command: IncidentCommand,
    },
    /// Acknowledge an incident: you are on it.
    Ack(ActorArgs),
    /// Resolve an incident: availability is back. Refused while required checklist steps are open.
    Resolve {
        #[command(flatten)]
        actor: ActorArgs,
        /// Resolve even with required steps open; the override goes on the timeline.
        #[arg(long)]
        force: bool,
    },
    /// Add a note to an incident's timeline; with --customer, a customer's report in their words.
    Note {
        /// The incident, such as INC-42.
        id: String,
        /// The note (with --customer: the customer's words).
        text: String,
        /// The text is a customer's report, added to an open incident instead of opening another.
        #[arg(long)]
        customer: bool,
        /// The service desk's reference for the report (a ticket or call number).
        #[arg(long = "ref", value_name = "REFERENCE", requires = "customer")]
        reference: Option<String>,
        /// Who writes it (a person id from the config).
        #[arg(long = "as", value_name = "PERSON")]
        who: String,
    },
    /// List alerts received from alert sources.
    Alerts,
    /// Alerts that matched no application: the service desk's queue to triage.
    Unrouted,
    /// Route an unrouted alert to an application by hand; with --save, the next such alert
    /// routes itself.
    Assign {
        /// The alert's fingerprint, as `stopline unrouted` shows it.
        fingerprint: String,
        /// The application it belongs to.
        #[arg(long, value_name = "APP")]
        app: String,
        /// The alert's source, when several sources sent the same fingerprint.
        #[arg(long, value_name = "NAME")]
        source: Option<String>,
        /// Append a [[routes]] rule to the config for alerts with the same labels.
        #[arg(long)]
        save: bool,
        /// The labels the saved rule matches (default: the first of service, app, application,
        /// job that the alert has).
        #[arg(
            long,
            value_name = "LABEL[,LABEL]",
            value_delimiter = ',',
            requires = "save"
        )]
        by: Vec<String>,
        /// Who routes it.
        #[arg(long = "as", value_name = "PERSON")]
        who: String,
    },
    /// Run the engine: the webhook server, Alertmanager polling and the blind-pipeline watch,
    /// until SIGINT or SIGTERM. Works without a config: alerts then route by their labels.
    Serve(ServeArgs),
    /// Print the webhook token senders put in `Authorization: Bearer …` (created on first use).
    Token,
    /// Copy the store to FILE while Stopline runs (SQLite's online backup); without FILE, to
    /// backups/stopline-<time>.db in the data directory. Never replaces a file.
    Backup { file: Option<PathBuf> },
    /// Put a backup in place of the store. No engine (or desktop app) may run on the data
    /// directory; the store it replaces is moved aside, never deleted.
    Restore { file: PathBuf },
    /// Pull alerts from every Alertmanager source into the store: on each source's poll
    /// interval until SIGINT or SIGTERM, or with --once a single pass that exits 1 naming any
    /// source that failed. Nothing is paged and no webhook is served: that is `stopline serve`.
    Sync {
        /// Pull once and exit (0 when every source answered, 1 naming those that did not).
        #[arg(long)]
        once: bool,
        /// An Alertmanager to pull from besides the configured sources (repeatable).
        #[arg(long = "alertmanager", value_name = "URL")]
        alertmanagers: Vec<String>,
    },
    /// Show each alert source's health: ok or failing, last success, last error, failing since.
    Sources,
    /// Show or set who sits at this desktop: their pages show here as notifications.
    Whoami {
        /// The person at this desktop (a person id from the config).
        #[arg(long, value_name = "PERSON")]
        set: Option<String>,
        /// Nobody sits here: pages show only as configured for teammates.
        #[arg(long, conflicts_with = "set")]
        clear: bool,
    },
    /// Who is on call on each layer of each rota, since and until, and who is next.
    Oncall {
        /// Only the rotas that cover this team (its own and its domain's).
        #[arg(long, value_name = "TEAM")]
        team: Option<String>,
        /// Another moment than now: "2026-03-29 09:00" (workspace zone) or RFC 3339.
        #[arg(long, value_name = "TIME")]
        at: Option<String>,
    },
    /// A person's on-call shifts (or a rota's, every layer) between two moments, cut to that
    /// window; `--format ics` writes them as an iCalendar feed.
    Shifts {
        /// A person id from the config.
        #[arg(
            long,
            value_name = "PERSON",
            required_unless_present = "rota",
            conflicts_with = "rota"
        )]
        person: Option<String>,
        /// A rota id: who is on call on each of its layers.
        #[arg(long, value_name = "ROTA")]
        rota: Option<String>,
        /// "2026-03-01" or "2026-03-01 09:00" (workspace zone), or RFC 3339.
        #[arg(long, value_name = "TIME")]
        from: String,
        #[arg(long, value_name = "TIME")]
        to: String,
        /// A table (the default), JSON (as --json), or iCalendar (`ics`) for a calendar app.
        #[arg(long, value_enum)]
        format: Option<ShiftsFormat>,
    },
    /// The address a calendar app subscribes to for a person's (or a rota's) on-call shifts,
    /// served by `stopline serve` or the app: shifts appear in the calendar people already use.
    Calendar {
        /// A person id from the config.
        #[arg(
            long,
            value_name = "PERSON",
            required_unless_present = "rota",
            conflicts_with = "rota"
        )]
        person: Option<String>,
        /// A rota id: every layer's shifts.
        #[arg(long, value_name = "ROTA")]
        rota: Option<String>,
    },
    /// Cover a shift: add an override to a rota in the config (kept beside the rota, comments
    /// kept); a running engine picks it up within seconds.
    Override {
        /// The rota's id, as `stopline oncall` shows it.
        #[arg(long, value_name = "ROTA")]
        rota: String,
        /// The layer's name; the first layer (the primary) when left out.
        #[arg(long, value_name = "LAYER")]
        layer: Option<String>,
        /// Who covers the shift (a person id from the config).
        #[arg(long, value_name = "PERSON")]
        person: String,
        /// "2026-12-24 17:00" (the rota's zone) or "2026-12-24T17:00:00Z".
        #[arg(long, value_name = "TIME")]
        from: String,
        #[arg(long, value_name = "TIME")]
        to: String,
        /// Who adds it.
        #[arg(long = "as", value_name = "PERSON")]
        who: String,
    },
    /// Show or change how pages show on this desktop (on top of the config's [notifications]).
    Notifications {
        /// Also show teammates' pages, as ordinary notifications.
        #[arg(long, value_enum, value_name = "on|off")]
        teammates: Option<OnOff>,
        /// More pages than this within a minute become one summary notification.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
        flood_threshold: Option<u32>,
        /// Forget this desktop's choices: the config decides again.
        #[arg(long, conflicts_with_all = ["teammates", "flood_threshold"])]
        reset: bool,
    },
    /// Send a test page to this desktop's notifications; exit 1 when they are unavailable.
    NotifyTest,
    /// Send a test message to each of a person's contacts (email, webhooks) now, through the
    /// config's [smtp] and webhooks; exit 1 when one does not take it. No incident is opened.
    ContactTest {
        /// The person whose contacts to try, such as aisha.
        #[arg(long)]
        person: String,
    },
    /// Show an incident's Stop The Line checklist.
    Checklist {
        /// The incident, such as INC-42.
        id: String,
    },
    /// Change a checklist step: `stopline step INC-4 restore done --as ben`.
    Step {
        /// The incident, such as INC-42.
        id: String,
        /// The step's id, as `stopline checklist` shows it.
        step: String,
        /// The new state.
        #[arg(value_enum)]
        state: Option<StepStateArg>,
        /// Why it is skipped (required with `skip`).
        #[arg(long)]
        reason: Option<String>,
        /// Who does it (a person id from the config).
        #[arg(long, value_name = "PERSON")]
        assign: Option<String>,
        /// Who makes the change.
        #[arg(long = "as", value_name = "PERSON")]
        who: String,
    },
    /// Name the incident commander, communications lead or scribe.
    Role {
        /// The incident, such as INC-42.
        id: String,
        #[arg(value_enum)]
        role: LeadRole,
        /// The person taking the role.
        person: String,
        /// Take over from whoever holds it now (recorded as a handover).
        #[arg(long)]
        handover: bool,
        /// Who names them.
        #[arg(long = "as", value_name = "PERSON")]
        who: String,
    },
    /// Join the swarm on an incident as a responder.
    Join(ActorArgs),
    /// Leave the swarm on an incident.
    Leave(ActorArgs),
    /// Set an incident's severity by hand, with a reason; money no longer revises it.
    Severity {
        /// The incident, such as INC-42.
        id: String,
        #[arg(value_enum)]
        severity: SeverityArg,
        /// Why (required).
        #[arg(long)]
        reason: String,
        /// Your estimate of the loss, in whole units of the workspace currency: reports use it
        /// instead of exposure × duration.
        #[arg(long, value_name = "AMOUNT")]
        loss: Option<u64>,
        #[arg(long = "as", value_name = "PERSON")]
        who: String,
    },
    /// Write the post-incident review: summary, timeline, checklist, roles, times and loss.
    Review {
        /// The incident, such as INC-42.
        id: String,
        #[arg(long, value_enum, default_value_t = ReviewFormat::Markdown)]
        format: ReviewFormat,
        /// Write it to this file instead of standard output.
        #[arg(long, value_name = "FILE")]
        out: Option<std::path::PathBuf>,
    },
    /// The operability report: on-call cost per team and application, pay per person,
    /// availability against targets, time to acknowledge and restore, revenue insurance.
    Report {
        /// Start: "2026-11-01", "2026-11-01 09:00" (the workspace's zone) or RFC 3339; default
        /// four weeks before --to.
        #[arg(long, value_name = "TIME")]
        from: Option<String>,
        /// End, not included; default now.
        #[arg(long, value_name = "TIME")]
        to: Option<String>,
        /// One team only: its budget, applications and people.
        #[arg(long, value_name = "TEAM")]
        team: Option<String>,
        #[arg(long, value_enum, default_value_t = ReportFormat::Markdown)]
        format: ReportFormat,
        /// With --format csv, which table: people (payroll), costs, availability, times or
        /// incidents.
        #[arg(long, value_enum, default_value_t = ReportTable::People)]
        table: ReportTable,
        /// Write it to this file instead of standard output.
        #[arg(long, value_name = "FILE")]
        out: Option<std::path::PathBuf>,
    },
    /// Whether each team's line runs or is stopped by an incident (exit 0 either way).
    Line {
        /// One team only.
        #[arg(long, value_name = "TEAM")]
        team: Option<String>,
    },
    /// This desktop: who sits here, whether the engine runs, notifications, pages waiting,
    /// and the team hub it has joined.
    Status,
    /// Join a team hub: this desktop becomes one seat of the team's shared incident command.
    /// The person's token (from `stopline hub token create`) is read on standard input and kept
    /// in the OS keyring. Stop the engine first (`stopline serve`, the app).
    Connect {
        /// The hub's address, such as https://hub.example:9177.
        url: String,
        /// Read the token on standard input (the only way: an argument would show in `ps`).
        #[arg(long)]
        token_stdin: bool,
        /// Allow plain http to a hub beyond loopback (the token then travels in the clear).
        #[arg(long)]
        insecure_plaintext: bool,
    },
    /// Leave the team hub: the token leaves the keyring, the replica is moved aside, and this
    /// desktop's own store is used again. Stop the engine first.
    Disconnect {
        /// Leave even though some of your actions have not reached the hub yet (they stay in
        /// the replica set aside).
        #[arg(long)]
        discard_waiting: bool,
    },
    /// Keep a secret (a routing key, an API token) in the OS keyring, for config entries such as
    /// `routing_key_keyring = "NAME"`.
    Secret {
        #[command(subcommand)]
        command: SecretCommand,
    },
    /// The team hub: the organisation's shared incident state on PostgreSQL (docs/hub.md).
    /// Without a subcommand, serve senders' deliveries until SIGINT or SIGTERM; any number of
    /// hubs may serve one database.
    Hub(HubArgs),
}

#[derive(Debug, Args)]
pub struct HubArgs {
    #[command(subcommand)]
    pub command: Option<HubCommand>,
    /// The hub's PostgreSQL database: postgres://USER[:PASSWORD]@HOST:PORT/DATABASE. Prefer the
    /// environment variable: an argument shows in `ps` and shell history.
    #[arg(
        long,
        global = true,
        env = "STOPLINE_DATABASE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub database: Option<String>,
    /// A file whose first line is the database URL (for one with a password, such as a systemd
    /// credential), when --database and STOPLINE_DATABASE_URL are not given.
    #[arg(
        long,
        global = true,
        env = "STOPLINE_DATABASE_URL_FILE",
        value_name = "FILE",
        conflicts_with = "database"
    )]
    pub database_url_file: Option<std::path::PathBuf>,
    /// Where to listen (default 127.0.0.1:9178, beside a desktop's 9177).
    #[arg(long, value_name = "IP:PORT")]
    pub listen: Option<std::net::SocketAddr>,
    /// A file whose first line is the bearer token senders present (default:
    /// $STOPLINE_WEBHOOK_TOKEN). Every hub of one database takes the same.
    #[arg(long, value_name = "FILE")]
    pub webhook_token_file: Option<std::path::PathBuf>,
    /// Serve HTTPS with this PEM certificate chain (the hub's certificate first); with
    /// --tls-key.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<std::path::PathBuf>,
    /// The PEM private key of --tls-cert (keep it mode 0600).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<std::path::PathBuf>,
    /// Serve plain HTTP on an address other than loopback, without --tls-cert: only behind a
    /// proxy that terminates TLS.
    #[arg(long)]
    pub insecure_plaintext: bool,
}

#[derive(Debug, Subcommand)]
pub enum HubCommand {
    /// Bring the hub's database schema up to this Stopline's, forward only; refused (changing
    /// nothing) when the database is newer. Safe to run from several hubs at once.
    Migrate,
    /// People's tokens, which desktops act with on the hub (an administrator's command: it
    /// needs the database itself).
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Who is on call as the hub sees it: the config's rotas with the overrides desktops pushed
    /// (what escalation on the hub pages by, and GET /v1/oncall shows).
    Oncall {
        /// Only the rotas covering this team.
        #[arg(long, value_name = "TEAM")]
        team: Option<String>,
        /// At this moment instead of now (a time with an offset, or wall-clock in the
        /// workspace's zone).
        #[arg(long, value_name = "TIME")]
        at: Option<String>,
    },
    /// The audit, newest first: every mutation desktops pushed (person, desktop, when made and
    /// received, arguments, outcome) and every change to tokens.
    Audit {
        /// Only what this person did.
        #[arg(long, value_name = "PERSON")]
        person: Option<String>,
        /// Only what was done to this incident (INC-42 or 42).
        #[arg(long, value_name = "INCIDENT")]
        incident: Option<String>,
        /// At most this many entries.
        #[arg(long, default_value_t = 50, value_name = "N")]
        limit: u32,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Make a token for a person of the config; it is printed this once (the hub keeps only a
    /// hash of it).
    Create {
        #[arg(long, value_name = "PERSON")]
        person: String,
    },
    /// Every token made: id, person, when made and revoked (never the tokens).
    List,
    /// Revoke a token by its id: it stops working at once.
    Revoke { id: i64 },
}

#[derive(Debug, Subcommand)]
pub enum SecretCommand {
    /// Store the secret read from standard input (never an argument: those show in `ps` and
    /// shell history) under NAME: `stopline secret set stock-events < key.txt`.
    Set { name: String },
    /// Remove NAME from the keyring.
    Delete { name: String },
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address for the webhook server (default from [webhook] listen, else 127.0.0.1:9177).
    #[arg(long, value_name = "IP:PORT")]
    pub listen: Option<std::net::SocketAddr>,
    /// An Alertmanager to poll (repeatable; several are one HA cluster, source "alertmanager").
    #[arg(long = "alertmanager", value_name = "URL")]
    pub alertmanagers: Vec<String>,
    /// The webhook bearer token (default: $STOPLINE_WEBHOOK_TOKEN, else the one stored in the
    /// data directory). Every user of the machine can read it in `ps`: prefer the variable or
    /// --webhook-token-file.
    #[arg(long, value_name = "TOKEN", conflicts_with = "webhook_token_file")]
    pub webhook_token: Option<String>,
    /// A file whose first line is the webhook bearer token.
    #[arg(long, value_name = "FILE")]
    pub webhook_token_file: Option<std::path::PathBuf>,
    /// A host name to accept in the Host header besides the loopback names (repeatable).
    #[arg(long = "allow-host", value_name = "NAME")]
    pub allow_hosts: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum IncidentCommand {
    /// Show an incident and its timeline.
    Show {
        /// The incident, such as INC-42.
        id: String,
    },
}

#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct RouteArgs {
    /// Alert labels, such as service=checkout-api,env=prod.
    #[arg(long, value_name = "K=V[,K=V]")]
    pub labels: Option<String>,
    /// A customer journey or keyword, such as checkout.
    #[arg(long, value_name = "WORDS")]
    pub journey: Option<String>,
}

#[derive(Debug, Args)]
pub struct OpenArgs {
    #[command(flatten)]
    pub target: OpenTargetArgs,
    /// What is wrong, in the customer's words.
    #[arg(long)]
    pub title: String,
    /// Who opens it (a person id from the config).
    #[arg(long = "as", value_name = "PERSON")]
    pub who: String,
}

#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct OpenTargetArgs {
    /// An application id.
    #[arg(long, value_name = "APP")]
    pub app: Option<String>,
    /// A customer journey or keyword.
    #[arg(long, value_name = "WORDS")]
    pub journey: Option<String>,
    /// Alert labels, such as service=checkout-api.
    #[arg(long, value_name = "K=V[,K=V]")]
    pub labels: Option<String>,
}

#[derive(Debug, Args)]
pub struct ActorArgs {
    /// The incident, such as INC-42.
    pub id: String,
    /// Who does it (a person id from the config).
    #[arg(long = "as", value_name = "PERSON")]
    pub who: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReviewFormat {
    /// A Markdown document for people.
    Markdown,
    /// The same facts as JSON, for tools (also what --json gives).
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ShiftsFormat {
    Table,
    Json,
    Ics,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Markdown,
    Json,
    Csv,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportTable {
    People,
    Costs,
    Availability,
    Times,
    Incidents,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StepStateArg {
    Todo,
    Doing,
    Done,
    Skip,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LeadRole {
    Commander,
    Comms,
    Scribe,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SeverityArg {
    Major,
    Minor,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StateFilter {
    /// Triggered or acknowledged.
    Open,
    Triggered,
    Acknowledged,
    Resolved,
    All,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OnOff {
    On,
    Off,
}
