// The choices a personal access token is made with: when it expires and whether it may only
// read; and, when one is regenerated, how long the old value keeps working. Only what the
// person chose goes into the request: a body without them gets Rocket.Chat's behaviour.

import { $, h } from './dom.js';

/** Grace periods offered when regenerating: the old value keeps working this long. */
const GRACE_CHOICES = [
  [0, 'No: the old value stops at once'],
  [3600, 'For 1 hour'],
  [86400, 'For 1 day'],
  [7 * 86400, 'For 7 days'],
];

/** The expiry and scope fields of the creation form, ready to spread into the request body. */
export function chosenOptions() {
  const options = {};
  const expiry = $('pat-expiry').value;
  if (expiry === 'date') {
    const day = $('pat-expiry-date').value;
    if (!day) throw new Error('Choose the day the token expires.');
    // The end of the chosen day where the person is, sent as an instant.
    options.expiresAt = new Date(`${day}T23:59:59`).toISOString();
  } else if (expiry) {
    options.expiresInDays = Number(expiry);
  }
  if ($('pat-read-only').checked) options.scope = 'read-only';
  return options;
}

export function resetOptions() {
  $('pat-expiry').value = '';
  $('pat-expiry-date').value = '';
  $('pat-expiry-date-row').hidden = true;
  $('pat-read-only').checked = false;
}

export function initOptions() {
  const tomorrow = new Date(Date.now() + 86400000);
  const pad = (n) => String(n).padStart(2, '0');
  $('pat-expiry-date').min = `${tomorrow.getFullYear()}-${pad(tomorrow.getMonth() + 1)}-${pad(tomorrow.getDate())}`;
  $('pat-expiry').addEventListener('change', () => {
    $('pat-expiry-date-row').hidden = $('pat-expiry').value !== 'date';
  });
}

/** The grace-period control of the regenerate dialog; read it back with `chosenGrace`. */
export function graceField() {
  return [
    h('label', { for: 'pat-grace' }, 'Keep the old value working'),
    h('select', { id: 'pat-grace', name: 'grace' },
      GRACE_CHOICES.map(([seconds, label]) => h('option', { value: String(seconds) }, label))),
  ];
}

export const chosenGrace = (form) => Number(form.elements.grace.value) || 0;
