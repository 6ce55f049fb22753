// Running and results through the real page: the comparison runs in Web Workers with a
// progress bar, partial results and Cancel; the table, its definitions, the charts and
// the CSV exports. The workers start while the page loads: the harness fails a journey on
// any request after load, and on any console error.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { launch, openApp, startBundle } from "./harness.mjs";
import { Results, Workspace } from "./pages.mjs";

// The report hash the engine pins natively (demo, 8 paths, 2 years, the scenario's seed):
// the workers' merged result must match it exactly.
const CLI = process.env.TOLLBOOTH_CLI ?? "target/debug/tollbooth";
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

async function open(contextOptions = {}) {
  const session = await openApp(browser, server, { contextOptions });
  const ws = new Workspace(session.page);
  await ws.ready();
  await session.markLoaded();
  return { ...session, ws, results: new Results(session.page) };
}

test("a small comparison runs in workers and shows the side-by-side table", async () => {
  const { page, problems, requested, context, results } = await open();
  for (const f of ["worker.js", "worker_bg.wasm"]) {
    assert.ok(requested.includes(f), `the workers' ${f} is fetched while the page loads`);
  }
  assert.match(await page.getByTestId("results-empty").textContent(), /Nothing has been computed yet/);
  await results.setRun({ paths: 8, years: 2 });
  await results.compare();
  await page.getByTestId("run-progress").waitFor();
  await results.waitStatus(/^Done: 8 paths/, 120_000);
  assert.deepEqual(await results.progress(), { done: 8, total: 8 });
  // Bit-identical to the native engine however the workers split the paths.
  assert.equal(await results.reportHash(), DEMO_REPORT_HASH_8_PATHS_2_YEARS);
  // The printed assumptions state the run behind the numbers, not only the scenario's settings.
  assert.match(
    await page.getByTestId("assumptions-market").textContent(),
    /computed over 2 years with 8 Monte Carlo paths \(seed \d+\) — the scenario's own settings are \d+ years, \d+ paths/,
  );

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
  await checkCharts(results, 3);

  // Today's trades come from a worker too, with reasons.
  await page.getByTestId("today-run").click();
  await page.getByTestId("today-status").waitFor({ timeout: 60_000 });
  // The first policy, the quarterly calendar, trades by its own rules: back to target.
  assert.match(await page.getByTestId("today-status").textContent(), /ticket\(s\) by the policy's own rules/);
  const reasons = await page.$$eval('[data-testid="today-table"] tbody tr td:nth-child(10)', (c) => c.map((x) => x.textContent));
  assert.ok(reasons.length > 0 && reasons.every((r) => r === "drift"), reasons.join());
  const lots = await page.$$eval('[data-testid="today-table"] tbody tr td.lots', (c) => c.map((x) => x.textContent));
  assert.ok(lots.some((l) => /sh \((short|long)-term\)/.test(l)), "a sale names the lots it relieves");
  // The totals row adds up what is traded, bought plus sold.
  const dollars = (t) => Number(t.replace(/[$,]/g, ""));
  const notionals = await page.$$eval('[data-testid="today-table"] tbody tr td:nth-child(5)', (c) => c.map((x) => x.textContent));
  const traded = await page.$eval('[data-testid="today-totals"] td:nth-child(3)', (x) => x.textContent);
  const sum = notionals.reduce((a, t) => a + dollars(t), 0);
  assert.ok(Math.abs(dollars(traded) - sum) <= 0.01 * notionals.length, `${traded} vs ${sum}`);
  // Daily TLH harvests more loss than the yearly limit: the total nets the year, the rest
  // of the loss carries forward.
  const tlh = await page.$$eval('[data-testid="today-policy"] option', (o) => o.map((x) => x.textContent).indexOf("Daily TLH (household guard)"));
  await page.getByTestId("today-policy").selectOption(String(tlh));
  await page.getByTestId("today-run").click();
  await page.getByTestId("today-carried").waitFor({ timeout: 60_000 });
  assert.match(await page.getByTestId("today-year-tax").textContent(), /^−\$1,110\.00$/);
  assert.match(await page.getByTestId("today-carried").textContent(), /\$4,291\.62 of the list's loss .* carries forward/);
  // The cost-aware policy gets the household optimizer's trade list.
  const costAware = await page.$$eval('[data-testid="today-policy"] option', (o) => o.map((x) => x.textContent).indexOf("Cost-aware optimizer"));
  assert.ok(costAware >= 0);
  await page.getByTestId("today-policy").selectOption(String(costAware));
  await page.getByTestId("today-run").click();
  await page.waitForFunction(() => /household optimizer, solver status (optimal|feasible)/.test(document.querySelector('[data-testid="today-status"]')?.textContent ?? ""), null, { timeout: 60_000 });
  // In presentation mode the client's account names and ids are masked in the trade lists.
  const names = await page.$$eval('[data-testid="today-table"] tbody tr td:first-child', (c) => c.map((x) => x.textContent));
  assert.ok(names.some((n) => /ira_alex|roth_sam|joint/.test(n)), names.join());
  await page.getByTestId("presentation-toggle").click();
  const masked = await page.getByTestId("today-table").textContent();
  assert.ok(!/ira_alex|roth_sam|Alex|Sam|Rivera/.test(masked), masked);
  assert.match(masked, /Account \d/);
  await page.getByTestId("presentation-toggle").click();

  const summary = await results.download("export-summary");
  assert.match(summary.name, /-summary\.csv$/);
  const lines = summary.text.trim().split("\n");
  assert.equal(lines[1], "metric,label,unit,policy,mean,median,p5,p95");
  assert.ok(lines[0].includes(DEMO_REPORT_HASH_8_PATHS_2_YEARS));
  assert.ok(lines.some((l) => l.startsWith("tickets,Tickets,count,")));
  const trades = await results.download("export-trades");
  // The same provenance line as the summary's (engine, scenario hash, seed, report hash),
  // then the header.
  const tradeLines = trades.text.trim().split("\n");
  assert.equal(tradeLines[0], lines[0]);
  assert.match(tradeLines[1], /^policy,date,account,symbol,side,quantity,price,lots,/);
  assert.ok(tradeLines.length > 2, "the recorded path has trades");

  // The recorded path's trades, a page at a time, per policy.
  const shown = await page.getByTestId("path-trades-shown").textContent();
  const total = Number(shown.match(/of (\d+) on path 0/)[1]);
  const csvRows = tradeLines.length - 2;
  // The first cell is the policy's name, quoted only when it holds a comma or a quote.
  const policyOf = (l) => (l.startsWith('"') ? l.slice(1, l.indexOf('",')).replaceAll('""', '"') : l.slice(0, l.indexOf(",")));
  const firstPolicy = cols[0].replace(/ baseline$/, "");
  const firstPolicyRows = tradeLines.slice(2).filter((l) => policyOf(l) === firstPolicy).length;
  assert.equal(total, firstPolicyRows, "the table lists the first policy's trades of the CSV");
  assert.equal(await page.locator('[data-testid="path-trades"] tbody tr').count(), Math.min(total, 50));
  let seen = 0;
  for (let i = 0; i < 3; i++) {
    await page.getByTestId("path-trades-policy").selectOption(String(i));
    const t = await page.getByTestId("path-trades-shown").textContent();
    seen += Number(t.match(/of (\d+) on/)?.[1] ?? 0);
  }
  assert.equal(seen, csvRows, "the three policies' tables hold every exported trade");

  await page.getByTestId("results").screenshot({ path: "docs/screenshots/results.png" });
  assert.deepEqual(problems, []);
  await context.close();
});

test("a break-even fee is confirmed by re-simulation in a worker, as the command-line tool finds it", async () => {
  const { page, problems, context, ws, results } = await open();
  await results.setRun({ paths: 4, years: 2 });
  await results.compare();
  await results.waitStatus(/^Done: 4 paths/, 120_000);
  const policy = "Daily TLH (household guard)";
  await page.getByTestId("confirm-policy").selectOption({ label: policy });
  await page.getByTestId("confirm-run").click();
  await page.getByTestId("confirm-result").waitFor({ timeout: 120_000 });
  const shown = (await page.getByTestId("confirm-result").textContent()).trim();
  const cli = JSON.parse(
    execFileSync(
      CLI,
      ["break-even", "crates/engine/testdata/scenarios/household.json", "--policy", policy, "--paths", "4", "--years", "2"],
      { encoding: "utf8" },
    ),
  );
  // The same search, trial for trial: the workers' sums are the engine's.
  assert.ok(shown.startsWith(cli.conclusion), `page: ${shown}\nCLI: ${cli.conclusion}`);
  assert.equal(await page.locator('[data-testid="confirm-trials"] tbody tr').count(), cli.trials.length);
  assert.match(shown, /re-runs of the same 4 paths × 2 years/);
  // An edit marks the search as of another scenario, and Re-simulate waits for a new comparison.
  await page.getByTestId("auto-run").uncheck();
  await ws.go("tax");
  await page.getByTestId("tax-state_rate").fill("6");
  await ws.go("overview");
  await page.getByTestId("confirm-stale").waitFor();
  assert.ok(await page.getByTestId("confirm-run").isDisabled());
  assert.deepEqual(problems, []);
  await context.close();
});

test("the charts redraw in presentation mode and on resize, print, and pass axe-core", async () => {
  // CSP forbids injected scripts; this context alone bypasses it to run axe.
  const { page, problems, context, ws, results } = await open({ bypassCSP: true });
  await results.setRun({ paths: 8, years: 1 });
  await results.compare();
  await results.waitStatus(/^Done: 8 paths/, 120_000);
  await checkCharts(results, 3);
  // Today's trades too: their wide table scrolls in a box the keyboard can reach.
  await page.getByTestId("today-run").click();
  await page.getByTestId("today-status").waitFor({ timeout: 60_000 });
  await page.addScriptTag({ path: "node_modules/axe-core/axe.min.js" });
  // Each policy's marker shape is in its legend swatch too (circle, triangle, square).
  assert.deepEqual(
    await page.$$eval('[data-testid="charts"] figure:first-of-type .legend .swatch', (s) => s.map((x) => x.className)),
    ["swatch s0 m0", "swatch s1 m1", "swatch s2 m2"],
  );
  const violations = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run('[data-testid="results"]', { resultTypes: ["violations"] });
    return r.violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")}`);
  });
  assert.deepEqual(violations, []);

  // Presentation mode mounts the results again: the charts are drawn again, larger.
  const width = (await results.charts())[0].shown.width;
  await ws.togglePresentation();
  await page.getByTestId("charts").waitFor();
  const presented = await checkCharts(results, 3);
  // Their text grows with the page's type (135 %), for a projector.
  await page.waitForFunction(() =>
    [...document.querySelectorAll('[data-testid="charts"] canvas')].every((c) => c.dataset.textScale === "1.35"),
  );
  assert.ok(presented[0].shown.width >= width, `presented at ${presented[0].shown.width}px, was ${width}px`);
  await ws.togglePresentation();

  // In a narrower window the charts take one column each: drawn again at their new width
  // (no stretched bitmaps).
  await page.setViewportSize({ width: 1000, height: 900 });
  await page.waitForFunction(
    (w) => Math.abs(document.querySelector('[data-testid="chart-scatter"]').clientWidth - w) > 50,
    width,
  );
  await page.waitForFunction(() =>
    [...document.querySelectorAll('[data-testid="charts"] canvas')].every(
      (c) => Math.abs(c.width / Math.max(devicePixelRatio, 2) - Math.min(1200, Math.max(320, c.clientWidth))) <= 1,
    ),
  );
  await checkCharts(results, 3);
  await page.setViewportSize({ width: 1280, height: 900 });

  // Print: the canvases are laid out (two per row) and keep their bitmaps.
  await page.emulateMedia({ media: "print" });
  const printed = await checkCharts(results, 3);
  for (const c of printed) assert.ok(c.shown.width > 150 && c.shown.height > 80, `${c.testId} printed at ${c.shown.width}×${c.shown.height}`);
  await page.emulateMedia({ media: "screen" });
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
  // Past the first chunks, so path 0 is in.
  await page.waitForFunction(() => /Simulating: ([2-9]\d|\d{3,}) of 2000/.test(document.querySelector('[data-testid="run-status"]')?.textContent ?? ""), null, { timeout: 60_000 });
  await results.cancel();
  await results.waitStatus(/^Cancelled after \d+ of 2000 paths/);
  const { done } = await results.progress();
  assert.ok(done > 0 && done < 2000, `cancelled with ${done} paths done`);
  await page.waitForTimeout(1500);
  assert.equal((await results.progress()).done, done, "no chunk is counted after cancel");
  // The figures are of exactly the paths the status counts, and say so.
  const meta = await page.getByTestId("report-meta").textContent();
  assert.equal(Number(meta.match(/^(\d+) paths × 10 years/)[1]), done, meta);
  assert.equal((await results.policyColumns()).length, 3);
  assert.match(await page.getByTestId("assumptions").first().textContent(), new RegExp(`^${done} paths of `));
  // They are paths 0..done, the report of a run of that many: the CLI prints its hash.
  const cli = JSON.parse(
    execFileSync(CLI, ["simulate", "crates/engine/testdata/scenarios/household.json", "--paths", String(done), "--years", "10"], {
      encoding: "utf8",
      maxBuffer: 1 << 28,
    }),
  );
  assert.equal(await results.reportHash(), cli.report_hash);
  assert.deepEqual(problems, []);
  await context.close();
});

