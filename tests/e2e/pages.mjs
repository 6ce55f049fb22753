// Page objects: the journeys talk to these, not to selectors.

export class TicketPreview {
  constructor(page) {
    this.page = page;
  }

  async ready() {
    await this.page.getByTestId("ticket-total").waitFor({ timeout: 30_000 });
  }

  async breakdown() {
    const text = async (id) => (await this.page.getByTestId(id).textContent()).trim();
    return {
      commission: await text("ticket-commission"),
      sec: await text("ticket-sec"),
      taf: await text("ticket-taf"),
      total: await text("ticket-total"),
    };
  }

  /** Waits until the element with this test id shows exactly `value`. */
  async expect(testId, value, timeout = 5_000) {
    await this.page.waitForFunction(
      ([id, v]) => document.querySelector(`[data-testid="${id}"]`)?.textContent.trim() === v,
      [testId, value],
      { timeout },
    );
  }

  async setDate(iso) {
    await this.page.getByTestId("ticket-date").fill(iso);
  }

  async setSide(side) {
    await this.page.getByTestId("ticket-side").selectOption(side);
  }

  async setQuantity(text) {
    await this.page.getByTestId("ticket-quantity").fill(text);
  }
}

/** The scenario workspace: section navigation, editors, CSV import, files, views. */
export class Workspace {
  constructor(page) {
    this.page = page;
    this.ticket = new TicketPreview(page);
  }

  async ready() {
    await this.ticket.ready();
  }

  async text(testId) {
    return (await this.page.getByTestId(testId).first().textContent()).trim();
  }

  /** Opens a section by its nav id (overview, household, lots, import, fees, files, …). */
  async go(section) {
    await this.page.getByTestId(`nav-${section}`).click();
  }

  async scenarioHash() {
    return this.text("scenario-hash");
  }

  /** Lots per account, from the summary table on the overview. */
  async lotsPerAccount() {
    await this.go("overview");
    return this.page.$$eval('[data-testid="accounts"] tbody tr', (rows) =>
      Object.fromEntries(rows.map((r) => [r.dataset.account, Number(r.children[2].textContent)])),
    );
  }

  /** Pastes CSV text into the import panel and runs the import. */
  async importCsv(csv, { preset = "auto", mode = "replace" } = {}) {
    await this.go("import");
    await this.page.getByTestId("import-preset").selectOption(preset);
    await this.page.getByTestId("import-mode").selectOption(mode);
    await this.page.getByTestId("import-text").fill(csv);
    await this.page.getByTestId("import-preview").or(this.page.getByTestId("import-preview-problems")).waitFor();
    await this.page.getByTestId("import-run").click();
    await this.page.getByTestId("import-done").or(this.page.getByTestId("import-errors")).waitFor();
  }

  async importErrors() {
    return this.page.$$eval('[data-testid="import-error"]', (rows) =>
      rows.map((r) => ({
        row: Number(r.children[0].textContent),
        column: r.children[1].textContent,
        message: r.children[2].textContent,
      })),
    );
  }

  /** Loads a fee preset (by id, e.g. "trade_away") into schedule `i`. */
  async loadFeePreset(i, presetId) {
    await this.go("fees");
    await this.page.getByTestId(`preset-${i}`).selectOption(presetId);
    await this.page.getByTestId(`load-preset-${i}`).click();
  }

  /** Types into the input of a form field, addressed by its validation path. */
  async fill(path, value) {
    await this.page.getByTestId(testIdOf(path)).fill(value);
  }

  async value(path) {
    return this.page.getByTestId(testIdOf(path)).inputValue();
  }

  /** The message shown next to a field, by its validation path. */
  async errorFor(path) {
    return (await this.page.locator(`[data-error-for="${path}"]`).first().textContent()).trim();
  }

  /** The undo notice's text: what the latest destructive edit did. */
  async undoNotice() {
    return this.text("undo-what");
  }

  /** Clicks the undo notice's Undo and waits until it is done. */
  async undo() {
    await this.page.getByTestId("undo").click();
    await this.page.getByTestId("undo-done").or(this.page.getByTestId("undo-what")).first().waitFor();
  }

  async togglePresentation() {
    await this.page.getByTestId("presentation-toggle").click();
  }

