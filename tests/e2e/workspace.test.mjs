// The advisor's workspace through the real page: CSV import (good and bad files), fee
// schedule presets driving the ticket preview, autosave and restore, JSON files, share
// links, presentation mode, print view and accessibility. The harness fails a journey on
// any request after load and on any console error.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { launch, openApp, startBundle } from "./harness.mjs";
import { Workspace } from "./pages.mjs";

const HOUSEHOLD_CSV = readFileSync("testdata/csv/household.csv", "utf8");
const BAD_CSV = readFileSync("testdata/csv/bad.csv", "utf8");
const DEMO_JSON = readFileSync("crates/engine/testdata/scenarios/household.json", "utf8");

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

async function open(options) {
  const session = await openApp(browser, server, options);
  const ws = new Workspace(session.page);
  await ws.ready();
  await session.markLoaded();
  return { ...session, ws };
}

test("pasting a custodian CSV replaces the lots of the accounts it names", async () => {
  const { page, problems, context, ws } = await open();
  const before = await ws.lotsPerAccount();
  assert.deepEqual(before, { joint: 13, ira_alex: 5, roth_sam: 4 });
  const hashBefore = await ws.scenarioHash();

  await ws.importCsv(HOUSEHOLD_CSV);
  assert.match(await ws.text("import-done"), /Imported 5 lot\(s\): 4 into joint, 1 into ira_alex, replacing 18 earlier lot\(s\)/);
  assert.deepEqual(await ws.lotsPerAccount(), { joint: 4, ira_alex: 1, roth_sam: 4 });
  assert.notEqual(await ws.scenarioHash(), hashBefore);
  // The lots it replaced are kept under Earlier work, which outlives the tab.
  await ws.go("files");
  assert.match(await page.getByTestId("earlier-entry").first().textContent(), /replaced by a CSV import that replaced 18 lot\(s\)/);

  // The lots editor shows the imported rows as typed text in the form's notation.
  await ws.go("lots");
  assert.equal(await ws.value("household.accounts[0].lots[0].symbol"), "VTI");
  assert.equal(await ws.value("household.accounts[0].lots[0].basis"), "30120");
  assert.equal(await ws.value("household.accounts[0].lots[1].acquired"), "2024-03-02");
  assert.equal(await ws.text("lot-count-0"), "4");
  // Edit and delete rows: the summary follows.
  await ws.fill("household.accounts[0].lots[0].quantity", "-5");
  assert.equal(await ws.errorFor("household.accounts[0].lots[0].quantity"), "must be greater than 0");
  assert.match(await ws.text("problem-count"), /1 problem/);
  // The problem list names the field as the form does and takes the advisor to it.
  await ws.go("overview");
  await page.getByTestId("problem-count").click();
  const link = page.getByTestId("problem-link");
  assert.match(await link.textContent(), /^household › accounts › .+ › lots › .+ › quantity$/);
  await link.click();
  await page.waitForFunction(() => document.activeElement?.dataset.testid === "household-accounts-0-lots-0-quantity");
  assert.equal(await page.getByTestId("nav-lots").getAttribute("aria-current"), "page");
  await page.getByTestId("delete-lot-0-0").click();
  assert.equal(await ws.text("lot-count-0"), "3");
  assert.equal(await ws.text("problem-count"), "Scenario valid");
  await page.getByTestId("add-lot-0").click();
  assert.equal(await ws.text("lot-count-0"), "4");
  assert.match(await ws.errorFor("household.accounts[0].lots[3].symbol"), /required/);
  await ws.fill("household.accounts[0].lots[3].symbol", "bnd");
  await ws.fill("household.accounts[0].lots[3].quantity", "10");
  await ws.fill("household.accounts[0].lots[3].basis", "720");
  assert.equal(await ws.value("household.accounts[0].lots[3].symbol"), "BND");
  assert.equal(await ws.text("problem-count"), "Scenario valid");
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: "docs/screenshots/workspace.png", fullPage: false });
  assert.deepEqual(problems, []);
  await context.close();
});

