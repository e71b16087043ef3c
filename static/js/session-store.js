// Keeps the sign-in of this tab across a reload: the user id and token in sessionStorage.
//
// Why sessionStorage: it belongs to one tab and one origin, survives a reload, and is gone
// when the tab closes; the browser never sends it anywhere by itself, so the API keeps taking
// credentials only as headers (no cookie, hence no CSRF surface). localStorage would outlive
// the tab and be shared by every tab; a cookie would ride along on requests other sites make.
// The price, weighed in the README: a script that runs in this origin can read the token here.
// The Content-Security-Policy (scripts of this origin only, no inline script) is what keeps
// such a script out, as it already had to (an injected script could use an in-memory token too).

const KEY = 'tokend.session';

/** Stores only what a request needs; `me`, permissions and pages are read again on load. */
export function save({ userId, authToken }) {
  try {
    window.sessionStorage.setItem(KEY, JSON.stringify({ userId, authToken }));
  } catch {
    // Storage switched off or full: the tab stays signed in until a reload, as before.
  }
}

/** The stored sign-in of this tab, or null when there is none or it is malformed. */
export function load() {
  try {
    const stored = JSON.parse(window.sessionStorage.getItem(KEY));
    if (stored && typeof stored.userId === 'string' && typeof stored.authToken === 'string') return stored;
  } catch {
    // Unreadable: treated as signed out, and cleared below.
  }
  clear();
  return null;
}

export function clear() {
  try {
    window.sessionStorage.removeItem(KEY);
  } catch {
    // Nothing stored, nothing to clear.
  }
}
