// What the team-hub end-to-end test starts beside the app: a real PostgreSQL (Debian's, in a
// temporary directory, as the `postgres` user when we are root, since initdb refuses root), a
// `stopline hub` on it, GNOME Keyring's Secret Service on the test's session bus (where the app
// and the CLI keep hub tokens), and a second desktop joined with the CLI.

import { execFileSync, spawn } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, existsSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./harness.mjs";

const asRoot = process.getuid?.() === 0;

/** Runs a PostgreSQL program, as `postgres` when we are root. */
function pg(bin, program, args) {
  const path = join(bin, program);
  return asRoot
    ? execFileSync("runuser", ["-u", "postgres", "--", path, ...args], { encoding: "utf8" })
    : execFileSync(path, args, { encoding: "utf8" });
}

/** Starts PostgreSQL on a free loopback port with one database `org`; `stop()` when done. */
export async function startPostgres() {
  const installs = "/usr/lib/postgresql";
  const majors = readdirSync(installs)
    .filter((v) => existsSync(join(installs, v, "bin/initdb")))
    .sort((a, b) => Number(a) - Number(b));
  if (majors.length === 0) throw new Error("PostgreSQL is missing: run scripts/setup");
  const bin = join(installs, majors.at(-1), "bin");
  const dir = mkdtempSync(join(tmpdir(), "stopline-e2e-pg-"));
  chmodSync(dir, 0o755);
  const data = join(dir, "pg");
  mkdirSync(data);
  if (asRoot) execFileSync("chown", ["-R", "postgres:postgres", dir]);
  pg(bin, "initdb", ["-D", data, "--auth=trust", "--username=postgres", "--encoding=UTF8", "--locale=C", "--no-sync"]);
  const port = await freePort();
  const options = `-p ${port} -k ${data} -c listen_addresses=127.0.0.1 -c fsync=off`;
  pg(bin, "pg_ctl", ["-D", data, "-o", options, "-l", join(data, "server.log"), "-w", "-t", "60", "start"]);
  pg(bin, "createdb", ["-h", "127.0.0.1", "-p", String(port), "-U", "postgres", "org"]);
  const url = `postgres://postgres@127.0.0.1:${port}/org`;
  const psql = (sql) =>
    pg(bin, "psql", ["-h", "127.0.0.1", "-p", String(port), "-U", "postgres", "-d", "org", "-At", "-c", sql]).trim();
  const stop = () => {
    try {
      pg(bin, "pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]);
    } catch {
      // Already stopped.
    }
  };
  return { url, psql, stop };
}

/** GNOME Keyring's Secret Service on the session bus `run` started; `stop()` when done. */
export async function startKeyring() {
  const dir = mkdtempSync(join(tmpdir(), "stopline-e2e-keyring-"));
  const env = {
    ...process.env,
    HOME: join(dir, "home"),
    XDG_RUNTIME_DIR: join(dir, "run"),
    XDG_DATA_HOME: join(dir, "home/.local/share"),
  };
  mkdirSync(env.HOME, { recursive: true });
  mkdirSync(env.XDG_RUNTIME_DIR, { mode: 0o700 });
  const daemon = spawn("gnome-keyring-daemon", ["--foreground", "--unlock", "--components=secrets"], {
    env,
    stdio: ["pipe", "ignore", "ignore"],
  });
  daemon.stdin.end("e2e-keyring-password");
  const deadline = Date.now() + 20_000;
  for (;;) {
    const names = execFileSync(
      "dbus-send",
      ["--session", "--print-reply", "--dest=org.freedesktop.DBus", "/", "org.freedesktop.DBus.ListNames"],
      { encoding: "utf8" },
    );
    if (names.includes("org.freedesktop.secrets")) break;
    if (Date.now() > deadline) throw new Error("the Secret Service never appeared on the bus");
    await new Promise((r) => setTimeout(r, 100));
  }
  return { stop: () => daemon.kill() };
}

/** A `stopline` child whose log says where it listens; resolves once it does. */
function serveUntilListening(cli, args, env) {
  const child = spawn(cli, args, { env: { ...env, STOPLINE_LOG: "info" }, stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args[0]} never listened:\n${log}`)), 20_000);
    child.stderr.on("data", (chunk) => {
      log += chunk;
      if (/address=\S+/.test(log)) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.on("exit", (code) => reject(new Error(`${args[0]} exited ${code}:\n${log}`)));
  });
}

/**
 * A hub on `database` with the config at `configPath`, on `port`, taking `webhookToken`.
 * Resolves with the child once it listens.
 */
export function startHub(cli, { configPath, database, port, webhookToken }) {
  return serveUntilListening(cli, ["hub", "--listen", `127.0.0.1:${port}`], {
    ...process.env,
    STOPLINE_CONFIG: configPath,
    STOPLINE_DATABASE_URL: database,
    STOPLINE_WEBHOOK_TOKEN: webhookToken,
  });
}

/** A second desktop: its own data directory, joined to `hubUrl` with `token`, serving. */
export async function joinedDesktop(cli, { configPath, hubUrl, token }) {
  const dir = mkdtempSync(join(tmpdir(), "stopline-e2e-desk-"));
  const env = { ...process.env, STOPLINE_CONFIG: configPath, STOPLINE_DATA_DIR: join(dir, "data"), STOPLINE_DESKTOP: "" };
  const stopline = (...args) => execFileSync(cli, args, { env, encoding: "utf8" });
  execFileSync(cli, ["connect", hubUrl, "--token-stdin"], { env, input: `${token}\n`, encoding: "utf8" });
  const child = await serveUntilListening(cli, ["serve", "--listen", "127.0.0.1:0"], env);
  return { stopline, stop: () => child.kill("SIGKILL") };
}

export { writeFileSync };