test("a worker that fails stops the comparison it was running with the reason; the page goes on without it", async () => {
  const { page, problems, context, results } = await open();
  // Each worker counts the jobs it receives: the simulation workers are those that get
  // chunks (today's worker gets none during a comparison).
  const workers = page.workers();
  assert.equal(workers.length, 3, "two simulation workers and today's");
  for (const w of workers) {
    await w.evaluate(() => {
      const answer = self.onmessage;
      self.jobs = 0;
      self.onmessage = (e) => {
        self.jobs += 1;
        return answer.call(self, e);
      };
    });
  }
  await results.setRun({ paths: 2000, years: 10 });
  await results.compare();
  await page.getByTestId("compare-table").waitFor({ timeout: 60_000 });
  // One simulation worker's script throws on its next job, as a trapped WebAssembly
  // instance (a panic, memory exhausted) does: the page must not wait for its chunk.
  const fail = () => {
    self.onmessage = () => {
      throw new Error("simulated failure");
    };
  };
  const counts = await Promise.all(workers.map((w) => w.evaluate(() => self.jobs)));
  const sim = counts.findIndex((c) => c > 0);
  const today = counts.findIndex((c) => c === 0);
  assert.ok(sim >= 0 && today >= 0, `jobs per worker: ${counts}`);
  await workers[sim].evaluate(fail);
  await results.waitStatus(
    /^The comparison stopped: a simulation worker stopped \(.*simulated failure\) while running paths of this comparison\. The page goes on with 1 worker\(s\); reload it to start all again\.$/,
    60_000,
  );
  const { done } = await results.progress();
  assert.ok(done < 2000, `stopped at ${done} paths`);
  await page.waitForTimeout(1000);
  assert.equal((await results.progress()).done, done, "nothing is counted after the failure");
  assert.equal(page.workers().length, 2, "the failed worker was terminated, and none started");
  // The next comparison runs on the worker left, with the same numbers as ever.
  await results.setRun({ paths: 8, years: 2 });
  await results.compare();
  await results.waitStatus(/^Done: 8 paths/, 120_000);
  assert.equal(await results.reportHash(), DEMO_REPORT_HASH_8_PATHS_2_YEARS);
  // Today's worker fails while asked: said; asked again, the simulation worker answers.
  await workers[today].evaluate(fail);
  await page.getByTestId("today-run").click();
  assert.match(
    await page.getByTestId("today-error").textContent(),
    /^The worker for today's trades stopped \(.*simulated failure\) while working them out\. Ask again: a simulation worker answers now\.$/,
  );
  await page.getByTestId("today-run").click();
  await page.getByTestId("today-status").waitFor({ timeout: 60_000 });
  // No request after load: nothing was fetched again.
  assert.deepEqual(problems, []);
  await context.close();
});