test("removing an account or importing lots can be undone, and a repeated import is flagged", async () => {
  const { page, problems, context, ws, reload } = await open();
  const demoLots = { joint: 13, ira_alex: 5, roth_sam: 4 };
  assert.deepEqual(await ws.lotsPerAccount(), demoLots);
  const hash = await ws.scenarioHash();
  const saved = () => page.evaluate(() => localStorage.getItem("tollbooth.scenario.v1"));

  // Half-typed, invalid text in another field, then the account goes with its lots.
  await ws.go("household");
  const cash = await ws.value("household.accounts[0].cash");
  await ws.fill("household.accounts[0].cash", "12,5");
  await page.getByTestId("remove-account-1").click();
  assert.equal(await ws.undoNotice(), "Removed account “Alex traditional IRA” (5 lots, its minimum cash).");
  assert.equal(await page.locator('[data-testid="accounts-table"] tbody tr').count(), 2);
  await page.waitForFunction(() => !localStorage.getItem("tollbooth.scenario.v1").includes('"ira_alex"'));
  // Undo restores the form exactly, the half-typed text included, and autosaves it.
  await ws.undo();
  assert.equal(await ws.text("undo-done"), "Undone: Removed account “Alex traditional IRA” (5 lots, its minimum cash).");
  assert.equal(await ws.value("household.accounts[1].name"), "Alex traditional IRA");
  assert.equal(await ws.value("household.accounts[0].cash"), "12,5");
  await page.waitForFunction(() => localStorage.getItem("tollbooth.scenario.v1").includes('"ira_alex"'));
  await ws.fill("household.accounts[0].cash", cash);
  assert.equal(await ws.scenarioHash(), hash);
  assert.deepEqual(await ws.lotsPerAccount(), demoLots);

  // Ctrl+Z outside a text field does the same.
  await ws.go("lots");
  await page.getByTestId("delete-lot-1-0").click();
  assert.match(await ws.undoNotice(), /^Deleted lot \S+ \(\S+ [A-Z]+\) of “Alex traditional IRA”\.$/);
  assert.equal(await ws.text("lot-count-1"), "4");
  await page.locator("h2#lots-h").click();
  await page.keyboard.press("Control+z");
  await page.getByTestId("undo-done").waitFor();
  assert.equal(await ws.text("lot-count-1"), "5");
  assert.equal(await ws.scenarioHash(), hash);

  // A replace-import is undone whole; the undone state is what a reload opens.
  await ws.importCsv(HOUSEHOLD_CSV);
  assert.match(await ws.undoNotice(), /^Imported 5 lot\(s\): 4 into joint, 1 into ira_alex, replacing 18 earlier lot\(s\)\.$/);
  assert.deepEqual(await ws.lotsPerAccount(), { joint: 4, ira_alex: 1, roth_sam: 4 });
  await ws.undo();
  assert.deepEqual(await ws.lotsPerAccount(), demoLots);
  assert.equal(await ws.scenarioHash(), hash);
  await page.waitForFunction(() => !localStorage.getItem("tollbooth.scenario.v1").includes('"csv-'));
  const undone = await saved();
  await reload();
  await ws.ready();
  assert.equal(await saved(), undone);
  assert.deepEqual(await ws.lotsPerAccount(), demoLots);

  // The same file added twice: the preview names the rows that repeat existing lots.
  await ws.importCsv(HOUSEHOLD_CSV, { mode: "add" });
  assert.deepEqual(await ws.lotsPerAccount(), { joint: 17, ira_alex: 6, roth_sam: 4 });
  await ws.go("import");
  assert.match(
    await ws.text("import-preview-duplicates"),
    /^5 row\(s\) repeat lots already in their account .*: row 2 = lot csv-0001 in joint, /,
  );
  await page.getByTestId("import-mode").selectOption("replace");
  assert.equal(await page.getByTestId("import-preview-duplicates").count(), 0);
  await ws.undo();
  assert.deepEqual(await ws.lotsPerAccount(), demoLots);

  // Presentation mode hides the notice (it names the client's accounts).
  await ws.go("lots");
  await page.getByTestId("delete-lot-1-0").click();
  await page.getByTestId("undo-notice").waitFor();
  await page.getByTestId("presentation-toggle").click();
  assert.equal(await page.getByTestId("undo-notice").count(), 0);
  await page.getByTestId("presentation-toggle").click();
  // An edit made after the removal is not undone silently: the notice says where it went.
  await ws.go("tax");
  await ws.fill("tax.state_rate", "0.07");
  await ws.undo();
  assert.match(await ws.text("undo-done"), /\(the changes made after it are kept under Files › Earlier work\)\.$/);
  assert.deepEqual(await ws.lotsPerAccount(), demoLots);
  assert.deepEqual(problems, []);
  await context.close();
});

