// The /demo page in headless Chromium: it connects a session, sends product
// views over the WebSocket and shows the recommendation pushed back, then
// asks the support bot a question and shows its answer; and it checks out
// with three test cards (one succeeds, one is declined, one needs the
// shopper to confirm with the bank's 3-D Secure page) and shows each
// order's steps and the customer's live view as they are pushed.
// Run by tests/integration/browser.rs, which starts the gateway and passes
// STREAMPLUG_URL and SCREENSHOT.
import { test } from "node:test";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";

const url = process.env.STREAMPLUG_URL;
const screenshot = process.env.SCREENSHOT;

function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

test("the demo page shows a recommendation pushed after a few views", async () => {
  assert.ok(url, "STREAMPLUG_URL is not set");
  const browser = await launch();
  try {
    const page = await browser.newPage({ viewport: { width: 1000, height: 640 } });
    await page.goto(`${url}/demo`);
    await page.fill("#customer", "dana");
    await page.click("#connect");
    await page.waitForSelector("#status.live");
    let acks = 0;
    for (const product of ["tent", "stove", "lamp"]) {
      await page.fill("#product", product);
      await page.click("#view");
      acks += 1;
      await page.waitForFunction((n) => [...document.querySelectorAll("#log li")]
        .filter((li) => li.textContent.startsWith("ack")).length >= n, acks);
    }
    // Viewing stove after tent makes tent a related product for dana.
    await page.waitForSelector("#pushes li .product");
    const shown = await page.$$eval("#pushes .product", (els) => els.map((e) => e.textContent));
    assert.ok(shown.includes("tent") || shown.includes("stove"), `pushed products: ${shown}`);
    assert.match(await page.textContent("#who"), /as dana/);
    await page.fill("#question", "What is your return policy?");
    await page.click("#ask");
    await page.waitForSelector("#pushes li .text");
    assert.match(await page.textContent("#pushes li .text"), /within 30 days/);
    if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
  } finally {
    await browser.close();
  }
});

test("the demo page checks out with test cards and shows each order live", async () => {
  assert.ok(url, "STREAMPLUG_URL is not set");
  const browser = await launch();
  try {
    const page = await browser.newPage({ viewport: { width: 1100, height: 760 } });
    await page.goto(`${url}/demo`);
    await page.fill("#customer", "erin");
    await page.click("#connect");
    await page.waitForSelector("#status.live");
    await page.fill("#product", "tent");
    const steps = (kind) => page.$$eval(`#orders .step.${kind}`, (els) => els.length);

    // A card that succeeds: confirmed.
    await page.selectOption("#card", "pm_card_visa");
    await page.click("#buy");
    await page.waitForSelector("#orders .step.confirmed");

    // A declined card: rejected, with the issuer's reason.
    await page.selectOption("#card", "pm_card_chargeDeclinedInsufficientFunds");
    await page.click("#buy");
    await page.waitForSelector("#orders .step.rejected");
    assert.match(await page.textContent("#orders li .reason"), /insufficient funds/);

    // A card that needs the shopper: confirm on the bank's page, then the
    // order is confirmed live.
    await page.selectOption("#card", "pm_card_threeDSecure2Required");
    await page.click("#buy");
    await page.waitForSelector("#orders a.confirm");
    const [bank] = await Promise.all([page.waitForEvent("popup"), page.click("#orders a.confirm")]);
    await bank.click("#complete");
    await bank.waitForURL(/redirect_status=succeeded/);
    await bank.close();
    await page.waitForFunction(() => document.querySelectorAll("#orders .step.confirmed").length >= 2);
    assert.equal(await steps("rejected"), 1);

    // The customer's live view: two confirmed tents.
    await page.waitForFunction(() =>
      document.querySelector('#live-view dd[data-field="lifetime value"]')?.textContent === "398");
    assert.match(await page.textContent('#live-view dd[data-field="orders"]'), /confirmed/);
    if (screenshot) await page.screenshot({ path: screenshot.replace(/\.png$/, "-checkout.png"), fullPage: true });
  } finally {
    await browser.close();
  }
});
