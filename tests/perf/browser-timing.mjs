// The in-browser benchmark: times a scenario in headless Chromium on the release bundle
// (served under a sub-path, like the journeys) and compares the workers' time per path
// with the native engine's on the same scenario, single-threaded.
//
//   node tests/perf/browser-timing.mjs [--example six_policies] [--paths 500] [--years 10]
//                                      [--native-paths 30] [--out target/bench/browser.json]
//
// Needs `trunk build --release` (dist/) and `cargo build --release -p tollbooth-cli`.
// It reports; it asserts nothing about speed (targets are benchmarks, not tests).
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { launch, openApp, startBundle } from "../e2e/harness.mjs";
import { Results, Workspace } from "../e2e/pages.mjs";

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith("--") ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const example = args.example ?? "six_policies";
const paths = Number(args.paths ?? 500);
const years = Number(args.years ?? 10);
const nativePaths = Number(args["native-paths"] ?? 30);
const out = args.out ?? "target/bench/browser.json";
const cli = args.cli ?? "target/release/tollbooth";

const server = await startBundle();
const browser = await launch();
const result = { example, paths, years };
try {
  const session = await openApp(browser, server);
  const { page } = session;
  const ws = new Workspace(page);
  await ws.ready();
  result.load_to_interactive_ms = await page.evaluate(
    () => performance.getEntriesByName("tollbooth:interactive")[0]?.startTime ?? NaN,
  );
  await session.markLoaded();
  result.workers = await page.evaluate(() => navigator.hardwareConcurrency);

  await ws.go("files");
  await page.getByTestId("example").selectOption(example);
  await page.getByTestId("load-example").click();
  await ws.go("overview");
  const results = new Results(page);
  await page.getByTestId("auto-run").uncheck();
  await results.setRun({ paths, years });
  await page.evaluate(() => {
    // The first partial result on the page's own clock: from the click on Compare to the
    // first frame after the results table is in the document (no test-driver latency).
    window.__firstPartial = {};
    document.addEventListener(
      "click",
      (e) => {
        if (e.target.closest?.('[data-testid="compare"]')) window.__firstPartial.click ??= performance.now();
      },
      true,
    );
    const seen = new MutationObserver(() => {
      if (document.querySelector('[data-testid="compare-table"]')) {
        seen.disconnect();
        window.__firstPartial.dom = performance.now();
        requestAnimationFrame(() => setTimeout(() => (window.__firstPartial.frame = performance.now()), 0));
      }
    });
    seen.observe(document.body, { childList: true, subtree: true });
    window.__longTasks = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.__longTasks.push([e.startTime, e.duration]);
    }).observe({ type: "longtask" });
  });
  const t0 = Date.now();
  await results.compare();
  await page.getByTestId("compare-table").waitFor({ timeout: 600_000 });
  result.first_partial_ms = Date.now() - t0;
  await page.waitForFunction(() => window.__firstPartial.frame !== undefined);
  result.first_partial_in_page = await page.evaluate(() => {
    const f = window.__firstPartial;
    // The page's own marks: the run starts, the first chunk is read, its report is built
    // and set; the page's warm-up (when idle after load) must be over before the click.
    const at = (name) => performance.getEntriesByName(name).at(-1);
    const start = at("tollbooth:run-start")?.startTime ?? NaN;
    const warm = at("tollbooth:warm-page");
    return {
      in_document_ms: Math.round(f.dom - f.click),
      painted_ms: Math.round(f.frame - f.click),
      click_to_run_start_ms: Math.round(start - f.click),
      run_start_to_first_chunk_ms: Math.round(at("tollbooth:first-chunk")?.startTime - start),
      first_report_ms: Math.round(at("tollbooth:first-partial")?.duration),
      page_warm_up_ms: warm ? Math.round(warm.duration) : null,
      page_warm_up_done_before_click: warm ? warm.startTime + warm.duration < f.click : false,
    };
  });
  await results.waitStatus(/^Done/, 3_600_000);
  result.total_ms = Date.now() - t0;
  const status = await results.status();
  result.status = status;
  result.wasm_ms_per_path = Number(status.match(/; ([\d.]+) ms per path in one worker/)[1]);
  // Long tasks while paths were coming in, and at the end: from the task that reads the
  // last chunk (the page marks `tollbooth:last-chunk` in it) on, the whole report and the
  // charts are built once.
  await page.waitForTimeout(1000);
  const [lt, end] = await page.evaluate(() => [
    window.__longTasks,
    performance.getEntriesByName("tollbooth:last-chunk").at(-1)?.startTime ?? Infinity,
  ]);
  const during = lt.filter(([t, d]) => t + d < end).map(([, d]) => d);
  const after = lt.filter(([t, d]) => t + d >= end).map(([, d]) => d);
  result.long_tasks = {
    over_50ms: during.length,
    max_ms: Math.round(Math.max(0, ...during)),
    at_end: after.length,
    at_end_max_ms: Math.round(Math.max(0, ...after)),
  };
  // The page's own User Timing measures: building a report from the paths gathered so far
  // and reading a worker's chunk, on the page's thread.
  result.page_thread_ms = await page.evaluate(() => {
    const all = (name) => performance.getEntriesByName(name).map((m) => m.duration);
    const max = (name) => Math.max(0, ...all(name));
    const sum = (name) => all(name).reduce((a, b) => a + b, 0);
    return {
      report_max: Math.round(max("tollbooth:report")),
      decode_max: Math.round(max("tollbooth:decode")),
      report_total: Math.round(sum("tollbooth:report")),
      decode_total: Math.round(sum("tollbooth:decode")),
      reports: all("tollbooth:report").length,
    };
  });
  result.problems = session.problems;
} finally {
  await browser.close();
  await server.close();
}

