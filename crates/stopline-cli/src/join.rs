//! `stopline connect` and `stopline disconnect`: joining a team hub and leaving it
//! (docs/team.md). The engine does the work; this reads the token and says what happened.

use std::io::Read;

use stopline_engine::secrets::OsKeyring;

use crate::context::Context;
use crate::engine::runtime;
use crate::failure::{Failure, Result};
use crate::output::print_json;

pub fn connect(cx: &Context, url: &str, token_stdin: bool, insecure_plaintext: bool) -> Result {
    if !token_stdin {
        return Err(Failure::usage(
            "give --token-stdin and the token on standard input (echo \"$TOKEN\" | stopline connect URL --token-stdin): a token as an argument would show in `ps`",
        ));
    }
    if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        eprintln!("stopline: paste the token, then press Ctrl-D");
    }
    let mut token = String::new();
    std::io::stdin()
        .read_to_string(&mut token)
        .map_err(|e| Failure::refused(format!("cannot read the token from standard input: {e}")))?;
    if token.trim().is_empty() {
        return Err(Failure::usage(
            "no token on standard input: nothing was changed",
        ));
    }
    let connected =
        runtime()?.block_on(cx.ws.connect(url, &token, insecure_plaintext, &OsKeyring))?;
    if cx.json {
        print_json(&serde_json::json!({
            "hub": connected.link.url,
            "person": connected.link.person,
            "name": connected.name,
            "desktop_id": connected.link.desktop_id,
            "incidents": connected.incidents,
            "standalone_store": connected.standalone.display().to_string(),
        }));
        return Ok(());
    }
    let who = connected.name.as_deref().map_or_else(
        || connected.link.person.clone(),
        |name| format!("{name} ({})", connected.link.person),
    );
    out!(
        "Joined {} as {who}; this desktop is {}.",
        connected.link.url,
        connected.link.desktop_id
    );
    out!(
        "{} incidents from the hub. This desktop's own history stays in {}.",
        connected.incidents,
        connected.standalone.display()
    );
    out!("Start the engine (stopline serve, or the app) to stay in step and get your pages.");
    Ok(())
}

pub fn disconnect(cx: &Context, discard_waiting: bool) -> Result {
    let left = cx.ws.disconnect(discard_waiting, &OsKeyring)?;
    if cx.json {
        print_json(&serde_json::json!({
            "hub": left.link.url,
            "person": left.link.person,
            "replica_kept": left.replica_kept.display().to_string(),
            "discarded": left.discarded,
        }));
        return Ok(());
    }
    out!(
        "Left {}. The replica is kept at {}; this desktop uses its own store again.",
        left.link.url,
        left.replica_kept.display()
    );
    if left.discarded > 0 {
        out!(
            "{} actions had not reached the hub: they are in the replica set aside, not on the hub.",
            left.discarded
        );
    }
    Ok(())
}
