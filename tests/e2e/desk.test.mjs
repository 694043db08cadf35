// The commander's desk in the real app (real WebKit through tauri-driver): an alert storm of
// 3,000 alerts (90 incidents, grouped by region, and 750 alerts no application claims), then what
// a commander does in the worst hour: find their team's triggered major incidents with the filter
// in a few keystrokes, open one beside the queue, read its situation (the same figures as
// `stopline incident show --json`), take command and work the checklist. Screenshots at
// 1920×1080 and 1024×700, light and dark, land in target/e2e-artifacts.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { By, Key, until } from "selenium-webdriver";
import { startApp } from "./harness.mjs";

const REGIONS = ["eu-west", "eu-north", "us-east"];
const ROUTED = 2_250;
const UNROUTED = 750;

let session;
let driver;
let stopline;

before(async () => {
  session = await startApp("debug", { config: '\n[alerts]\ngroup_by = ["region"]\n' });
  ({ driver, stopline } = session);
  // Ben sits here: Payments is his team.
  stopline("whoami", "--set", "ben");
  await driver.manage().window().setRect({ width: 1920, height: 1080 });
});

after(async () => {
  await session?.stop();
});

/** The ids of the queue's rows, in order. */
const rows = () =>
  driver.executeScript(
    "return Array.from(document.querySelectorAll('tr[data-incident]')).map((r) => r.dataset.incident)",
  );

/** Whether the page is wider than the window (something overflows sideways). */
const overflowsSideways = () =>
  driver.executeScript("return document.documentElement.scrollWidth > document.documentElement.clientWidth");

async function screenshots(name) {
  for (const theme of ["light", "dark"]) {
    await driver.executeScript(`document.documentElement.dataset.theme = "${theme}"`);
    await driver.sleep(150);
    await session.screenshot(`${name}-${theme}`);
  }
  await driver.executeScript('document.documentElement.dataset.theme = "light"');
}

test("a storm of 3,000 alerts: my team's triggered major incidents in a few keystrokes, opened beside the queue", async () => {
  await driver.wait(until.elementLocated(By.css(".engine.ok")), 20_000);
  const services = JSON.parse(stopline("apps", "--json"))
    .map((a) => a.match?.service)
    .filter((service) => service)
    .slice(0, 30);
  const alerts = [];
  for (let i = 0; i < ROUTED; i++) {
    alerts.push({
      labels: {
        alertname: `Storm${i % 7}`,
        service: services[i % 30],
        region: REGIONS[Math.floor(i / 30) % 3],
        instance: `node-${i}`,
      },
      annotations: { summary: `Storm alert ${i}`, runbook_url: "https://runbooks.invalid/storm" },
    });
  }
  for (let i = 0; i < UNROUTED; i++) {
    alerts.push({ labels: { alertname: "LegacyBatchFailed", service: `legacy-batch-${i % 5}`, instance: `batch-${i}` } });
  }
  for (let sent = 0; sent < alerts.length; sent += 500) {
    await session.postAlerts(alerts.slice(sent, sent + 500));
  }
  const open = JSON.parse(stopline("incidents", "--json"));
  assert.equal(open.length, 90, "30 applications × 3 regions");
  await driver.wait(async () => (await rows()).length === 90, 20_000);

  // `/`, a word, two chips: Ben's team's triggered major incidents in eu-west.
  await driver.findElement(By.css("body")).sendKeys("/");
  const filter = await driver.findElement(By.id("queue-filter"));
  await driver.wait(async () => (await driver.switchTo().activeElement().getAttribute("id")) === "queue-filter", 2_000);
  await filter.sendKeys("eu-west");
  for (const chip of ["My teams", "Triggered", "Major"]) {
    await driver.findElement(By.xpath(`//button[@class='chip' and text()='${chip}']`)).click();
  }
  const expected = open
    .filter((i) => i.team === "payments" && i.state === "triggered" && i.severity === "major")
    .map((i) => i.id);
  const kept = await driver.wait(async () => {
    const shown = await rows();
    return shown.length > 0 && shown.length < 90 ? shown : null;
  }, 5_000);
  // Which of them are eu-west: the incident's first alert's labels, from the CLI.
  const stored = JSON.parse(stopline("alerts", "--json"));
  const inEuWest = expected.filter((id) => stored.some((a) => a.incident === id && a.labels.region === "eu-west"));
  assert.deepEqual([...kept].sort(), [...inEuWest].sort());
  for (const id of kept) {
    const row = await driver.findElement(By.css(`tr[data-incident="${id}"]`)).getText();
    assert.match(row, /region=eu-west/);
    assert.match(row, /\d+ firing/);
  }

  // Enter opens the first beside the queue; the queue stays in view.
  await filter.sendKeys(Key.ENTER);
  const panel = await driver.wait(until.elementLocated(By.css(`[data-incident-panel="${kept[0]}"]`)), 5_000);
  await driver.wait(until.elementLocated(By.css("[data-figure=paged]")), 5_000);
  assert.ok(await driver.findElement(By.css(".queue-pane")).isDisplayed(), "the queue stays beside the incident");
  assert.ok(await panel.isDisplayed());
  const focused = await driver.switchTo().activeElement().getAttribute("id");
  assert.equal(focused, "incident-title", "the focus moved into the incident");
  await screenshots("desk-1920-incident-beside-queue");
});

