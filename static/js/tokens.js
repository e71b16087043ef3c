// "My tokens": the caller's personal access tokens (list with expiry, last use and scope;
// create, regenerate with an optional grace period, remove) and signing out their other
// sessions. A new token's value is shown once, in a dialog.

import * as api from './api.js';
import { $, h, cell, formatDate, toast, busy } from './dom.js';
import { confirmAction, formDialog, showSecrets } from './dialogs.js';
import { expiryContent, graceNote, lastUsedContent, rowClass, scopeContent } from './lifetime.js';
import { chosenOptions, resetOptions, initOptions, graceField, chosenGrace } from './pat-options.js';

const report = (err) => {
  const message = api.explain(err);
  if (message) toast(message);
};

function showTokenOnce(title, token) {
  const { userId } = api.getSession();
  return showSecrets(title,
    'Copy the token now: it is shown only this once and tokend keeps only a hash of it. Anyone holding it can act as you.',
    [{ label: 'Token', value: token }, { label: 'User id', value: userId }]);
}

async function regenerate(name) {
  const regenerated = await formDialog('Regenerate token', () => [
    h('p', {}, `A new value replaces the token "${name}". The old value can keep working for a while, so that whatever uses it can switch without an outage.`),
    ...graceField(),
  ], 'Regenerate', async (form) => {
    const graceSeconds = chosenGrace(form);
    const body = { tokenName: name, ...(graceSeconds ? { graceSeconds } : {}) };
    return api.gatedPost('/api/v1/users.regeneratePersonalAccessToken', body);
  }, api.explain);
  if (regenerated) await showTokenOnce(`New value of "${name}"`, regenerated.token);
}

async function remove(name) {
  const ok = await confirmAction('Remove token', `The token "${name}" stops working at once.`, 'Remove', true);
  if (!ok) return;
  await api.gatedPost('/api/v1/users.removePersonalAccessToken', { tokenName: name });
  toast(`Removed "${name}".`);
}

function row(token) {
  const act = (label, action, cls) => h('button', {
    type: 'button', class: `small ${cls}`, 'aria-label': `${label} ${token.name}`,
    onclick: (e) => busy(e.currentTarget, () => action(token.name).then(showTokens, report)),
  }, label);
  return h('tr', { class: rowClass(token.expiresAt) || undefined },
    cell('Name', token.name, ...graceNote(token.previousValueValidUntil)),
    cell('Created', formatDate(token.createdAt)),
    cell('Expires', ...expiryContent(token.expiresAt)),
    cell('Last used', ...lastUsedContent(token.lastUsedAt, token.lastUsedAddress)),
    cell('Scope', ...scopeContent(token.scope)),
    cell('Ends with', h('code', {}, `…${token.lastTokenPart}`)),
    cell('Bypasses 2FA', token.bypassTwoFactor ? 'Yes' : 'No'),
    h('td', { class: 'actions-cell' }, act('Regenerate', regenerate, 'secondary'), act('Remove', remove, 'danger')));
}

export async function showTokens() {
  $('tokens-user-id').textContent = api.getSession().userId;
  const { tokens } = await api.get('/api/v1/users.getPersonalAccessTokens');
  $('pat-table').querySelector('tbody').replaceChildren(...tokens.map(row));
  $('pat-table').hidden = tokens.length === 0;
  $('pat-empty').hidden = tokens.length > 0;
}

export function initTokens() {
  initOptions();
  $('pat-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const name = $('pat-name').value.trim();
    if (!name) {
      toast('Give the token a name.');
      $('pat-name').focus();
      return;
    }
    const bypassTwoFactor = $('pat-bypass').checked;
    let options;
    try {
      options = chosenOptions();
    } catch (err) {
      toast(err.message);
      $('pat-expiry-date').focus();
      return;
    }
    busy(e.submitter || $('pat-form').querySelector('button'), async () => {
      try {
        const { token } = await api.gatedPost('/api/v1/users.generatePersonalAccessToken',
          { tokenName: name, bypassTwoFactor, ...options });
        $('pat-name').value = '';
        $('pat-bypass').checked = false;
        resetOptions();
        await showTokenOnce(`Your new token "${name}"`, token);
        await showTokens();
      } catch (err) {
        report(err);
      }
    });
  });

  $('logout-others').addEventListener('click', (e) => busy(e.currentTarget, async () => {
    const ok = await confirmAction('Sign out other sessions',
      'Every other browser and app signed in as you will have to sign in again. This tab stays signed in.', 'Sign them out');
    if (!ok) return;
    try {
      const { token } = await api.post('/api/v1/users.logoutOtherClients');
      if (token) api.replaceAuthToken(token);
      toast('Your other sessions are signed out.');
    } catch (err) {
      report(err);
    }
  }));
}
