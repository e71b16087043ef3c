// Self-service in the browser: creating an account (openly, or with the registration secret
// of a "Secret URL" link), asking for a password-reset link and using the link that reaches
// the SMTP sink, and "My account": profile, password, status, and deleting the account.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { launch, watch, screenshots, confirmWithPassword, signIn, totp } from './lib.mjs';

const SELF = process.env.TOKEND_SELF_URL;
const SECRET_SERVER = process.env.TOKEND_SECRET_URL;
const DEFAULTS = process.env.TOKEND_DEFAULTS_URL;
const MAILDIR = process.env.E2E_MAILDIR;

let context;
let page;
let problems;

before(async () => {
  context = await launch('account');
  page = await context.newPage();
  page.setDefaultTimeout(10000);
  problems = watch(page);
});

after(async () => {
  await context?.close();
});

/** A plain HTTP call to one of the servers, as any other client would make it. */
async function call(base, method, urlPath, { headers = {}, body } = {}) {
  const response = await fetch(`${base}${urlPath}`, {
    method, headers: { 'Content-Type': 'application/json', ...headers }, body: body && JSON.stringify(body),
  });
  return { status: response.status, body: await response.json().catch(() => null) };
}

const login = (base, user, password) => call(base, 'POST', '/api/v1/login', { body: { user, password } });

/** The messages the SMTP sink has received, oldest first. */
const mails = () => readdirSync(MAILDIR).sort().map((f) => readFileSync(path.join(MAILDIR, f), 'utf8'));

/** Waits (at most 15 s) for message number `n`, sent after the answer, and returns it. */
async function waitForMail(n) {
  for (let i = 0; i < 150; i += 1) {
    const all = mails();
    if (all.length >= n) return all[n - 1];
    await new Promise((r) => { setTimeout(r, 100); });
  }
  throw new Error(`mail ${n} never reached the sink`);
}

/** The token of the reset link in a message (quoted-printable soft breaks undone). */
function resetToken(mail) {
  const text = mail.replace(/=\r?\n/g, '').replace(/=3D/g, '=');
  const match = /#reset-password\/([A-Za-z0-9_-]+)/.exec(text);
  assert.ok(match, `a reset link in:\n${text}`);
  return match[1];
}

async function register(form, { name, username, email, password, again = password }) {
  await form.getByLabel('Full name').fill(name);
  await form.getByLabel('Username', { exact: true }).fill(username);
  await form.getByLabel('E-mail', { exact: true }).fill(email);
  await form.getByLabel('New password', { exact: true }).fill(password);
  await form.getByLabel('New password again').fill(again);
  await form.getByRole('button', { name: 'Create account' }).click();
}

async function signOut() {
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
}

test('a server without registration or SMTP offers neither form', async () => {
  await page.goto(`${DEFAULTS}/ui/`);
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  const settings = await call(DEFAULTS, 'GET', '/api/v1/settings.public');
  assert.equal(settings.status, 200);
  // The page has read the same settings by now; give it the round trip before looking.
  await page.waitForLoadState('networkidle');
  assert.equal(await page.getByText('Create an account').isVisible(), false);
  assert.equal(await page.getByText('Forgot your password?').isVisible(), false);
});

test('a visitor creates an account and is signed in', async () => {
  await page.goto(`${SELF}/ui/`);
  await page.getByText('Create an account').click();
  const form = page.locator('#register-form');
  await register(form, { name: 'Dana', username: 'dana', email: 'dana@example.com', password: 'first password 1', again: 'other' });
  await form.getByText('The two passwords differ').waitFor();
  await register(form, { name: 'Dana', username: 'dana', email: 'dana@example.com', password: 'first password 1' });
  await page.getByText('Signed in as dana').waitFor();
  await page.getByRole('heading', { name: 'My tokens' }).waitFor();
  // The same username again is refused with the server's words.
  await signOut();
  await page.getByText('Create an account').click();
  await register(form, { name: 'Dana 2', username: 'dana', email: 'dana2@example.com', password: 'first password 1' });
  await form.getByRole('alert').filter({ hasText: /already in use/ }).waitFor();
  await screenshots(page, 'register');
  await page.reload();
});

