// The real desktop app (target/debug/stopline-desktop, with the UI embedded) in real WebKit,
// driven through tauri-driver and WebKitWebDriver (see harness.mjs). `tests/e2e/run` provides the
// display (Xvfb) and a D-Bus session; each test file gets its own config and data directory.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { By, Key, until } from "selenium-webdriver";
import { startApp } from "./harness.mjs";

let session;
let driver;
let stopline;
let screenshot;

before(async () => {
  session = await startApp();
  ({ driver, stopline, screenshot } = session);
});

after(async () => {
  await session?.stop();
});

test("the app runs the engine, and an alert posted to its webhook is in the queue within 2 s", async () => {
  await driver.wait(until.elementLocated(By.css(".engine.ok")), 20_000);
  const status = await driver.findElement(By.css(".engine.ok")).getText();
  assert.match(status, new RegExp(`Engine running: alerts to http://127.0.0.1:${session.webhookPort}`));

  const posted = Date.now();
  const answer = await session.postAlerts([
    {
      labels: { alertname: "HighErrorRate", service: "payment-gateway" },
      annotations: { summary: "5xx above 5%", runbook_url: "https://runbooks.invalid/payments" },
    },
  ]);
  assert.deepEqual(answer.opened, ["INC-1"]);

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
  // Someone sits here and alerts arrive: the first-run card goes, and the queue moves up.
  await driver.wait(async () => (await driver.findElements(By.css(".first-run"))).length === 0, 10_000);

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
    until.elementLocated(By.xpath(`//code[normalize-space(.)='http://127.0.0.1:${session.webhookPort}/v1/alertmanager']`)),
    5_000,
  );
  assert.ok(webhook);
  const notifications = await driver.findElement(By.css("[data-notifications]")).getText();
  assert.match(notifications, /notifications (available|unavailable)/);
  await screenshot("sources");
  await driver.findElement(By.xpath("//nav//button[text()='On call']")).click();
  const row = await driver.wait(until.elementLocated(By.css('tr[data-rota="payments-oncall"]')), 5_000);
  const primary = JSON.parse(stopline("oncall", "--team", "payments", "--json")).rotas[0].layers[0].now.person;
  // By name: the person's id is the start of their name in the demo workspace.
  assert.match(await row.getText(), new RegExp(primary, "i"));
  await screenshot("on-call");
});

/** Picks an option of a select found by its accessible label. */
async function choose(label, value) {
  const select = await driver.wait(until.elementLocated(By.css(`select[aria-label="${label}"]`)), 5_000);
  await select.findElement(By.css(`option[value="${value}"]`)).click();
}

test("roles, step assignment and a severity change made in the app are what the CLI shows", async () => {
  await driver.findElement(By.xpath("//nav//button[text()='Queue']")).click();
  await driver.findElement(By.xpath("//td[@class='id']/button[text()='INC-1']")).click();
  await driver.wait(until.elementLocated(By.css('[data-incident-panel="INC-1"]')), 5_000);
  // The alert's annotations and its runbook link, which opens in the browser, not here.
  const alert = await driver.findElement(By.css("li[data-alert]")).getText();
  assert.match(alert, /5xx above 5%/);
  assert.ok(await driver.findElement(By.xpath("//li[@data-alert]//button[text()='runbook']")));

  await choose("Incident commander: who", "aisha");
  await driver.findElement(By.css('tr[data-role="commander"] button[type="submit"]')).click();
  await driver.wait(async () => {
    const holder = await driver.findElement(By.css('tr[data-role="commander"] [data-holder]')).getText();
    return holder === "Aisha Adeyemi";
  }, 5_000);
  await choose("Who does: Diagnose", "carla");
  await driver.wait(until.elementLocated(By.xpath("//ol[@class='timeline']//li[contains(., 'assigned to Carla Castillo')]")), 5_000);
  await driver.findElement(By.xpath("//button[text()='Join the swarm']")).click();
  await driver.wait(until.elementLocated(By.xpath("//button[text()='Leave the swarm']")), 5_000);
  await driver.findElement(By.xpath("//summary[text()='Change severity']")).click();
  await driver.findElement(By.id("severity-reason")).sendKeys("Card payments still work");
  await driver.findElement(By.xpath("//button[normalize-space(.)='Make it minor']")).click();
  await driver.wait(until.elementLocated(By.css('[data-incident-panel="INC-1"] .severity-minor')), 5_000);
  await screenshot("incident-roles");

  const shown = JSON.parse(stopline("incident", "show", "INC-1", "--json"));
  const holders = shown.roles.filter((r) => !r.until).map((r) => `${r.role}:${r.person}`);
  assert.ok(holders.includes("commander:aisha"), JSON.stringify(shown.roles));
  assert.ok(holders.includes("responder:ben"), JSON.stringify(shown.roles));
  assert.equal(shown.checklist.find((s) => s.step === "diagnose").assignee, "carla");
  assert.equal(shown.severity, "minor");
  assert.equal(shown.severity_reason, "Card payments still work");
});