test("workers that cannot load say so: a comparison or today's trades fail with the reason", async () => {
  // The workers' WebAssembly, or their script, is unreachable (a proxy, a broken
  // deployment): the first fails inside the loader, the second fires a plain error event.
  for (const [file, reason] of [
    ["worker_bg.wasm", /failed to fetch Wasm: 404/],
    ["worker_loader.js", /its script could not be loaded/],
  ]) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await context.route(`**/${file}`, (route) => route.fulfill({ status: 404, body: "" }));
    const session = await openApp(browser, server, { context });
    const { page } = session;
    const ws = new Workspace(page);
    await ws.ready();
    await page.waitForFunction(() => document.documentElement.dataset.workers === "failed", null, { timeout: 60_000 });
    const results = new Results(page);
    await results.setRun({ paths: 8, years: 2 });
    await results.compare();
    await results.waitStatus(/^The comparison stopped: the simulation workers could not load \(.+\)\. Reload the page\.$/);
    assert.match(await results.status(), reason);
    await page.getByTestId("today-run").click();
    assert.match(await page.getByTestId("today-error").textContent(), /^The simulation workers could not load \(.+\)\. Reload the page\.$/);
    assert.equal(await page.getByTestId("today-run").isDisabled(), false, "today's button is usable again");
    // Nothing but the failed load itself went wrong on the page.
    assert.deepEqual(
      session.problems.filter((p) => !/worker_bg\.wasm|worker_loader\.js|WebAssembly|wasm_bindgen|Uncaught|404/.test(p)),
      [],
      file,
    );
    await context.close();
  }
});

