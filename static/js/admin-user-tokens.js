// Administration of one user's credentials (tokend.userTokens): their login and SAYMON
// sessions, personal access tokens and SAYMON API token — never their values — each revocable
// alone, or all at once (tokend.revokeToken). The server checks the permission and applies the
// privilege ceiling; a refusal is explained like any other.

import * as api from './api.js';
import { h, cell, formatDate, toast, busy } from './dom.js';
import { confirmAction } from './dialogs.js';
import { expiryContent, lastUsedContent, rowClass, scopeContent } from './lifetime.js';
import { createdBy, device } from './sessions.js';

/** Rocket.Chat's permission to log another user out, which is what revoking amounts to. */
export const PERMISSION = 'logout-other-user';

const LIST = '/api/v1/tokend.userTokens';
const REVOKE = '/api/v1/tokend.revokeToken';

/** The three kinds: the columns of each, what names one in the request, and how to say it. */
const KINDS = [
  {
    title: 'Sessions', none: 'No sessions.',
    items: (listed) => listed.sessions || [],
    head: ['Created', 'Created by', 'Last used', 'Kind and client', 'Expires'],
    cells: (t, user) => [formatDate(t.loginAt), createdBy(t, user._id, user.username), lastUsedContent(t.lastUsedAt, t.ip),
      device(t), expiryContent(t.expiresAt)],
    names: (t) => ({ sessionId: t.sessionId }),
    label: (t) => `session created ${formatDate(t.loginAt)}`,
  },
  {
    title: 'Personal access tokens', none: 'No personal access tokens.',
    items: (listed) => listed.personalAccessTokens || [],
    head: ['Name', 'Created', 'Last used', 'Scope', 'Expires'],
    cells: (t) => [t.name, formatDate(t.createdAt), lastUsedContent(t.lastUsedAt, t.lastUsedAddress),
      scopeContent(t.scope), expiryContent(t.expiresAt)],
    names: (t) => ({ tokenName: t.name }),
    label: (t) => `personal access token "${t.name}"`,
  },
  {
    title: 'SAYMON API token', none: 'No SAYMON API token.',
    items: (listed) => (listed.saymonApiToken ? [listed.saymonApiToken] : []),
    head: ['Created', 'Ends with', 'Last used', 'Scope', 'Expires'],
    cells: (t) => [formatDate(t.createdAt), h('code', {}, `…${t.lastTokenPart}`),
      lastUsedContent(t.lastUsedAt, t.lastUsedAddress), scopeContent(t.scope), expiryContent(t.expiresAt)],
    names: () => ({ saymonApiToken: true }),
    label: () => 'SAYMON API token',
  },
];

const report = (err) => {
  const message = api.explain(err);
  if (message) toast(message);
};

/** A click handler: confirms, revokes what `names` says, tells, and draws the panel again. */
function revoker(user, panel, { title, question, done, names }) {
  return (e) => busy(e.currentTarget, async () => {
    if (!(await confirmAction(title, question, 'Revoke', true))) return;
    try {
      await api.post(REVOKE, { userId: user._id, ...names });
      toast(done);
    } catch (err) {
      report(err);
    }
    await fill(user, panel).catch(report);
  });
}

function kindSection(spec, items, user, panel) {
  if (items.length === 0) return h('section', { 'aria-label': spec.title }, h('h3', {}, spec.title), h('p', { class: 'hint' }, spec.none));
  const revokeOne = (t) => h('button', {
    type: 'button', class: 'small danger', 'aria-label': `Revoke ${user.username}'s ${spec.label(t)}`,
    onclick: revoker(user, panel, {
      title: `Revoke ${spec.label(t)}`,
      question: `${user.username}'s ${spec.label(t)} stops working at once.`,
      done: `Revoked ${user.username}'s ${spec.label(t)}.`,
      names: spec.names(t),
    }),
  }, 'Revoke');
  return h('section', { 'aria-label': spec.title },
    h('h3', {}, spec.title),
    h('div', { class: 'table-wrap' }, h('table', { class: 'stack' },
      h('caption', { class: 'visually-hidden' }, `${spec.title} of ${user.username}`),
      h('thead', {}, h('tr', {}, spec.head.map((c) => h('th', { scope: 'col' }, c)),
        h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')))),
      h('tbody', {}, items.map((t) => h('tr', { class: rowClass(t.expiresAt) || undefined },
        spec.cells(t, user).map((content, i) => cell(spec.head[i], content)),
        h('td', { class: 'actions-cell' }, revokeOne(t))))))));
}

async function fill(user, panel) {
  const listed = await api.get(LIST, { userId: user._id });
  const any = KINDS.some((spec) => spec.items(listed).length > 0);
  const everything = any ? h('button', {
    type: 'button', class: 'danger',
    onclick: revoker(user, panel, {
      title: `Revoke everything of ${user.username}`,
      question: `Every session and token of ${user.username} stops working at once.`,
      done: `Revoked every session and token of ${user.username}.`,
      names: { all: true },
    }),
  }, 'Revoke everything') : null;
  panel.replaceChildren(
    h('h2', {}, `Sessions and tokens of ${user.username}`),
    ...KINDS.map((spec) => kindSection(spec, spec.items(listed), user, panel)),
    h('div', { class: 'actions' }, everything,
      h('button', { type: 'button', class: 'secondary', onclick: () => panel.remove() }, 'Close')));
}

/** Opens the panel below the users table (one at a time) and moves the focus to it. */
export async function showUserTokens(user) {
  document.getElementById('user-tokens')?.remove();
  const panel = h('section', { id: 'user-tokens', class: 'card', tabindex: '-1', 'aria-label': `Sessions and tokens of ${user.username}` });
  document.getElementById('page-users').append(panel);
  try {
    await fill(user, panel);
  } catch (err) {
    panel.remove();
    throw err;
  }
  panel.focus();
}
