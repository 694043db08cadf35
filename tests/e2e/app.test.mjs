// The real desktop app (target/debug/stopline-desktop, with the UI embedded) in real WebKit,
// driven through tauri-driver and WebKitWebDriver. `tests/e2e/run` provides the display (Xvfb)
// and a D-Bus session; each test file gets its own config and data directory.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Builder, By, until } from "selenium-webdriver";

const root = new URL("../../", import.meta.url).pathname;
const app = join(root, "target/debug/stopline-desktop");
const cli = join(root, "target/debug/stopline");
const artifacts = join(root, "target/e2e-artifacts");

/** A port nothing listens on right now. */
function freePort() {
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

let dir;
let env;
let webhookPort;
let tauriDriver;
let driver;

/** The `stopline` CLI on this test's config and data directory. */
function stopline(...args) {
  return execFileSync(cli, args, { env, encoding: "utf8" });
}

async function screenshot(name) {
  mkdirSync(artifacts, { recursive: true });
  writeFileSync(join(artifacts, `${name}.png`), await driver.takeScreenshot(), "base64");
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "stopline-e2e-"));
  webhookPort = await freePort();
  env = {
    ...process.env,
    STOPLINE_CONFIG: join(dir, "stopline.toml"),
    STOPLINE_DATA_DIR: join(dir, "data"),
    STOPLINE_DESKTOP: "",
  };
  stopline("init", "--demo");
  const config = readFileSync(env.STOPLINE_CONFIG, "utf8");
  writeFileSync(env.STOPLINE_CONFIG, `${config}\n[webhook]\nlisten = "127.0.0.1:${webhookPort}"\n`);

  const driverPort = await freePort();
  const nativePort = await freePort();
  tauriDriver = spawn(
    "tauri-driver",
    ["--port", String(driverPort), "--native-port", String(nativePort)],
    { env, stdio: ["ignore", "inherit", "inherit"] },
  );
  await waitForPort(driverPort, 20_000);
  driver = await new Builder()
    .usingServer(`http://127.0.0.1:${driverPort}/`)
    .withCapabilities({ browserName: "wry", "tauri:options": { application: app } })
    .build();
});

after(async () => {
  await driver?.quit().catch(() => undefined);
  tauriDriver?.kill();
});

test("the app runs the engine, and an alert posted to its webhook is in the queue within 2 s", async () => {
  await driver.wait(until.elementLocated(By.css(".engine.ok")), 20_000);
  const status = await driver.findElement(By.css(".engine.ok")).getText();
  assert.match(status, new RegExp(`Engine running: alerts to http://127.0.0.1:${webhookPort}`));

  const token = stopline("token").trim();
  const posted = Date.now();
  const answer = await fetch(`http://127.0.0.1:${webhookPort}/v1/alertmanager`, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: JSON.stringify({
      version: "4",
      status: "firing",
      alerts: [
        {
          status: "firing",
          labels: { alertname: "HighErrorRate", service: "payment-gateway" },
          annotations: { summary: "5xx above 5%" },
          startsAt: new Date().toISOString(),
        },
      ],
    }),
  });
  assert.equal(answer.status, 200);
  assert.deepEqual((await answer.json()).opened, ["INC-1"]);

  const row = await driver.wait(until.elementLocated(By.css('tr[data-incident="INC-1"]')), 2_000);
  const shownAfter = Date.now() - posted;
  assert.ok(shownAfter <= 2_000, `shown after ${shownAfter} ms`);
  const text = await row.getText();
  assert.match(text, /Payment Gateway/);
  assert.match(text, /Payments/);
  assert.match(text, /major/);
  await screenshot("queue-with-alert");
});