test("a bad CSV lists its row errors and changes nothing", async () => {
  const { problems, context, ws, reload } = await open();
  const hash = await ws.scenarioHash();
  await ws.importCsv(BAD_CSV);
  const errors = await ws.importErrors();
  assert.deepEqual(
    errors.map((e) => [e.row, e.column]),
    [
      [3, "symbol"],
      [4, "quantity"],
      [5, "acquired"],
      [6, "account"],
      [7, "quantity"],
    ],
  );
  assert.match(errors[0].message, /unknown security `ZZZZ`/);
  assert.match(errors[4].message, /fractional/);
  assert.match(await ws.text("import-errors"), /Nothing was imported: 5 problem/);
  assert.equal(await ws.scenarioHash(), hash);
  assert.deepEqual(await ws.lotsPerAccount(), { joint: 13, ira_alex: 5, roth_sam: 4 });
  // An unquoted thousands separator splits a value in two: the preview shows that row
  // blank and says why, and the import names the row instead of reading $3.
  await ws.importCsv("symbol,quantity,cost_basis,acquired,account\nVTI,10,$3,100.00,2020-01-15,joint\n");
  assert.match(await ws.text("import-preview-misshapen"), /^1 row\(s\) have a different number of cells than the header \(row 2\)/);
  const shifted = await ws.importErrors();
  assert.deepEqual(shifted.map((e) => e.row), [2]);
  assert.match(shifted[0].message, /6 cells but the header has 5/);
  assert.equal(await ws.scenarioHash(), hash);
  // A preset that does not fit the header says which column is missing.
  await ws.go("import");
  await ws.page.getByTestId("import-preset").selectOption("fidelity_like");
  await ws.page.getByTestId("import-text").fill(HOUSEHOLD_CSV);
  await ws.page.getByTestId("import-preview-problems").getByText("Cost Basis Total").first().waitFor();
  assert.equal(await ws.page.getByTestId("import-run").isDisabled(), true);
  // Leaving the section to look something up keeps the pasted text and the choices, and
  // so does a reload of the tab.
  await ws.page.getByTestId("import-mode").selectOption("add");
  for (const away of [() => ws.go("lots"), () => reload().then(() => ws.ready())]) {
    await away();
    await ws.go("import");
    assert.equal(await ws.page.getByTestId("import-text").inputValue(), HOUSEHOLD_CSV);
    assert.equal(await ws.page.getByTestId("import-preset").inputValue(), "fidelity_like");
    assert.equal(await ws.page.getByTestId("import-mode").inputValue(), "add");
    await ws.page.getByTestId("import-preview-problems").getByText("Cost Basis Total").first().waitFor();
  }
  assert.deepEqual(problems, []);
  await context.close();
});

test("loading the $45 trade-away preset reprices the ticket, and a reload restores the work", async () => {
  const { page, problems, context, ws, reload } = await open();
  assert.equal(await ws.text("ticket-commission"), "$3.10");
  await ws.loadFeePreset(0, "trade_away");
  assert.equal(await ws.value("fee_schedules[0].rows.etf.flat"), "45");
  assert.equal(await ws.value("fee_schedules[0].id"), "flat_clearing");
  // A bad value is flagged next to its field, and the preview says why it cannot price.
  await ws.fill("fee_schedules[0].rows.etf.minimum", "x");
  assert.match(await ws.errorFor("fee_schedules[0].rows.etf.minimum"), /is not a number/);
  await ws.go("overview");
  await page.getByText("the ticket is priced once they are fixed").waitFor();
  await ws.go("fees");
  await ws.fill("fee_schedules[0].rows.etf.minimum", "0");
  await ws.go("overview");
  await ws.ticket.expect("ticket-commission", "$45.00");
  // On the scenario's date: $45 + SEC $0.70 + TAF $0.00 + spread $0.50.
  await ws.ticket.expect("ticket-total", "$46.20");
  // Rename the household, then reload: everything typed comes back from local storage.
  await ws.go("household");
  await ws.fill("name", "Rivera household, trade-away test");
  await reload();
  await ws.ready();
  await ws.ticket.expect("ticket-commission", "$45.00");
  assert.equal(await ws.text("household-title"), "Rivera household, trade-away test");
  const saved = await page.evaluate(() => JSON.parse(localStorage.getItem("tollbooth.scenario.v1")));
  assert.equal(saved.schema_version, 1);
  assert.equal(saved.form.fee_schedules[0].rows.etf.flat, "45");
  // Half-typed text survives a reload too.
  await ws.go("household");
  await ws.fill("household.accounts[0].cash", "12,5");
  await reload();
  await ws.page.getByTestId("summary-invalid").waitFor();
  await ws.go("household");
  assert.equal(await ws.value("household.accounts[0].cash"), "12,5");
  assert.match(await ws.errorFor("household.accounts[0].cash"), /is not a number/);
  assert.deepEqual(problems, []);
  await context.close();
});

