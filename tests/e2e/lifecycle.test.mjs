// Personal access tokens over their life in the browser: made with an expiry and read-only
// scope, their expiry and last use (time and address) in the table, expired and expiring
// tokens standing out, and regeneration that keeps the old value for a grace period.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  ADMIN_PASSWORD, launch, watch, screenshots, http, confirmWithPassword, signIn, takeSecret,
} from './lib.mjs';

let context;
let page;
let problems;
let admin; // {userId, authToken} of a login made outside the browser

before(async () => {
  const login = await http('POST', '/api/v1/login', { body: { user: 'admin', password: ADMIN_PASSWORD } });
  assert.equal(login.status, 200);
  admin = login.body.data;
  context = await launch('lifecycle');
  page = await context.newPage();
  page.setDefaultTimeout(10000);
  problems = watch(page);
});

// The other files sign in as the same admin and expect no tokens left over.
after(async () => {
  await context?.close();
  for (const tokenName of ['monitor', 'quarterly', 'brief', 'rollout']) {
    await gated('/api/v1/users.removePersonalAccessToken', { tokenName });
  }
});

const as = ({ userId, authToken }) => ({ 'X-User-Id': userId, 'X-Auth-Token': authToken });
const me = async (userId, token) => http('GET', '/api/v1/me', { headers: as({ userId, authToken: token }) });
/** A 2FA-gated call as the admin, answering the challenge with the password. */
const gated = (path, body) => http('POST', path, {
  body,
  headers: {
    ...as(admin), 'x-2fa-code': createHash('sha256').update(ADMIN_PASSWORD).digest('hex'), 'x-2fa-method': 'password',
  },
});

/** Creates a PAT through the form; the expiry option and read-only box as given. */
async function createInForm(name, { expiry, readOnly = false } = {}) {
  await page.getByLabel('Name', { exact: true }).fill(name);
  if (expiry) await page.getByLabel('Expires', { exact: true }).selectOption({ label: expiry });
  if (readOnly) await page.getByLabel('Read-only').check();
  await page.getByRole('button', { name: 'Create token' }).click();
  await confirmWithPassword(page, ADMIN_PASSWORD);
  const { dialog, value } = await takeSecret(page, `Your new token "${name}"`);
  await dialog.getByRole('button', { name: 'I have saved it' }).click();
  return value;
}

const row = (name) => page.getByRole('row', { name: new RegExp(`^${name}\\b`) });

test('a read-only token that expires in 7 days stands out and can change nothing', async () => {
  await signIn(page, 'admin', ADMIN_PASSWORD);
  await page.getByRole('heading', { name: 'My tokens' }).waitFor();
  const token = await createInForm('monitor', { expiry: 'In 7 days', readOnly: true });
  const monitor = row('monitor');
  await monitor.waitFor();
  const text = await monitor.textContent();
  for (const shown of ['Read-only', 'Never used']) assert.ok(text.includes(shown), `${shown} missing in ${text}`);
  assert.match(text, /Expires in (7|6) days/);
  assert.match(await monitor.getAttribute('class'), /\bexpiring\b/);

  assert.equal((await me(admin.userId, token)).status, 200);
  const write = await http('POST', '/api/v1/users.updateOwnBasicInfo', {
    headers: as({ userId: admin.userId, authToken: token }), body: { data: { name: 'Changed by a read-only token' } },
  });
  assert.ok(write.status >= 400 && write.status < 500, `a read-only token changed something: ${write.status}`);
});

test('the table shows when and from where a token was last used', async () => {
  // Last use is written in batches: reload until the use above shows (the tab stays signed in).
  const monitor = row('monitor');
  for (let i = 0; i < 40 && (await monitor.textContent()).includes('Never used'); i += 1) {
    await page.waitForTimeout(500);
    await page.reload();
    await monitor.waitFor();
  }
  assert.match(await monitor.textContent(), /from 127\.0\.0\.1/);
});

test('a token with a chosen day expires at the end of it and does not stand out', async () => {
  await page.getByLabel('Expires', { exact: true }).selectOption({ label: 'On a day I choose' });
  const day = new Date(Date.now() + 60 * 86400000);
  const iso = `${day.getFullYear()}-${String(day.getMonth() + 1).padStart(2, '0')}-${String(day.getDate()).padStart(2, '0')}`;
  await page.getByLabel('Expiry day').fill(iso);
  const token = await createInForm('quarterly');
  const quarterly = row('quarterly');
  await quarterly.waitFor();
  assert.equal(await quarterly.getAttribute('class'), null);
  assert.match(await quarterly.textContent(), /Full/);
  const listed = await http('GET', '/api/v1/users.getPersonalAccessTokens', { headers: as(admin) });
  const expiresAt = new Date(listed.body.tokens.find((t) => t.name === 'quarterly').expiresAt);
  assert.equal(expiresAt.getDate(), day.getDate());
  assert.equal(expiresAt.getHours(), 23);
  assert.equal((await me(admin.userId, token)).status, 200);
});

test('an expired token is marked Expired and no longer works', async () => {
  const expiresAt = new Date(Date.now() + 2000).toISOString();
  const made = await gated('/api/v1/users.generatePersonalAccessToken', { tokenName: 'brief', expiresAt });
  assert.equal(made.status, 200, JSON.stringify(made.body));
  await page.waitForTimeout(2500);
  await page.reload();
  const brief = row('brief');
  await brief.waitFor();
  assert.match(await brief.textContent(), /Expired/);
  assert.match(await brief.getAttribute('class'), /\bexpired\b/);
  assert.equal((await me(admin.userId, made.body.token)).status, 401);
  await screenshots(page, 'tokens-lifetime');
});

test('regenerating with a grace period keeps the old value working until then', async () => {
  const old = (await gated('/api/v1/users.generatePersonalAccessToken', { tokenName: 'rollout' })).body.token;
  await page.reload();
  await page.getByRole('button', { name: 'Regenerate rollout' }).click();
  const dialog = page.getByRole('dialog', { name: 'Regenerate token' });
  await dialog.getByLabel('Keep the old value working').selectOption({ label: 'For 1 hour' });
  await dialog.getByRole('button', { name: 'Regenerate' }).click();
  await confirmWithPassword(page, ADMIN_PASSWORD);
  const fresh = await takeSecret(page, 'New value of "rollout"');
  await fresh.dialog.getByRole('button', { name: 'I have saved it' }).click();
  assert.notEqual(fresh.value, old);
  assert.equal((await me(admin.userId, old)).status, 200, 'the old value stopped at once');
  assert.equal((await me(admin.userId, fresh.value)).status, 200);
  await row('rollout').getByText('Previous value works until').waitFor();
});

test('nothing left the origin, no script failed, no policy was violated', () => {
  assert.deepEqual(problems, []);
});
