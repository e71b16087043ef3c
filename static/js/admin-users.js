// Administration of users: a paged list (25 a page, paged by the server), search, and per
// user edit, deactivate/reactivate, delete, and minting a login or SAYMON token.
//
// users.list has no text search (Rocket.Chat's `query` parameter is refused by tokend), so a
// search reads the whole list once (count=0) and filters it here, by username, name and e-mail.

import * as api from './api.js';
import { $, h, cell, toast, busy } from './dom.js';
import { confirmAction } from './dialogs.js';
import { editUser } from './admin-user-form.js';
import { mintLoginToken, mintSaymonToken } from './admin-mint.js';
import { showUserTokens, PERMISSION as TOKENS_PERMISSION } from './admin-user-tokens.js';

const PAGE_SIZE = 25;
const state = { offset: 0, query: '', total: 0 };

const report = (err) => {
  const message = api.explain(err);
  if (message) toast(message);
};
const can = (permission) => api.getSession().permissions.has(permission);

function matches(user, query) {
  const haystack = [user.username, user.name, user.emails?.[0]?.address].filter(Boolean).join('\n').toLowerCase();
  return haystack.includes(query.toLowerCase());
}

async function fetchPage() {
  const sort = JSON.stringify({ username: 1 });
  if (!state.query) {
    const { users, total } = await api.get('/api/v1/users.list', { count: PAGE_SIZE, offset: state.offset, sort });
    return { users, total };
  }
  const { users } = await api.get('/api/v1/users.list', { count: 0, sort });
  const found = users.filter((u) => matches(u, state.query));
  return { users: found.slice(state.offset, state.offset + PAGE_SIZE), total: found.length };
}

async function setActive(user, active) {
  if (!active) {
    const ok = await confirmAction(`Deactivate ${user.username}`,
      `${user.username} can no longer sign in, and every token of theirs (sessions, personal access tokens, SAYMON token) stops working now.`,
      'Deactivate', true);
    if (!ok) return;
  }
  await api.post('/api/v1/users.setActiveStatus', { userId: user._id, activeStatus: active });
  toast(`${user.username} is ${active ? 'active again' : 'deactivated'}.`);
}

async function remove(user) {
  const ok = await confirmAction(`Delete ${user.username}`,
    `${user.username} and all of their tokens are deleted for good. This cannot be undone.`, 'Delete', true);
  if (!ok) return;
  await api.post('/api/v1/users.delete', { userId: user._id });
  toast(`${user.username} is deleted.`);
}

function actions(user) {
  const button = (label, permission, action, cls = 'secondary') => (can(permission)
    ? h('button', {
      type: 'button', class: `small ${cls}`, 'aria-label': `${label}: ${user.username}`,
      onclick: (e) => busy(e.currentTarget, () => action(user).then(showUsers).catch(report)),
    }, label)
    : null);
  return [
    button('Edit', 'edit-other-user-info', editUser),
    user.active
      ? button('Deactivate', 'edit-other-user-active-status', (u) => setActive(u, false), 'danger')
      : button('Reactivate', 'edit-other-user-active-status', (u) => setActive(u, true)),
    button('Delete', 'delete-user', remove, 'danger'),
    button('Login token', 'user-generate-access-token', mintLoginToken),
    button('SAYMON token', 'manage-users', mintSaymonToken),
    button('Sessions and tokens', TOKENS_PERMISSION, showUserTokens),
  ];
}

function row(user) {
  return h('tr', {},
    cell('Username', user.username),
    cell('Name', user.name),
    cell('E-mail', user.emails?.[0]?.address || ''),
    cell('Roles', (user.roles || []).map((r) => h('span', { class: 'badge' }, r))),
    cell('Status', user.active ? 'Active' : h('span', { class: 'badge off' }, 'Deactivated')),
    h('td', { class: 'actions-cell' }, actions(user)));
}

function renderPager(shown) {
  const pager = $('users-pager');
  const first = state.total === 0 ? 0 : state.offset + 1;
  pager.querySelector('.pager-info').textContent = `${first}–${state.offset + shown} of ${state.total}`;
  pager.querySelector('[data-step="-1"]').disabled = state.offset === 0;
  pager.querySelector('[data-step="1"]').disabled = state.offset + shown >= state.total;
}

export async function showUsers() {
  const { users, total } = await fetchPage();
  state.total = total;
  const tbody = $('users-table').querySelector('tbody');
  tbody.replaceChildren(...users.map(row));
  if (users.length === 0) {
    tbody.append(h('tr', {}, h('td', { colspan: 6 }, state.query ? `No user matches "${state.query}".` : 'No users.')));
  }
  renderPager(users.length);
}

export function initUsers() {
  $('users-search').addEventListener('submit', (e) => {
    e.preventDefault();
    state.query = $('users-query').value.trim();
    state.offset = 0;
    showUsers().catch(report);
  });
  $('users-pager').addEventListener('click', (e) => {
    const step = Number(e.target.dataset?.step);
    if (!step) return;
    state.offset = Math.max(0, state.offset + step * PAGE_SIZE);
    showUsers().catch(report);
  });
  $('users-create').addEventListener('click', async () => {
    try {
      const user = await editUser(null);
      if (user) {
        toast(`Created ${user.username}.`);
        await showUsers();
      }
    } catch (err) {
      report(err);
    }
  });
}