test("a job queued on a worker that then fails to load is run by another: the comparison completes", async () => {
  // Simulation worker 1 (by its name) holds its load until the test lets it fail, so the
  // comparison's first jobs are queued on it, unstarted, when its load fails.
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.route("**/worker_loader.js", async (route) => {
    const loader = await (await route.fetch()).text();
    const body = `if (self.name === "tollbooth-simulation-1") {
      const wait = setInterval(() => {
        if (self.fail) {
          clearInterval(wait);
          throw new Error("simulated load failure");
        }
      }, 20);
    } else {
      ${loader}
    }`;
    await route.fulfill({ status: 200, contentType: "text/javascript", body });
  });
  const session = await openApp(browser, server, { context });
  const { page } = session;
  await new Workspace(page).ready();
  const results = new Results(page);
  const named = async () =>
    Promise.all(page.workers().map(async (w) => [await w.evaluate(() => self.name), w]));
  let held;
  for (let i = 0; i < 100 && !held; i += 1) {
    held = (await named()).find(([name]) => name === "tollbooth-simulation-1")?.[1];
    if (!held) await page.waitForTimeout(50);
  }
  assert.ok(held, `workers: ${(await named()).map(([n]) => n)}`);
  await results.setRun({ paths: 8, years: 2 });
  await results.compare();
  assert.match(await results.status(), /^Simulating: \d+ of 8 paths/);
  assert.equal(await page.evaluate(() => document.documentElement.dataset.workers), "starting");
  await held.evaluate(() => {
    self.fail = true;
  });
  await results.waitStatus(/^Done: 8 paths/, 120_000);
  assert.equal(await results.reportHash(), DEMO_REPORT_HASH_8_PATHS_2_YEARS);
  assert.equal(page.workers().length, 2, "the failed worker was terminated, and none started");
  assert.equal(await page.evaluate(() => document.documentElement.dataset.workers), "ready");
  assert.deepEqual(
    session.problems.filter((p) => !/simulated load failure|Uncaught/.test(p)),
    [],
  );
  await context.close();
});

