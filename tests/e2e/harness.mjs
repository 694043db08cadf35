// Starts the real desktop app in real WebKit through tauri-driver, on a fresh config and data
// directory of its own, and gives the tests what they drive it with: the WebDriver session, the
// `stopline` CLI on the same files, and the app's webhook. `run` provides the display (Xvfb) and
// a D-Bus session.

import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Builder } from "selenium-webdriver";

export const root = new URL("../../", import.meta.url).pathname;
const artifacts = join(root, "target/e2e-artifacts");

/** A port nothing listens on right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise((resolve) => {
      const socket = net.connect(port, "127.0.0.1");
      socket.on("connect", () => {
        socket.end();
        resolve(true);
      });
      socket.on("error", () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${port}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Starts the app (`build`: "debug" or "release") on the demo workspace with its webhook on a free
 * loopback port, and `config` (TOML) added to the workspace's config. Call `stop()` when done.
 */
export async function startApp(build = "debug", { config: extraConfig = "" } = {}) {
  const app = join(root, `target/${build}/stopline-desktop`);
  const cli = join(root, `target/${build}/stopline`);
  const dir = mkdtempSync(join(tmpdir(), "stopline-e2e-"));
  const webhookPort = await freePort();
  const env = {
    ...process.env,
    STOPLINE_CONFIG: join(dir, "stopline.toml"),
    STOPLINE_DATA_DIR: join(dir, "data"),
    STOPLINE_DESKTOP: "",
    // Start at login writes here, not into the real home.
    XDG_CONFIG_HOME: join(dir, "xdg"),
  };
  const stopline = (...args) => execFileSync(cli, args, { env, encoding: "utf8", maxBuffer: 256 << 20 });
  stopline("init", "--demo");
  const config = readFileSync(env.STOPLINE_CONFIG, "utf8");
  writeFileSync(
    env.STOPLINE_CONFIG,
    `${config}\n[webhook]\nlisten = "127.0.0.1:${webhookPort}"\n${extraConfig}`,
  );

  const driverPort = await freePort();
  const nativePort = await freePort();
  const tauriDriver = spawn(
    "tauri-driver",
    ["--port", String(driverPort), "--native-port", String(nativePort)],
    { env, stdio: ["ignore", "inherit", "inherit"] },
  );
  await waitForPort(driverPort, 20_000);
  // tauri-driver answers at once but hands each session to the WebKitWebDriver it starts; asked
  // before that listens, the session fails with "connection refused".
  await waitForPort(nativePort, 20_000);
  const driver = await new Builder()
    .usingServer(`http://127.0.0.1:${driverPort}/`)
    .withCapabilities({ browserName: "wry", "tauri:options": { application: app } })
    .build();

  /** Posts Alertmanager alerts (`[{labels, annotations}]`, all firing) to the app's webhook. */
  async function postAlerts(alerts) {
    const token = stopline("token").trim();
    const answer = await fetch(`http://127.0.0.1:${webhookPort}/v1/alertmanager`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify({
        version: "4",
        status: "firing",
        alerts: alerts.map((a) => ({
          status: "firing",
          labels: a.labels,
          annotations: a.annotations ?? {},
          startsAt: new Date().toISOString(),
        })),
      }),
    });
    if (answer.status !== 200) throw new Error(`webhook answered ${answer.status}: ${await answer.text()}`);
    return answer.json();
  }

  async function screenshot(name) {
    mkdirSync(artifacts, { recursive: true });
    writeFileSync(join(artifacts, `${name}.png`), await driver.takeScreenshot(), "base64");
  }

  async function stop() {
    await driver.quit().catch(() => undefined);
    tauriDriver.kill();
    // The driver ends the app, except once in a while when the window had gone to the tray: then
    // the app (its pid is in the engine lock) would outlive the tests and hold their output open.
    try {
      const pid = Number(readFileSync(join(dir, "data", "engine.lock"), "utf8").trim());
      // Only if that pid is still this app, never a process that took the number since.
      if (pid > 0 && readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("stopline-desktop")) {
        process.kill(pid, "SIGTERM");
      }
    } catch {
      // No lock, or the app has already gone: nothing to stop.
    }
  }

  return { app, dir, env, webhookPort, driver, stopline, postAlerts, screenshot, stop };
}

/**
 * Posts an alert storm (`total` alerts in POSTs of `batch`, spread over the demo's applications)
 * to the app while the window shows the queue, and measures from inside the window: how many
 * times it re-read the queue, and the longest stall of its event loop (a 20 ms timer's worst
 * lateness: while the window is busy, clicks and keys wait as long), beside the same over a quiet
 * second before. Then waits until the queue shows every open incident the CLI lists.
 */
export async function measureStorm(session, { total, batch }) {
  const { driver, stopline, postAlerts } = session;
  const services = JSON.parse(stopline("apps", "--json")).map((a) => a.match?.service ?? a.id);
  await driver.executeScript(`
    const reads = () => Number(document.querySelector("[data-queue-reads]").dataset.queueReads);
    const probe = { readsBefore: reads(), reads, worstLateMs: 0, last: performance.now() };
    window.__stormProbe = probe;
    probe.timer = setInterval(() => {
      const now = performance.now();
      probe.worstLateMs = Math.max(probe.worstLateMs, now - probe.last - 20);
      probe.last = now;
    }, 20);
  `);
  // The same probe over a quiet second first: how late the timer is when nothing happens.
  await driver.sleep(1_000);
  const idle = await driver.executeScript(`
    const p = window.__stormProbe;
    const worst = p.worstLateMs;
    p.worstLateMs = 0;
    return Math.round(worst);
  `);
  const started = Date.now();
  for (let sent = 0; sent < total; sent += batch) {
    const alerts = [];
    for (let i = sent; i < Math.min(sent + batch, total); i++) {
      alerts.push({ labels: { alertname: `Storm${i % 97}`, service: services[i % services.length], instance: `node-${i}` } });
    }
    await postAlerts(alerts);
  }
  const postedMs = Date.now() - started;
  const open = JSON.parse(stopline("incidents", "--json")).length;
  await driver.wait(async () => {
    const rows = await driver.executeScript("return document.querySelectorAll('tr[data-incident]').length");
    return rows === open;
  }, 20_000);
  const caughtUpMs = Date.now() - started;
  const probe = await driver.executeScript(`
    const p = window.__stormProbe;
    clearInterval(p.timer);
    return { overviews: p.reads() - p.readsBefore, worstLateMs: Math.round(p.worstLateMs) };
  `);
  return { postedMs, caughtUpMs, open, ...probe, idleWorstLateMs: idle };
}
