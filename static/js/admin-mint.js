// Minting tokens for another user: a Rocket.Chat login token (users.createToken) and a
// SAYMON API token (POST /node/api/users/:id/auth-token). Each value is shown once.

import * as api from './api.js';
import { h } from './dom.js';
import { formDialog, field, showSecrets } from './dialogs.js';

const WARNING = 'Copy the token now: it is shown only this once. Whoever holds it acts as this user.';

/** Rocket.Chat 8.x mode wants the operator's secret in the body; the version tells which mode. */
async function serverMajorVersion() {
  const { version } = await api.get('/api/info');
  return Number.parseInt(String(version).split('.')[0], 10) || 0;
}

function explainCreateToken(err) {
  if (err.code === 'error-not-authorized') {
    return 'The server refused to mint the token. users.createToken is switched off unless the operator sets '
      + 'CREATE_TOKENS_FOR_USERS=true (or CREATE_TOKENS_FOR_USERS_SECRET, where the secret must match). '
      + 'It is also refused when the user holds a permission you lack, or is deactivated. '
      + 'The audit log names the reason.';
  }
  return api.explain(err);
}

export async function mintLoginToken(user) {
  const needsSecret = (await serverMajorVersion()) >= 8;
  const minted = await formDialog(`Login token for ${user.username}`, () => [
    h('p', {}, `Mints an ordinary login token for ${user.username} (users.createToken). It expires like any login and counts toward the user's limit of login tokens.`),
    ...(needsSecret ? field('Server secret (CREATE_TOKENS_FOR_USERS_SECRET)', { name: 'secret', type: 'password', autocomplete: 'off', required: true }) : []),
  ], 'Mint token', async (form) => {
    const body = { userId: user._id };
    if (needsSecret) body.secret = form.elements.secret.value;
    const { data } = await api.gatedPost('/api/v1/users.createToken', body);
    return data;
  }, explainCreateToken);
  if (minted) {
    await showSecrets(`Login token for ${user.username}`, WARNING,
      [{ label: 'Token', value: minted.authToken }, { label: 'User id', value: minted.userId }]);
  }
}

function explainSaymon(err, hasTwoFactor) {
  if (err.status === 401 && hasTwoFactor) {
    return 'SAYMON refused your password because your account has two-factor authentication, and SAYMON has no way to ask for a code. Use your own SAYMON API token instead.';
  }
  if (err.status === 401) return 'SAYMON refused these credentials: check your password or API token.';
  if (err.status === 403) return err.message || 'You do not have permission to do this.';
  return api.explain(err);
}

export async function mintSaymonToken(user) {
  const { me } = api.getSession();
  const hasTwoFactor = Boolean(me.services?.totp?.enabled || me.services?.email2fa?.enabled);
  const intro = hasTwoFactor
    ? 'SAYMON accepts only its own credentials, not your session here, and it refuses password sign-ins of accounts with two-factor authentication, such as yours. Enter your own SAYMON API token to sign this one request (another administrator can mint one for you here).'
    : `SAYMON accepts only its own credentials, not your session here. Enter your password (it signs this one request with HTTP Basic and is not kept), or your own SAYMON API token. A new token replaces ${user.username}'s previous one.`;
  const token = await formDialog(`SAYMON token for ${user.username}`, () => [
    h('p', {}, intro),
    ...(hasTwoFactor ? [] : field(`Your password (${me.username})`, { name: 'password', type: 'password', autocomplete: 'current-password' })),
    ...field('Or your SAYMON API token', { name: 'apiToken', autocomplete: 'off', spellcheck: 'false' }),
  ], 'Mint SAYMON token', async (form) => {
    const apiToken = form.elements.apiToken.value.trim();
    const password = form.elements.password?.value || '';
    if (!apiToken && !password) throw new api.ApiError(400, { error: 'Enter your password or a SAYMON API token.' });
    try {
      return await api.saymonPost(`/node/api/users/${encodeURIComponent(user._id)}/auth-token`,
        { username: me.username, password, apiToken });
    } catch (err) {
      throw Object.assign(err, { message: explainSaymon(err, hasTwoFactor) });
    }
  }, (err) => err.message);
  if (token) await showSecrets(`SAYMON token for ${user.username}`, WARNING, [{ label: 'Token', value: token }]);
}
