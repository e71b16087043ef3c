// Every credential in view, in the browser: a user's "My sessions" page names who created each
// session (an administrator's users.createToken included) and revokes one, this tab's too; an
// administrator's Users page lists a user's sessions, personal access tokens and SAYMON API
// token, never their values, and revokes one or all of them.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { ADMIN_PASSWORD, launch, watch, screenshots, http, signIn } from './lib.mjs';

const FRANK_PASSWORD = 'frank-password-123';
const sha = (text) => createHash('sha256').update(text).digest('hex');
let context;
let page;
let problems;
let admin; // the admin's login outside the browser
let frank; // {userId, script (a login from a script), minted (by the admin), pat, saymon}

const as = ({ userId, authToken }) => ({ 'X-User-Id': userId, 'X-Auth-Token': authToken });
const works = async (userId, authToken) =>
  (await http('GET', '/api/v1/me', { headers: as({ userId, authToken }) })).status === 200;
const saymonWorks = async (token) =>
  (await http('GET', `/node/api/users/current?api-token=${encodeURIComponent(token)}`)).status === 200;

async function call(path, headers, body, password) {
  const gate = password ? { 'x-2fa-code': sha(password), 'x-2fa-method': 'password' } : {};
  const answer = await http('POST', path, { headers: { ...headers, ...gate }, body });
  assert.equal(answer.status, 200, `${path}: ${JSON.stringify(answer.body)}`);
  return answer.body;
}

before(async () => {
  const login = await http('POST', '/api/v1/login', { body: { user: 'admin', password: ADMIN_PASSWORD } });
  admin = login.body.data;
  const { user } = await call('/api/v1/users.create', as(admin),
    { username: 'frank', name: 'Frank Field', email: 'frank@example.com', password: FRANK_PASSWORD }, ADMIN_PASSWORD);
  const script = await http('POST', '/api/v1/login', {
    headers: { 'User-Agent': 'backup-script/2.1' }, body: { user: 'frank', password: FRANK_PASSWORD },
  });
  assert.equal(script.status, 200);
  const userId = user._id;
  const scriptToken = script.body.data.authToken;
  const minted = (await call('/api/v1/users.createToken', as(admin), { userId }, ADMIN_PASSWORD)).data.authToken;
  const pat = (await call('/api/v1/users.generatePersonalAccessToken', as({ userId, authToken: scriptToken }),
    { tokenName: 'frank-ci' }, FRANK_PASSWORD)).token;
  const basic = `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}`;
  const saymon = await http('POST', `/node/api/users/${userId}/auth-token`, { headers: { Authorization: basic } });
  assert.equal(saymon.status, 200);
  frank = { userId, script: scriptToken, minted, pat, saymon: saymon.body };

  context = await launch('sessions');
  page = await context.newPage();
  page.setDefaultTimeout(10000);
  problems = watch(page);
});

after(async () => {
  await context?.close();
});

const sessionRows = () => page.locator('#sessions-table tbody tr');

test('My sessions names who created each session, and this tab', async () => {
  await signIn(page, 'frank', FRANK_PASSWORD);
  await page.getByRole('heading', { name: 'My tokens' }).waitFor();
  await page.getByRole('link', { name: 'My sessions' }).click();
  await page.getByRole('heading', { name: 'My sessions' }).waitFor();
  await sessionRows().first().waitFor();
  const rows = await sessionRows().allTextContents();
  assert.equal(rows.length, 3, rows.join('\n'));
  assert.equal(rows.filter((r) => r.includes('Created for you by admin')).length, 1, rows.join('\n'));
  assert.equal(rows.filter((r) => r.includes('This tab')).length, 1, rows.join('\n'));
  assert.ok(rows.some((r) => r.includes('backup-script/2.1') && r.includes('You, by signing in')), rows.join('\n'));
  await screenshots(page, 'my-sessions');
});

test('revoking the session an administrator created ends it at once', async () => {
  const row = sessionRows().filter({ hasText: 'Created for you by admin' });
  await row.getByRole('button', { name: /^Revoke/ }).click();
  await page.getByRole('dialog', { name: 'Revoke session' }).getByRole('button', { name: 'Revoke' }).click();
  await page.getByText('The session is revoked.').waitFor();
  await row.waitFor({ state: 'detached' });
  assert.equal(await works(frank.userId, frank.minted), false);
  assert.equal(await works(frank.userId, frank.script), true);
});

test('revoking the session of this tab signs out here', async () => {
  const row = sessionRows().filter({ hasText: 'This tab' });
  await row.getByRole('button', { name: /^Revoke/ }).click();
  await page.getByRole('dialog', { name: 'Revoke session' }).getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await page.getByText('You revoked the session of this tab').waitFor();
  await page.reload();
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
});

test('an administrator sees a user\'s sessions, tokens and SAYMON token, never their values', async () => {
  await signIn(page, 'admin', ADMIN_PASSWORD);
  await page.getByRole('link', { name: 'Users' }).click();
  await page.getByRole('button', { name: 'Sessions and tokens: frank' }).click();
  const panel = page.getByRole('region', { name: 'Sessions and tokens of frank' });
  await panel.getByRole('heading', { name: 'Sessions and tokens of frank' }).waitFor();
  const text = await panel.textContent();
  for (const shown of ['backup-script/2.1', 'frank-ci', `…${frank.saymon.slice(-4)}`]) assert.ok(text.includes(shown), `${shown} missing`);
  assert.ok(text.includes('frank, by signing in'), 'the owner is not named');
  for (const secret of [frank.script, frank.pat, frank.saymon]) assert.ok(!text.includes(secret), 'a token value is shown');
  await screenshots(page, 'admin-user-tokens');
});

test('the administrator revokes one token, then everything', async () => {
  const panel = page.getByRole('region', { name: 'Sessions and tokens of frank' });
  await panel.getByRole('button', { name: 'Revoke frank\'s personal access token "frank-ci"' }).click();
  await page.getByRole('dialog', { name: /Revoke personal access token/ }).getByRole('button', { name: 'Revoke' }).click();
  await panel.getByText('No personal access tokens.').waitFor();
  assert.equal(await works(frank.userId, frank.pat), false);
  assert.equal(await works(frank.userId, frank.script), true);

  await panel.getByRole('button', { name: 'Revoke everything' }).click();
  await page.getByRole('dialog', { name: 'Revoke everything of frank' }).getByRole('button', { name: 'Revoke' }).click();
  await panel.getByText('No sessions.').waitFor();
  await panel.getByText('No SAYMON API token.').waitFor();
  assert.equal(await works(frank.userId, frank.script), false);
  assert.equal(await saymonWorks(frank.saymon), false);
  // The administrator's own tab is not touched.
  await page.reload();
  await page.getByRole('heading', { name: 'Users' }).waitFor();
});

test('nothing left the origin, no script failed, no policy was violated', () => {
  assert.deepEqual(problems, []);
});