test("the situation header's figures are `stopline incident show --json`'s", async () => {
  const panel = await driver.findElement(By.css("[data-incident-panel]"));
  const id = await panel.getAttribute("data-incident-panel");
  // Paging has happened: the on-call engineer was paged at once.
  await driver.wait(async () => JSON.parse(stopline("incident", "show", id, "--json")).situation.paged.length > 0, 10_000);
  await driver.wait(
    async () => (await panel.findElements(By.css("[data-figure=paged] [data-person]"))).length > 0,
    10_000,
  );
  const shown = await driver.executeScript(`
    const panel = document.querySelector("[data-incident-panel]");
    const figure = (name) => panel.querySelector("[data-figure=" + name + "]");
    return {
      target: figure("budget").querySelector("dt").textContent,
      budget: Number(figure("budget").querySelector("[data-budget-used]").dataset.budgetUsed),
      paged: Array.from(figure("paged").querySelectorAll("[data-person]")).map((p) => p.dataset.person),
      pagedText: figure("paged").textContent,
      nextPage: figure("acknowledged").querySelector("[data-next-page]")?.dataset.nextPage ?? null,
      nextText: figure("acknowledged").textContent,
      secondary: figure("secondary").querySelector("[data-person]")?.dataset.person ?? null,
      loss: Number(figure("loss").querySelector(".loss-facts").textContent.replace(/[^0-9]/g, "")),
      summary: panel.querySelector(".first-alert").textContent,
    };
  `);
  const situation = JSON.parse(stopline("incident", "show", id, "--json")).situation;
  assert.equal(shown.target, `Target ${situation.target_percent} %`);
  // This week's budget grows by a second of unavailability each second: the two reads are a
  // moment apart.
  assert.ok(Math.abs(shown.budget - situation.week_budget.used_percent) < 1.0, `${shown.budget} vs ${situation.week_budget.used_percent}`);
  assert.deepEqual(shown.paged, situation.paged.map((p) => p.id));
  for (const person of situation.paged) assert.ok(shown.pagedText.includes(person.name), shown.pagedText);
  assert.equal(shown.nextPage, situation.next_page.at);
  for (const person of situation.next_page.people) assert.ok(shown.nextText.includes(person.name), shown.nextText);
  assert.equal(shown.secondary, situation.secondary.id);
  // The loss ticks: within a few seconds' worth of the exposure.
  const perSecond = situation.loss_per_hour / 3600;
  assert.ok(Math.abs(shown.loss - situation.loss.amount) <= perSecond * 5 + 1, `${shown.loss} vs ${situation.loss.amount}`);
  assert.ok(shown.summary.includes(situation.first_alert.summary), shown.summary);
});

