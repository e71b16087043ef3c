// Starts the UI: shows the sign-in page or the page named by the URL fragment, and decides
// which administration pages this person may see (the server checks every call anyway).

import * as api from './api.js';
import { $, toast } from './dom.js';
import { initSignIn } from './signin.js';
import { showTokens, initTokens } from './tokens.js';
import { showTwoFactor, initTwoFactor } from './two-factor.js';
import { showUsers, initUsers } from './admin-users.js';
import { showAudit, initAudit } from './admin-audit.js';

/** Permissions that make the Users page worth showing; each button needs its own. */
const USER_ADMIN_PERMISSIONS = [
  'create-user', 'edit-other-user-info', 'edit-other-user-active-status', 'delete-user',
  'assign-roles', 'user-generate-access-token', 'manage-users',
];

const PAGES = {
  tokens: showTokens,
  'two-factor': showTwoFactor,
  users: showUsers,
  audit: showAudit,
};

/** The caller's effective permissions, from their roles (as `permissions.listAll` assigns them). */
async function loadPermissions(me) {
  const { update } = await api.get('/api/v1/permissions.listAll');
  const mine = new Set(me.roles || []);
  return new Set(update.filter((p) => p.roles.some((r) => mine.has(r))).map((p) => p._id));
}

function allowedPages(permissions) {
  const allowed = new Set(['tokens', 'two-factor']);
  if (permissions.has('view-d-room') && USER_ADMIN_PERMISSIONS.some((p) => permissions.has(p))) allowed.add('users');
  if (permissions.has('view-audit-log')) allowed.add('audit');
  return allowed;
}

function showOnly(pageId) {
  document.querySelectorAll('.page').forEach((p) => { p.hidden = p.id !== `page-${pageId}`; });
  document.querySelectorAll('#nav a').forEach((a) => {
    if (a.dataset.page === pageId) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  });
  $('main').focus();
}

async function route() {
  const session = api.getSession();
  if (!session) {
    showOnly('signin');
    $('signin-user').focus();
    return;
  }
  let page = window.location.hash.slice(1);
  if (!session.pages.has(page)) page = 'tokens';
  showOnly(page);
  try {
    await PAGES[page]();
  } catch (err) {
    const message = api.explain(err);
    if (message) toast(message);
  }
}

/** After a successful sign-in: remember the session in memory and open the first page. */
async function signedIn(data) {
  api.setSession({ userId: data.userId, authToken: data.authToken, me: data.me });
  let permissions;
  try {
    permissions = await loadPermissions(data.me);
  } catch (err) {
    api.clearSession();
    throw err;
  }
  const pages = allowedPages(permissions);
  Object.assign(api.getSession(), { permissions, pages });
  document.querySelectorAll('[data-needs]').forEach((el) => {
    const need = el.dataset.needs;
    el.hidden = pages.has(need) ? false : !permissions.has(need);
  });
  $('nav').hidden = false;
  $('sign-out').hidden = false;
  $('signed-in-as').textContent = `Signed in as ${data.me.username}`;
  if (!pages.has(window.location.hash.slice(1))) window.location.hash = 'tokens';
  await route();
}

function signedOut(message) {
  api.clearSession();
  $('nav').hidden = true;
  $('sign-out').hidden = true;
  $('signed-in-as').textContent = '';
  document.querySelectorAll('tbody').forEach((t) => t.replaceChildren());
  route();
  if (message) toast(message);
}

$('sign-out').addEventListener('click', async () => {
  try {
    await api.post('/api/v1/logout');
  } catch {
    // The token may already be gone; forgetting it is what matters.
  }
  signedOut('You are signed out.');
});

api.whenSessionLost(() => signedOut('Your session has ended. Sign in again.'));
window.addEventListener('hashchange', route);

initSignIn(signedIn);
initTokens();
initTwoFactor();
initUsers();
initAudit();
route();
