// Small DOM helpers. Text always goes in through textContent, never innerHTML, so nothing a
// user or the server typed can become markup.

/** Creates an element: h('button', {type: 'button', onclick: f}, 'Label', child, ...). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, String(value));
  }
  el.append(...children.flat().filter((c) => c !== undefined && c !== null && c !== false));
  return el;
}

export const $ = (id) => document.getElementById(id);

/** A table cell labelled by its column, for the stacked phone layout. */
export function cell(label, ...content) {
  return h('td', { 'data-label': label }, ...content);
}

export function formatDate(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : d.toLocaleString();
}

let toastTimer;
/** A short message announced to screen readers and shown at the bottom of the page. */
export function toast(message) {
  const el = $('toast');
  el.textContent = message;
  el.classList.add('shown');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => el.classList.remove('shown'), 4000);
}

/**
 * Copies text to the clipboard. The Clipboard API needs a secure context (HTTPS or
 * loopback); elsewhere the text is selected in `input` and copied the old way.
 */
export async function copyText(text, input) {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
    } else {
      input.focus();
      input.select();
      if (!document.execCommand('copy')) throw new Error('copy refused');
    }
    toast('Copied to the clipboard.');
  } catch {
    toast('Could not copy: select the text and copy it yourself.');
  }
}

/** Offers `text` as a file download without a server round trip. */
export function downloadText(filename, text) {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/plain' }));
  const a = h('a', { href: url, download: filename });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** Runs `action` with `button` disabled, so a double click cannot send a request twice. */
export async function busy(button, action) {
  button.disabled = true;
  try {
    return await action();
  } finally {
    button.disabled = false;
  }
}
