// The release bundle, served from a sub-path, loads, computes in the browser, and makes
// no request that leaves the bundle, and none at all once loaded.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { launch, openApp, startBundle } from "./harness.mjs";
import { TicketPreview } from "./pages.mjs";

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

test("the bundle loads from a sub-path and prices a sell ticket in the browser", async () => {
  const { page, problems, markLoaded, context } = await openApp(browser, server);
  const app = new TicketPreview(page);
  await app.ready();
  await markLoaded();
  // Sell 100 VTI at $335.40 on the scenario's date (2026-11-20), flat $3.10 clearing
  // ticket; FINRA reports the TAF as $0.00 for trades 2026-10-01 to 2026-12-31.
  assert.equal(await page.getByTestId("ticket-date").inputValue(), "2026-11-20");
  assert.deepEqual(await app.breakdown(), {
    commission: "$3.10",
    sec: "$0.70",
    taf: "$0.00",
    total: "$4.30",
  });
  // On 2026-06-01 the TAF is $0.000195 a share.
  await app.setDate("2026-06-01");
  await app.expect("ticket-taf", "$0.02");
  await app.expect("ticket-total", "$4.32");
  await app.setDate("2026-10-15");
  await app.expect("ticket-taf", "$0.00");
  // A buy pays no regulatory fee.
  await app.setSide("buy");
  await app.expect("ticket-sec", "$0.00");
  // …and quotes no rate of $0 for it.
  const secRow = await page.getByTestId("ticket-sec").locator("xpath=..").textContent();
  assert.match(secRow, /not charged: sales only/);
  // Bad input gets a message next to the field, and nothing breaks.
  await app.setQuantity("12x");
  await page.getByText("is not a number of shares").waitFor();
  await app.setQuantity("300");
  await app.setSide("sell");
  await app.setDate("2026-06-01");
  await app.expect("ticket-sec", "$2.08");
  await app.expect("ticket-commission", "$3.10");
  // Idle a moment: nothing may be fetched after load, whatever the user does.
  await page.waitForTimeout(1_000);
  assert.deepEqual(problems, []);
  mkdirSync("docs/screenshots", { recursive: true });
  await page.screenshot({ path: "docs/screenshots/home.png", fullPage: true });
  await context.close();
});

test("the page carries a strict Content-Security-Policy and no inline script", async () => {
  const { page, problems, markLoaded, context } = await openApp(browser, server);
  await new TicketPreview(page).ready();
  await markLoaded();
  const csp = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute("content");
  assert.match(csp, /default-src 'self'/);
  assert.match(csp, /script-src 'self' 'wasm-unsafe-eval';/);
  assert.doesNotMatch(csp, /unsafe-inline/);
  const inline = await page.evaluate(() => document.querySelectorAll("script:not([src])").length);
  assert.equal(inline, 0);
  const thirdParty = await page.evaluate(() =>
    [...document.querySelectorAll("[src],[href]")]
      .map((e) => e.getAttribute("src") ?? e.getAttribute("href"))
      .filter((u) => /^(https?:)?\/\//.test(u)),
  );
  assert.deepEqual(thirdParty, []);
  assert.deepEqual(problems, []);
  await context.close();
});

test("every request the page made was a same-origin asset under the sub-path", async () => {
  const paths = server.requests.map((r) => r.path);
  assert.ok(paths.length > 0);
  for (const p of paths) assert.ok(p.startsWith("/tools/tollbooth/"), p);
});

test("a browser without WebAssembly SIMD is told so, and the app does not start", async () => {
  const context = await browser.newContext();
  // As such a browser answers the page's probe module.
  await context.addInitScript(() => {
    WebAssembly.validate = () => false;
  });
  const { page, problems, requested } = await openApp(browser, server, { context });
  const alert = page.getByTestId("boot-error");
  await alert.waitFor();
  assert.match(await alert.textContent(), /needs a browser with WebAssembly SIMD/);
  await page.waitForLoadState("networkidle");
  // The app's module was never run: no workspace, no Web Workers (their WebAssembly was
  // never asked for; the page's own is only preloaded by the HTML).
  assert.equal(await page.locator("main").count(), 0);
  assert.equal(await page.evaluate(() => document.documentElement.dataset.workers ?? null), null);
  assert.ok(!requested.includes("worker_bg.wasm"), requested.join());
  assert.deepEqual(problems, []);
  await context.close();
});
