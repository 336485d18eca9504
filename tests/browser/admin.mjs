// Drives the admin page in real headless Chromium (Debian's /usr/bin/chromium) through
// playwright-core, against a running mailnook with its self-signed certificate.
// Run by tests/it/admin_browser.rs with: MAILNOOK_URL, MAILNOOK_ADMIN, MAILNOOK_PASSWORD,
// MAILNOOK_SCREENSHOT_DIR. Exits non-zero (with the reason) on any failure, including a
// JavaScript error or a Content-Security-Policy violation on the page.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { executablePath, chromiumArgs } from './support.mjs';

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set`);
  return v;
};
const base = env('MAILNOOK_URL');
const admin = env('MAILNOOK_ADMIN');
const password = env('MAILNOOK_PASSWORD');
const shots = env('MAILNOOK_SCREENSHOT_DIR');

const userDataDir = mkdtempSync(join(tmpdir(), 'mailnook-chromium-'));
const problems = [];
let context;
try {
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath,
    headless: true,
    ignoreHTTPSErrors: true,
    viewport: { width: 1100, height: 900 },
    args: chromiumArgs,
  });
  const page = context.pages()[0] || await context.newPage();
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  // Refused API calls (the bad-input step) log "Failed to load resource"; anything else logged
  // as an error (a script error, a Content-Security-Policy violation) fails the test.
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) {
      problems.push(`console error: ${m.text()}`);
    }
  });
  page.setDefaultTimeout(20000);

  // 1. The sign-in form over the self-signed certificate. A wrong password keeps the address.
  await page.goto(`${base}/admin`);
  await page.fill('input[name=address]', admin);
  await page.fill('input[name=password]', 'not the password');
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  const kept = await page.inputValue('input[name=address]');
  if (kept !== admin) throw new Error(`the address was not kept after a wrong password: ${kept}`);
  console.log('wrong password refused, address kept');
  await page.fill('input[name=password]', password);
  await Promise.all([page.waitForURL(`${base}/admin`), page.click('button[type=submit]')]);
  await page.waitForSelector('#accounts');
  const who = await page.textContent('header .who');
  if (!who.includes(admin)) throw new Error(`not signed in as ${admin}: ${who}`);
  console.log(`signed in as ${admin}`);

  // 2. Create a user through the page and see it listed.
  await page.fill('#add-user input[name=address]', 'dora@example.org');
  await page.fill('#add-user input[name=password]', 'a long enough secret');
  await page.click('#add-user button[type=submit]');
  await page.waitForSelector('#account-rows tr[data-addr="dora@example.org"]');
  const flash = await page.textContent('#flash');
  if (!flash.includes('Created dora@example.org')) throw new Error(`flash says: ${flash}`);
  console.log('created dora@example.org; listed');

  // 2b. An alias for her, through the domains-and-aliases form.
  await page.fill('#add-alias input[name=address]', 'info@example.org');
  await page.fill('#add-alias input[name=targets]', 'dora@example.org');
  await page.click('#add-alias button[type=submit]');
  await page.waitForSelector('#alias-rows tr[data-alias="info@example.org"]');
  console.log('alias info@example.org -> dora@example.org listed');

  // 2c. An app password for her: named in a prompt, shown once, listed, revoked by id.
  page.once('dialog', (d) => d.accept("Dora's phone"));
  await page.click('#account-rows tr[data-addr="dora@example.org"] button[data-act=app-add]');
  await page.waitForFunction(() => /App password/.test(document.querySelector('#flash').textContent));
  const app = await page.textContent('#flash code');
  if (!/^[a-z0-9]{4}(-[a-z0-9]{4}){4}$/.test(app || '')) throw new Error(`no app password shown: ${app}`);
  let listed = '';
  page.once('dialog', (d) => { listed = d.message(); d.accept(app.slice(0, 4)); });
  await page.click('#account-rows tr[data-addr="dora@example.org"] button[data-act=app-list]');
  await page.waitForFunction(() => /revoked app password/.test(document.querySelector('#flash').textContent));
  if (!listed.includes("Dora's phone")) throw new Error(`app password not listed: ${listed}`);
  console.log('app password made, listed and revoked');

  // 3. Create one with a generated password, then delete it through the typed confirmation.
  await page.fill('#add-user input[name=address]', 'temp@example.org');
  await page.click('#add-user button[type=submit]');
  await page.waitForSelector('#account-rows tr[data-addr="temp@example.org"]');
  const generated = await page.textContent('#flash code');
  if (!generated || generated.length < 16) throw new Error(`no generated password shown: ${generated}`);
  page.once('dialog', (d) => d.accept('temp@example.org'));
  await page.click('#account-rows tr[data-addr="temp@example.org"] button[data-act=del]');
  await page.waitForSelector('#account-rows tr[data-addr="temp@example.org"]', { state: 'detached' });
  console.log('created and deleted temp@example.org');

  // 4. A bad address is refused with the server's message.
  await page.fill('#add-user input[name=address]', 'bad@@example.org');
  await page.fill('#add-user input[name=password]', 'a long enough secret');
  await page.$eval('#add-user', (f) => f.setAttribute('novalidate', ''));
  await page.click('#add-user button[type=submit]');
  await page.waitForSelector('#flash.bad');
  console.log(`bad address refused: ${await page.textContent('#flash')}`);
  await page.fill('#add-user input[name=address]', '');
  await page.fill('#add-user input[name=password]', '');
  await page.reload();
  await page.waitForSelector('#account-rows tr[data-addr="dora@example.org"]');

  // 5. Screenshots: desktop (whole page) and a phone-sized view.
  await page.screenshot({ path: join(shots, 'admin-browser.png'), fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${base}/admin#accounts`);
  await page.waitForSelector('#account-rows tr[data-addr="dora@example.org"]');
  await page.screenshot({ path: join(shots, 'admin-browser-phone.png'), fullPage: true });
  const heights = await page.evaluate(() => document.documentElement.scrollHeight);
  console.log(`phone page height: ${heights} px`);
  // Nothing may stick out sideways on a phone (a cell's content pushed past its card).
  const wide = await page.evaluate(() => [...document.querySelectorAll('main *')]
    .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1)
    .map((e) => e.tagName + (e.id ? '#' + e.id : '') + ' ' + (e.textContent || '').slice(0, 40)));
  if (wide.length) throw new Error(`wider than the phone: ${wide.slice(0, 5).join(' | ')}`);
  console.log(`screenshots in ${shots}`);

  // 6. Sign out ends the session.
  await page.click('header button[type=submit]');
  await page.waitForSelector('form#login');
  console.log('signed out');

  if (problems.length) throw new Error(problems.join('\n'));
  console.log('BROWSER TEST PASSED');
} catch (e) {
  console.error(`BROWSER TEST FAILED: ${e.stack || e}`);
  if (problems.length) console.error(problems.join('\n'));
  process.exitCode = 1;
} finally {
  if (context) await context.close().catch(() => {});
  rmSync(userDataDir, { recursive: true, force: true });
}
