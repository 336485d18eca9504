// Plays the user of an app that signs in with OAuth 2.0: headless Chromium (Debian's
// /usr/bin/chromium) through playwright-core opens mailnook's /oauth/authorize page (self-signed
// certificate), checks it names the app and what it will get, tries a wrong password, then
// signs in and allows; the server redirects to the app's loopback listener (run by
// tests/it/auth_oauth.rs, which then exchanges the code).
// Env: MAILNOOK_AUTHORIZE_URL, MAILNOOK_USER, MAILNOOK_PASSWORD, MAILNOOK_CLIENT_NAME,
// MAILNOOK_REDIRECT, MAILNOOK_SCREENSHOT_DIR. Exits non-zero (with the reason) on any failure,
// including a JavaScript error or a Content-Security-Policy violation on the page.
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
const authorizeUrl = env('MAILNOOK_AUTHORIZE_URL');
const user = env('MAILNOOK_USER');
const password = env('MAILNOOK_PASSWORD');
const clientName = env('MAILNOOK_CLIENT_NAME');
const redirect = env('MAILNOOK_REDIRECT');
const shots = env('MAILNOOK_SCREENSHOT_DIR');

const userDataDir = mkdtempSync(join(tmpdir(), 'mailnook-chromium-'));
const problems = [];
let context;
try {
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath,
    headless: true,
    ignoreHTTPSErrors: true,
    viewport: { width: 420, height: 820 },
    args: chromiumArgs,
  });
  const page = context.pages()[0] || await context.newPage();
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  // The wrong-password step answers 401 ("Failed to load resource"); anything else logged as
  // an error (a CSP violation, say) fails the test.
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) {
      problems.push(`console error: ${m.text()}`);
    }
  });
  page.setDefaultTimeout(20000);

  // 1. The consent page names the app and what it gets.
  await page.goto(authorizeUrl);
  const shown = (await page.textContent('#client')).trim();
  if (shown !== clientName) throw new Error(`the page names ${shown}, not ${clientName}`);
  const grants = await page.textContent('#grants');
  if (!grants.includes('send mail as you')) throw new Error(`what the app gets is not shown: ${grants}`);
  const css = await page.evaluate(() => getComputedStyle(document.querySelector('main')).maxWidth);
  if (css === 'none') throw new Error('the admin stylesheet did not apply');
  await page.screenshot({ path: join(shots, 'oauth-consent.png'), fullPage: true });
  console.log(`consent page for ${shown}`);

  // 2. A wrong password: the page again, with the address kept and an error.
  await page.fill('input[name=address]', user);
  await page.fill('input[name=password]', 'not the password');
  await Promise.all([page.waitForNavigation(), page.click('#allow')]);
  if (!(await page.textContent('[role=alert]')).includes('Wrong address or password')) {
    throw new Error('no error after a wrong password');
  }
  if ((await page.inputValue('input[name=address]')) !== user) throw new Error('address not kept');
  console.log('wrong password refused');

  // 3. Sign in and allow: the browser lands on the app's loopback redirect URI.
  await page.fill('input[name=password]', password);
  await Promise.all([
    page.waitForURL((u) => u.toString().startsWith(redirect)),
    page.click('#allow'),
  ]);
  const landed = new URL(page.url());
  if (!landed.searchParams.get('code')) throw new Error(`no code in ${landed}`);
  await page.waitForSelector('#done');
  console.log(`redirected to ${landed.origin}${landed.pathname} with a code`);

  if (problems.length) throw new Error(problems.join('\n'));
  console.log('BROWSER TEST PASSED');
} catch (e) {
  console.error(e.stack || String(e));
  if (problems.length) console.error(problems.join('\n'));
  process.exitCode = 1;
} finally {
  if (context) await context.close();
  rmSync(userDataDir, { recursive: true, force: true });
}
