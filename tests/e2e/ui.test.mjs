// The web UI in a real browser against a real tokend (started by run.sh): sign-in, personal
// access tokens used from outside the browser, TOTP enrolment with codes computed from the
// displayed secret, an admin minting tokens for a user, and a non-admin kept out of the
// administration pages. Each page is photographed at phone and desktop width.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  BASE, ADMIN_PASSWORD, launch, watch, screenshots, http, totp, confirmWithPassword, signIn, takeSecret,
} from './lib.mjs';

const BOB_PASSWORD = 'bob-password-123';
let context;
let page;
let problems;

before(async () => {
  context = await launch('journeys');
  page = await context.newPage();
  page.setDefaultTimeout(10000);
  problems = watch(page);
});

after(async () => {
  await context?.close();
});

test('the pages carry a Content-Security-Policy without inline script', async () => {
  const response = await page.goto(`${BASE}/`);
  assert.equal(new URL(page.url()).pathname, '/ui/');
  const csp = response.headers()['content-security-policy'];
  assert.match(csp, /script-src 'self'/);
  assert.doesNotMatch(csp, /unsafe-inline/);
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await screenshots(page, 'signin');
});

test('a wrong password is explained in plain words, then the admin signs in', async () => {
  await signIn(page, 'admin', 'not the password');
  await page.getByText('Wrong username, e-mail or password.').waitFor();
  await page.getByLabel('Password', { exact: true }).fill(ADMIN_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'My tokens' }).waitFor();
  assert.equal(await page.title(), 'tokend');
  for (const name of ['Users', 'Audit log']) assert.ok(await page.getByRole('link', { name }).isVisible());
});

test('a personal access token is shown once, copied, and works from an HTTP client', async () => {
  await page.getByLabel('Name', { exact: true }).fill('ci');
  await page.getByLabel('Bypass two-factor checks').check();
  await page.getByRole('button', { name: 'Create token' }).click();
  await confirmWithPassword(page, ADMIN_PASSWORD);
  const { dialog, value: token } = await takeSecret(page, 'Your new token "ci"');
  const userId = await dialog.getByLabel('User id').inputValue();
  await dialog.getByRole('button', { name: 'Copy token' }).click();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), token);
  await dialog.getByRole('button', { name: 'I have saved it' }).click();

  const me = await http('GET', '/api/v1/me', { headers: { 'X-User-Id': userId, 'X-Auth-Token': token } });
  assert.equal(me.status, 200);
  assert.equal(me.body.username, 'admin');
  const row = page.getByRole('row', { name: /^ci\b/ });
  await row.waitFor();
  assert.match(await row.textContent(), new RegExp(`…${token.slice(-6)}`));
  assert.match(await row.textContent(), /Yes/);
  assert.equal(await page.locator('body').textContent().then((t) => t.includes(token)), false, 'token left on the page');
  await screenshots(page, 'tokens');
});

test('the admin creates a user and mints a login token and a SAYMON token for them', async () => {
  await page.getByRole('link', { name: 'Users' }).click();
  await page.getByRole('button', { name: 'Create user' }).click();
  const form = page.getByRole('dialog', { name: 'Create user' });
  await form.getByLabel('Username', { exact: true }).fill('bob');
  await form.getByLabel('Name', { exact: true }).fill('Bob Example');
  await form.getByLabel('E-mail', { exact: true }).fill('bob@example.com');
  await form.getByLabel('Password', { exact: true }).fill(BOB_PASSWORD);
  await form.getByRole('button', { name: 'Create user' }).click();
  // users.create is not 2FA-gated (Rocket.Chat 7.x and 8.x): no dialog.
  const bobRow = page.getByRole('row', { name: /bob@example\.com/ });
  await bobRow.waitFor();

  await bobRow.getByRole('button', { name: 'Login token: bob' }).click();
  const mint = page.getByRole('dialog', { name: 'Login token for bob' });
  await mint.getByRole('button', { name: 'Mint token' }).click();
  const { dialog, value: token } = await takeSecret(page, 'Login token for bob');
  const userId = await dialog.getByLabel('User id').inputValue();
  await dialog.getByRole('button', { name: 'I have saved it' }).click();
  const me = await http('GET', '/api/v1/me', { headers: { 'X-User-Id': userId, 'X-Auth-Token': token } });
  assert.equal(me.body.username, 'bob');

  await bobRow.getByRole('button', { name: 'SAYMON token: bob' }).click();
  const saymon = page.getByRole('dialog', { name: 'SAYMON token for bob' });
  await saymon.getByLabel('Your password (admin)').fill('wrong password');
  await saymon.getByRole('button', { name: 'Mint SAYMON token' }).click();
  await saymon.getByText('SAYMON refused these credentials').waitFor();
  await saymon.getByLabel('Your password (admin)').fill(ADMIN_PASSWORD);
  await saymon.getByRole('button', { name: 'Mint SAYMON token' }).click();
  const shown = await takeSecret(page, 'SAYMON token for bob');
  await shown.dialog.getByRole('button', { name: 'I have saved it' }).click();
  const current = await http('GET', `/node/api/users/current?api-token=${encodeURIComponent(shown.value)}`);
  assert.equal(current.body.login, 'bob');
  await screenshots(page, 'users');
});