test("the commander acknowledges, takes command in one click and works the checklist", async () => {
  const panel = await driver.findElement(By.css("[data-incident-panel]"));
  const id = await panel.getAttribute("data-incident-panel");
  await panel.findElement(By.xpath(".//button[text()='Acknowledge']")).click();
  const progress = await driver.wait(until.elementLocated(By.css("[data-progress]")), 5_000);
  const required = JSON.parse(stopline("checklist", id, "--json")).filter((s) => s.required).length;
  assert.equal(await progress.getText(), `0 of ${required} required done`);

  await driver.findElement(By.xpath("//button[text()='Take command']")).click();
  await driver.wait(
    async () => (await driver.findElement(By.css('tr[data-role="commander"] [data-holder]')).getText()) === "Ben Berg",
    5_000,
  );
  const roles = JSON.parse(stopline("incident", "show", id, "--json")).roles;
  assert.ok(roles.some((r) => r.role === "commander" && r.person === "ben" && r.until === null), JSON.stringify(roles));
  // Naming the commander ticked its step.
  await driver.wait(async () => (await progress.getText()) === `1 of ${required} required done`, 5_000);
  const named = JSON.parse(stopline("checklist", id, "--json")).find((s) => s.step === "name-commander");
  assert.equal(named.state, "done");

  await driver.findElement(By.css('button[aria-label="Done: Stop the line: halt feature work and tell the team"]')).click();
  await driver.wait(async () => (await progress.getText()) === `2 of ${required} required done`, 5_000);

  // A skip asks for its reason in place, not in a browser dialog.
  await driver.findElement(By.css('button[aria-label="Skip: Diagnose"]')).click();
  const reason = await driver.wait(until.elementLocated(By.css('input[aria-label="Why skip: Diagnose"]')), 2_000);
  await reason.sendKeys("Cause known: the storm test", Key.ENTER);
  await driver.wait(async () => {
    const steps = JSON.parse(stopline("checklist", id, "--json"));
    const diagnose = steps.find((s) => s.step === "diagnose");
    return diagnose.state === "skipped" && diagnose.reason === "Cause known: the storm test";
  }, 5_000);
  const steps = JSON.parse(stopline("checklist", id, "--json"));
  assert.equal(steps.find((s) => s.step === "stop-the-line").state, "done");

  // The line is stopped (a major incident, acknowledged): the banner says so, with its 423.
  const banner = await driver.wait(until.elementLocated(By.css('[data-incident-panel] .line-banner')), 10_000);
  assert.match(await banner.getText(), new RegExp(`Payments line STOPPED since \\d\\d:\\d\\d by .*${id}.*423`));
  // Acknowledged now, it left the Triggered chip's list: off with the chip, it is back in view.
  await driver.findElement(By.xpath("//button[@class='chip' and text()='Triggered']")).click();
  await driver.wait(async () => (await rows()).includes(id), 2_000);
  await screenshots("desk-1920-swarm");
});

