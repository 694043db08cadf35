// `make bench`: the release app's window during an alert storm. Three runs, each on a fresh app
// and data directory: 10,000 alerts in POSTs of 500 to the app's webhook while the window shows
// the queue. Prints the medians of: the time to post them, the time until the queue showed every
// open incident, how often the window re-read the queue, and the worst stall of the window's
// event loop (how long a click or key would have waited at worst). Asserts nothing.

import { By, until } from "selenium-webdriver";
import { measureStorm, startApp } from "./harness.mjs";

const RUNS = 3;
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

const results = [];
for (let run = 0; run < RUNS; run++) {
  const session = await startApp("release");
  try {
    await session.driver.wait(until.elementLocated(By.css(".engine.ok")), 20_000);
    const storm = await measureStorm(session, { total: 10_000, batch: 500 });
    console.log(`run ${run + 1}: ${JSON.stringify(storm)}`);
    results.push(storm);
  } finally {
    await session.stop();
  }
}
const figure = (key) => median(results.map((r) => r[key]));
console.log(
  `alert storm in the window (10,000 alerts, median of ${RUNS}): posted in ${figure("postedMs")} ms, ` +
    `queue caught up after ${figure("caughtUpMs")} ms with ${figure("open")} incidents, ` +
    `${figure("overviews")} queue re-reads, worst event-loop stall ${figure("worstLateMs")} ms ` +
    `(${figure("idleWorstLateMs")} ms over a quiet second before)`,
);
