// An alert storm posted to the real app while its window shows the queue: the engine's change
// events are batched, so 10,000 alerts are a handful of queue updates, not ten thousand, and the
// queue catches up with the store. Timings are printed, not asserted (`make bench` records them).

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { By, until } from "selenium-webdriver";
import { measureStorm, startApp } from "./harness.mjs";

let session;

before(async () => {
  session = await startApp();
});

after(async () => {
  await session?.stop();
});

test("10,000 alerts are a handful of queue updates, and the queue shows every incident", async () => {
  const { driver } = session;
  await driver.wait(until.elementLocated(By.css(".engine.ok")), 20_000);
  const storm = await measureStorm(session, { total: 10_000, batch: 500 });
  console.log(`alert storm in the window: ${JSON.stringify(storm)}`);
  assert.ok(storm.open > 0, "the storm opened incidents");
  // One re-read per change event (at most four a second) and one per 5 s timer: dozens at most
  // for a storm of a few seconds, where one per alert would be 10,000.
  assert.ok(storm.overviews >= 1, "the queue updated without a reload");
  assert.ok(storm.overviews <= 60, `${storm.overviews} queue re-reads for 10,000 alerts`);
  await session.screenshot("queue-after-storm");
});
