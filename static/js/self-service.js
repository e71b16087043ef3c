// What the sign-in page offers besides signing in, as the server's `settings.public` allows:
// creating an account (`users.register`, with the registration secret when the server wants
// one) and asking for a password-reset link (`users.forgotPassword`).

import * as api from './api.js';
import { $ } from './dom.js';
import { sha256Hex } from './sha256.js';

let settings = null;

/**
 * The server's public settings by id (`Accounts_RegistrationForm`, `Accounts_PasswordReset`,
 * `Accounts_AllowDeleteOwnAccount`), read once per page load.
 */
export async function publicSettings() {
  if (!settings) {
    const { settings: list } = await api.get('/api/v1/settings.public');
    settings = Object.fromEntries(list.map((s) => [s._id, s.value]));
  }
  return settings;
}

/** The one answer to every reset request: it must not tell whether the address has an account. */
const FORGOT_ANSWER = 'If this address belongs to an account, a link to choose a new password is on its way. Check your e-mail.';

/** Rocket.Chat's Secret URL link: the secret travels in the fragment, `#register/<secret>`. */
function secretFromAddress() {
  const match = /^#register\/(.+)$/.exec(window.location.hash);
  if (!match) return;
  $('register-secret').value = decodeURIComponent(match[1]);
  $('register-card').open = true;
  // The secret is in the form now; keep it out of the address bar and the history.
  window.history.replaceState(null, '', '#');
}

function explainRegister(err) {
  switch (err.code) {
    case 'error-user-registration-disabled':
      return 'This server does not take new accounts.';
    case 'error-user-registration-secret':
      return 'The registration secret is not right. Use the link you were given.';
    default:
      return api.explain(err);
  }
}

function wireRegister(onSignedIn) {
  const error = $('register-error');
  const show = (message) => {
    error.textContent = message;
    error.hidden = !message;
  };
  $('register-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const field = (id) => $(id).value.trim();
    const body = { name: field('register-name'), username: field('register-username'), email: field('register-email'), pass: $('register-password').value };
    const missing = ['register-name', 'register-username', 'register-email', 'register-password'].find((id) => !$(id).value.trim());
    if (missing) {
      show('Fill in every field.');
      $(missing).focus();
      return;
    }
    if (body.pass !== $('register-password2').value) {
      show('The two passwords differ. Type the same password twice.');
      $('register-password2').focus();
      return;
    }
    if (!$('register-secret-row').hidden) body.secret = field('register-secret');
    show('');
    const button = e.submitter || $('register-form').querySelector('button');
    button.disabled = true;
    try {
      await api.post('/api/v1/users.register', body);
      // users.register does not log in (as in Rocket.Chat): sign in with what was just chosen.
      const { data } = await api.login({ user: body.username, password: { digest: await sha256Hex(body.pass), algorithm: 'sha-256' } });
      $('register-form').reset();
      $('register-card').open = false;
      await onSignedIn(data);
    } catch (err) {
      show(explainRegister(err));
    } finally {
      button.disabled = false;
    }
  });
}

function wireForgot() {
  const result = $('forgot-result');
  $('forgot-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const email = $('forgot-email').value.trim();
    if (!email) {
      $('forgot-email').focus();
      return;
    }
    const button = e.submitter || $('forgot-form').querySelector('button');
    button.disabled = true;
    result.hidden = true;
    try {
      await api.post('/api/v1/users.forgotPassword', { email });
      result.className = 'notice ok';
      result.textContent = FORGOT_ANSWER;
    } catch (err) {
      result.className = 'notice error';
      result.textContent = api.explain(err);
    } finally {
      result.hidden = false;
      button.disabled = false;
    }
  });
}

/** Shows the forms the server allows; `onSignedIn(data)` takes the login of a new account. */
export async function initSelfService(onSignedIn) {
  wireRegister(onSignedIn);
  wireForgot();
  window.addEventListener('hashchange', secretFromAddress);
  let s;
  try {
    s = await publicSettings();
  } catch {
    return; // Without the settings, offer neither: the sign-in form still works.
  }
  const form = s.Accounts_RegistrationForm;
  $('register-card').hidden = form !== 'Public' && form !== 'Secret URL';
  $('register-secret-row').hidden = form !== 'Secret URL';
  $('forgot-card').hidden = s.Accounts_PasswordReset !== true;
  if (form === 'Secret URL') secretFromAddress();
}