test("acknowledging in the app updates the view, and the CLI agrees", async () => {
  // Who sits at this desk: what the app does is recorded as them.
  const picker = await driver.findElement(By.css("label.me select"));
  await picker.findElement(By.css('option[value="ben"]')).click();
  await driver.wait(async () => JSON.parse(stopline("whoami", "--json")).person === "ben", 5_000);

  await driver.findElement(By.xpath("//td[@class='id']/button[text()='INC-1']")).click();
  const panel = await driver.wait(until.elementLocated(By.css('[data-incident-panel="INC-1"]')), 5_000);
  await panel.findElement(By.xpath(".//button[text()='Acknowledge']")).click();
  await driver.wait(
    until.elementLocated(By.css('[data-incident-panel="INC-1"] [data-state="acknowledged"]')),
    5_000,
  );
  const shown = JSON.parse(stopline("incident", "show", "INC-1", "--json"));
  assert.equal(shown.state, "acknowledged");
  assert.equal(shown.acknowledged_by, "ben");
  await screenshot("incident-acknowledged");
});

test("a checklist step done in the app appears on the timeline", async () => {
  const done = await driver.wait(
    until.elementLocated(By.css('li[data-step="stop-the-line"] button[aria-label^="Done"]')),
    5_000,
  );
  await done.click();
  await driver.wait(until.elementLocated(By.css('li[data-step="stop-the-line"][data-state="done"]')), 5_000);
  const entry = "Stop the line: halt feature work and tell the team: done";
  await driver.wait(async () => {
    const timeline = await driver.findElement(By.css("ol.timeline")).getText();
    return timeline.includes(entry);
  }, 5_000);
  const shown = JSON.parse(stopline("incident", "show", "INC-1", "--json"));
  const event = shown.timeline.find((e) => e.detail === entry);
  assert.ok(event, JSON.stringify(shown.timeline));
  assert.equal(event.who, "ben");
  assert.equal(event.kind, "checklist");
  await screenshot("incident-checklist");
});

test("the service desk opens an incident by journey and it lands on the right team", async () => {
  await driver.findElement(By.xpath("//nav//button[text()='Service desk']")).click();
  const query = await driver.wait(until.elementLocated(By.id("desk-query")), 5_000);
  await query.sendKeys("Customers can't log in");
  await driver.findElement(By.xpath("//button[text()='Find the owner']")).click();
  const route = await driver.wait(until.elementLocated(By.css("[data-route]")), 5_000);
  assert.equal(await route.getAttribute("data-route"), "login");
  assert.equal(await route.findElement(By.css("[data-team]")).getText(), "Identity");
  await screenshot("service-desk-route");
  await driver.findElement(By.xpath("//button[text()='Open incident']")).click();
  await driver.wait(until.elementLocated(By.css('[data-incident-panel="INC-2"]')), 5_000);
  const shown = JSON.parse(stopline("incident", "show", "INC-2", "--json"));
  assert.equal(shown.team, "identity");
  assert.equal(shown.application, "login");
  assert.equal(shown.opened_by, "ben");
  assert.equal(shown.title, "Customers can't log in");
  assert.equal(shown.escalation.status, "due", "the owning team is paged");
  await screenshot("service-desk-opened");
});

test("the sources view shows the webhook, and the on-call view who holds each layer", async () => {
  await driver.findElement(By.xpath("//nav//button[text()='Sources']")).click();
  const webhook = await driver.wait(
    until.elementLocated(By.xpath(`//code[normalize-space(.)='http://127.0.0.1:${webhookPort}/v1/alertmanager']`)),
    5_000,
  );
  assert.ok(webhook);
  const notifications = await driver.findElement(By.css("[data-notifications]")).getText();
  assert.match(notifications, /notifications (available|unavailable)/);
  await screenshot("sources");
  await driver.findElement(By.xpath("//nav//button[text()='On call']")).click();
  const row = await driver.wait(until.elementLocated(By.css('tr[data-rota="payments-oncall"]')), 5_000);
  const primary = JSON.parse(stopline("oncall", "--team", "payments", "--json")).rotas[0].layers[0].now.person;
  assert.match(await row.getText(), new RegExp(primary));
  await screenshot("on-call");
});