test("an override added in the app changes who is on call, for the CLI too", async () => {
  const before = JSON.parse(stopline("oncall", "--team", "payments", "--json")).rotas[0].layers[0].now.person;
  const cover = ["aisha", "ben", "carla", "dmitri"].find((p) => p !== before);
  await driver.findElement(By.xpath("//nav//button[text()='On call']")).click();
  const form = await driver.wait(until.elementLocated(By.css("form.override")), 5_000);
  await form.findElement(By.xpath(`.//label[contains(., 'Who covers')]//option[@value='${cover}']`)).click();
  // From now for twelve hours: the form's defaults.
  await form.findElement(By.xpath(".//button[text()='Add the override']")).click();
  await driver.wait(until.elementLocated(By.xpath(`//tr[@data-rota='payments-oncall']//td[contains(., '(override)')]`)), 5_000);
  await screenshot("on-call-override");
  const now = JSON.parse(stopline("oncall", "--team", "payments", "--json")).rotas[0].layers[0].now;
  assert.equal(now.person, cover);
  assert.equal(now.override, true);
  assert.match(readFileSync(session.env.STOPLINE_CONFIG, "utf8"), /# Added by ben on /);
});

test("settings made in the app: teammates' pages and start at login", async () => {
  await driver.findElement(By.xpath("//nav//button[text()='Settings']")).click();
  const teammates = await driver.wait(
    until.elementLocated(By.xpath("//label[contains(., \"teammates' pages\")]/input")),
    5_000,
  );
  await teammates.click();
  await driver.wait(until.elementLocated(By.xpath("//*[text()='Chosen on this desktop.']")), 5_000);
  assert.equal(JSON.parse(stopline("notifications", "--json")).teammates, true);

  await driver.findElement(By.xpath("//label[contains(., 'Start Stopline in the tray')]/input")).click();
  const entry = join(session.env.XDG_CONFIG_HOME, "autostart", "stopline.desktop");
  await driver.wait(() => existsSync(entry), 5_000);
  const text = readFileSync(entry, "utf8");
  assert.match(text, /stopline-desktop --hidden\n/);
  assert.ok(text.includes(`STOPLINE_DATA_DIR=${session.env.STOPLINE_DATA_DIR}`), text);
  await driver.findElement(By.xpath("//label[contains(., 'Dark')]/input")).click();
  assert.equal(await driver.executeScript("return document.documentElement.dataset.theme"), "dark");
  await screenshot("settings-dark");
  await driver.findElement(By.xpath("//label[contains(., 'Start Stopline in the tray')]/input")).click();
  await driver.wait(() => !existsSync(entry), 5_000);
  await driver.findElement(By.xpath("//label[contains(., 'As the system')]/input")).click();
});

test("starting the app again brings the running one forward on the incident", async () => {
  const second = spawn(session.app, ["--open", "INC-2"], {
    env: session.env,
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  second.stderr.on("data", (chunk) => (stderr += chunk));
  const code = await new Promise((resolve) => second.on("exit", resolve));
  assert.equal(code, 0, stderr);
  assert.match(stderr, /Stopline already runs on .* \(pid \d+\): bringing its window forward/);
  await driver.wait(until.elementLocated(By.css('[data-incident-panel="INC-2"]')), 5_000);

  // With no session bus to hand over on, a second start refuses rather than run a second engine
  // on the same store.
  const unreachable = spawnSync(session.app, [], {
    env: { ...session.env, DBUS_SESSION_BUS_ADDRESS: "unix:path=/nonexistent/bus" },
    encoding: "utf8",
    timeout: 30_000,
  });
  assert.equal(unreachable.status, 1, unreachable.stderr);
  assert.match(unreachable.stderr, /cannot be reached without a D-Bus session bus/);
  await driver.findElement(By.css('[data-incident-panel="INC-2"]'));
});

test("the service desk finds an owner by labels, and routes an unrouted alert for good", async () => {
  await session.postAlerts([{ labels: { alertname: "QueueBacklog", job: "mystery-batch" } }]);
  await driver.findElement(By.xpath("//nav//button[text()='Queue']")).click();
  const banner = await driver.wait(until.elementLocated(By.css(".banner.unrouted")), 5_000);
  assert.match(await banner.getText(), /1 alert matched no application/);
  await banner.findElement(By.xpath(".//button")).click();

  const query = await driver.wait(until.elementLocated(By.id("desk-query")), 5_000);
  await query.sendKeys("service=payment-gateway");
  await driver.findElement(By.xpath("//button[text()='Find the owner']")).click();
  const route = await driver.wait(until.elementLocated(By.css("[data-route]")), 5_000);
  assert.equal(await route.getAttribute("data-route"), "payment-gateway");
  // INC-1 is open on the payment gateway: adding the customer's report to it comes first.
  const addTo = await route.findElement(By.xpath(".//label[contains(., 'Add this customer report to INC-1')]/input"));
  assert.equal(await addTo.isSelected(), true);
  await route.findElement(By.xpath(".//button[text()='Add to INC-1']"));
  await screenshot("service-desk-customer-report");

  const row = await driver.wait(until.elementLocated(By.xpath("//li[@data-unrouted][contains(., 'QueueBacklog')]")), 5_000);
  await choose("Application for QueueBacklog", "login");
  await row.findElement(By.xpath(".//button[text()='Route it']")).click();
  await driver.wait(until.elementLocated(By.css('[data-incident-panel="INC-3"]')), 5_000);
  await screenshot("unrouted-routed");
  assert.deepEqual(JSON.parse(stopline("unrouted", "--json")), []);
  assert.equal(JSON.parse(stopline("incident", "show", "INC-3", "--json")).application, "login");
  // Saved: the next such alert routes itself.
  assert.match(readFileSync(session.env.STOPLINE_CONFIG, "utf8"), /\[\[routes\]\]\napplication = "login"\nmatch = \{ job = "mystery-batch" \}/);
  await driver.sleep(2_500); // the engine reloads a changed config within 2 s
  await session.postAlerts([{ labels: { alertname: "QueueBacklog2", job: "mystery-batch" } }]);
  assert.deepEqual(JSON.parse(stopline("unrouted", "--json")), []);
});

test("the reports view draws its charts and its figures are the CLI's", async () => {
  // One incident restored, so there is a time to restore to draw.
  stopline("resolve", "INC-3", "--as", "ben", "--force");
  await driver.findElement(By.xpath("//nav//button[text()='Reports']")).click();
  const costs = await driver.wait(until.elementLocated(By.css('table[data-report="costs"]')), 10_000);
  // The same period as the view's date inputs, read as the view reads them.
  const [from, to] = await driver.executeScript(
    "return [...document.querySelectorAll('.report-query input[type=date]')].map((i) => new Date(i.value + 'T00:00').toISOString())",
  );
  const cli = JSON.parse(stopline("report", "--from", from, "--to", to, "--json"));
  const payments = cli.teams.find((t) => t.team === "payments");
  const shown = await costs.findElement(By.css('tr[data-team="payments"] [data-total]')).getText();
  assert.equal(shown, `GBP ${Math.round(payments.total).toLocaleString("en-GB")}`);
  // Three charts, each drawn on its canvas (a blank canvas encodes to a short string).
  const canvases = await driver.findElements(By.css(".charts canvas"));
  assert.equal(canvases.length, 3);
  const painted = await driver.executeScript(
    "return [...document.querySelectorAll('.charts canvas')].map((c) => c.toDataURL().length)",
  );
  const blank = await driver.executeScript(
    "const c = document.createElement('canvas'); const r = document.querySelector('.charts canvas'); c.width = r.width; c.height = r.height; return c.toDataURL().length",
  );
  for (const size of painted) assert.ok(size > blank, `a chart was drawn: ${painted} against blank ${blank}`);
  await screenshot("reports");
});

test("at 1024 px the queue fits the window: a long alert name is cut, whole on hover", async () => {
  const long =
    "PaymentGatewaySettlementReconciliationConsumerLagIsGrowingBeyondTheAgreedThresholdForTheNightlyRun";
  await session.postAlerts([
    {
      labels: { alertname: long, service: "search-api" },
      annotations: { summary: "the consumer of the settlement reconciliation queue is far behind its producers" },
    },
  ]);
  await driver.manage().window().setRect({ width: 1024, height: 768 });
  await driver.findElement(By.xpath("//nav//button[text()='Queue']")).click();
  // Narrow, an open incident takes the whole view: back to the queue.
  for (const close of await driver.findElements(By.css('button[aria-label="Close the incident"]'))) await close.click();
  const row = await driver.wait(until.elementLocated(By.xpath(`//tr[@data-incident][contains(., 'PaymentGatewaySettlement')]`)), 5_000);
  const width = await driver.executeScript("return window.innerWidth");
  assert.ok(width <= 1024, `the window is ${width} px wide`);
  const [page, table, lastCell] = await driver.executeScript(
    `const row = arguments[0];
     return [document.documentElement.scrollWidth, row.closest("table").getBoundingClientRect().right,
             row.lastElementChild.getBoundingClientRect().right];`,
    row,
  );
  assert.ok(page <= width, `the page scrolls sideways: ${page} px in a ${width} px window`);
  assert.ok(table <= width && lastCell <= width, `the line column is cut off: ${lastCell} px of ${width}`);
  const title = await row.findElement(By.css(".title-text"));
  assert.match(await title.getAttribute("title"), new RegExp(long));
  await screenshot("queue-1024");
});

/** The incident as the CLI shows it. */
const shownByCli = (id) => JSON.parse(stopline("incident", "show", id, "--json"));

/** Presses keys with nothing focused, as a person at the queue does. */
async function pressKeys(...keys) {
  await driver.findElement(By.css("header.topbar h1")).click();
  for (const key of keys) await driver.actions().sendKeys(key).perform();
}

test("keys act on the incident that is open: Enter on Acknowledge acknowledges that one", async () => {
  // Wide enough for the incident to open beside the queue.
  await driver.manage().window().setRect({ width: 1320, height: 820 });
  await driver.findElement(By.xpath("//nav//button[text()='Queue']")).click();
  // INC-2 and INC-4 are both triggered; the keyboard's cursor starts on the first row.
  assert.equal(shownByCli("INC-2").state, "triggered");
  assert.equal(shownByCli("INC-4").state, "triggered");
  await screenshot("queue-1320");
  await driver.wait(until.elementLocated(By.xpath("//td[@class='id']/button[text()='INC-2']")), 5_000).click();
  const panel = await driver.wait(until.elementLocated(By.css('[data-incident-panel="INC-2"]')), 5_000);
  const acknowledge = await panel.findElement(By.xpath(".//button[text()='Acknowledge']"));
  await acknowledge.sendKeys(Key.ENTER);
  await driver.wait(async () => shownByCli("INC-2").state === "acknowledged", 5_000);
  assert.equal(shownByCli("INC-2").acknowledged_by, "ben");
  assert.equal(shownByCli("INC-4").state, "triggered", "no other incident was touched");
  // The panel stays on the incident that was open.
  await driver.wait(until.elementLocated(By.css('[data-incident-panel="INC-2"] [data-state="acknowledged"]')), 5_000);
});

test("r asks once, naming the incident; a refusal names the open steps and offers the app's way on", async () => {
  await pressKeys(Key.ESCAPE);
  await driver.wait(async () => (await driver.findElements(By.css("[data-incident-panel]"))).length === 0, 5_000);
  // The cursor followed the mouse to INC-2.
  await pressKeys("r", "r");
  const dialogs = await driver.wait(until.elementsLocated(By.css('[role="alertdialog"]')), 5_000);
  assert.equal(dialogs.length, 1, "r r asks once");
  assert.match(await dialogs[0].getText(), /Resolve INC-2/);
  await driver.actions().sendKeys(Key.ESCAPE).perform();
  await driver.wait(async () => (await driver.findElements(By.css('[role="alertdialog"]'))).length === 0, 5_000);
  assert.equal(shownByCli("INC-2").state, "acknowledged", "Escape resolved nothing");

  await pressKeys("r");
  await driver.wait(until.elementLocated(By.css('[role="alertdialog"]')), 5_000);
  // Enter confirms: the focused button is "Resolve INC-2".
  await driver.actions().sendKeys(Key.ENTER).perform();
  const banner = await driver.wait(until.elementLocated(By.xpath("//*[@role='alert'][contains(., 'still has required steps open')]")), 5_000);
  const said = await banner.getText();
  assert.match(said, /“Assemble the swarm”/);
  assert.doesNotMatch(said, /stopline|--force/);
  // The incident opens, where its checklist is.
  await driver.wait(until.elementLocated(By.css('[data-incident-panel="INC-2"]')), 5_000);
  await screenshot("resolve-refused");
  await banner.findElement(By.xpath(".//button[text()='Resolve anyway (recorded)']")).click();
  await driver.wait(async () => shownByCli("INC-2").state === "resolved", 5_000);
  assert.equal(shownByCli("INC-4").state, "triggered", "only the incident named was resolved");
});

test("the resolved pill names who resolved, not who acknowledged", async () => {
  stopline("ack", "INC-4", "--as", "aisha");
  await driver.findElement(By.xpath("//nav//button[text()='Queue']")).click();
  await driver.wait(until.elementLocated(By.xpath("//td[@class='id']/button[text()='INC-4']")), 5_000).click();
  const panel = await driver.wait(until.elementLocated(By.css('[data-incident-panel="INC-4"]')), 5_000);
  await panel.findElement(By.xpath(".//button[text()='Resolve']")).click();
  await driver.wait(until.elementLocated(By.xpath("//button[text()='Resolve anyway (recorded)']")), 5_000).click();
  const pill = await driver.wait(until.elementLocated(By.css('[data-incident-panel="INC-4"] [data-state="resolved"]')), 5_000);
  assert.equal(await pill.getText(), "resolved by Ben Berg");
  const shown = shownByCli("INC-4");
  assert.equal(shown.acknowledged_by, "aisha");
  assert.equal(shown.resolved_by, "ben");
  // Resolved, its checklist is the record: nothing left to press.
  const controls = await driver.findElements(By.css('[data-incident-panel="INC-4"] ol.checklist button, [data-incident-panel="INC-4"] ol.checklist select'));
  assert.equal(controls.length, 0);
});