test("the service desk routes a group of 150 unrouted alerts at once, and the saved route keeps them routed", async () => {
  await driver.findElement(By.xpath("//nav//button[text()='Service desk']")).click();
  const group = await driver.wait(
    until.elementLocated(By.css('[data-unrouted-group="service=legacy-batch-0"]')),
    10_000,
  );
  assert.match(await group.getText(), /150 alerts \(150 firing\)/);
  const before = JSON.parse(stopline("unrouted", "--json")).length;
  assert.equal(before, UNROUTED);
  await group.findElement(By.css('select option[value="order-history"]')).click();
  await group.findElement(By.xpath(".//button[text()='Route all 150 like this']")).click();
  // Routed, the incident it opened is shown, and the queue says what happened.
  await driver.wait(until.elementLocated(By.css("[data-incident-panel]")), 10_000);
  const notice = await driver.wait(until.elementLocated(By.xpath("//p[contains(., 'Routed 150 alerts with service=legacy-batch-0')]")), 5_000);
  assert.match(await notice.getText(), /Order History; the saved route sends the next ones there too/);
  assert.equal(JSON.parse(stopline("unrouted", "--json")).length, UNROUTED - 150);
  const routed = JSON.parse(stopline("alerts", "--json")).filter((a) => a.labels.service === "legacy-batch-0");
  assert.ok(routed.every((a) => a.application === "order-history"), "every alert like it went to Order History");
  // The next one like them routes itself, once the engine has read the config again (it looks
  // at the file every couple of seconds).
  await driver.sleep(2_500);
  await session.postAlerts([{ labels: { alertname: "LegacyBatchFailed", service: "legacy-batch-0", instance: "batch-new" } }]);
  const next = JSON.parse(stopline("alerts", "--json")).find((a) => a.labels.instance === "batch-new");
  assert.equal(next.application, "order-history");
  await driver.findElement(By.css('button[aria-label="Close the incident"]')).click();
});

test("at 1024×700 nothing overflows sideways: the incident takes the view and leads back to the queue", async () => {
  await driver.manage().window().setRect({ width: 1024, height: 700 });
  await driver.wait(async () => (await driver.executeScript("return window.innerWidth")) <= 1024, 5_000);
  await driver.findElement(By.css("tr[data-incident] button.link")).click();
  await driver.wait(until.elementLocated(By.css("[data-figure=paged]")), 5_000);
  assert.equal(await overflowsSideways(), false, "the incident overflows at 1024 px");
  assert.equal(await driver.findElement(By.css(".queue-pane")).isDisplayed(), false);
  await screenshots("desk-1024-incident");
  await driver.findElement(By.css('button[aria-label="Close the incident"]')).click();
  await driver.wait(until.elementIsVisible(driver.findElement(By.css(".queue-pane"))), 2_000);
  // The whole storm, unfiltered, sorted by the loss so far.
  const field = await driver.findElement(By.id("queue-filter"));
  await field.sendKeys(Key.CONTROL, "a", Key.NULL, Key.BACK_SPACE);
  for (const chip of await driver.findElements(By.css('button.chip[aria-pressed="true"]'))) await chip.click();
  await driver.findElement(By.css(".sort select option[value=loss]")).click();
  const open = JSON.parse(stopline("incidents", "--json")).length;
  await driver.wait(async () => (await rows()).length === open, 5_000);
  await screenshots("desk-1024-queue");
  assert.equal(await overflowsSideways(), false, "the queue overflows at 1024 px");
});

