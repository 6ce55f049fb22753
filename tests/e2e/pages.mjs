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
