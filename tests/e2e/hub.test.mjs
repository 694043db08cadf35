// The app joined to a team hub (docs/team.md), in real WebKit: joined from its Settings, it shows
// an acknowledgement made on another desktop within a second or so, says "hub offline" when the
// hub stops, and acknowledges offline with the action shown as pending, then confirmed when the
// hub is back. A real PostgreSQL and `stopline hub` beside it, and a second desktop joined with
// the CLI (team.mjs).

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { By, until } from "selenium-webdriver";
import { freePort, root, startApp } from "./harness.mjs";
import { joinedDesktop, startHub, startKeyring, startPostgres } from "./team.mjs";

const WEBHOOK_TOKEN = "e2e-hub-webhook-token-0123456789";
const cli = join(root, "target/debug/stopline");

let session;
let driver;
let screenshot;
let postgres;
let keyring;
let hub;
let hubPort;
let hubUrl;
let teammate;

/** The hub's own `stopline` commands (tokens), on the app's config and the database. */
function hubCommand(...args) {
  return session.stopline(...args, "--database", postgres.url);
}

function startTheHub() {
  return startHub(cli, {
    configPath: session.env.STOPLINE_CONFIG,
    database: postgres.url,
    port: hubPort,
    webhookToken: WEBHOOK_TOKEN,
  });
}

/** Posts one firing alert for `service` to the hub, as Alertmanager would. */
async function alertTheHub(name, service) {
  const answer = await fetch(`${hubUrl}/v1/alertmanager`, {
    method: "POST",
    headers: { Authorization: `Bearer ${WEBHOOK_TOKEN}`, "Content-Type": "application/json" },
    body: JSON.stringify({
      version: "4",
      status: "firing",
      alerts: [{ status: "firing", labels: { alertname: name, service }, startsAt: new Date().toISOString() }],
    }),
  });
  assert.equal(answer.status, 200, await answer.text());
}

const hubState = () => driver.findElement(By.css(".topbar .hub-state")).getAttribute("data-hub-state");

before(async () => {
  keyring = await startKeyring();
  postgres = await startPostgres();
  session = await startApp();
  ({ driver, screenshot } = session);
  hubPort = await freePort();
  hubUrl = `http://127.0.0.1:${hubPort}`;
  session.stopline("hub", "migrate", "--database", postgres.url);
  hub = await startTheHub();
});

after(async () => {
  teammate?.stop();
  hub?.kill("SIGKILL");
  await session?.stop();
  postgres?.stop();
  keyring?.stop();
});

test("the app joins the hub from its Settings and shows its incidents", async () => {
  const token = JSON.parse(hubCommand("hub", "token", "create", "--person", "ben", "--json")).token;
  await driver.wait(until.elementLocated(By.css(".engine.ok")), 20_000);
  await driver.findElement(By.xpath("//nav//button[text()='Settings']")).click();
  const address = await driver.wait(until.elementLocated(By.css(".team-hub input[type=url]")), 5_000);
  await address.sendKeys(hubUrl);
  await driver.findElement(By.css(".team-hub input[type=password]")).sendKeys(token);
  await driver.findElement(By.xpath("//button[text()='Join the hub']")).click();
  await driver.wait(until.elementLocated(By.css("[data-hub-url]")), 20_000);
  await driver.wait(async () => (await hubState()) === "connected", 20_000);
  await screenshot("hub-joined-settings");
  // The person is the token's; the CLI on the same data directory agrees.
  const status = JSON.parse(session.stopline("status", "--json"));
  assert.equal(status.hub.person, "ben");
  assert.equal(status.hub.url, hubUrl);

  await driver.findElement(By.xpath("//nav//button[text()='Queue']")).click();
  await alertTheHub("GatewayDown", "payment-gateway");
  await alertTheHub("CheckoutDown", "checkout-web");
  await driver.wait(until.elementLocated(By.css('tr[data-incident="INC-2"]')), 10_000);
});

test("an acknowledgement made on another desktop shows here within a second or so", async () => {
  const token = JSON.parse(hubCommand("hub", "token", "create", "--person", "aisha", "--json")).token;
  teammate = await joinedDesktop(cli, { configPath: session.env.STOPLINE_CONFIG, hubUrl, token });
  const acked = Date.now();
  teammate.stopline("ack", "INC-1", "--as", "aisha");
  await driver.wait(
    until.elementLocated(By.css('tr[data-incident="INC-1"] .pill.state-acknowledged')),
    5_000,
  );
  const shownAfter = Date.now() - acked;
  console.log(`acknowledged on another desktop, shown here after ${shownAfter} ms`);
  assert.ok(shownAfter <= 1_000, `shown after ${shownAfter} ms`);
  const row = await driver.findElement(By.css('tr[data-incident="INC-1"]')).getText();
  // By name, as the app names people.
  assert.match(row, /acknowledged by Aisha Adeyemi/);
});

test("the app says the hub is offline, acknowledges offline as pending, then confirmed", async () => {
  hub.kill("SIGKILL");
  await driver.wait(async () => (await hubState()) === "offline", 20_000);
  const line = await driver.findElement(By.css(".topbar .hub-state")).getText();
  assert.match(line, /hub: offline since/);

  await driver.findElement(By.xpath("//td[@class='id']/button[text()='INC-2']")).click();
  const panel = await driver.wait(until.elementLocated(By.css('[data-incident-panel="INC-2"]')), 5_000);
  await panel.findElement(By.xpath(".//button[text()='Acknowledge']")).click();
  await driver.wait(
    until.elementLocated(By.css('[data-incident-panel="INC-2"] [data-hub-action="pending"]')),
    5_000,
  );
  await driver.wait(async () => /actions? waiting/.test(await driver.findElement(By.css(".topbar .hub-state")).getText()), 10_000);
  await screenshot("hub-offline-pending");

  hub = await startTheHub();
  await driver.wait(async () => (await hubState()) === "connected", 20_000);
  // Confirmed: no longer pending here, and the hub has it as ben's.
  await driver.wait(async () => {
    const pending = await driver.findElements(By.css('[data-incident-panel="INC-2"] [data-hub-action="pending"]'));
    return pending.length === 0;
  }, 20_000);
  assert.equal(postgres.psql("SELECT acknowledged_by FROM incidents WHERE id = 2"), "ben");
  await driver.wait(async () => {
    const shown = JSON.parse(teammate.stopline("incident", "show", "INC-2", "--json"));
    return shown.state === "acknowledged" && shown.acknowledged_by === "ben";
  }, 10_000);
  await screenshot("hub-back-confirmed");
});