  async notice() {
    return this.text("notice");
  }
}

/** The test id of a field's input: its path with punctuation turned into dashes. */
export function testIdOf(path) {
  return path.replace(/[^A-Za-z0-9_]+/g, "-").replace(/-+$/, "");
}

/** The results section: run a comparison, read the table, export CSV. */
export class Results {
  constructor(page) {
    this.page = page;
  }

  async setRun({ paths, years }) {
    await this.page.getByTestId("run-paths").fill(String(paths));
    await this.page.getByTestId("run-years").fill(String(years));
  }

  async compare() {
    await this.page.getByTestId("compare").click();
  }

  async cancel() {
    await this.page.getByTestId("cancel").click();
  }

  async status() {
    return (await this.page.getByTestId("run-status").textContent()).trim();
  }

  /** Paths done and total, from the <progress> element. */
  async progress() {
    const bar = this.page.getByTestId("run-progress");
    return { done: Number(await bar.getAttribute("value")), total: Number(await bar.getAttribute("max")) };
  }

  async waitStatus(re, timeout = 60_000) {
    await this.page.waitForFunction(
      (src) => new RegExp(src).test(document.querySelector('[data-testid="run-status"]')?.textContent ?? ""),
      re.source,
      { timeout },
    );
  }

  async policyColumns() {
    return this.page.$$eval('[data-testid="policy-col"]', (th) => th.map((t) => t.textContent.trim()));
  }

  /** Metric label and its tooltip (the definition), by row. */
  async metricLabels() {
    return this.page.$$eval('[data-testid="metric-label"]', (th) =>
      th.map((t) => ({ label: t.textContent.trim(), title: t.getAttribute("title") })),
    );
  }

  async reportHash() {
    return (await this.page.getByTestId("report-hash").textContent()).trim();
  }

  /**
   * The charts, once every canvas is drawn: per figure the canvas's test id, role,
   * aria-label and `data-drawn`, the caption, the legend's policy names, the share of
   * the bitmap that is not background, and per legend colour the number of pixels of
   * exactly that colour (read back from the canvas).
   */
  async charts() {
    await this.page.waitForFunction(
      () => {
        const c = [...document.querySelectorAll('[data-testid="charts"] canvas')];
        return c.length > 0 && c.every((x) => x.dataset.drawn);
      },
      null,
      { timeout: 30_000 },
    );
    return this.page.$$eval('[data-testid="charts"] figure', (figures) =>
      figures.map((f) => {
        const c = f.querySelector("canvas");
        const legend = [...f.querySelectorAll("ul.legend li")].map((li) => ({
          name: li.textContent.trim(),
          rgb: getComputedStyle(li.querySelector(".swatch")).backgroundColor.match(/\d+/g).slice(0, 3).map(Number),
        }));
        const { data } = c.getContext("2d").getImageData(0, 0, c.width, c.height);
        let ink = 0;
        const colourPixels = legend.map(() => 0);
        for (let i = 0; i < data.length; i += 4) {
          const [r, g, b, a] = [data[i], data[i + 1], data[i + 2], data[i + 3]];
          if (a === 0 || (r > 245 && g > 245 && b > 245)) continue;
          ink++;
          legend.forEach((l, k) => {
            if (l.rgb[0] === r && l.rgb[1] === g && l.rgb[2] === b) colourPixels[k]++;
          });
        }
        const box = c.getBoundingClientRect();
        return {
          testId: c.dataset.testid,
          drawn: c.dataset.drawn,
          role: c.getAttribute("role"),
          label: c.getAttribute("aria-label"),
          caption: f.querySelector("figcaption").textContent.trim(),
          legend: legend.map((l) => l.name),
          colours: legend.map((l) => l.rgb.join(",")),
          ink: ink / (c.width * c.height),
          colourPixels,
          shown: { width: box.width, height: box.height },
        };
      }),
    );
  }

  /** Clicks an export button and returns the downloaded file's name and text. */
  async download(testId) {
    const [download] = await Promise.all([this.page.waitForEvent("download"), this.page.getByTestId(testId).click()]);
    const { readFile } = await import("node:fs/promises");
    return { name: download.suggestedFilename(), text: await readFile(await download.path(), "utf8") };
  }
}
