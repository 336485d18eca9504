// Drives the webmail in real headless Chromium (Debian's /usr/bin/chromium) through
// playwright-core, against a running mailnook. Run by tests/it/webmail_browser.rs with:
// MAILNOOK_URL, MAILNOOK_SMTP (host:port), MAILNOOK_USER/PASSWORD (the reader), MAILNOOK_PEER
// (a second local account that writes to the reader), MAILNOOK_SCREENSHOT_DIR; optionally
// MAILNOOK_JMAP_JITTER_MS, which holds each JMAP request back a random time up to that, so replies
// come back out of order (how the list's stale-reply race, seen once on CI, was reproduced).
// Every step prints what it saw; any failure, JavaScript error or CSP violation exits non-zero.
import { chromium, request } from 'playwright-core';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { smtp as deliver, executablePath, chromiumArgs } from './support.mjs';

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set`);
  return v;
};
const base = env('MAILNOOK_URL');
const smtpAddr = env('MAILNOOK_SMTP');
const user = env('MAILNOOK_USER');
const password = env('MAILNOOK_PASSWORD');
const peer = env('MAILNOOK_PEER');
const shots = env('MAILNOOK_SCREENSHOT_DIR');


const mail = (subject, body, extra = '') => `From: Bob Peer <${peer}>\r\nTo: ${user}\r\nSubject: ${subject}\r\n` +
  `Message-ID: <${Math.random().toString(36).slice(2)}@example.org>\r\nDate: ${new Date().toUTCString()}\r\n${extra}` +
  `Content-Type: text/plain; charset=utf-8\r\n\r\n${body}\r\n`;

const problems = [];
const context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'mailnook-web-')), {
  executablePath, headless: true, ignoreHTTPSErrors: true, viewport: { width: 1280, height: 860 },
  args: chromiumArgs,
});
let page;
try {
  page = context.pages()[0] || await context.newPage();
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  // A service worker cannot be registered over a self-signed certificate (Chromium refuses the
  // script whatever the page accepted); with a real certificate it registers.
  page.on('console', (m) => {
    const t = m.text();
    if (m.type() === 'error' && !t.startsWith('Failed to load resource') && !t.includes('error occurred when fetching the script')) {
      problems.push(`console error: ${t}`);
    }
  });
  page.setDefaultTimeout(20000);
  if (process.env.MAILNOOK_JMAP_JITTER_MS) await page.route('**/jmap/api*', async (route) => { await new Promise((r) => setTimeout(r, Math.random() * Number(process.env.MAILNOOK_JMAP_JITTER_MS))); await route.continue(); });
  const rowWith = (text) => page.locator('#list .row', { hasText: text });
  const toastSays = (text) => page.locator('#toast', { hasText: text }).waitFor();
  // Goes to a route of the app and waits until it is drawn.
  const show = async (hash) => {
    await page.goto(`${base}/${hash}`);
    await page.waitForFunction((h) => document.body.dataset.shown === h, hash);
  };

  // 1. Sign in; a wrong password is refused and nothing is kept in browser storage.
  await page.goto(`${base}/`);
  await page.fill('input[name=address]', user);
  await page.fill('input[name=password]', 'wrong password here');
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  if (!(await page.textContent('.flash')).includes('Wrong')) throw new Error('a wrong password was not refused');
  await page.fill('input[name=password]', password);
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  await page.waitForSelector('body.ready');
  const stored = await page.evaluate(() => JSON.stringify(localStorage) + JSON.stringify(sessionStorage));
  if (stored.includes(password)) throw new Error('the password is in browser storage');
  const cookies = await context.cookies();
  const c = cookies.find((k) => k.name === '__Host-mailnook-web');
  if (!c || !c.httpOnly || !c.secure || c.sameSite !== 'Strict') throw new Error('session cookie is not hardened: ' + JSON.stringify(c));
  console.log('signed in; cookie HttpOnly, Secure, SameSite=Strict');

  // 2. New mail over SMTP appears without a reload.
  await deliver(smtpAddr, peer, user, mail('Lunch on Friday', 'Shall we meet at the pelican café at noon?'));
  await rowWith('Lunch on Friday').waitFor();
  console.log('SMTP delivery appeared live');

  // 3. Open it: the text is shown, the row becomes read.
  await rowWith('Lunch on Friday').locator('a.open').click();
  await page.locator('#reader .msg.open .text', { hasText: 'pelican café' }).waitFor();
  await page.locator('#list .row.read', { hasText: 'Lunch on Friday' }).waitFor();
  console.log('opened; text shown and marked read');
  await page.screenshot({ path: join(shots, 'webmail-desktop.png') });

  // 3b. An HTML newsletter with its own styles shows as designed, with no error on the page.
  const news = `From: The Garden Club <news@garden.example>\r\nTo: ${user}\r\nSubject: Spring newsletter\r\n` +
    `Message-ID: <news1@garden.example>\r\nDate: ${new Date().toUTCString()}\r\nMIME-Version: 1.0\r\n` +
    `Content-Type: text/html; charset=utf-8\r\n\r\n<html><head><style>h1 { color: rgb(45, 106, 79) }</style></head>` +
    `<body style="background: rgb(247, 243, 232)"><h1>Spring at the club</h1><p style="font-weight: bold">Tulips</p></body></html>\r\n`;
  await deliver(smtpAddr, 'news@garden.example', user, news);
  await rowWith('Spring newsletter').locator('a.open').click();
  const frame = page.frameLocator('#reader iframe.html');
  await frame.locator('h1', { hasText: 'Spring at the club' }).waitFor();
  const look = await frame.locator('body').evaluate((b) => [getComputedStyle(b).backgroundColor, getComputedStyle(b.querySelector('h1')).color]);
  if (look[0] !== 'rgb(247, 243, 232)' || look[1] !== 'rgb(45, 106, 79)') throw new Error('the newsletter lost its styles: ' + look);
  await page.goBack();
  console.log('HTML newsletter shown with its own styles');

  // 4. Reply: sent after the undo window, found in Sent.
  await rowWith('Lunch on Friday').locator('a.open').click();
  await page.locator('#reader .msg.open .text', { hasText: 'pelican café' }).waitFor();
  await page.click('#reader .msg.open >> text=Reply');
  await page.waitForSelector('#compose form');
  const to = await page.inputValue('#compose input[name=to]');
  if (!to.includes(peer)) throw new Error(`reply goes to ${to}`);
  await page.fill('#compose textarea', 'Yes, noon is perfect.');
  await page.click('#compose button[type=submit]');
  await toastSays('Sent');
  const sentHref = await page.getAttribute('#mailboxes a[data-role=sent]', 'href');
  await show(sentHref);
  await rowWith('Re: Lunch on Friday').waitFor();
  console.log('reply sent and in Sent');

  // 5. Undo a send: the message comes back to the editor and is not sent.
  await page.click('#write');
  await page.fill('#compose input[name=to]', peer);
  await page.fill('#compose input[name=subject]', 'Never sent');
  await page.fill('#compose textarea', 'oops');
  await page.click('#compose button[type=submit]');
  await page.click('#toast button');
  await page.waitForSelector('#compose:not([hidden]) form');
  if ((await page.inputValue('#compose input[name=subject]')) !== 'Never sent') throw new Error('undo did not reopen the message');
  await page.click('#compose header button');
  console.log('send undone');

  // 6. Attach a file and send it.
  const file = join(mkdtempSync(join(tmpdir(), 'att-')), 'minutes.txt');
  writeFileSync(file, 'The minutes of the meeting.\n'.repeat(50));
  await page.click('#write');
  await page.fill('#compose input[name=to]', peer);
  await page.fill('#compose input[name=subject]', 'Minutes attached');
  await page.fill('#compose textarea', 'See the file.');
  await page.setInputFiles('#compose input[type=file]', file);
  await page.locator('#compose .files li', { hasText: 'minutes.txt' }).locator('span.muted').waitFor();
  await page.click('#compose button[type=submit]');
  await toastSays('Sent');
  console.log('attachment uploaded and sent');

  // 7. Search with a highlighted snippet.
  await page.fill('#q', 'pelican');
  await page.press('#q', 'Enter');
  await page.locator('#list .row mark', { hasText: /pelican/i }).first().waitFor();
  console.log('search found it with a highlighted snippet');

  // 8. Junk and back.
  const inboxHref = await page.getAttribute('#mailboxes a[data-role=inbox]', 'href');
  await show(inboxHref);
  await rowWith('Lunch on Friday').locator('input[type=checkbox]').check();
  await page.click('#list .list-head button:has-text("Junk")');
  await toastSays('Marked as junk');
  const junkHref = await page.getAttribute('#mailboxes a[data-role=junk]', 'href');
  await show(junkHref);
  await rowWith('Lunch on Friday').locator('input[type=checkbox]').check();
  await page.click('#list .list-head button:has-text("Not junk")');
  await toastSays('Not junk');
  await show(inboxHref);
  await rowWith('Lunch on Friday').waitFor();
  console.log('moved to Junk and back');

  // 9a. Folders: create one inside Archive's level, rename it; a draft is saved as one types.
  await page.click('#mailboxes >> text=+ New folder');
  await page.fill('dialog input[name=name]', 'Receipts');
  await page.click('dialog button[type=submit]');
  await page.locator('#mailboxes a', { hasText: 'Receipts' }).click();
  await page.click('#mailboxes >> text=Rename');
  await page.fill('dialog input[name=name]', 'Receipts 2026');
  await page.click('dialog button[type=submit]');
  await page.locator('#mailboxes a', { hasText: 'Receipts 2026' }).waitFor();
  console.log('folder created and renamed');
  await page.click('#write');
  await page.fill('#compose input[name=to]', peer);
  await page.fill('#compose input[name=subject]', 'Half-written thought');
  await page.fill('#compose textarea', 'to be continued');
  await page.locator('#compose .status', { hasText: 'Draft saved' }).waitFor();
  await page.click('#compose header button');
  const draftsHref = await page.getAttribute('#mailboxes a[data-role=drafts]', 'href');
  await show(draftsHref);
  await rowWith('Half-written thought').locator('a.open').click();
  await page.click('#reader >> text=Edit draft');
  if (!(await page.inputValue('#compose textarea')).includes('to be continued')) throw new Error('the draft did not reopen');
  await page.click('#compose header button');
  console.log('draft saved while typing and reopened');

  // 9. The vacation response.
  await show('#/settings');
  await page.check('#vacation input[name=on]');
  await page.fill('#vacation input[name=subject]', 'Away until Monday');
  await page.fill('#vacation textarea', 'I am away.');
  await page.click('#vacation button[type=submit]');
  await toastSays('Vacation response saved');
  console.log('vacation response saved');

  // 10. Phone width: one pane at a time.
  await page.setViewportSize({ width: 390, height: 844 });
  await show(inboxHref);
  await rowWith('Lunch on Friday').waitFor();
  await page.waitForTimeout(400);
  await page.screenshot({ path: join(shots, 'webmail-phone.png') });
  if (await page.isVisible('#mailboxes a[data-role=inbox]')) {
    const why = await page.evaluate(() => { const n = document.querySelector('#mailboxes'); const c = getComputedStyle(n); return [c.visibility, c.transform, innerWidth, document.body.className]; });
    throw new Error('the folder list covers the phone layout: ' + JSON.stringify(why));
  }
  await page.setViewportSize({ width: 1280, height: 860 });

  // 11. Sign out ends the session on the server: the old cookie no longer works.
  const old = (await context.cookies()).find((k) => k.name === '__Host-mailnook-web').value;
  const api = await request.newContext({ ignoreHTTPSErrors: true });
  const before = (await api.get(`${base}/jmap/session`, { headers: { Cookie: `__Host-mailnook-web=${old}` } })).status();
  if (before !== 200) throw new Error(`the session cookie did not work for JMAP: ${before}`);
  await page.click('#signout');
  await page.waitForSelector('form#login');
  const after = (await api.get(`${base}/jmap/session`, { headers: { Cookie: `__Host-mailnook-web=${old}` } })).status();
  if (after !== 401) throw new Error(`after sign-out the old cookie still answered ${after}`);
  await api.dispose();
  console.log('signed out; the session is gone');

  if (problems.length) throw new Error(problems.join('\n'));
  console.log('WEBMAIL BROWSER TEST PASSED');
} catch (e) {
  console.error('WEBMAIL BROWSER TEST FAILED:', e.message, problems.join('\n'));
  // What was on screen, for a failure seen only on CI.
  if (page) {
    const seen = await page.evaluate(() => `shown ${document.body.dataset.shown} at ${location.hash}\nlist: ${(document.getElementById('list') || document.body).innerText}`).catch((x) => String(x));
    console.error(seen);
    await page.screenshot({ path: join(shots, 'webmail-failure.png') }).catch(() => {});
  }
  process.exitCode = 1;
} finally {
  await context.close();
}