test("two tabs: work saved over by another tab is kept under Earlier work and said", async () => {
  const a = await open();
  const b = await open({ context: a.context });
  // B shows its Earlier work (none yet) while A edits.
  await b.ws.go("files");
  assert.equal(await b.page.getByTestId("earlier-entry").count(), 0);
  await a.ws.go("household");
  await a.ws.fill("name", "Tab A household");
  // Tab B, told of A's save, keeps its own work (still the demo) and says so.
  await b.page.getByTestId("notice").getByText(/Another Tollbooth tab in this browser has saved its own work over this tab's/).waitFor();
  // The list on screen shows what B kept.
  await b.page.getByTestId("earlier-entry").first().waitFor();
  assert.equal(await b.page.getByTestId("earlier-entry").count(), 1);
  await b.ws.go("overview");
  assert.notEqual(await b.ws.text("household-title"), "Tab A household", "B's work stays open");
  const keptByB = await b.page.evaluate(() => JSON.parse(localStorage.getItem("tollbooth.scenario.v1.previous")).kept);
  assert.equal(keptByB.length, 1);
  assert.match(keptByB[0].why, /^kept when another tab saved over it/);
  // Further saves by A do not keep B's work again; an edit in B saves B's work and it is
  // A's turn to keep its own.
  await a.ws.fill("name", "Tab A household, renamed");
  await b.ws.go("household");
  await b.ws.fill("name", "Tab B household");
  await a.page.getByTestId("notice").getByText(/Another Tollbooth tab/).waitFor();
  // What A kept shows in B's list too (written by another tab).
  await b.ws.go("files");
  assert.equal(await b.page.getByTestId("earlier-entry").count(), 2);
  await a.ws.go("files");
  assert.equal(await a.page.getByTestId("earlier-entry").count(), 2);
  const kept = await a.page.evaluate(() => JSON.parse(localStorage.getItem("tollbooth.scenario.v1.previous")).kept);
  assert.deepEqual(
    kept.map((k) => k.name),
    ["Tab A household, renamed", keptByB[0].name],
  );
  const saved = await a.page.evaluate(() => JSON.parse(localStorage.getItem("tollbooth.scenario.v1")).form.name);
  assert.equal(saved, "Tab B household");
  // An entry forgotten in A leaves B's list on screen too.
  await a.page.getByTestId("earlier-forget").first().click();
  await b.page.waitForFunction(() => document.querySelectorAll('[data-testid="earlier-entry"]').length === 1);
  assert.deepEqual(a.problems, []);
  assert.deepEqual(b.problems, []);
  await a.context.close();
});

test("a duplicated tab, whose session storage is a copy, takes its own tab id", async () => {
  const a = await open();
  const key = "tollbooth.tab.v1";
  const idA = await a.page.evaluate((k) => sessionStorage.getItem(k), key);
  assert.ok(idA, "the tab has an id from the start");
  // A duplicate starts with the original's session storage.
  await a.context.addInitScript(
    ([k, id]) => {
      if (!sessionStorage.getItem("duplicated")) {
        sessionStorage.setItem(k, id);
        sessionStorage.setItem("duplicated", "1");
      }
    },
    [key, idA],
  );
  const b = await open({ context: a.context });
  await b.page.waitForFunction(([k, id]) => sessionStorage.getItem(k) !== id, [key, idA]);
  const idB = await b.page.evaluate((k) => sessionStorage.getItem(k), key);
  assert.notEqual(idB, idA);
  assert.equal(await a.page.evaluate((k) => sessionStorage.getItem(k), key), idA, "the original keeps its id");
  // A reload of the original keeps its id: no live tab claims it.
  await a.reload();
  await a.page.waitForTimeout(300);
  assert.equal(await a.page.evaluate((k) => sessionStorage.getItem(k), key), idA);
  assert.deepEqual(a.problems, []);
  assert.deepEqual(b.problems, []);
  await a.context.close();
});

test("damaged saved work keeps the demo, says so, and keeps a copy", async () => {
  const context = await browser.newContext();
  await context.addInitScript(() => {
    if (!sessionStorage.getItem("seeded")) {
      localStorage.setItem("tollbooth.scenario.v1", "{not json");
      sessionStorage.setItem("seeded", "1");
    }
  });
  const { problems, ws } = await open({ context });
  assert.match(await ws.notice(), /saved work is damaged/);
  assert.equal(await ws.text("ticket-commission"), "$3.10");
  // The damaged record is kept, byte for byte, under Earlier work; it cannot be restored,
  // and trying says so and changes nothing.
  const kept = await ws.page.evaluate(() => JSON.parse(localStorage.getItem("tollbooth.scenario.v1.previous")));
  assert.equal(kept.kept.length, 1);
  assert.equal(kept.kept[0].record, "{not json");
  const hash = await ws.scenarioHash();
  await ws.go("files");
  const entry = ws.page.getByTestId("earlier-entry");
  assert.match(await entry.textContent(), /unreadable saved work.*could not be opened/);
  await entry.getByTestId("earlier-restore").click();
  await ws.page.getByTestId("files-message").getByText("cannot be restored").waitFor();
  assert.match(await ws.text("files-message"), /the current scenario is unchanged/);
  assert.equal(await ws.scenarioHash(), hash);
  assert.deepEqual(problems, []);
  await context.close();
});

test("a full storage is said on the page, and work it cannot keep is not replaced", async () => {
  const { page, problems, context, ws } = await open();
  await ws.go("household");
  await ws.fill("name", "Typed before the storage filled");
  const mine = await ws.scenarioHash();
  // The browser refuses every write from now on (its quota is used up).
  await page.evaluate(() => {
    window.__setItem = Storage.prototype.setItem;
    Storage.prototype.setItem = () => {
      throw new DOMException("quota", "QuotaExceededError");
    };
  });
  await ws.fill("name", "Typed after");
  await page.getByTestId("autosave-failed").waitFor();
  const typed = await ws.scenarioHash();
  assert.notEqual(typed, mine);
  // An example would replace work that cannot be kept: it is not opened.
  await ws.go("files");
  await page.getByTestId("load-example").click();
  await page.getByTestId("files-message").getByText("storage is full").waitFor();
  assert.match(await ws.text("files-message"), /was not replaced/);
  assert.equal(await ws.scenarioHash(), typed);
  // Once the browser saves again, the notice goes.
  await page.evaluate(() => {
    Storage.prototype.setItem = window.__setItem;
  });
  await ws.go("household");
  await ws.fill("name", "Typed once it saves");
  await page.waitForFunction(() => !document.querySelector('[data-testid="autosave-failed"]'));
  assert.deepEqual(problems, []);
  await context.close();
});

test("JSON files: a bad file names the field and changes nothing; a good one loads", async () => {
  const { page, problems, context, ws } = await open();
  const hash = await ws.scenarioHash();
  await ws.go("files");
  const bad = JSON.parse(DEMO_JSON);
  bad.securities[3].price = "cheap";
  await page.getByTestId("load-json").setInputFiles({
    name: "bad.json",
    mimeType: "application/json",
    buffer: Buffer.from(JSON.stringify(bad)),
  });
  const message = page.getByTestId("files-message");
  await message.getByText("was not loaded").waitFor();
  assert.match(await message.textContent(), /securities\[3\]\.price/);
  assert.equal(await ws.scenarioHash(), hash);

  const good = JSON.parse(DEMO_JSON);
  good.name = "Loaded from a file";
  await page.getByTestId("load-json").setInputFiles({
    name: "good.json",
    mimeType: "application/json",
    buffer: Buffer.from(JSON.stringify(good)),
  });
  await message.getByText("Loaded “Loaded from a file”").waitFor();
  await ws.go("overview");
  assert.equal(await ws.text("household-title"), "Loaded from a file");

  // Saving offers a download of the validated scenario, which reads back the same.
  await ws.go("files");
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("save-json").click()]);
  assert.equal(download.suggestedFilename(), "loaded-from-a-file.tollbooth.json");
  const saved = JSON.parse(readFileSync(await download.path(), "utf8"));
  assert.equal(saved.name, "Loaded from a file");
  assert.equal(saved.schema_version, 1);
  assert.deepEqual(problems, []);
  await context.close();
});

