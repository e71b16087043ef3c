// The sign-in form: username or e-mail and password, then a TOTP or e-mailed code when the
// server answers totp-required. The password goes out as Rocket.Chat's SHA-256 digest.

import * as api from './api.js';
import { $ } from './dom.js';
import { sha256Hex } from './sha256.js';

const CODE_HINTS = {
  totp: ['Enter the code from your authenticator app, or one of your backup codes.', 'Authenticator code'],
  email: ['We sent a code to your e-mail address. Enter it here.', 'Code from the e-mail'],
};

export function initSignIn(onSignedIn) {
  const form = $('signin-form');
  const error = $('signin-error');
  // Between the challenge and the code, the typed credentials stay in the form's inputs.
  let challenge = null;

  const showError = (message) => {
    error.textContent = message;
    error.hidden = !message;
  };

  const reset = () => {
    challenge = null;
    $('signin-credentials').hidden = false;
    $('signin-second-factor').hidden = true;
    $('signin-restart').hidden = true;
    $('signin-code').value = '';
    $('signin-submit').textContent = 'Sign in';
  };

  const askForCode = (details) => {
    challenge = details.method === 'email' ? 'email' : 'totp';
    const [hint, label] = CODE_HINTS[challenge];
    $('signin-code-hint').textContent = hint;
    $('signin-code-label').textContent = label;
    $('signin-credentials').hidden = true;
    $('signin-second-factor').hidden = false;
    $('signin-restart').hidden = false;
    $('signin-submit').textContent = 'Verify';
    $('signin-code').focus();
  };

  $('signin-restart').addEventListener('click', () => {
    reset();
    showError('');
    $('signin-password').focus();
  });

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const user = $('signin-user').value.trim();
    const password = $('signin-password').value;
    if (!user || !password) {
      showError('Enter your username or e-mail and your password.');
      (user ? $('signin-password') : $('signin-user')).focus();
      return;
    }
    const code = $('signin-code').value.trim();
    if (challenge && !code) {
      showError('Enter the code.');
      $('signin-code').focus();
      return;
    }
    const body = { user, password: { digest: await sha256Hex(password), algorithm: 'sha-256' } };
    if (challenge) body.code = code;
    showError('');
    $('signin-submit').disabled = true;
    try {
      const { data } = await api.login(body);
      $('signin-password').value = '';
      reset();
      await onSignedIn(data);
    } catch (err) {
      if (err.code === 'totp-required') {
        askForCode(err.body.details || {});
      } else {
        if (err.code === 'totp-max-attempts') reset();
        showError(api.explain(err));
        if (err.code === 'totp-invalid') $('signin-code').select();
      }
    } finally {
      $('signin-submit').disabled = false;
    }
  });
}