test('users can be searched and the audit log filtered by user and event', async () => {
  await page.getByLabel('Search users').fill('BOB@EXAMPLE');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByText('1–1 of 1').waitFor();
  await page.getByRole('link', { name: 'Audit log' }).click();
  await page.getByLabel('User (username or id)').fill('bob');
  await page.getByLabel('Event').selectOption('token.created');
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.getByRole('cell', { name: /saymon/ }).first().waitFor();
  const rows = await page.locator('#audit-table tbody tr').allTextContents();
  assert.ok(rows.length >= 2 && rows.every((r) => r.includes('Created') && r.includes('bob')), rows.join('\n'));
  await screenshots(page, 'audit');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
});

test('a user without admin permissions sees no administration pages', async () => {
  await signIn(page, 'bob', BOB_PASSWORD);
  await page.getByRole('heading', { name: 'My tokens' }).waitFor();
  for (const name of ['Users', 'Audit log']) assert.equal(await page.getByRole('link', { name }).isVisible(), false);
  // A reload keeps the tab signed in, and still without the administration pages.
  await page.reload();
  await page.getByRole('heading', { name: 'My tokens' }).waitFor();
  for (const name of ['Users', 'Audit log']) assert.equal(await page.getByRole('link', { name }).isVisible(), false);
  await page.evaluate(() => { window.location.hash = 'users'; });
  await page.getByRole('heading', { name: 'My tokens' }).waitFor();
  assert.equal(await page.locator('#page-users').isVisible(), false);
});

test('TOTP enrolment by the displayed secret, backup codes, then a sign-in with a code', async () => {
  await page.getByRole('link', { name: 'Two-factor' }).click();
  await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
  await confirmWithPassword(page, BOB_PASSWORD);
  await page.getByLabel('Secret key').waitFor();
  const secret = await page.getByLabel('Secret key').inputValue();
  assert.match(await page.locator('#totp-qr').getAttribute('src'), /^data:image\/gif;base64,/);
  await screenshots(page, 'two-factor-enrol');
  await page.getByLabel('Enter the 6-digit code the app shows').fill(totp(secret));
  await page.getByRole('button', { name: 'Confirm' }).click();
  await confirmWithPassword(page, BOB_PASSWORD);
  const codesDialog = page.getByRole('dialog', { name: 'Your backup codes' });
  await codesDialog.waitFor();
  const codes = await codesDialog.getByRole('listitem').allTextContents();
  assert.equal(codes.length, 12);
  const download = page.waitForEvent('download');
  await codesDialog.getByRole('button', { name: 'Download as text' }).click();
  assert.match((await download).suggestedFilename(), /backup-codes-bob\.txt$/);
  await codesDialog.getByRole('button', { name: 'I have saved them' }).click();
  await page.getByText('Backup codes left: 12 of 12.').waitFor();
  await screenshots(page, 'two-factor');

  await page.getByRole('button', { name: 'Sign out' }).click();
  await signIn(page, 'bob', BOB_PASSWORD);
  await page.getByLabel('Authenticator code').fill('000000');
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.getByText('That code is not valid.').waitFor();
  // The next step's code: accepted (window of one step) and not the one used to confirm.
  await page.getByLabel('Authenticator code').fill(totp(secret, 1));
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.getByRole('heading', { name: 'My tokens' }).waitFor();
});

test('nothing left the origin, no script failed, no policy was violated', () => {
  assert.deepEqual(problems, []);
});
