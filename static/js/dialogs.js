// Modal dialogs built on <dialog>: the browser traps focus inside, Escape cancels, and
// focus returns to the control that opened it.

import { h, copyText, downloadText } from './dom.js';

let counter = 0;
const uid = (prefix) => `${prefix}-${++counter}`;

/** Opens a dialog and resolves with what `wire(dialog, close)` passes to `close`. */
function open(titleText, buildBody, wire) {
  const titleId = uid('dialog-title');
  const returnFocus = document.activeElement;
  const dialog = h('dialog', { 'aria-labelledby': titleId }, h('h2', { id: titleId }, titleText), ...buildBody());
  document.body.append(dialog);
  return new Promise((resolve) => {
    let settled = false;
    const close = (value) => {
      if (settled) return;
      settled = true;
      dialog.close();
      dialog.remove();
      if (returnFocus && returnFocus.isConnected) returnFocus.focus();
      resolve(value);
    };
    dialog.addEventListener('cancel', (e) => { e.preventDefault(); close(null); });
    wire(dialog, close);
    dialog.showModal();
  });
}

const METHOD_PROMPTS = {
  password: ['Confirm it is you', 'Enter your password to continue.', 'Password', 'password', 'current-password'],
  totp: ['Two-factor code', 'Enter the code from your authenticator app, or one of your backup codes.', 'Code', 'text', 'one-time-code'],
  email: ['Two-factor code', 'Enter the code we sent to your e-mail address.', 'Code from the e-mail', 'text', 'one-time-code'],
};

/**
 * Asks for the second factor the server named in a totp-required challenge. Resolves with
 * {method, code}, or null when cancelled.
 */
export function askSecondFactor(details, previousWasWrong) {
  const method = METHOD_PROMPTS[details.method] ? details.method : 'totp';
  const [title, text, label, type, autocomplete] = METHOD_PROMPTS[method];
  const inputId = uid('second-factor');
  const input = h('input', { id: inputId, type, autocomplete, required: true, spellcheck: 'false' });
  if (type === 'text') input.setAttribute('inputmode', method === 'totp' ? 'text' : 'numeric');
  const form = h('form', {},
    h('p', {}, text),
    previousWasWrong ? h('p', { class: 'notice error', role: 'alert' },
      method === 'password' ? 'That password is not right.' : 'That code is not valid. Try again.') : null,
    h('label', { for: inputId }, label), input,
    h('div', { class: 'actions' },
      h('button', { type: 'submit' }, 'Continue'),
      h('button', { type: 'button', class: 'secondary', 'data-cancel': true }, 'Cancel')));
  return open(title, () => [form], (dialog, close) => {
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      if (input.value.trim()) close({ method, code: method === 'password' ? input.value : input.value.trim() });
    });
    form.querySelector('[data-cancel]').addEventListener('click', () => close(null));
  });
}

/** Asks a yes/no question; resolves true only when confirmed. */
export function confirmAction(title, text, confirmLabel, danger = false) {
  const yes = h('button', { type: 'button', class: danger ? 'danger' : '' }, confirmLabel);
  const no = h('button', { type: 'button', class: 'secondary' }, 'Cancel');
  return open(title, () => [h('p', {}, text), h('div', { class: 'actions' }, yes, no)], (dialog, close) => {
    yes.addEventListener('click', () => close(true));
    no.addEventListener('click', () => close(false));
  }).then(Boolean);
}

/**
 * Shows secrets exactly once, each with a copy button, under a clear warning.
 * `fields` is [{label, value, secret}].
 */
export function showSecrets(title, warning, fields) {
  const rows = fields.map(({ label, value }) => {
    const id = uid('secret');
    const input = h('input', { id, value, readonly: true, spellcheck: 'false', 'data-secret': label });
    const copy = h('button', { type: 'button', class: 'secondary', onclick: () => copyText(value, input) }, `Copy ${label.toLowerCase()}`);
    return [h('label', { for: id }, label), h('div', { class: 'copy-row' }, input, copy)];
  });
  const done = h('button', { type: 'button' }, 'I have saved it');
  return open(title, () => [h('p', { class: 'notice warn' }, warning), ...rows.flat(), h('div', { class: 'actions' }, done)],
    (dialog, close) => done.addEventListener('click', () => close(true)));
}

/** Shows TOTP backup codes once, with a download as a text file. */
export function showBackupCodes(codes, username) {
  const text = `tokend backup codes for ${username}\nEach code works once in place of an authenticator code.\n\n${codes.join('\n')}\n`;
  const download = h('button', { type: 'button', class: 'secondary', onclick: () => downloadText(`tokend-backup-codes-${username}.txt`, text) }, 'Download as text');
  const done = h('button', { type: 'button' }, 'I have saved them');
  return open('Your backup codes', () => [
    h('p', { class: 'notice warn' }, 'These codes are shown only now. Keep them somewhere safe: each one lets you sign in once if you lose your authenticator app.'),
    h('ol', { class: 'codes', 'aria-label': 'Backup codes' }, codes.map((c) => h('li', {}, c))),
    h('div', { class: 'actions' }, download, done),
  ], (dialog, close) => done.addEventListener('click', () => close(true)));
}

/**
 * A form in a dialog. `fields()` returns the form's controls; `submit(form)` runs the request
 * and returns a value to close with, or throws to show its message and keep the form open.
 */
export function formDialog(title, fields, submitLabel, submit, explain) {
  const error = h('p', { class: 'notice error', role: 'alert', hidden: true });
  const ok = h('button', { type: 'submit' }, submitLabel);
  const form = h('form', { novalidate: true }, ...fields(), error,
    h('div', { class: 'actions' }, ok, h('button', { type: 'button', class: 'secondary', 'data-cancel': true }, 'Cancel')));
  return open(title, () => [form], (dialog, close) => {
    form.querySelector('[data-cancel]').addEventListener('click', () => close(null));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      error.hidden = true;
      ok.disabled = true;
      try {
        close(await submit(form));
      } catch (err) {
        const message = explain(err);
        if (message) {
          error.textContent = message;
          error.hidden = false;
        }
      } finally {
        ok.disabled = false;
      }
    });
  });
}

/** A labelled input for `formDialog`. */
export function field(label, attrs = {}) {
  const id = attrs.id || uid('field');
  return [h('label', { for: id }, label), h('input', { ...attrs, id })];
}
