// The page the e-mailed link opens, `#reset-password/<token>`: the new password twice, then
// Rocket.Chat's Meteor method `resetPassword`, which sets it and logs the person in.

import * as api from './api.js';
import { $ } from './dom.js';

const PREFIX = 'reset-password/';

/** The reset token in the address, or null when the address is not a reset link. */
export function resetToken() {
  const hash = window.location.hash.slice(1);
  return hash.startsWith(PREFIX) && hash.length > PREFIX.length ? hash.slice(PREFIX.length) : null;
}

/** Calls the method through `method.callAnon`; resolves with its result, throws its Meteor error. */
async function callResetPassword(token, password) {
  const message = JSON.stringify({ msg: 'method', id: '1', method: 'resetPassword', params: [token, password] });
  const answer = JSON.parse((await api.post('/api/v1/method.callAnon/resetPassword', { message })).message);
  if (answer.error) throw answer.error;
  return answer.result;
}

function explainMeteor(error) {
  if (error.error === 403) return 'This link has expired or was already used. Ask for a new one on the sign-in page.';
  return error.reason || error.message || 'The password could not be changed.';
}

/** `onSignedIn(data)` takes the login the method made; `toSignIn(message)` opens the sign-in page. */
export function initResetPassword(onSignedIn, toSignIn) {
  const error = $('reset-error');
  const show = (message) => {
    error.textContent = message;
    error.hidden = !message;
  };
  $('reset-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const token = resetToken();
    const password = $('reset-password').value;
    if (!password) {
      show('Enter a new password.');
      $('reset-password').focus();
      return;
    }
    if (password !== $('reset-password2').value) {
      show('The two passwords differ. Type the same password twice.');
      $('reset-password2').focus();
      return;
    }
    show('');
    const button = e.submitter || $('reset-form').querySelector('button');
    button.disabled = true;
    try {
      const result = await callResetPassword(token, password);
      $('reset-form').reset();
      // The link has done its work: the address must not offer it again.
      window.history.replaceState(null, '', '#');
      await onSignedIn({ userId: result.id, authToken: result.token });
    } catch (err) {
      if (err instanceof api.ApiError) {
        show(api.explain(err));
      } else if (err.error === 'totp-required') {
        // The password is set; the login it made asks for the second factor, which the
        // sign-in form knows how to ask for.
        $('reset-form').reset();
        window.history.replaceState(null, '', '#');
        toSignIn('Your password is changed. Sign in with it and your second factor.');
      } else {
        show(explainMeteor(err));
      }
    } finally {
      button.disabled = false;
    }
  });
  $('reset-cancel').addEventListener('click', (e) => {
    e.preventDefault();
    window.history.replaceState(null, '', '#');
    toSignIn('');
  });
}