test("the run settings as typed survive a reload of the tab", async () => {
  const { page, problems, context, results, reload } = await open();
  await page.getByTestId("auto-run").uncheck();
  await results.setRun({ paths: 1234, years: 7 });
  await reload();
  assert.equal(await page.getByTestId("run-paths").inputValue(), "1234");
  assert.equal(await page.getByTestId("run-years").inputValue(), "7");
  assert.equal(await page.getByTestId("auto-run").isChecked(), false);
  // A reload that opens another scenario (here: another tab's autosave, with 2,000 paths)
  // takes that scenario's settings, not those typed over this one's.
  await page.evaluate(() => {
    const saved = JSON.parse(localStorage.getItem("tollbooth.scenario.v1"));
    saved.form.market.paths = "2000";
    localStorage.setItem("tollbooth.scenario.v1", JSON.stringify(saved));
  });
  await reload();
  assert.equal(await page.getByTestId("run-paths").inputValue(), "2000");
  assert.equal(await page.getByTestId("auto-run").isChecked(), false);
  assert.deepEqual(problems, []);
  await context.close();
});

test("a quick scenario recomputes by itself as the advisor edits", async () => {
  const { page, problems, context, results, ws } = await open();
  await results.setRun({ paths: 4, years: 1 });
  await results.waitStatus(/^Done: 4 paths/, 120_000);
  const first = await results.reportHash();
  await ws.go("fees");
  await ws.fill("fee_schedules[0].rows.etf.flat", "9.99");
  await ws.go("overview");
  await page.waitForFunction(
    (h) => {
      const now = document.querySelector('[data-testid="report-hash"]')?.textContent.trim();
      const status = document.querySelector('[data-testid="run-status"]')?.textContent ?? "";
      return now && now !== h && status.startsWith("Done");
    },
    first,
    { timeout: 120_000 },
  );
  assert.equal(await page.getByTestId("results-stale").count(), 0);
  // Today's trades of this scenario are current.
  await page.getByTestId("today-run").click();
  await page.getByTestId("today-status").waitFor({ timeout: 60_000 });
  assert.equal(await page.getByTestId("today-stale").count(), 0);
  // Switched off, an edit leaves the figures as they are (marked stale).
  await page.getByTestId("auto-run").uncheck();
  await ws.go("fees");
  await ws.fill("fee_schedules[0].rows.etf.flat", "4.95");
  await ws.go("overview");
  await page.getByTestId("results-stale").waitFor();
  // So are today's trades, until they are asked for again.
  await page.getByTestId("today-stale").waitFor();
  // Presenting, rows of another scenario cannot be masked from this one: not shown.
  await page.getByTestId("presentation-toggle").click();
  await page.getByTestId("today-hidden").waitFor();
  assert.equal(await page.getByTestId("today-table").count(), 0);
  assert.ok(await page.getByTestId("path-trades-hidden").isVisible());
  assert.ok(!(await page.getByTestId("path-trades").isVisible()));
  await page.getByTestId("presentation-toggle").click();
  await page.getByTestId("today-run").click();
  await page.waitForFunction(() => !document.querySelector('[data-testid="today-stale"]'), null, { timeout: 60_000 });
  await page.waitForTimeout(1500);
  assert.equal(await page.getByTestId("results-stale").count(), 1);
  // A printout of stale figures says so (other notices are not printed).
  await page.emulateMedia({ media: "print" });
  assert.ok(await page.getByTestId("results-stale").isVisible());
  await page.emulateMedia({ media: "screen" });
  // While the scenario has a problem, the figures on screen say they are from before it.
  await ws.go("fees");
  await ws.fill("fee_schedules[0].rows.etf.flat", "-1");
  await ws.go("overview");
  assert.match(await page.getByTestId("results-stale").textContent(), /problems to fix/);
  await ws.go("fees");
  await ws.fill("fee_schedules[0].rows.etf.flat", "4.95");
  // The run settings follow the scenario's own paths and horizon when those are edited.
  await ws.go("market");
  await ws.fill("market.paths", "7");
  await ws.fill("market.horizon_years", "3");
  await ws.go("overview");
  assert.equal(await page.getByTestId("run-paths").inputValue(), "7");
  assert.equal(await page.getByTestId("run-years").inputValue(), "3");
  assert.deepEqual(problems, []);
  await context.close();
});

