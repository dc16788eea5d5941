// The /demo page in headless Chromium: it connects a session, sends product
// views over the WebSocket and shows the recommendation pushed back, then
// asks the support bot a question and shows its answer.
// Run by tests/integration/browser.rs, which starts the gateway and passes
// STREAMPLUG_URL and SCREENSHOT.
import { test } from "node:test";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";

const url = process.env.STREAMPLUG_URL;
const screenshot = process.env.SCREENSHOT;

test("the demo page shows a recommendation pushed after a few views", async () => {
  assert.ok(url, "STREAMPLUG_URL is not set");
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
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
