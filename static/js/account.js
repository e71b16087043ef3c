// "My account": one's own name, username, e-mail and password (`users.updateOwnBasicInfo`,
// 2FA-gated; a typed current password goes as its SHA-256 `currentPassword`, otherwise the
// usual dialog answers the challenge), status and status text (`users.setStatus`), and
// deleting the account (`users.deleteOwnAccount`) when the server allows it.

import * as api from './api.js';
import { $, toast } from './dom.js';
import { confirmAction, formDialog, field } from './dialogs.js';
import { sha256Hex } from './sha256.js';
import { publicSettings } from './self-service.js';

let me = null;

export async function showAccount() {
  const [fresh, settings] = await Promise.all([api.get('/api/v1/me'), publicSettings().catch(() => ({}))]);
  me = fresh;
  api.getSession().me = me;
  $('account-name').value = me.name || '';
  $('account-username').value = me.username || '';
  $('account-email').value = me.email || me.emails?.[0]?.address || '';
  $('account-new-password').value = '';
  $('account-new-password2').value = '';
  $('account-current-password').value = '';
  $('account-error').hidden = true;
  $('status-type').value = ['online', 'away', 'busy', 'offline'].includes(me.status) ? me.status : 'offline';
  $('status-text').value = me.statusText || '';
  $('delete-account-card').hidden = settings.Accounts_AllowDeleteOwnAccount !== true;
}

/** The fields that differ from `me`, as `users.updateOwnBasicInfo` names them. */
function changedProfile() {
  const data = {};
  const name = $('account-name').value.trim();
  const username = $('account-username').value.trim();
  const email = $('account-email').value.trim();
  if (name !== (me.name || '')) data.name = name;
  if (username && username !== me.username) data.username = username;
  if (email && email !== (me.email || me.emails?.[0]?.address || '')) data.email = email;
  return data;
}

async function saveProfile(e, onUsername, onSignedOut) {
  e.preventDefault();
  const error = $('account-error');
  const show = (message) => {
    error.textContent = message;
    error.hidden = !message;
  };
  const data = changedProfile();
  const password = $('account-new-password').value;
  if (password || $('account-new-password2').value) {
    if (password !== $('account-new-password2').value) {
      show('The two new passwords differ. Type the same password twice.');
      $('account-new-password2').focus();
      return;
    }
    data.newPassword = password;
  }
  if (Object.keys(data).length === 0) {
    show('Nothing has changed.');
    return;
  }
  const current = $('account-current-password').value;
  // Rocket.Chat's client sends it as its SHA-256 digest; the server takes it for the
  // password check. A TOTP or e-mail user is still asked for their code by the dialog.
  if (current) data.currentPassword = await sha256Hex(current);
  show('');
  const button = e.submitter || $('account-form').querySelector('button[type=submit]');
  button.disabled = true;
  try {
    const { user } = await api.gatedPost('/api/v1/users.updateOwnBasicInfo', { data });
    if (data.newPassword) {
      // A new password ends every login token, this tab's too (PATs survive).
      onSignedOut('Your password is changed and every session was signed out. Sign in with the new password.');
      return;
    }
    toast('Saved.');
    if (user?.username) onUsername(user.username);
    await showAccount();
  } catch (err) {
    show(explainProfile(err));
  } finally {
    button.disabled = false;
  }
}

// Rocket.Chat's answer to a refused username is only "could not save".
function explainProfile(err) {
  if (err.code === 'error-could-not-save-identity') return 'That username is taken or not allowed. Choose another one.';
  return api.explain(err);
}

async function saveStatus(e) {
  e.preventDefault();
  const button = e.submitter || $('status-form').querySelector('button');
  button.disabled = true;
  try {
    await api.post('/api/v1/users.setStatus', { status: $('status-type').value, message: $('status-text').value.trim() });
    toast('Your status is set.');
    await showAccount();
  } catch (err) {
    const message = api.explain(err);
    if (message) toast(message);
  } finally {
    button.disabled = false;
  }
}

function explainDelete(err) {
  if (err.code === 'error-invalid-password') return 'That password is not right.';
  if (err.code === 'error-action-not-allowed') return 'You are the last administrator: make someone else an administrator first.';
  return api.explain(err);
}

async function deleteAccount(onDeleted) {
  const sure = await confirmAction('Delete my account',
    'Your account and every token of it will be deleted. This cannot be undone.', 'Continue', true);
  if (!sure) return;
  const done = await formDialog('Confirm it is you', () => field('Password', { name: 'password', type: 'password', autocomplete: 'current-password', required: true }),
    'Delete my account', async (form) => {
      const password = form.elements.password.value;
      if (!password) throw new api.ApiError(400, { error: 'Enter your password.' });
      await api.post('/api/v1/users.deleteOwnAccount', { password: await sha256Hex(password) });
      return true;
    }, explainDelete);
  if (done) onDeleted('Your account is deleted.');
}

/**
 * `onUsername(name)` shows a changed username; `onSignedOut(message)` shows the sign-in page
 * after a new password or a deletion ended this tab's session.
 */
export function initAccount(onUsername, onSignedOut) {
  $('account-form').addEventListener('submit', (e) => saveProfile(e, onUsername, onSignedOut));
  $('status-form').addEventListener('submit', saveStatus);
  $('delete-account').addEventListener('click', () => deleteAccount(onSignedOut));
}