test('My account changes the name, username, password and status', async () => {
  await signIn(page, 'dana', 'first password 1', SELF);
  await page.getByRole('link', { name: 'My account' }).click();
  const form = page.locator('#account-form');
  // The page fills the form from GET /me once it has the answer.
  await page.waitForFunction(() => document.getElementById('account-username').value !== '');
  assert.equal(await form.getByLabel('Full name').inputValue(), 'Dana');
  await form.getByLabel('Full name').fill('Dana Scully');
  await form.getByLabel('Username', { exact: true }).fill('dscully');
  await form.getByLabel('New password', { exact: true }).fill('second password 2');
  await form.getByLabel('New password again').fill('second password 2');
  // A new password is a credential change: the current password typed in the form answers
  // the server's check, and the new password ends every login token, this tab's too.
  await form.getByLabel('Current password').fill('first password 1');
  await form.getByRole('button', { name: 'Save changes' }).click();
  await page.getByText('Your password is changed and every session was signed out.').waitFor().catch(async (e) => {
    const text = async (id) => page.locator(`#${id}`).textContent();
    throw new Error(`${e.message}\nform: ${await text('account-error')}; toast: ${await text('toast')}; ${await text('signed-in-as')}`);
  });
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  assert.equal((await login(SELF, 'dscully', 'first password 1')).status, 401);
  const fresh = await login(SELF, 'dscully', 'second password 2');
  assert.equal(fresh.status, 200);
  assert.equal(fresh.body.data.me.name, 'Dana Scully');

  await signIn(page, 'dscully', 'second password 2', SELF);
  await page.getByText('Signed in as dscully').waitFor();
  await page.getByRole('link', { name: 'My account' }).click();
  await page.waitForFunction(() => document.getElementById('account-username').value === 'dscully');
  // A new address without the current password: the server's challenge opens the dialog.
  await form.getByLabel('E-mail', { exact: true }).fill('dana.scully@example.com');
  await form.getByRole('button', { name: 'Save changes' }).click();
  await confirmWithPassword(page, 'second password 2');
  await page.getByText('Saved.', { exact: true }).waitFor();
  await page.waitForFunction(() => document.getElementById('account-email').value === 'dana.scully@example.com');

  const status = page.locator('#status-form');
  await status.getByLabel('Status', { exact: true }).selectOption('busy');
  await status.getByLabel('Status message').fill('In a meeting');
  await status.getByRole('button', { name: 'Set status' }).click();
  await page.getByText('Your status is set.').waitFor();
  const { userId, authToken } = fresh.body.data;
  const me = await call(SELF, 'GET', '/api/v1/me', { headers: { 'X-User-Id': userId, 'X-Auth-Token': authToken } });
  assert.equal(me.body.status, 'busy');
  assert.equal(me.body.statusText, 'In a meeting');
  await screenshots(page, 'account');
  await signOut();
});

test('a forgotten password is reset through the e-mailed link, which then signs in', async () => {
  await page.goto(`${SELF}/ui/`);
  await page.getByText('Forgot your password?').click();
  const form = page.locator('#forgot-form');
  const before = mails().length;
  // An unknown address gets the same answer, and no mail.
  await form.getByLabel('Your e-mail address').fill('nobody@example.com');
  await form.getByRole('button', { name: 'Send me a reset link' }).click();
  const answer = form.getByRole('status');
  await answer.filter({ hasText: 'If this address belongs to an account' }).waitFor();
  const unknownAnswer = await answer.textContent();
  await form.getByLabel('Your e-mail address').fill('dana.scully@example.com');
  await form.getByRole('button', { name: 'Send me a reset link' }).click();
  await answer.filter({ hasText: 'If this address belongs to an account' }).waitFor();
  assert.equal(await answer.textContent(), unknownAnswer);
  const token = resetToken(await waitForMail(before + 1));
  assert.equal(mails().length, before + 1, 'only the known address got a mail');

  await page.goto(`${SELF}/ui/#reset-password/${token}`);
  await page.getByRole('heading', { name: 'Choose a new password' }).waitFor();
  const reset = page.locator('#reset-form');
  await reset.getByLabel('New password', { exact: true }).fill('third password 3');
  await reset.getByLabel('New password again').fill('third password 3');
  await reset.getByRole('button', { name: 'Set password' }).click();
  await page.getByText('Signed in as dscully').waitFor();
  await page.getByRole('heading', { name: 'My tokens' }).waitFor();
  assert.equal((await login(SELF, 'dscully', 'third password 3')).status, 200);
  assert.equal((await login(SELF, 'dscully', 'second password 2')).status, 401);
  await signOut();

  // The link works once.
  await page.goto(`${SELF}/ui/#reset-password/${token}`);
  await reset.getByLabel('New password', { exact: true }).fill('fourth password 4');
  await reset.getByLabel('New password again').fill('fourth password 4');
  await reset.getByRole('button', { name: 'Set password' }).click();
  await page.getByText('This link has expired or was already used.').waitFor();
  await screenshots(page, 'reset-password-used');
  assert.equal((await login(SELF, 'dscully', 'third password 3')).status, 200);
});

