// A role with mandatory2fa, as Rocket.Chat's web client enforces it: the server refuses
// nothing, but a signed-in user who holds such a role and has neither an authenticator app
// nor e-mail codes sees only the two-factor page until they set one up; enrolment brings
// the normal navigation back in place, without a reload, and turning it off brings the
// requirement back. A user without the role is not affected.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  ADMIN_PASSWORD, launch, watch, screenshots, http, totp, confirmWithPassword, signIn,
} from './lib.mjs';

const NOTICE = 'Your role requires two-factor authentication. Set up an authenticator app or e-mail codes to continue.';
const DANA_PASSWORD = 'dana-password-123';
const ERIN_PASSWORD = 'erin-password-123';
let context;
let page;
let problems;
let backupCodes = [];

/** An admin call through the REST API; gated routes get the password as second factor. */
async function asAdmin(admin, path, body) {
  const headers = {
    'X-User-Id': admin.userId, 'X-Auth-Token': admin.authToken,
    'x-2fa-code': createHash('sha256').update(ADMIN_PASSWORD).digest('hex'), 'x-2fa-method': 'password',
  };
  const answer = await http('POST', path, { headers, body });
  assert.equal(answer.status, 200, `${path}: ${JSON.stringify(answer.body)}`);
  return answer.body;
}

before(async () => {
  const login = await http('POST', '/api/v1/login', { body: { user: 'admin', password: ADMIN_PASSWORD } });
  assert.equal(login.status, 200);
  const admin = login.body.data;
  const { role } = await asAdmin(admin, '/api/v1/roles.create', { name: 'Secured', mandatory2fa: true });
  // A user's roles are role ids, as in Rocket.Chat (a custom role's id is not its name).
  await asAdmin(admin, '/api/v1/users.create', {
    username: 'dana', name: 'Dana Secured', email: 'dana@example.com', password: DANA_PASSWORD, roles: ['user', role._id],
  });
  await asAdmin(admin, '/api/v1/users.create', {
    username: 'erin', name: 'Erin Plain', email: 'erin@example.com', password: ERIN_PASSWORD, roles: ['user'],
  });

  context = await launch('mandatory2fa');
  page = await context.newPage();
  page.setDefaultTimeout(10000);
  problems = watch(page);
});

after(async () => {
  await context?.close();
});

const visibleLinks = async () => {
  const shown = [];
  for (const name of ['My tokens', 'Two-factor', 'Users', 'Audit log']) {
    if (await page.getByRole('link', { name, exact: true }).isVisible()) shown.push(name);
  }
  return shown;
};

test('the server itself refuses nothing to a user whose role requires 2FA', async () => {
  const login = await http('POST', '/api/v1/login', { body: { user: 'dana', password: DANA_PASSWORD } });
  assert.equal(login.status, 200);
  const { userId, authToken } = login.body.data;
  const tokens = await http('GET', '/api/v1/users.getPersonalAccessTokens', { headers: { 'X-User-Id': userId, 'X-Auth-Token': authToken } });
  assert.equal(tokens.status, 200);
});

test('a user whose role requires 2FA sees only the two-factor setup page after signing in', async () => {
  await signIn(page, 'dana', DANA_PASSWORD);
  const notice = page.getByRole('alert').filter({ hasText: NOTICE });
  await notice.waitFor();
  await page.getByRole('heading', { name: 'Two-factor authentication', exact: true }).waitFor();
  assert.ok(await page.getByRole('button', { name: 'Set up an authenticator app' }).isVisible());
  assert.ok(await page.getByRole('button', { name: 'Sign out', exact: true }).isVisible());
  assert.deepEqual(await visibleLinks(), []);
  assert.equal(await page.locator('#page-tokens').isVisible(), false);
  // Typing another page's address leads back to the two-factor page.
  await page.evaluate(() => { window.location.hash = 'tokens'; });
  await page.waitForFunction(() => window.location.hash === '#two-factor');
  assert.equal(await page.locator('#page-tokens').isVisible(), false);
  assert.ok(await notice.isVisible());
  await screenshots(page, 'mandatory-2fa-required');
});

test('enrolling an authenticator app brings the normal navigation back without a reload', async () => {
  let loads = 0;
  page.on('load', () => { loads += 1; });
  await page.evaluate(() => { window.e2eStillTheSamePage = true; });

  await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
  await confirmWithPassword(page, DANA_PASSWORD);
  await page.getByLabel('Secret key').waitFor();
  const secret = await page.getByLabel('Secret key').inputValue();
  await screenshots(page, 'mandatory-2fa-enrol');
  // Still locked while the code is not confirmed.
  assert.deepEqual(await visibleLinks(), []);
  await page.getByLabel('Enter the 6-digit code the app shows').fill(totp(secret));
  await page.getByRole('button', { name: 'Confirm' }).click();
  await confirmWithPassword(page, DANA_PASSWORD);
  const codesDialog = page.getByRole('dialog', { name: 'Your backup codes' });
  await codesDialog.waitFor();
  backupCodes = await codesDialog.getByRole('listitem').allTextContents();
  await codesDialog.getByRole('button', { name: 'I have saved them' }).click();

  await page.getByRole('link', { name: 'My tokens' }).waitFor();
  assert.deepEqual(await visibleLinks(), ['My tokens', 'Two-factor']);
  assert.equal(await page.getByText(NOTICE).isVisible(), false);
  await page.getByText('Backup codes left: 12 of 12.').waitFor();
  assert.equal(loads, 0, 'the page was reloaded');
  assert.equal(await page.evaluate(() => window.e2eStillTheSamePage), true);
  await screenshots(page, 'mandatory-2fa-done');

  await page.getByRole('link', { name: 'My tokens' }).click();
  await page.getByRole('heading', { name: 'My tokens' }).waitFor();
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();

  // The next sign-in asks for a code and opens the normal pages at once.
  await signIn(page, 'dana', DANA_PASSWORD);
  await page.getByLabel('Authenticator code').fill(totp(secret, 1));
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.getByRole('heading', { name: 'My tokens' }).waitFor();
  assert.equal(await page.getByText(NOTICE).isVisible(), false);
});

test('turning the authenticator app off again brings the requirement back', async () => {
  await page.getByRole('link', { name: 'Two-factor' }).click();
  await page.getByRole('button', { name: 'Turn off' }).click();
  const dialog = page.getByRole('dialog', { name: 'Turn off the authenticator app' });
  await dialog.getByLabel('Authenticator code or backup code').fill(backupCodes[0]);
  await dialog.getByRole('button', { name: 'Turn off' }).click();
  await page.getByRole('alert').filter({ hasText: NOTICE }).waitFor();
  assert.deepEqual(await visibleLinks(), []);
  assert.ok(await page.getByRole('button', { name: 'Set up an authenticator app' }).isVisible());
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  assert.equal(await page.getByText(NOTICE).isVisible(), false);
});

test('a user without the role sees the normal pages', async () => {
  await signIn(page, 'erin', ERIN_PASSWORD);
  await page.getByRole('heading', { name: 'My tokens' }).waitFor();
  assert.deepEqual(await visibleLinks(), ['My tokens', 'Two-factor']);
  assert.equal(await page.getByText(NOTICE).isVisible(), false);
  await page.getByRole('link', { name: 'Two-factor' }).click();
  await page.getByRole('button', { name: 'Set up an authenticator app' }).waitFor();
  assert.equal(await page.getByText(NOTICE).isVisible(), false);
  await screenshots(page, 'mandatory-2fa-not-required');
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
});

test('nothing left the origin, no script failed, no policy was violated', () => {
  assert.deepEqual(problems, []);
});