test("a share link carries the scenario and opens it in another browser", async () => {
  const first = await open();
  await first.ws.loadFeePreset(0, "broker_assisted");
  await first.ws.go("files");
  await first.page.getByTestId("make-share-link").click();
  const link = await first.page.getByTestId("share-link").inputValue();
  assert.match(link, /#s=[A-Za-z0-9_-]+$/);
  const hash = await first.ws.scenarioHash();
  assert.deepEqual(first.problems, []);
  await first.context.close();

  const fragment = link.slice(link.indexOf("#"));
  const second = await open({ path: fragment });
  assert.match(await second.ws.notice(), /from the shared link/);
  assert.equal(await second.ws.scenarioHash(), hash);
  assert.equal(await second.ws.text("ticket-commission"), "$30.00");
  // The fragment is dropped once read, so a reload restores the autosaved work.
  assert.equal(await second.page.evaluate(() => location.hash), "");
  assert.deepEqual(second.problems, []);
  await second.context.close();
});

test("a bad entry of a list typed in one input is flagged next to that input", async () => {
  const { page, problems, context, ws, reload } = await open();
  const hash = await ws.scenarioHash();
  await ws.go("target");
  const path = "target.restrictions.do_not_buy";
  await ws.fill(path, "VTI, QQQ");
  await page.keyboard.press("Tab");
  assert.match(await ws.errorFor(path), /^entry 2: .*QQQ/);
  assert.equal(await page.getByTestId("target-restrictions-do_not_buy").getAttribute("aria-invalid"), "true");
  await ws.fill(path, "VTI");
  await page.keyboard.press("Tab");
  assert.equal(await ws.errorFor(path), "");
  assert.notEqual(await ws.scenarioHash(), hash);
  // While typing, the text stays as typed; reloaded before leaving the field, the list is
  // kept (each keystroke reaches the autosave), written as the form writes lists.
  const list = page.getByTestId("target-restrictions-do_not_buy");
  await list.fill("");
  await list.pressSequentially("VTI,VB,");
  await page.keyboard.press("Enter");
  assert.equal(await list.inputValue(), "VTI,VB,", "Enter does not rewrite the text being typed");
  await reload();
  await ws.ready();
  await ws.go("target");
  assert.equal(await list.inputValue(), "VTI, VB");
  // Asset location is chosen per class: the demo's bonds go to tax-deferred accounts first.
  const bonds = page.getByTestId("target-classes-4-location");
  assert.equal(await bonds.inputValue(), "traditional_ira,401k,taxable");
  const before = await ws.scenarioHash();
  await bonds.selectOption("taxable");
  assert.equal(await bonds.inputValue(), "taxable");
  assert.notEqual(await ws.scenarioHash(), before);
  // A date after today is valid (a plan for a coming date) but usually a typo: it is flagged.
  await ws.go("household");
  assert.equal(await page.getByTestId("as-of-future").count(), 0);
  await ws.fill("as_of", "2099-01-05");
  await page.keyboard.press("Tab");
  assert.match(await page.getByTestId("as-of-future").textContent(), /^2099-01-05 is after today \(\d{4}-\d{2}-\d{2}\)/);
  assert.equal(await ws.errorFor("as_of"), "");
  // A list field typed in and left as it was follows the form again: removing the row
  // above shows the next security's partners in it, not the text it held.
  await ws.go("securities");
  const partners = page.getByTestId("securities-1-partners");
  const below = await page.getByTestId("securities-2-partners").inputValue();
  await partners.click();
  await page.keyboard.type("X");
  await page.keyboard.press("Backspace");
  await page.keyboard.press("Tab");
  await page.getByTestId("remove-security-0").click();
  assert.equal(await partners.inputValue(), below);
  assert.deepEqual(problems, []);
  await context.close();
});

test("work replaced by a link, a file or an example is kept and can be restored", async () => {
  const { page, problems, context, ws, reload, reloadBy } = await open();
  const names = () => page.$$eval('[data-testid="earlier-entry"] .earlier-name', (xs) => xs.map((x) => x.textContent));
  await ws.go("household");
  await ws.fill("name", "Shared household");
  await ws.go("files");
  await page.getByTestId("make-share-link").click();
  const link = await page.getByTestId("share-link").inputValue();
  const fragment = link.slice(link.indexOf("#"));
  await ws.go("household");
  await ws.fill("name", "Mine, typed by hand");
  const mine = await ws.scenarioHash();

  // The same link opened twice: the first opening keeps my work, the second the link's.
  // Pasted into this tab, only the fragment changes: the page reloads itself to open it.
  for (const _ of [1, 2]) {
    await reloadBy(() =>
      page.evaluate((f) => {
        location.hash = f;
      }, fragment),
    );
    await ws.ready();
    assert.match(await ws.notice(), /from the shared link.*Earlier work/);
    assert.equal(await ws.text("household-title"), "Shared household");
  }
  await ws.go("files");
  assert.deepEqual(await names(), ["Shared household", "Mine, typed by hand"]);
  assert.match(await page.getByTestId("earlier-entry").nth(1).textContent(), /replaced by a shared link, \d{4}-\d\d-\d\d \d\d:\d\d/);

  // Restoring brings my work back, bit for bit; the entry leaves the list.
  await page.getByTestId("earlier-entry").nth(1).getByTestId("earlier-restore").click();
  await page.getByTestId("files-message").getByText("Restored “Mine, typed by hand”").waitFor();
  assert.equal(await ws.scenarioHash(), mine);
  assert.deepEqual(await names(), ["Shared household"]);

  // Starting over from an example keeps it too, across a reload.
  await page.getByTestId("load-example").click();
  await page.getByTestId("files-message").getByText("Started over from the example").waitFor();
  assert.notEqual(await ws.scenarioHash(), mine);
  await reload();
  await ws.ready();
  await ws.go("files");
  assert.deepEqual(await names(), ["Mine, typed by hand", "Shared household"]);
  assert.match(await page.getByTestId("earlier-entry").first().textContent(), /replaced by the example/);

  // Forgetting removes an entry from the browser's storage.
  await page.getByTestId("earlier-entry").nth(1).getByTestId("earlier-forget").click();
  assert.deepEqual(await names(), ["Mine, typed by hand"]);
  const stored = await page.evaluate(() => JSON.parse(localStorage.getItem("tollbooth.scenario.v1.previous")));
  assert.deepEqual(
    stored.kept.map((k) => k.name),
    ["Mine, typed by hand"],
  );
  assert.deepEqual(problems, []);
  await context.close();
});

test("the ticket preview's and the import's chosen account and security stay, and follow a rename", async () => {
  const { page, problems, context, ws } = await open();
  await ws.go("overview");
  await page.getByTestId("ticket-account").selectOption("ira_alex");
  await page.getByTestId("ticket-symbol").selectOption("BND");
  await ws.go("import");
  await page.getByTestId("import-account").selectOption("roth_sam");
  await ws.go("household");
  await ws.fill("household.accounts[1].id", "ira_alex_2");
  await ws.fill("household.accounts[2].id", "roth_sam_2");
  await ws.go("securities");
  await ws.fill("securities[12].symbol", "BND2");
  await ws.go("overview");
  assert.equal(await page.getByTestId("ticket-account").inputValue(), "ira_alex_2");
  assert.equal(await page.getByTestId("ticket-symbol").inputValue(), "BND2");
  await ws.go("import");
  assert.equal(await page.getByTestId("import-account").inputValue(), "roth_sam_2");
  assert.deepEqual(problems, []);
  await context.close();
});

test("presentation mode masks names and enlarges the type; print shows assumptions, not editors", async () => {
  const { page, problems, context, ws } = await open();
  assert.equal(await ws.text("household-title"), "Rivera household (demo)");
  await ws.togglePresentation();
  assert.equal(await ws.text("household-title"), "Client A & Client B household");
  const names = await page.$$eval('[data-testid="account-name"]', (c) => c.map((x) => x.textContent));
  assert.deepEqual(names, ["Account 1", "Account 2", "Account 3"]);
  const options = await page.$$eval('[data-testid="ticket-account"] option', (o) => o.map((x) => x.textContent));
  assert.deepEqual(options, ["Account 1", "Account 2", "Account 3"]);
  assert.equal(await page.locator("nav.sections").isVisible(), false);
  const size = await page.$eval("h2", (h) => parseFloat(getComputedStyle(h).fontSize));
  assert.ok(size >= 28, `heading ${size}px`);
  const body = await page.textContent("body");
  assert.doesNotMatch(body, /Rivera|Alex|Sam /);
  await page.screenshot({ path: "docs/screenshots/presentation.png", fullPage: false });
  await ws.togglePresentation();

  // Print: no navigation or editors; the assumptions and definitions are there.
  await ws.go("fees");
  assert.equal(await page.getByTestId("assumptions").isVisible(), false);
  await page.emulateMedia({ media: "print" });
  assert.equal(await page.locator("nav.sections").isVisible(), false);
  assert.equal(await page.locator(".editor").first().isVisible(), false);
  assert.equal(await page.getByTestId("assumptions").isVisible(), true);
  const printed = await page.getByTestId("assumptions").textContent();
  assert.match(printed, /Definitions/);
  assert.match(printed, /Tax alpha/);
  assert.match(printed, /Quarterly calendar \(baseline\)/);
  // Every input that drives the numbers is printed: fee rows as charged, regulatory tables,
  // the target model, cash flows.
  assert.match(printed, /per ticket, ETF \$3\.10; stock \$3\.10;/);
  assert.match(printed, /SEC Section 31 \$8\.00 per \$1M from 2023-02-27; .*\$20\.60 per \$1M from 2026-04-04/);
  assert.match(printed, /Target model/);
  assert.match(printed, /Tax: married filing jointly; .* loss carried in: \$0\.00 short-term, \$0\.00 long-term;/);
  assert.match(printed, /Contribution of \$[0-9,.]+ into /);
  assert.match(printed, new RegExp(await ws.scenarioHash()));
  await page.screenshot({ path: "docs/screenshots/print.png", fullPage: true });
  await page.emulateMedia({ media: "screen" });
  // No results are invented: the placeholder says so.
  await ws.go("overview");
  assert.match(await ws.text("results"), /Results appear here once a comparison/);
  assert.deepEqual(problems, []);
  await context.close();
});

test("wide editors scroll in their own box on a 1366-pixel laptop, not the page", async () => {
  const { page, problems, context, ws } = await open();
  await page.setViewportSize({ width: 1366, height: 768 });
  for (const s of ["household", "securities", "target", "fees", "cash-flows", "policies"]) {
    await ws.go(s);
    const [scroll, client] = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
    assert.ok(scroll <= client, `${s}: the page is ${scroll} px wide in a ${client} px window`);
  }
  assert.deepEqual(problems, []);
  await context.close();
});

test("no serious or critical accessibility violations (axe-core)", async () => {
  // CSP forbids injected scripts; this context alone bypasses it to run axe.
  const { page, problems, context, ws } = await open({ contextOptions: { bypassCSP: true } });
  const sections = ["overview", "household", "lots", "import", "securities", "target", "fees", "tax", "market", "cash-flows", "policies", "files"];
  await page.addScriptTag({ path: "node_modules/axe-core/axe.min.js" });
  const found = [];
  for (const s of sections) {
    await ws.go(s);
    if (s === "import") await page.getByTestId("import-text").fill(readFileSync("testdata/csv/bad.csv", "utf8"));
    const result = await page.evaluate(async () => {
      // eslint-disable-next-line no-undef
      const r = await axe.run(document, { resultTypes: ["violations"] });
      return r.violations
        .filter((v) => v.impact === "serious" || v.impact === "critical")
        .map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")}`);
    });
    for (const v of result) found.push(`${s}: ${v}`);
  }
  assert.deepEqual(found, []);
  assert.deepEqual(problems, []);
  await context.close();
});

test("an export with unfamiliar headers imports through a hand-made column mapping", async () => {
  const { page, problems, context, ws } = await open();
  const csv = [
    "Ticker Symbol,Units Held,Book Cost,Bought On,Acct",
    'VTI,25,"$7,500.00",06/15/2022,roth_sam',
    "VNQ,40,3200,2023-01-09,roth_sam",
  ].join("\n");
  await ws.go("import");
  await page.getByTestId("import-text").fill(csv);
  // Detection cannot tell which column holds the shares.
  await page.getByTestId("import-preview-problems").getByText("no column for shares").waitFor();
  await page.getByTestId("import-preset").selectOption("custom");
  // Started from what the names suggest: the account column was recognised.
  assert.equal(await page.getByTestId("map-account").inputValue(), "Acct");
  await page.getByTestId("map-symbol").selectOption("Ticker Symbol");
  await page.getByTestId("map-quantity").selectOption("Units Held");
  await page.getByTestId("map-cost_basis").selectOption("Book Cost");
  await page.getByTestId("map-acquired").selectOption("Bought On");
  await page.getByTestId("import-preview").waitFor();
  await page.getByTestId("import-run").click();
  assert.match(await ws.text("import-done"), /Imported 2 lot\(s\): 2 into roth_sam/);
  assert.deepEqual(await ws.lotsPerAccount(), { joint: 13, ira_alex: 5, roth_sam: 2 });
  assert.deepEqual(problems, []);
  await context.close();
});

test("keyboard: a section switch focuses its heading and names the page; a removed row and a cancelled run leave the focus where the work goes on", async () => {
  const { page, problems, context, ws } = await open();
  const active = () =>
    page.evaluate(() => {
      const a = document.activeElement;
      return { tag: a?.tagName, testId: a?.getAttribute("data-testid"), text: a?.textContent?.trim() };
    });
  await ws.go("tax");
  await page.waitForFunction(() => document.activeElement?.tagName === "H2");
  assert.equal((await active()).text, "Tax profile");
  assert.equal(await page.title(), "Tax profile — Tollbooth");
  // A field's name is its label only; its error is its description, not part of its name.
  const rate = await ws.value("tax.state_rate");
  await ws.fill("tax.state_rate", "12,5");
  const named = await page.getByTestId("tax-state_rate").evaluate((el) => ({
    by: el.getAttribute("aria-labelledby"),
    label: document.getElementById(el.getAttribute("aria-labelledby"))?.textContent.trim(),
  }));
  assert.equal(named.label, "State rate");
  assert.match(await page.getByTestId("problem-count-live").textContent(), /^1 problem in the scenario$/);
  await ws.fill("tax.state_rate", rate);
  assert.equal(await page.getByTestId("problem-count-live").textContent(), "Scenario valid");

  await ws.go("lots");
  const n = await page.locator('[data-testid^="delete-lot-0-"]').count();
  // The last row: the row before's button takes the focus.
  await page.getByTestId(`delete-lot-0-${n - 1}`).click();
  await page.waitForFunction((id) => document.activeElement?.getAttribute("data-testid") === id, `delete-lot-0-${n - 2}`);
  // A middle row: the button of the row that took its place.
  await page.getByTestId("delete-lot-0-1").click();
  await page.waitForFunction(() => document.activeElement?.getAttribute("data-testid") === "delete-lot-0-1");
  assert.equal(await page.locator('[data-testid^="delete-lot-0-"]').count(), n - 2);
  // Dismissing the undo notice: the section's heading.
  await page.getByTestId("undo-dismiss").first().click();
  await page.waitForFunction(() => document.activeElement?.tagName === "H2");
  // A new row: its first field, not the Add button below the table.
  await page.getByTestId("add-lot-0").click();
  await page.waitForFunction(
    (id) => document.activeElement?.getAttribute("data-testid") === id,
    `household-accounts-0-lots-${n - 2}-id`,
  );
  // (The blank row would keep the scenario from running.)
  await page.getByTestId(`delete-lot-0-${n - 2}`).click();

  await ws.go("overview");
  await page.getByTestId("auto-run").uncheck();
  await page.getByTestId("run-paths").fill("5000");
  await page.getByTestId("run-years").fill("10");
  await page.getByTestId("compare").click();
  await page.getByTestId("run-progress").waitFor();
  await page.getByTestId("cancel").click();
  await page.waitForFunction(() => document.activeElement?.getAttribute("data-testid") === "compare");
  assert.deepEqual(problems, []);
  await context.close();
});
