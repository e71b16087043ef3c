// Starts the UI: shows the sign-in page or the page named by the URL fragment, and decides
// which administration pages this person may see (the server checks every call anyway).
// A person whose role makes two-factor authentication mandatory, and who has none set up,
// sees only the two-factor page until they do (Rocket.Chat's clients behave the same way).

import * as api from './api.js';
import { $, h, toast } from './dom.js';
import { initSignIn } from './signin.js';
import { showTokens, initTokens } from './tokens.js';
import { showSessions } from './sessions.js';
import { showTwoFactor, initTwoFactor } from './two-factor.js';
import { showUsers, initUsers } from './admin-users.js';
import { showAudit, initAudit } from './admin-audit.js';
import { showAccount, initAccount } from './account.js';
import { initSelfService } from './self-service.js';
import { initResetPassword, resetToken } from './reset-password.js';

/** Permissions that make the Users page worth showing; each button needs its own. */
const USER_ADMIN_PERMISSIONS = [
  'create-user', 'edit-other-user-info', 'edit-other-user-active-status', 'delete-user',
  'assign-roles', 'user-generate-access-token', 'manage-users', 'logout-other-user',
];

const PAGES = {
  tokens: showTokens,
  sessions: showSessions,
  'two-factor': showTwoFactor,
  account: showAccount,
  users: showUsers,
  audit: showAudit,
};

/** The caller's effective permissions, from their roles (as `permissions.listAll` assigns them). */
async function loadPermissions(me) {
  const { update } = await api.get('/api/v1/permissions.listAll');
  const mine = new Set(me.roles || []);
  return new Set(update.filter((p) => p.roles.some((r) => mine.has(r))).map((p) => p._id));
}

/** Ids of the roles whose `mandatory2fa` is on, from `roles.list`. */
async function loadMandatory2faRoles() {
  const { roles } = await api.get('/api/v1/roles.list');
  return new Set(roles.filter((r) => r.mandatory2fa === true).map((r) => r._id));
}

/**
 * Rocket.Chat's useRequire2faSetup: one of the person's roles has mandatory2fa and they have
 * neither an authenticator app nor e-mail codes on. Like Rocket.Chat, only the client enforces
 * it: the server refuses no sign-in or call because of it.
 */
function setupRequired(me, mandatoryRoles) {
  const services = me.services || {};
  const mandatory = (me.roles || []).some((role) => mandatoryRoles.has(role));
  return mandatory && !services.totp?.enabled && !services.email2fa?.enabled;
}

/**
 * Opens the pages this person may use now: only the two-factor page while setup is required
 * (no navigation, a notice instead), everything their permissions allow otherwise. Runs after
 * sign-in and whenever the two-factor page has read `me` again, so finishing the setup brings
 * the navigation back in place.
 */
function applyAccess() {
  const session = api.getSession();
  if (!session) return;
  const required = setupRequired(session.me, session.mandatory2faRoles);
  session.pages = required ? new Set(['two-factor']) : session.allowedPages;
  $('nav').hidden = required;
  const notice = $('setup-2fa-required');
  if (required && notice.hidden) {
    // Filled as it appears, so that screen readers announce the alert.
    notice.replaceChildren(
      h('strong', { class: 'notice-title' }, 'Two-factor authentication required'),
      h('span', {}, 'Your role requires two-factor authentication. Set up an authenticator app or e-mail codes to continue.'),
    );
  } else if (!required) {
    notice.replaceChildren();
  }
  notice.hidden = !required;
}

/** The page to open when the address names none this person may see. */
const homePage = (session) => (session.pages.has('tokens') ? 'tokens' : 'two-factor');

function allowedPages(permissions) {
  const allowed = new Set(['tokens', 'sessions', 'two-factor', 'account']);
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
  // The e-mailed reset link works whether or not this tab is signed in.
  if (resetToken()) {
    showOnly('reset-password');
    $('reset-password').focus();
    return;
  }
  const session = api.getSession();
  if (!session) {
    showOnly('signin');
    $('signin-user').focus();
    return;
  }
  let page = window.location.hash.slice(1);
  if (!session.pages.has(page)) {
    page = homePage(session);
    // The address names the page shown, without a hashchange of its own.
    window.history.replaceState(null, '', `#${page}`);
  }
  showOnly(page);
  try {
    await PAGES[page]();
  } catch (err) {
    const message = api.explain(err);
    if (message) toast(message);
  }
}

/** What decides the pages: the caller's `me`, permissions, and the roles that make 2FA mandatory. */
async function loadAccess() {
  const [me, mandatory2faRoles] = await Promise.all([api.get('/api/v1/me'), loadMandatory2faRoles()]);
  return { me, mandatory2faRoles, permissions: await loadPermissions(me) };
}

/** After a successful sign-in, or a reload that resumes one: keep the session, open the first page. */
async function signedIn(data) {
  api.setSession({ userId: data.userId, authToken: data.authToken, me: data.me });
  let access;
  try {
    access = await loadAccess();
  } catch (err) {
    api.clearSession();
    throw err;
  }
  const { me, permissions } = access;
  const pages = allowedPages(permissions);
  Object.assign(api.getSession(), { ...access, allowedPages: pages });
  document.querySelectorAll('[data-needs]').forEach((el) => {
    const need = el.dataset.needs;
    el.hidden = pages.has(need) ? false : !permissions.has(need);
  });
  applyAccess();
  $('sign-out').hidden = false;
  $('signed-in-as').textContent = `Signed in as ${me.username}`;
  await route();
}

function signedOut(message) {
  api.clearSession();
  $('nav').hidden = true;
  $('setup-2fa-required').hidden = true;
  $('setup-2fa-required').replaceChildren();
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

/**
 * On load: the sign-in this tab kept (session-store.js) opens the pages again after a check
 * with the server; without one, or when the server no longer takes it (revoked, expired,
 * user deactivated), the sign-in page shows and the stored token is forgotten.
 */
async function resume() {
  const stored = api.storedSession();
  if (!stored) {
    route();
    return;
  }
  try {
    await signedIn(stored);
  } catch (err) {
    signedOut(api.explain(err) || 'Sign in again.');
  }
}

api.whenSessionLost((message) => signedOut(message || 'Your session has ended. Sign in again.'));
window.addEventListener('hashchange', route);

initSignIn(signedIn);
initSelfService(signedIn);
initResetPassword(signedIn, (message) => {
  route();
  if (message) toast(message);
});
initAccount((username) => { $('signed-in-as').textContent = `Signed in as ${username}`; }, signedOut);
initTokens();
initTwoFactor(applyAccess);
initUsers();
initAudit();
resume();
