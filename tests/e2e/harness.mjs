// Shared set-up for the browser journeys: Debian's Chromium through playwright-core,
// the release bundle served under a sub-path, and a network and console watch that
// fails the journey on any request it should not make.
import { chromium } from "playwright-core";
import { readdirSync } from "node:fs";
import { serveDist } from "./server.mjs";

export const BASE = "/tools/tollbooth/";
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

// `EXTRA_CHROMIUM_ARGS` (space-separated) adds flags for an experiment, e.g. V8's
// `--js-flags=...` in the in-browser benchmark.
export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: [...CHROMIUM_ARGS, ...(process.env.EXTRA_CHROMIUM_ARGS ?? "").split(" ").filter(Boolean)],
  });
}

export async function startBundle() {
  return serveDist("dist", BASE);
}

/**
 * Opens the app in a fresh page (of a fresh context unless `context` is given) and watches
 * it. Returns { page, context, problems, requested, markLoaded, reload, reloadBy }.
 * `problems` collects: requests to other origins or to files that are not in dist/,
 * any request at all after markLoaded() (the Web Workers start while the page loads),
 * console errors and page errors. `requested` lists the bundle files fetched.
 */
export async function openApp(browser, server, { path = "", viewport, context: given, contextOptions = {} } = {}) {
  const assets = new Set(["", "index.html", ...readdirSync("dist")]);
  const context =
    given ?? (await browser.newContext({ viewport: viewport ?? { width: 1280, height: 900 }, ...contextOptions }));
  const page = await context.newPage();
  const problems = [];
  const requested = [];
  let loaded = false;
  page.on("request", (req) => {
    const url = req.url();
    if (url.startsWith("data:") || url.startsWith("blob:")) return;
    const u = new URL(url);
    const inBundle = u.origin === server.origin && u.pathname.startsWith(BASE);
    const name = u.pathname.slice(BASE.length);
    if (inBundle) requested.push(name);
    if (loaded) {
      problems.push(`request after load: ${req.method()} ${url}`);
    } else if (u.origin !== server.origin) {
      problems.push(`third-party request: ${url}`);
    } else if (!u.pathname.startsWith(BASE) || !assets.has(u.pathname.slice(BASE.length))) {
      problems.push(`request outside the bundle: ${url}`);
    }
  });
  page.on("console", (msg) => {
    if (msg.type() === "error") problems.push(`console error: ${msg.text()}`);
  });
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
  await page.goto(server.url + path);
  /** Runs `action`, after which the page loads again, and waits until it is ready. */
  async function reloadBy(action) {
    loaded = false;
    await Promise.all([page.waitForEvent("load"), action()]);
    await page.getByTestId("ticket-total").or(page.getByTestId("summary-invalid")).first().waitFor({ timeout: 30_000 });
    await page.waitForFunction(() => document.documentElement.dataset.workers === "ready", null, { timeout: 60_000 });
    await page.waitForLoadState("networkidle");
    loaded = true;
  }
  return {
    page,
    context,
    problems,
    requested,
    /** Waits until the page and its Web Workers have loaded, then watches for requests. */
    async markLoaded() {
      await page.waitForFunction(() => document.documentElement.dataset.workers === "ready", null, { timeout: 60_000 });
      await page.waitForLoadState("networkidle");
      loaded = true;
    },
    /** Reloads the page (its own requests are allowed) and marks it loaded again. */
    reload: () => reloadBy(() => page.reload()),
    reloadBy,
  };
}
