// Webmail figures for `make bench` (issue #14), in headless Chromium on loopback against a
// store the bench filled: sign-in -> first page of conversations drawn, opening a conversation
// -> its text shown (each as p50/p99 over several runs), and the bytes a cold load transfers.
// Prints one JSON line. Env: MAILNOOK_URL, MAILNOOK_USER, MAILNOOK_PASSWORD, RUNS.
import { chromium } from 'playwright-core';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const base = process.env.MAILNOOK_URL, user = process.env.MAILNOOK_USER, password = process.env.MAILNOOK_PASSWORD;
const runs = Number(process.env.RUNS || 10);
const pct = (a, p) => { const s = [...a].sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.floor(p * s.length))]; };
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
});
const signIn = [], open = [];
let cold = 0;
try {
  for (let i = 0; i < runs; i++) {
    // A fresh profile each run: a cold cache, as a first visit.
    const ctx = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 860 } });
    const page = await ctx.newPage();
    let bytes = 0;
    page.on('requestfinished', async (r) => { try { const s = await r.sizes(); bytes += s.responseBodySize + s.responseHeadersSize; } catch (e) { /* gone */ } });
    await page.goto(`${base}/`);
    await page.fill('input[name=address]', user);
    await page.fill('input[name=password]', password);
    const t0 = Date.now();
    await page.click('button[type=submit]');
    await page.waitForSelector('#list .row');
    signIn.push(Date.now() - t0);
    if (i === 0) { await page.waitForTimeout(300); cold = bytes; }
    for (let k = 0; k < 3; k++) {
      const rows = page.locator('#list .row a.open');
      const t1 = Date.now();
      await rows.nth(k * 3 + (i % 3)).click();
      await page.waitForSelector('#reader .msg.open .msg-body .text, #reader .msg.open .msg-body iframe');
      open.push(Date.now() - t1);
      await page.goBack();
      await page.waitForFunction(() => !document.body.classList.contains('reading'));
    }
    await ctx.close();
  }
  console.log(JSON.stringify({ signIn: { p50: pct(signIn, 0.5), p99: pct(signIn, 0.99), n: signIn.length },
    open: { p50: pct(open, 0.5), p99: pct(open, 0.99), n: open.length }, coldBytes: cold }));
} finally {
  await browser.close();
}
