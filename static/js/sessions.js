// "My sessions": the caller's login sessions — when each was created and by whom (themselves
// at sign-in, or an administrator through users.createToken, named), when and from where it
// was last used, the device, when it expires — and revoking any one of them. Revoking the
// session of this tab is signing out.

import * as api from './api.js';
import { $, h, cell, formatDate, toast, busy } from './dom.js';
import { confirmAction } from './dialogs.js';
import { expiryContent, lastUsedContent, rowClass } from './lifetime.js';

const LIST = '/api/v1/sessions/list';
const REVOKE = '/api/v1/sessions/logout.me';

const report = (err) => {
  const message = api.explain(err);
  if (message) toast(message);
};

/**
 * Who made the session: the owner at sign-in, or whoever minted it for them, named. The
 * wording is the owner's own unless `owner` (a username) says an administrator is reading.
 */
export function createdBy(session, ownerId, owner) {
  const by = session.createdBy;
  if (!by || (by._id && by._id === ownerId)) return owner ? `${owner}, by signing in` : 'You, by signing in';
  return [h('span', { class: 'badge warn' }, owner ? 'Minted' : 'Created for you'), ` by ${by.username || by._id}`];
}

/** A Rocket.Chat login or a SAYMON session, and the client it came from. */
export function device(session) {
  const kind = session.kind === 'saymon' ? 'SAYMON session' : 'Login';
  return [h('strong', {}, kind), h('span', { class: 'note' }, session.userAgent || 'Unknown client')];
}

async function revoke(session) {
  const current = Boolean(session.current);
  const ok = await confirmAction('Revoke session',
    current
      ? 'This is the session of this tab: revoking it signs you out here.'
      : `The session created ${formatDate(session.loginAt)} stops working at once; whoever uses it has to sign in again.`,
    current ? 'Sign out' : 'Revoke', true);
  if (!ok) return false;
  await api.post(REVOKE, { sessionId: session.sessionId });
  if (current) {
    // Our own token is gone: the next call would be refused, so sign out the usual way.
    api.lostSession('You revoked the session of this tab: you are signed out.');
    return false;
  }
  toast('The session is revoked.');
  return true;
}

function row(session, ownerId) {
  const created = formatDate(session.loginAt);
  return h('tr', { class: rowClass(session.expiresAt) || undefined },
    cell('Created', created, session.current ? [' ', h('span', { class: 'badge' }, 'This tab')] : null),
    cell('Created by', createdBy(session, ownerId)),
    cell('Last used', ...lastUsedContent(session.lastUsedAt, session.ip)),
    cell('Kind and client', ...device(session)),
    cell('Expires', ...expiryContent(session.expiresAt)),
    h('td', { class: 'actions-cell' }, h('button', {
      type: 'button', class: 'small danger', 'aria-label': `Revoke the session created ${created}`,
      onclick: (e) => busy(e.currentTarget, () => revoke(session).then((done) => done && showSessions(), report)),
    }, 'Revoke')));
}

export async function showSessions() {
  const { userId } = api.getSession();
  // count=0: every session on one page (Rocket.Chat's paging; a person has few).
  const { sessions } = await api.get(LIST, { count: 0 });
  const tbody = $('sessions-table').querySelector('tbody');
  tbody.replaceChildren(...sessions.map((s) => row(s, userId)));
  if (sessions.length === 0) tbody.append(h('tr', {}, h('td', { colspan: 6 }, 'No sessions.')));
}
