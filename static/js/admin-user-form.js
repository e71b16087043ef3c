// The create/edit user dialog. Edits send only the fields that changed, so an admin who
// may change roles but not profiles (or the reverse) is not refused for fields left alone.

import * as api from './api.js';
import { h } from './dom.js';
import { formDialog, field } from './dialogs.js';

let roleNames = null;

/** The roles that exist, from `roles.list` (read once per page load). */
async function roles() {
  if (!roleNames) {
    const { roles: list } = await api.get('/api/v1/roles.list');
    roleNames = list.map((r) => r._id).sort();
  }
  return roleNames;
}

function roleChoices(all, chosen) {
  return h('fieldset', { class: 'roles' }, h('legend', {}, 'Roles'),
    all.map((name) => h('label', { class: 'check' },
      h('input', { type: 'checkbox', name: 'role', value: name, checked: chosen.includes(name) }), name)));
}

const emailOf = (user) => user?.emails?.[0]?.address || '';
const verifiedOf = (user) => Boolean(user?.emails?.[0]?.verified);

function fields(user, allRoles) {
  const editing = Boolean(user);
  return () => [
    ...field('Username', { name: 'username', value: user?.username || '', required: true, autocomplete: 'off', spellcheck: 'false' }),
    ...field('Name', { name: 'name', value: user?.name || '', required: true, autocomplete: 'off' }),
    ...field('E-mail', { name: 'email', type: 'email', value: emailOf(user), required: !editing, autocomplete: 'off' }),
    h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'verified', checked: verifiedOf(user) }),
      'E-mail address is verified (needed for e-mailed codes)'),
    ...field(editing ? 'New password (leave empty to keep it)' : 'Password',
      { name: 'password', type: 'password', required: !editing, autocomplete: 'new-password' }),
    roleChoices(allRoles, user?.roles || ['user']),
  ];
}

function chosenRoles(form) {
  return [...form.querySelectorAll('input[name=role]:checked')].map((i) => i.value);
}

const sameSet = (a, b) => a.length === b.length && a.every((x) => b.includes(x));

async function create(form) {
  const f = form.elements;
  const body = {
    username: f.username.value.trim(), name: f.name.value.trim(), email: f.email.value.trim(),
    password: f.password.value, verified: f.verified.checked, roles: chosenRoles(form),
  };
  const { user } = await api.gatedPost('/api/v1/users.create', body);
  return user;
}

async function update(user, form) {
  const f = form.elements;
  const data = {};
  const changed = (key, value, old) => { if (value !== old) data[key] = value; };
  changed('username', f.username.value.trim(), user.username);
  changed('name', f.name.value.trim(), user.name);
  changed('email', f.email.value.trim(), emailOf(user));
  changed('verified', f.verified.checked, verifiedOf(user));
  if (f.password.value) data.password = f.password.value;
  const newRoles = chosenRoles(form);
  if (user.roles && !sameSet(newRoles, user.roles)) data.roles = newRoles;
  if (Object.keys(data).length === 0) return user;
  const { user: updated } = await api.gatedPost('/api/v1/users.update', { userId: user._id, data });
  return updated;
}

/** Opens the dialog; resolves with the saved user, or null when cancelled. */
export async function editUser(user) {
  const allRoles = await roles();
  return formDialog(user ? `Edit ${user.username}` : 'Create user', fields(user, allRoles),
    user ? 'Save' : 'Create user', (form) => (user ? update(user, form) : create(form)), api.explain);
}