/**
 * The five charts are drawn, each an image described by its caption and every policy's
 * name, with its data in the legend's colours; the scatter shows each policy's point in
 * its own colour. Returns what `Results.charts()` read.
 */
async function checkCharts(results, policies) {
  const charts = await results.charts();
  assert.deepEqual(
    charts.map((c) => c.testId),
    ["chart-scatter", "chart-tickets", "chart-fees", "chart-fan", "chart-turnover"],
  );
  for (const c of charts) {
    assert.equal(c.drawn, "true", c.testId);
    assert.equal(c.role, "img");
    assert.equal(c.legend.length, policies);
    assert.equal(new Set(c.colours).size, policies, `${c.testId}: one colour per policy`);
    assert.deepEqual(c.colours, charts[0].colours, `${c.testId}: the same colours as the scatter`);
    assert.ok(c.label.startsWith(c.caption), `${c.testId}: ${c.label}`);
    for (const name of c.legend) assert.ok(c.label.includes(`${name}: `), `${c.testId} label names ${name}`);
    assert.ok(c.ink > 0.01, `${c.testId}: ${(100 * c.ink).toFixed(1)}% of the canvas drawn`);
    assert.ok(Math.max(...c.colourPixels) >= 100, `${c.testId}: policy colour pixels ${c.colourPixels}`);
  }
  const scatter = charts[0];
  for (const [i, n] of scatter.colourPixels.entries()) {
    assert.ok(n >= 100, `the scatter's point for ${scatter.legend[i]}: ${n} pixels`);
  }
  return charts;
}
