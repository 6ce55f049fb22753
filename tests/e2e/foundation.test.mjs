// The release bundle, served from a sub-path, loads, computes in the browser, and makes
// no request that leaves the bundle, and none at all once loaded.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { launch, openApp, startBundle } from "./harness.mjs";

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

test("the bundle loads from a sub-path and shows an engine-computed number", async () => {
  const { page, problems, markLoaded, context } = await openApp(browser, server);
  const days = page.getByTestId("business-days");
  await days.waitFor({ timeout: 30_000 });
  assert.equal((await days.textContent()).trim(), "261");
  await markLoaded();
  // Idle a moment: nothing may be fetched after load.
  await page.waitForTimeout(1_000);
  assert.deepEqual(problems, []);
  mkdirSync("docs/screenshots", { recursive: true });
  await page.screenshot({ path: "docs/screenshots/home.png", fullPage: true });
  await context.close();
});

test("the page carries a strict Content-Security-Policy and no inline script", async () => {
  const { page, problems, markLoaded, context } = await openApp(browser, server);
  await page.getByTestId("business-days").waitFor({ timeout: 30_000 });
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