// Native, one thread, the same scenario: the marginal cost of a path (the difference between
// a run of `nativePaths` paths and one of 2, so that the process start, the compile and the
// report, paid once a run, are left out as they are from the workers' figure).
// Each run is timed three times and the fastest kept (the machine's noise only adds time).
const timeNative = (n) => {
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const t0 = process.hrtime.bigint();
    execFileSync(cli, ["simulate", "--preset", example, "--paths", String(n), "--years", String(years), "--threads", "1"], {
      stdio: ["ignore", "ignore", "inherit"],
    });
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return best;
};
const small = 2;
const tSmall = timeNative(small);
const tBig = timeNative(nativePaths);
result.native_ms_per_path = (tBig - tSmall) / (nativePaths - small);
result.wasm_native_ratio = result.wasm_ms_per_path / result.native_ms_per_path;

mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify(result, null, 2) + "\n");
const row = (k, v) => console.log(`${k.padEnd(34)} ${v}`);
row("scenario", `${example}: ${paths} paths × ${years} years`);
row("load to interactive", `${result.load_to_interactive_ms.toFixed(0)} ms`);
row("first partial result", `${result.first_partial_ms} ms`);
row(
  "  on the page: click to table / frame",
  `${result.first_partial_in_page.in_document_ms} ms / ${result.first_partial_in_page.painted_ms} ms`,
);
{
  const f = result.first_partial_in_page;
  row(
    "  click→run / run→first chunk / build",
    `${f.click_to_run_start_ms} / ${f.run_start_to_first_chunk_ms} / ${f.first_report_ms} ms (page warm-up ${f.page_warm_up_ms} ms, before click: ${f.page_warm_up_done_before_click})`,
  );
}
row(`whole run (${result.workers} workers)`, `${(result.total_ms / 1000).toFixed(1)} s`);
row("per path, one worker (wasm)", `${result.wasm_ms_per_path} ms`);
row("per path, one thread (native)", `${result.native_ms_per_path.toFixed(1)} ms`);
row("wasm / native", result.wasm_native_ratio.toFixed(2));
row("main-thread tasks over 50 ms, running", `${result.long_tasks.over_50ms} (longest ${result.long_tasks.max_ms} ms)`);
row("main-thread tasks over 50 ms, at end", `${result.long_tasks.at_end} (longest ${result.long_tasks.at_end_max_ms} ms)`);
row("longest report build / chunk read", `${result.page_thread_ms.report_max} ms / ${result.page_thread_ms.decode_max} ms`);
row(
  "page thread: reports / chunk reads",
  `${result.page_thread_ms.report_total} ms (${result.page_thread_ms.reports}) / ${result.page_thread_ms.decode_total} ms`,
);
if (result.problems.length) {
  console.error("problems:", result.problems);
  process.exitCode = 1;
}
