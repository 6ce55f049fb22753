// The advisor's whole journey, checked against the engine's CLI: import a custodian CSV,
// edit a fee schedule, compare three policies in the page's Web Workers, export the
// summary, save the scenario — then run `tollbooth simulate` on the saved file and check
// that the page's table and CSV show the CLI's numbers and the same report hash.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { launch, openApp, startBundle } from "./harness.mjs";
import { Results, Workspace } from "./pages.mjs";

const HOUSEHOLD_CSV = readFileSync("testdata/csv/household.csv", "utf8");
const CLI = process.env.TOLLBOOTH_CLI ?? "target/debug/tollbooth";

/** Rows of a CSV text (quoted fields with doubled quotes; no embedded newlines here). */
function csvRows(text) {
  return text
    .trim()
    .split("\n")
    .map((line) => {
      const out = [];
      let cell = "";
      let quoted = false;
      for (let i = 0; i < line.length; i++) {
        const ch = line[i];
        if (quoted && ch === '"' && line[i + 1] === '"') {
          cell += '"';
          i++;
        } else if (ch === '"') {
          quoted = !quoted;
        } else if (ch === "," && !quoted) {
          out.push(cell);
          cell = "";
        } else {
          cell += ch;
        }
      }
      out.push(cell);
      return out;
    });
}

let browser;
let server;

before(async () => {
  server = await startBundle();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

test("import, edit fees, compare three policies: the page agrees with the CLI", async () => {
  assert.ok(existsSync(CLI), `${CLI} is built by \`cargo test --workspace\` (or set TOLLBOOTH_CLI)`);
  const session = await openApp(browser, server);
  const { page, problems, context } = session;
  const ws = new Workspace(page);
  await ws.ready();
  await session.markLoaded();
  const results = new Results(page);

  await ws.importCsv(HOUSEHOLD_CSV);
  assert.match(await ws.text("import-done"), /Imported 5 lot\(s\)/);
  await ws.go("fees");
  await ws.fill("fee_schedules[0].rows.etf.flat", "6.95");
  await ws.go("overview");
  await page.getByTestId("auto-run").uncheck();
  await results.setRun({ paths: 6, years: 2 });
  await results.compare();
  await results.waitStatus(/^Done: 6 paths/, 180_000);
  const pageHash = await results.reportHash();
  const cols = (await results.policyColumns()).map((c) => c.replace(/ baseline.*$/, "").replace(/ ⚠ friction$/, ""));
  assert.equal(cols.length, 3);
  const ticketsShown = await page.$$eval('tr[data-metric="tickets"] .mean', (c) => c.map((x) => x.textContent.trim()));

  const summary = await results.download("export-summary");
  await ws.go("files");
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("save-json").click()]);
  const file = await download.path();
  const saved = JSON.parse(readFileSync(file, "utf8"));
  assert.equal(saved.fee_schedules[0].rows.etf.flat, 6.95);

  const cli = JSON.parse(
    execFileSync(CLI, ["simulate", file, "--paths", "6", "--years", "2"], { encoding: "utf8", maxBuffer: 1 << 28 }),
  );
  assert.equal(pageHash, cli.report_hash, "the page's workers and the CLI give the same report");
  assert.deepEqual(cli.policies.map((p) => p.name), cols);
  const tickets = cli.policies.map((p) => p.metrics.find((m) => m.key === "tickets").stat.mean);
  assert.equal(ticketsShown.length, 3);
  for (const [i, shown] of ticketsShown.entries()) {
    const n = Number(shown.replace(/,/g, ""));
    assert.ok(Math.abs(n - tickets[i]) <= 0.05 + 1e-9, `${cols[i]} tickets: page ${shown}, CLI ${tickets[i]}`);
  }
  // The exported summary carries the CLI's numbers to the cent.
  const rows = csvRows(summary.text).filter((r) => r[0] === "net_benefit_usd");
  assert.equal(rows.length, 3);
  for (const [i, p] of cli.policies.entries()) {
    const mean = p.metrics.find((m) => m.key === "net_benefit_usd").stat.mean;
    assert.equal(rows[i][3], p.name);
    assert.ok(Math.abs(Number(rows[i][4]) - mean) < 0.005, `${p.name}: ${rows[i][4]} vs ${mean}`);
  }
  assert.deepEqual(problems, []);
  await context.close();
});
