// Hostile HTML in the webmail (issue #14): a message with <script>, event handlers,
// javascript: links, remote images, CSS that fetches URLs, a form, meta refresh and SVG scripts
// is opened in headless Chromium. A listener on loopback stands in for "outside": nothing may
// connect to it and nothing may run until the reader allows remote content; after that the
// images load and still nothing runs. Run by tests/it/webmail_browser.rs (MAILNOOK_URL,
// MAILNOOK_SMTP, MAILNOOK_USER, MAILNOOK_PASSWORD).
import { chromium } from 'playwright-core';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { smtp as deliver, executablePath, chromiumArgs } from './support.mjs';

const env = (k) => { const v = process.env[k]; if (!v) throw new Error(`${k} is not set`); return v; };
const base = env('MAILNOOK_URL');
const smtpAddr = env('MAILNOOK_SMTP');
const user = env('MAILNOOK_USER');
const password = env('MAILNOOK_PASSWORD');

// "Outside": counts every connection, whatever protocol the browser tries on it.
let outside = 0;
const spy = net.createServer((s) => { outside++; s.destroy(); });
await new Promise((r) => spy.listen(0, '127.0.0.1', r));
const far = `http://127.0.0.1:${spy.address().port}`;


const html = `<html><head><meta http-equiv="refresh" content="0;url=${far}/refresh">
<style>body { background: url(${far}/css-bg.png) } @import url(${far}/import.css);</style>
<link rel="stylesheet" href="${far}/link.css"><base href="${far}/"></head>
<body><p id="hello">Quarterly report</p>
<script>top.pwned = 'script'; fetch('${far}/script');</script>
<img src="${far}/pixel.gif" alt="tracker">
<img src="x" onerror="top.pwned='onerror'; new Image().src='${far}/onerror'">
<a id="js" href="javascript:top.pwned='link'">click me</a>
<a id="ok" href="https://example.org/real">a real link</a>
<div style="background-image: url('${far}/inline-style.png')">styled</div>
<form action="${far}/form" method="post"><input name="q" value="x"><button>Go</button></form>
<svg xmlns="http://www.w3.org/2000/svg"><script>top.pwned='svg'</script><image href="${far}/svg-image.png"/></svg>
<iframe src="${far}/frame"></iframe><object data="${far}/object"></object>
<video poster="${far}/poster.png"></video><img srcset="${far}/srcset.png 2x">
</body></html>`;
const raw = `From: Mallory <mallory@evil.example>\r\nTo: ${user}\r\nSubject: Hostile HTML\r\n` +
  `Message-ID: <hostile@evil.example>\r\nDate: ${new Date().toUTCString()}\r\nMIME-Version: 1.0\r\n` +
  `Content-Type: text/html; charset=utf-8\r\n\r\n${html}\r\n`;

const problems = [];
const context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'mailnook-hostile-')), {
  executablePath, headless: true, ignoreHTTPSErrors: true, args: chromiumArgs,
});
try {
  const page = context.pages()[0] || await context.newPage();
  let dialogs = 0;
  page.on('dialog', (d) => { dialogs++; d.dismiss(); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.setDefaultTimeout(20000);
  await deliver(smtpAddr, 'mallory@evil.example', user, raw);
  await page.goto(`${base}/`);
  await page.fill('input[name=address]', user);
  await page.fill('input[name=password]', password);
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  await page.locator('#list .row', { hasText: 'Hostile HTML' }).locator('a.open').click();
  const frame = page.frameLocator('#reader iframe.html');
  await frame.locator('#hello').waitFor();
  await page.waitForTimeout(1500);
  const check = async (when) => {
    const pwned = await page.evaluate(() => window.pwned);
    const inner = await page.evaluate(() => {
      const d = document.querySelector('#reader iframe.html').contentDocument;
      return { scripts: d.querySelectorAll('script').length, forms: d.querySelectorAll('form,input,button').length,
        meta: d.querySelectorAll('meta[http-equiv]').length, js: (d.querySelector('#js') || {}).href || null,
        handlers: [...d.querySelectorAll('*')].some((e) => [...e.attributes].some((a) => a.name.startsWith('on'))),
        url: d.location.pathname };
    });
    if (pwned) throw new Error(`${when}: script ran (${pwned})`);
    if (dialogs) throw new Error(`${when}: a dialog opened`);
    if (inner.scripts || inner.forms || inner.meta || inner.handlers) throw new Error(`${when}: dangerous markup left: ${JSON.stringify(inner)}`);
    if (inner.js && inner.js.startsWith('javascript:')) throw new Error(`${when}: javascript: link left`);
    if (inner.url !== '/webmail/frame') throw new Error(`${when}: the frame navigated to ${inner.url}`);
    console.log(`${when}: nothing ran, no dangerous markup (${JSON.stringify(inner)})`);
  };
  await check('blocked');
  if (outside) throw new Error(`${outside} connection(s) reached "outside" before remote content was allowed`);
  console.log('no connection left the box');
  const note = page.locator('#reader .remote-note');
  if (!(await note.textContent()).includes('blocked')) throw new Error('the reader was not told remote content was blocked');

  // The link that is real stays a link that opens in a new tab without access to us.
  const rel = await frame.locator('#ok').getAttribute('rel');
  if (!rel || !rel.includes('noopener')) throw new Error(`a link lacks rel=noopener: ${rel}`);

  await note.locator('button', { hasText: 'Show it' }).click();
  await frame.locator('#hello').waitFor();
  for (let i = 0; i < 50 && !outside; i++) await page.waitForTimeout(100);
  if (!outside) throw new Error('remote images did not load after the reader allowed them');
  console.log(`allowed: remote images requested (${outside} connection(s))`);
  await page.waitForTimeout(1000);
  await check('allowed');
  if (problems.length) throw new Error(problems.join('\n'));
  console.log('HOSTILE HTML TEST PASSED');
} catch (e) {
  console.error('HOSTILE HTML TEST FAILED:', e.message, problems.join('\n'));
  process.exitCode = 1;
} finally {
  await context.close();
  spy.close();
}