test("getting cover for my shift from the timeline, and `stopline oncall` agrees", async () => {
  await driver.manage().window().setRect({ width: 1920, height: 1080 });
  await driver.findElement(By.xpath("//nav//button[text()='On call']")).click();
  // My team's rota first, my shifts marked with "Get cover".
  const first = await driver.wait(until.elementLocated(By.css("[data-timeline-rota]")), 10_000);
  assert.equal(await first.getAttribute("data-timeline-rota"), "payments-oncall");
  const mine = await driver.wait(until.elementLocated(By.css('.timeline-bar.mine[data-person="ben"]')), 5_000);
  await session.screenshot("oncall-timeline-light");
  await mine.findElement(By.css("button.timeline-cover")).click();
  // The form is filled in with the shift; who covers is the one thing left to choose.
  const who = await driver.wait(async () => {
    const active = await driver.switchTo().activeElement();
    return (await active.getAttribute("data-field")) === "person" ? active : null;
  }, 5_000);
  await who.findElement(By.css('option[value="aisha"]')).click();
  const layer = await driver.findElement(By.xpath("//label[contains(., 'Layer')]/select")).getAttribute("value");
  const from = await driver.findElement(By.xpath("//label[contains(., 'From')]/input")).getAttribute("value");
  await driver.findElement(By.xpath("//button[text()='Add the override']")).click();
  await driver.wait(until.elementLocated(By.xpath("//p[contains(., 'Added: aisha covers')]")), 5_000);
  // An hour into the cover (or at its start, from a minute on), the CLI sees Aisha on that layer.
  const at = new Date(Math.max(new Date(from).getTime(), Date.now()) + 3_600_000).toISOString();
  const oncall = JSON.parse(stopline("oncall", "--team", "payments", "--at", at, "--json"));
  const now = oncall.rotas.find((r) => r.id === "payments-oncall").layers.find((l) => l.layer === layer).now;
  assert.equal(now.person, "aisha", JSON.stringify(now));
  assert.equal(now.override, true);
  // The timeline draws it as an override, and it is listed with a way to remove it.
  await driver.wait(until.elementLocated(By.css('.timeline-bar.override[data-person="aisha"]')), 5_000);
  const listed = await driver.findElement(By.css('[data-override="payments-oncall/aisha"]'));
  await session.screenshot("oncall-timeline-with-override-light");
  await listed.findElement(By.xpath(".//button[text()='Remove']")).click();
  await driver.wait(async () => (await driver.findElements(By.css('[data-override="payments-oncall/aisha"]'))).length === 0, 5_000);
  const after = JSON.parse(stopline("oncall", "--team", "payments", "--at", at, "--json"));
  assert.notEqual(after.rotas.find((r) => r.id === "payments-oncall").layers.find((l) => l.layer === layer).now.person, "aisha");
});

test("my calendar feed, from the address the On call view shows, read by a real iCalendar parser", async () => {
  const url = await driver.findElement(By.id("calendar-url")).getAttribute("value");
  assert.match(url, new RegExp(`^http://127\\.0\\.0\\.1:${session.webhookPort}/v1/calendar/people/ben\\.ics\\?key=[0-9a-f]{32}$`));
  // The engine serves the config as it last read it (it looks at the file every couple of
  // seconds): the override removed just before may still be in the feed for a moment.
  const read = async () => {
    const answer = await fetch(url);
    assert.equal(answer.status, 200);
    assert.match(answer.headers.get("content-type"), /^text\/calendar/);
    const feed = await answer.text();
    // Debian's python3-icalendar reads it; each event's instants, in UTC.
    return JSON.parse(
      execFileSync(
        "/usr/bin/python3",
        [
          "-c",
          `import json, sys
from datetime import timezone
from icalendar import Calendar
c = Calendar.from_ical(sys.stdin.buffer.read())
print(json.dumps([[e.decoded("DTSTART").astimezone(timezone.utc).isoformat(), e.decoded("DTEND").astimezone(timezone.utc).isoformat()] for e in c.walk("VEVENT")]))`,
        ],
        { input: feed, encoding: "utf8" },
      ),
    );
  };
  const instant = (text) => new Date(text).getTime();
  const inner = (list) => list.slice(1, -1);
  // The same shifts the CLI lists for the feed's window: 30 days back, 90 ahead. The shifts whole
  // within both windows are the same instants (the first and last are cut by each window where
  // it lies).
  const expected = () => {
    const now = Date.now();
    const from = new Date(now - 30 * 86_400_000 + 60_000).toISOString();
    const to = new Date(now + 90 * 86_400_000 - 60_000).toISOString();
    const shifts = JSON.parse(stopline("shifts", "--person", "ben", "--from", from, "--to", to, "--json"));
    return inner(shifts).map((s) => [instant(s.since), instant(s.until)]);
  };
  let parsed = [];
  const deadline = Date.now() + 6_000;
  for (;;) {
    parsed = await read();
    const got = inner(parsed).map(([start, end]) => [instant(start), instant(end)]);
    if (JSON.stringify(got) === JSON.stringify(expected()) || Date.now() > deadline) {
      assert.ok(parsed.length >= 3, JSON.stringify(parsed));
      assert.deepEqual(got, expected());
      break;
    }
    await driver.sleep(500);
  }
});