test('after a reset, a user with an authenticator app signs in with the new password and a code', async () => {
  // Fiona registers and enrols TOTP over HTTP, as any client could.
  const body = { name: 'Fiona', username: 'fiona', email: 'fiona@example.com', pass: 'fiona password 1' };
  assert.equal((await call(SELF, 'POST', '/api/v1/users.register', { body })).status, 200);
  const { userId, authToken } = (await login(SELF, 'fiona', 'fiona password 1')).body.data;
  const headers = { 'X-User-Id': userId, 'X-Auth-Token': authToken };
  const enrol = await call(SELF, 'POST', '/api/v1/users.enableTotp', { headers });
  assert.equal(enrol.status, 200, JSON.stringify(enrol.body));
  const { secret } = enrol.body;
  const confirm = await call(SELF, 'POST', '/api/v1/users.validateTotp', { headers, body: { code: totp(secret) } });
  assert.equal(confirm.status, 200, JSON.stringify(confirm.body));

  const before = mails().length;
  assert.equal((await call(SELF, 'POST', '/api/v1/users.forgotPassword', { body: { email: 'fiona@example.com' } })).status, 200);
  const token = resetToken(await waitForMail(before + 1));
  await page.goto(`${SELF}/ui/#reset-password/${token}`);
  const reset = page.locator('#reset-form');
  await reset.getByLabel('New password', { exact: true }).fill('fiona password 2');
  await reset.getByLabel('New password again').fill('fiona password 2');
  await reset.getByRole('button', { name: 'Set password' }).click();
  await page.getByText('Your password is changed. Sign in with it and your second factor.').waitFor();
  await signIn(page, 'fiona', 'fiona password 2', SELF);
  // The code of the next 30-second step: the current one was spent on enrolling.
  await page.getByLabel('Authenticator code').fill(totp(secret, 1));
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.getByText('Signed in as fiona').waitFor();
  await signOut();
});

test('a user deletes their own account after confirming the password', async () => {
  await signIn(page, 'dscully', 'third password 3', SELF);
  await page.getByRole('link', { name: 'My account' }).click();
  // The button shows once the page has read settings.public (deleting is on here).
  await page.getByRole('button', { name: 'Delete my account' }).click();
  await page.getByRole('dialog', { name: 'Delete my account' }).getByRole('button', { name: 'Continue' }).click();
  const confirm = page.getByRole('dialog', { name: 'Confirm it is you' });
  await confirm.getByLabel('Password').fill('wrong password');
  await confirm.getByRole('button', { name: 'Delete my account' }).click();
  await confirm.getByText('That password is not right.').waitFor();
  await confirm.getByLabel('Password').fill('third password 3');
  await confirm.getByRole('button', { name: 'Delete my account' }).click();
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await page.getByText('Your account is deleted.').waitFor();
  assert.equal((await login(SELF, 'dscully', 'third password 3')).status, 401);
});

test('a Secret URL link fills in the registration secret, and a wrong one is refused', async () => {
  await page.goto(`${SECRET_SERVER}/ui/#register/wrong-secret`);
  const form = page.locator('#register-form');
  await form.getByLabel('Registration secret').waitFor();
  assert.equal(await form.getByLabel('Registration secret').inputValue(), 'wrong-secret');
  assert.ok(!page.url().includes('wrong-secret'), 'the secret leaves the address bar');
  await register(form, { name: 'Eve', username: 'eve', email: 'eve@example.com', password: 'eve password 1' });
  await form.getByText('The registration secret is not right.').waitFor();
  await form.getByLabel('Registration secret').fill(process.env.E2E_REGISTRATION_SECRET);
  await form.getByRole('button', { name: 'Create account' }).click();
  await page.getByText('Signed in as eve').waitFor();
  assert.deepEqual(problems, []);
});
