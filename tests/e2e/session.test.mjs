// The tab's sign-in across reloads: it survives a reload (kept in sessionStorage, sent only as
// headers, never as a cookie), signing out forgets it, a token the server revoked meanwhile
// lands on the sign-in page after a reload, and another tab does not share it.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, ADMIN_PASSWORD, launch, watch, http, signIn } from './lib.mjs';

let context;
let page;
let problems;

before(async () => {
  context = await launch('session');
  page = await context.newPage();
  page.setDefaultTimeout(10000);
  problems = watch(page);
});

after(async () => {
  await context?.close();
});

/** What this tab keeps: the parsed sessionStorage entry, or null. */
const stored = (p = page) => p.evaluate(() => JSON.parse(window.sessionStorage.getItem('tokend.session')));

const authenticates = async ({ userId, authToken }) =>
  (await http('GET', '/api/v1/me', { headers: { 'X-User-Id': userId, 'X-Auth-Token': authToken } })).status === 200;

async function signInAsAdmin() {
  await signIn(page, 'admin', ADMIN_PASSWORD);
  await page.getByRole('heading', { name: 'My tokens' }).waitFor();
}

test('a reload keeps the tab signed in, on the page it showed', async () => {
  await signInAsAdmin();
  await page.getByRole('link', { name: 'Two-factor' }).click();
  await page.getByRole('heading', { name: 'Two-factor authentication' }).waitFor();
  await page.reload();
  await page.getByRole('heading', { name: 'Two-factor authentication' }).waitFor();
  assert.equal(await page.locator('#signed-in-as').textContent(), 'Signed in as admin');
  for (const name of ['Users', 'Audit log']) assert.ok(await page.getByRole('link', { name }).isVisible());
  await page.getByRole('link', { name: 'My tokens' }).click();
  await page.getByRole('heading', { name: 'My tokens' }).waitFor();
});

test('the token is kept in sessionStorage only: no cookie, nothing in localStorage', async () => {
  const session = await stored();
  assert.deepEqual(Object.keys(session).sort(), ['authToken', 'userId']);
  assert.ok(await authenticates(session));
  assert.deepEqual(await context.cookies(), []);
  assert.equal(await page.evaluate(() => document.cookie), '');
  assert.equal(await page.evaluate(() => window.localStorage.length), 0);
  assert.ok(!page.url().includes(session.authToken), 'token in the address');
});

test('another tab is not signed in by this one', async () => {
  const other = await context.newPage();
  await other.goto(`${BASE}/ui/`);
  await other.getByRole('heading', { name: 'Sign in' }).waitFor();
  assert.equal(await stored(other), null);
  await other.close();
});

test('signing out other sessions keeps this tab signed in after a reload', async () => {
  const login = await http('POST', '/api/v1/login', { body: { user: 'admin', password: ADMIN_PASSWORD } });
  const elsewhere = { userId: login.body.data.userId, authToken: login.body.data.authToken };
  assert.ok(await authenticates(elsewhere));
  await page.getByRole('button', { name: 'Sign out my other sessions' }).click();
  await page.getByRole('dialog', { name: 'Sign out other sessions' }).getByRole('button', { name: 'Sign them out' }).click();
  await page.getByText('Your other sessions are signed out.').waitFor();
  assert.equal(await authenticates(elsewhere), false);
  // The tab keeps the token the server answered with (tokend keeps the one in use).
  const kept = await stored();
  assert.ok(await authenticates(kept));
  await page.reload();
  await page.getByRole('heading', { name: 'My tokens' }).waitFor();
  assert.deepEqual(await stored(), kept);
});

test('signing out forgets the token: a reload shows the sign-in page', async () => {
  const session = await stored();
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  assert.equal(await stored(), null);
  assert.equal(await authenticates(session), false);
  await page.reload();
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  assert.equal(await page.locator('#sign-out').isVisible(), false);
});

test('a token revoked while the tab was open lands on the sign-in page after a reload', async () => {
  await signInAsAdmin();
  const session = await stored();
  const logout = await http('POST', '/api/v1/logout', {
    headers: { 'X-User-Id': session.userId, 'X-Auth-Token': session.authToken },
  });
  assert.equal(logout.status, 200);
  await page.reload();
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await page.getByText('Your session has ended. Sign in again.').waitFor();
  assert.equal(await stored(), null);
  assert.equal(await page.locator('#nav').isVisible(), false);
  // Signing in again works as usual.
  await signInAsAdmin();
  assert.ok(await authenticates(await stored()));
});

test('nothing left the origin, no script failed, no policy was violated', () => {
  assert.deepEqual(problems, []);
});
