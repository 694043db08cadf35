//! Which function each subcommand runs. The functions live beside the others of their kind:
//! `setup` (the config), `incidents`, `swarm`, `oncall`, `engine`.

use std::sync::Arc;

use stopline_core::clock::SystemClock;
use stopline_engine::api::{Actor, Workspace};
use stopline_engine::files::{self, DataDir};

use crate::args::{Cli, Command, HubCommand, IncidentCommand, SecretCommand};
use crate::context::{Context, parse_id};
use crate::failure::{Failure, Result};
use crate::join;
use crate::{engine, hub, incidents, oncall, setup, swarm};

pub fn run(cli: Cli) -> Result {
    let config_path = match cli.config {
        Some(path) => path,
        None => files::default_config_path().ok_or_else(|| {
            Failure::usage("cannot find a config directory: pass --config or set STOPLINE_CONFIG")
        })?,
    };
    let data_dir = match cli.data_dir {
        Some(path) => path,
        None => files::default_data_dir().ok_or_else(|| {
            Failure::usage("cannot find a data directory: pass --data-dir or set STOPLINE_DATA_DIR")
        })?,
    };
    let cx = Context {
        ws: Workspace::new(config_path, DataDir::new(data_dir), Arc::new(SystemClock)),
        json: cli.json,
    };
    let named = |who: &str| Actor::Named(who.to_owned());
    match cli.command {
        Command::Init { demo, force } => setup::init(&cx, demo, force),
        Command::Check => setup::check(&cx),
        Command::Teams => setup::teams(&cx),
        Command::Apps => setup::apps(&cx),
        Command::Route(args) => incidents::route(&cx, args),
        Command::Open(args) => incidents::open(&cx, args),
        Command::Incidents { state } => incidents::list(&cx, state),
        Command::Incident {
            command: IncidentCommand::Show { id },
        } => incidents::show(&cx, parse_id(&id)?),
        Command::Ack(args) => incidents::acknowledge(&cx, parse_id(&args.id)?, &named(&args.who)),
        Command::Resolve { actor, force } => {
            incidents::resolve(&cx, parse_id(&actor.id)?, &named(&actor.who), force)
        }
        Command::Note {
            id,
            text,
            customer,
            reference,
            who,
        } => {
            let customer = customer.then_some(reference.as_deref());
            incidents::note(&cx, parse_id(&id)?, &text, customer, &named(&who))
        }
        Command::Alerts => incidents::alerts(&cx),
        Command::Unrouted => swarm::unrouted(&cx),
        Command::Assign {
            fingerprint,
            app,
            source,
            save,
            by,
            who,
        } => swarm::assign(
            &cx,
            &fingerprint,
            &app,
            source.as_deref(),
            save.then_some(&by[..]),
            &named(&who),
        ),
        Command::Serve(args) => engine::serve(&cx, args),
        Command::Token => engine::token(&cx),
        Command::Backup { file } => engine::backup(&cx, file.as_deref()),
        Command::Restore { file } => engine::restore(&cx, &file),
        Command::Sync {
            once,
            alertmanagers,
        } => engine::sync(&cx, once, &alertmanagers),
        Command::Sources => engine::sources(&cx),
        Command::Whoami { set, clear } => oncall::whoami(&cx, set.as_deref(), clear),
        Command::Oncall { team, at } => oncall::oncall(&cx, team.as_deref(), at.as_deref()),
        Command::Shifts {
            person,
            rota,
            from,
            to,
            format,
        } => oncall::shifts(&cx, person.as_deref(), rota.as_deref(), &from, &to, format),
        Command::Calendar { person, rota } => {
            oncall::calendar_url(&cx, person.as_deref(), rota.as_deref())
        }
        Command::Override {
            rota,
            layer,
            person,
            from,
            to,
            who,
        } => oncall::add_override(
            &cx,
            (&rota, layer.as_deref()),
            &person,
            (&from, &to),
            &named(&who),
        ),
        Command::Notifications {
            teammates,
            flood_threshold,
            reset,
        } => oncall::notifications(&cx, teammates, flood_threshold, reset),
        Command::NotifyTest => oncall::notify_test(&cx),
        Command::ContactTest { person } => oncall::contact_test(&cx, &person),
        Command::Checklist { id } => swarm::checklist(&cx, parse_id(&id)?),
        Command::Step {
            id,
            step,
            state,
            reason,
            assign,
            who,
        } => swarm::step(
            &cx,
            parse_id(&id)?,
            &step,
            state,
            (reason.as_deref(), assign.as_deref()),
            &named(&who),
        ),
        Command::Role {
            id,
            role,
            person,
            handover,
            who,
        } => swarm::role(&cx, parse_id(&id)?, role, (&person, handover), &named(&who)),
        Command::Join(args) => swarm::join(&cx, parse_id(&args.id)?, &named(&args.who), true),
        Command::Leave(args) => swarm::join(&cx, parse_id(&args.id)?, &named(&args.who), false),
        Command::Severity {
            id,
            severity,
            reason,
            loss,
            who,
        } => swarm::severity(&cx, parse_id(&id)?, severity, (&reason, loss), &named(&who)),
        Command::Line { team } => swarm::line(&cx, team.as_deref()),
        Command::Report {
            from,
            to,
            team,
            format,
            table,
            out,
        } => swarm::report(
            &cx,
            (from.as_deref(), to.as_deref()),
            team.as_deref(),
            (format, table),
            out.as_deref(),
        ),
        Command::Review { id, format, out } => {
            swarm::review(&cx, parse_id(&id)?, format, out.as_deref())
        }
        Command::Status => oncall::status(&cx),
        Command::Connect {
            url,
            token_stdin,
            insecure_plaintext,
        } => join::connect(&cx, &url, token_stdin, insecure_plaintext),
        Command::Disconnect { discard_waiting } => join::disconnect(&cx, discard_waiting),
        Command::Secret {
            command: SecretCommand::Set { name },
        } => engine::secret_set(&name),
        Command::Secret {
            command: SecretCommand::Delete { name },
        } => engine::secret_delete(&name),
        Command::Hub(args) => {
            let url = hub::database_url(&args)?;
            let url = url.as_deref();
            match args.command {
                Some(HubCommand::Migrate) => hub::migrate(&cx, url),
                Some(HubCommand::Audit {
                    person,
                    incident,
                    limit,
                }) => hub::audit(&cx, url, person.as_deref(), incident.as_deref(), limit),
                Some(HubCommand::Token { command }) => hub::token(&cx, url, command),
                Some(HubCommand::Oncall { team, at }) => {
                    hub::oncall(&cx, url, team.as_deref(), at.as_deref())
                }
                None => hub::serve(&cx, &args, url),
            }
        }
    }
}
