// Running and results through the real page: the comparison runs in Web Workers with a
// progress bar, partial results and Cancel; the table, its definitions, the charts and
// the CSV exports. The harness fails a journey on any request after load other than the
// worker's own bundle files, and on any console error.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { launch, openApp, startBundle } from "./harness.mjs";
import { Results, Workspace } from "./pages.mjs";

// The report hash the engine pins natively (demo, 8 paths, 2 years, the scenario's seed):
// the workers' merged result must match it exactly.
const DEMO_REPORT_HASH_8_PATHS_2_YEARS = readFileSync("crates/engine/tests/simulate_repro.rs", "utf8").match(
  /DEMO_REPORT_HASH_8_PATHS_2_YEARS: &str = "([0-9a-f]{16})"/,
)[1];

let browser;
let server;

before(async () => {
  server = await startBundle();
  browser = await launch();
  mkdirSync("docs/screenshots", { recursive: true });
});

after(async () => {
  await browser?.close();
  await server?.close();
});

async function open() {
  const session = await openApp(browser, server);
  const ws = new Workspace(session.page);
  await ws.ready();
  await session.markLoaded();
  return { ...session, ws, results: new Results(session.page) };
}

test("a small comparison runs in workers and shows the side-by-side table", async () => {
  const { page, problems, workerRequests, context, results } = await open();
  assert.match(await page.getByTestId("results-empty").textContent(), /Nothing has been computed yet/);
  await results.setRun({ paths: 8, years: 2 });
  await results.compare();
  await page.getByTestId("run-progress").waitFor();
  await results.waitStatus(/^Done: 8 paths/, 120_000);
  assert.deepEqual(await results.progress(), { done: 8, total: 8 });
  // Bit-identical to the native engine however the workers split the paths.
  assert.equal(await results.reportHash(), DEMO_REPORT_HASH_8_PATHS_2_YEARS);
  assert.ok(workerRequests.includes("worker_bg.wasm"), "the simulation ran in a worker");

  const cols = await results.policyColumns();
  assert.equal(cols.length, 3);
  assert.match(cols[0], /baseline/);
  const labels = await results.metricLabels();
  assert.ok(labels.length >= 15);
  const tickets = labels.find((l) => l.label.startsWith("Tickets"));
  assert.match(tickets.title, /one ticket per \(account, security, side, trading day\)/);
  assert.equal(await page.locator('[data-testid="definitions"] li').count(), labels.length);
  // The baseline's net benefit is exactly zero; a best value is marked in the tickets row.
  const net = await page.$$eval('tr[data-metric="net_benefit_usd"] .mean', (c) => c.map((x) => x.textContent));
  assert.equal(net[0], "$0.00");
  assert.equal(await page.locator('tr[data-metric="tickets"] td.best').count(), 1);
  assert.equal(await page.getByTestId("break-even").count(), 3);
  assert.equal(await page.getByTestId("charges-to-nna").count(), 3);
  assert.equal(await page.locator('[data-testid="charts"] svg').count(), 5);
  assert.equal(await page.locator('[data-testid="chart-scatter"] circle').count(), 3);

  // Today's trades come from a worker too, with reasons.
  await page.getByTestId("today-run").click();
  await page.getByTestId("today-status").waitFor({ timeout: 60_000 });
  assert.match(await page.getByTestId("today-status").textContent(), /ticket\(s\), solver status/);

  const summary = await results.download("export-summary");
  assert.match(summary.name, /-summary\.csv$/);
  const lines = summary.text.trim().split("\n");
  assert.equal(lines[1], "metric,label,unit,policy,mean,median,p5,p95");
  assert.ok(lines[0].includes(DEMO_REPORT_HASH_8_PATHS_2_YEARS));
  assert.ok(lines.some((l) => l.startsWith("tickets,Tickets,count,")));
  const trades = await results.download("export-trades");
  assert.match(trades.text, /^policy,date,account,symbol,side,quantity,price,lots,/);
  assert.ok(trades.text.trim().split("\n").length > 1, "the recorded path has trades");

  await page.getByTestId("results").screenshot({ path: "docs/screenshots/results.png" });
  assert.deepEqual(problems, []);
  await context.close();
});

test("a long comparison shows partial results and can be cancelled", async () => {
  const { page, problems, context, results } = await open();
  await results.setRun({ paths: 2000, years: 10 });
  await results.compare();
  assert.match(await results.status(), /^Simulating: \d+ of 2000 paths/);
  // The first partial result arrives while the run goes on.
  await page.getByTestId("compare-table").waitFor({ timeout: 60_000 });
  await results.cancel();
  await results.waitStatus(/^Cancelled after \d+ of 2000 paths/);
  const { done } = await results.progress();
  assert.ok(done > 0 && done < 2000, `cancelled with ${done} paths done`);
  await page.waitForTimeout(1500);
  assert.equal((await results.progress()).done, done, "no chunk is counted after cancel");
  assert.match(await page.getByTestId("report-meta").textContent(), /^\d+ paths × 10 years/);
  assert.equal((await results.policyColumns()).length, 3);
  assert.deepEqual(problems, []);
  await context.close();
});
