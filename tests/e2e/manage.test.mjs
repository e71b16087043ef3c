// Managing what exists: keyboard-only sign-in, regenerating and removing a personal access
// token, a user's whole life in the admin pages, and users.createToken switched off.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, ADMIN_PASSWORD, launch, watch, http, confirmWithPassword, signIn, takeSecret } from './lib.mjs';

let context;
let page;
let problems;

before(async () => {
  context = await launch('manage');
  page = await context.newPage();
  page.setDefaultTimeout(10000);
  problems = watch(page);
});

after(async () => {
  await context?.close();
});

const authenticates = async (userId, token) =>
  (await http('GET', '/api/v1/me', { headers: { 'X-User-Id': userId, 'X-Auth-Token': token } })).status === 200;

test('signing in works from the keyboard alone', async () => {
  await page.goto(`${BASE}/ui/`);
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  // The username field has the focus on arrival; Tab moves to the password; Enter submits.
  await page.keyboard.type('admin');
  await page.keyboard.press('Tab');
  await page.keyboard.type(ADMIN_PASSWORD);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'My tokens' }).waitFor();
});

test('regenerating a token replaces its value; removing it ends it', async () => {
  await page.getByLabel('Name', { exact: true }).fill('deploy');
  await page.getByRole('button', { name: 'Create token' }).click();
  await confirmWithPassword(page, ADMIN_PASSWORD);
  const first = await takeSecret(page, 'Your new token "deploy"');
  const userId = await first.dialog.getByLabel('User id').inputValue();
  await first.dialog.getByRole('button', { name: 'I have saved it' }).click();

  await page.getByRole('button', { name: 'Regenerate deploy' }).click();
  await page.getByRole('dialog', { name: 'Regenerate token' }).getByRole('button', { name: 'Regenerate' }).click();
  await confirmWithPassword(page, ADMIN_PASSWORD);
  const second = await takeSecret(page, 'New value of "deploy"');
  await second.dialog.getByRole('button', { name: 'I have saved it' }).click();
  assert.notEqual(second.value, first.value);
  assert.equal(await authenticates(userId, first.value), false);
  assert.equal(await authenticates(userId, second.value), true);

  await page.getByRole('button', { name: 'Remove deploy' }).click();
  await page.getByRole('dialog', { name: 'Remove token' }).getByRole('button', { name: 'Remove' }).click();
  await confirmWithPassword(page, ADMIN_PASSWORD);
  await page.getByText('You have no personal access tokens.').waitFor();
  assert.equal(await authenticates(userId, second.value), false);
});

test('an admin creates, edits, deactivates, reactivates and deletes a user', async () => {
  await page.getByRole('link', { name: 'Users' }).click();
  await page.getByRole('button', { name: 'Create user' }).click();
  const create = page.getByRole('dialog', { name: 'Create user' });
  await create.getByLabel('Username', { exact: true }).fill('carol');
  await create.getByLabel('Name', { exact: true }).fill('Carol');
  await create.getByLabel('E-mail', { exact: true }).fill('carol@example.com');
  await create.getByLabel('Password', { exact: true }).fill('carol-password-1');
  await create.getByRole('button', { name: 'Create user' }).click();
  // users.create is not 2FA-gated (Rocket.Chat 7.x and 8.x): no dialog.
  const row = page.getByRole('row', { name: /carol@example\.com/ });
  await row.waitFor();

  await row.getByRole('button', { name: 'Edit: carol' }).click();
  const edit = page.getByRole('dialog', { name: 'Edit carol' });
  await edit.getByLabel('Name', { exact: true }).fill('Carol Jones');
  await edit.getByRole('checkbox', { name: 'bot' }).check();
  await edit.getByRole('button', { name: 'Save' }).click();
  await confirmWithPassword(page, ADMIN_PASSWORD);
  await page.getByRole('cell', { name: 'Carol Jones' }).waitFor();
  assert.match(await row.textContent(), /bot/);

  await row.getByRole('button', { name: 'Deactivate: carol' }).click();
  await page.getByRole('dialog', { name: 'Deactivate carol' }).getByRole('button', { name: 'Deactivate' }).click();
  // The row is drawn again from the server's answer: the Reactivate button proves the new state.
  await row.getByRole('button', { name: 'Reactivate: carol' }).waitFor();
  assert.match(await row.textContent(), /Deactivated/);
  const refused = await http('POST', '/api/v1/login', { body: { user: 'carol', password: 'carol-password-1' } });
  assert.equal(refused.body.error, 'error-user-is-not-activated');
  await row.getByRole('button', { name: 'Reactivate: carol' }).click();
  await row.getByRole('button', { name: 'Deactivate: carol' }).waitFor();

  await row.getByRole('button', { name: 'Delete: carol' }).click();
  await page.getByRole('dialog', { name: 'Delete carol' }).getByRole('button', { name: 'Delete' }).click();
  await row.waitFor({ state: 'detached' });
  await page.getByRole('button', { name: 'Sign out' }).click();
});

test('with users.createToken switched off, the admin is told why in plain words', async () => {
  await signIn(page, 'admin', ADMIN_PASSWORD, process.env.TOKEND_DEFAULTS_URL);
  await page.getByRole('link', { name: 'Users' }).click();
  await page.getByRole('button', { name: 'Login token: admin' }).click();
  const mint = page.getByRole('dialog', { name: 'Login token for admin' });
  await mint.getByRole('button', { name: 'Mint token' }).click();
  await mint.getByText('CREATE_TOKENS_FOR_USERS=true').waitFor();
  assert.match(await mint.getByRole('alert').textContent(), /switched off/);
});

test('nothing left the origin, no script failed, no policy was violated', () => {
  assert.deepEqual(problems, []);
});
