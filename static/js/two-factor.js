// Two-factor settings: enrol an authenticator app (QR code of the otpauth URL, or the key
// typed by hand), confirm with a code, get and regenerate backup codes, turn it off; and
// turn e-mailed codes on and off.

import * as api from './api.js';
import { $, busy, copyText, toast } from './dom.js';
import { formDialog, field, showBackupCodes, confirmAction } from './dialogs.js';
import qrcode from '../vendor/qrcode.mjs';

const report = (err) => {
  const message = api.explain(err);
  if (message) toast(message);
};

/** A GIF data URL of the QR code: allowed by the page's img-src, no canvas or inline style. */
function qrDataUrl(text) {
  const qr = qrcode(0, 'M');
  qr.addData(text);
  qr.make();
  return qr.createDataURL(5, 4);
}

/** Asks for a code from the app (or a backup code), for the routes that take it in the body. */
function askCode(title, text, submitLabel, send) {
  return formDialog(title, () => [
    Object.assign(document.createElement('p'), { textContent: text }),
    ...field('Authenticator code or backup code', { name: 'code', autocomplete: 'one-time-code', required: true, spellcheck: 'false' }),
  ], submitLabel, (form) => send(form.elements.code.value.trim()), api.explain);
}

// Told each time `me` is read again (on opening this page and after every change of 2FA
// state): main.js decides from the session's `me` whether setup is still required.
let onMeRefreshed = () => {};

async function refreshMe() {
  const me = await api.get('/api/v1/me');
  api.getSession().me = me;
  onMeRefreshed();
  return me;
}

export async function showTwoFactor() {
  const me = await refreshMe();
  const totpOn = Boolean(me.services?.totp?.enabled);
  $('totp-status').textContent = totpOn ? 'On: sign-ins ask for a code from your app.' : 'Off.';
  $('totp-on').hidden = !totpOn;
  $('totp-off').hidden = totpOn;
  $('totp-enrol').hidden = true;
  $('totp-start').hidden = false;
  if (totpOn) {
    const { remaining } = await api.get('/api/v1/users.totpCodesRemaining');
    $('totp-remaining').textContent = `Backup codes left: ${remaining} of 12.`;
  }
  const emailOn = Boolean(me.services?.email2fa?.enabled);
  $('email2fa-status').textContent = emailOn
    ? `On: sign-ins ask for a code sent to ${me.email || 'your e-mail address'}.`
    : 'Off.';
  $('email2fa-toggle').textContent = emailOn ? 'Turn off e-mail codes' : 'Turn on e-mail codes';
  $('email2fa-toggle').dataset.on = String(emailOn);
}

function explainEmail(err) {
  if (err.code === 'error-email-2fa-unavailable') {
    return 'This server cannot send e-mail (it has no SMTP server configured), so e-mailed codes are not available. Ask the operator to set TOKEND_SMTP_URL.';
  }
  if (err.code === 'error-invalid-user') {
    return 'Your e-mail address is not verified yet. Ask an administrator to mark it verified, then try again.';
  }
  return api.explain(err);
}

/** `meRefreshed()` runs whenever this page has read the caller's `me` again. */
export function initTwoFactor(meRefreshed) {
  onMeRefreshed = meRefreshed;
  $('totp-start').addEventListener('click', (e) => busy(e.currentTarget, async () => {
    try {
      const { secret, url } = await api.gatedPost('/api/v1/users.enableTotp');
      $('totp-qr').src = qrDataUrl(url);
      $('totp-secret').value = secret;
      $('totp-enrol').hidden = false;
      $('totp-start').hidden = true;
      $('totp-confirm-code').focus();
    } catch (err) {
      report(err);
    }
  }));

  document.querySelector('[data-copy="totp-secret"]').addEventListener('click', () => copyText($('totp-secret').value, $('totp-secret')));

  $('totp-confirm-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const code = $('totp-confirm-code').value.trim();
    if (!code) return;
    await busy(e.submitter || $('totp-confirm-form').querySelector('button'), async () => {
      try {
        const { codes } = await api.gatedPost('/api/v1/users.validateTotp', { code });
        $('totp-confirm-code').value = '';
        $('totp-secret').value = '';
        $('totp-qr').removeAttribute('src');
        await showBackupCodes(codes, api.getSession().me.username);
        toast('Two-factor authentication is on. Your other sessions were signed out.');
        await showTwoFactor();
      } catch (err) {
        report(err);
      }
    });
  });

  $('totp-regenerate').addEventListener('click', async () => {
    const result = await askCode('Make new backup codes', 'Your current backup codes stop working.', 'Make new codes',
      (code) => api.post('/api/v1/users.regenerateTotpCodes', { code }));
    if (!result) return;
    await showBackupCodes(result.codes, api.getSession().me.username);
    await showTwoFactor().catch(report);
  });

  $('totp-disable').addEventListener('click', async () => {
    const result = await askCode('Turn off the authenticator app', 'Sign-ins will no longer ask for a code from your app.', 'Turn off',
      async (code) => {
        const answer = await api.post('/api/v1/users.disableTotp', { code });
        if (!answer.disabled) throw new api.ApiError(400, { error: 'That code is not valid.', errorType: 'totp-invalid' });
        return answer;
      });
    if (!result) return;
    toast('The authenticator app is turned off.');
    await showTwoFactor().catch(report);
  });

  $('email2fa-toggle').addEventListener('click', (e) => busy(e.currentTarget, async () => {
    const turningOn = $('email2fa-toggle').dataset.on !== 'true';
    $('email2fa-error').hidden = true;
    try {
      if (turningOn) {
        const ok = await confirmAction('Turn on e-mail codes',
          'Sign-ins will ask for a code sent to your verified e-mail address. Your other sessions will be signed out.', 'Turn on');
        if (!ok) return;
        await api.post('/api/v1/users.2fa.enableEmail');
      } else {
        await api.gatedPost('/api/v1/users.2fa.disableEmail');
      }
      toast(turningOn ? 'E-mail codes are on.' : 'E-mail codes are off.');
      await showTwoFactor();
    } catch (err) {
      const message = explainEmail(err);
      $('email2fa-error').textContent = message;
      $('email2fa-error').hidden = !message;
    }
  }));
}
