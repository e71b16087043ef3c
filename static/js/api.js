// The one place that talks to tokend. The UI is an ordinary client of the public REST API:
// Rocket.Chat routes under /api/v1 with X-User-Id/X-Auth-Token, and one SAYMON route.
//
// The session (user id and token) is kept for this tab in sessionStorage by session-store.js,
// so that a reload does not sign the person out; it goes out only as the X-User-Id and
// X-Auth-Token headers. The API accepts no cookies, so there is nothing for another site to
// ride on (no CSRF surface).

import { askSecondFactor } from './dialogs.js';
import { sha256Hex } from './sha256.js';
import * as store from './session-store.js';

let session = null; // {userId, authToken, me}
let onSessionLost = () => {};

export const getSession = () => session;
export const setSession = (s) => { session = s; store.save(s); };
export const clearSession = () => { session = null; store.clear(); };
/** The sign-in this tab kept across a reload ({userId, authToken}), or null. */
export const storedSession = () => store.load();
/** The server handed this session a new token (users.logoutOtherClients): use and keep it. */
export const replaceAuthToken = (authToken) => {
  session.authToken = authToken;
  store.save(session);
};
/** Called when the server no longer accepts our token (expired, revoked, user deactivated). */
export const whenSessionLost = (handler) => { onSessionLost = handler; };
/** This tab's own token was revoked on purpose (from "My sessions"): sign out with `message`. */
export const lostSession = (message) => onSessionLost(message);

/** A refusal from the server, with its body. `code` is Rocket.Chat's errorType or error. */
export class ApiError extends Error {
  constructor(status, body) {
    super(describeBody(status, body));
    this.status = status;
    this.body = body || {};
    this.code = this.body.errorType || this.body.error || '';
  }
}

/** The person closed a 2FA or confirmation dialog: nothing was done, nothing to report. */
export class Cancelled extends Error {}

function describeBody(status, body) {
  if (!body) return `The server answered HTTP ${status}.`;
  return body.message && typeof body.message === 'string' && !body.error ? body.message : body.error || `HTTP ${status}`;
}

async function send(method, path, { body, query, headers = {}, auth = true } = {}) {
  const url = new URL(path, window.location.origin);
  for (const [k, v] of Object.entries(query || {})) if (v !== undefined && v !== '') url.searchParams.set(k, v);
  const h = { Accept: 'application/json', ...headers };
  if (auth && session) {
    h['X-User-Id'] = session.userId;
    h['X-Auth-Token'] = session.authToken;
  }
  if (body !== undefined) h['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(url, {
      method, headers: h, body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'omit', cache: 'no-store', redirect: 'error',
    });
  } catch {
    throw new ApiError(0, { error: 'The server could not be reached. Check your connection and try again.' });
  }
  const text = await response.text();
  let parsed = null;
  try { parsed = text ? JSON.parse(text) : null; } catch { parsed = { error: text.slice(0, 200) }; }
  if (!response.ok) {
    const err = new ApiError(response.status, parsed);
    if (auth && session && response.status === 401 && parsed?.error === 'You must be logged in to do this.') {
      onSessionLost();
    }
    throw err;
  }
  return parsed;
}

export const get = (path, query) => send('GET', path, { query });
export const post = (path, body = {}) => send('POST', path, { body });
export const login = (body) => send('POST', '/api/v1/login', { body, auth: false });

const challenged = (err) => err instanceof ApiError && ['totp-required', 'totp-invalid'].includes(err.code);

/**
 * POST to a route Rocket.Chat marks twoFactorRequired. When the server asks for a second
 * factor, a dialog asks the person (password, app code or e-mailed code) and the request is
 * repeated with x-2fa-code/x-2fa-method. Cancelling the dialog throws `Cancelled`.
 */
export async function gatedPost(path, body = {}) {
  let headers = {};
  for (;;) {
    try {
      return await send('POST', path, { body, headers });
    } catch (err) {
      if (!challenged(err)) throw err;
      const answer = await askSecondFactor(err.body.details || {}, err.code === 'totp-invalid');
      if (!answer) throw new Cancelled();
      const code = answer.method === 'password' ? await sha256Hex(answer.code) : answer.code;
      headers = { 'x-2fa-code': code, 'x-2fa-method': answer.method };
    }
  }
}

/**
 * POST to a SAYMON route with HTTP Basic (username and password) or the caller's own SAYMON
 * API token: SAYMON accepts only its own credentials, never a Rocket.Chat token.
 */
export async function saymonPost(path, { username, password, apiToken }) {
  const headers = {};
  const query = {};
  if (apiToken) query['api-token'] = apiToken;
  else {
    const bytes = new TextEncoder().encode(`${username}:${password}`);
    headers.Authorization = `Basic ${btoa(String.fromCharCode(...bytes))}`;
  }
  try {
    return await send('POST', path, { headers, query, auth: false });
  } catch (err) {
    throw saymonError(err);
  }
}

// SAYMON's 401 messages are JSON inside the JSON string: {"code", "message": "{\"message\":...}"}.
function saymonError(err) {
  let message = err.body?.message;
  try {
    const inner = JSON.parse(message);
    if (inner && inner.message) message = inner.message;
  } catch { /* already plain */ }
  if (message) err.message = message;
  return err;
}

/** Plain words for the refusals a person can do something about. */
export function explain(err) {
  if (err instanceof Cancelled) return '';
  if (!(err instanceof ApiError)) return `Something went wrong: ${err.message}`;
  switch (err.code) {
    case 'Unauthorized':
      return 'Wrong username, e-mail or password.';
    case 'error-login-blocked-for-user':
      return 'This account is blocked for a few minutes after too many failed sign-ins. Wait and try again.';
    case 'error-login-blocked-for-ip':
      return 'Sign-ins from your network address are blocked for a few minutes after too many failures. Wait and try again.';
    case 'error-user-is-not-activated':
      return 'This account is deactivated. Ask an administrator to reactivate it.';
    case 'totp-invalid':
    case 'invalid-totp':
      return 'That code is not valid. Codes change every 30 seconds; check the clock of your device and try again.';
    case 'totp-max-attempts':
      return 'Too many wrong codes. Start over to get a new code.';
    case 'You must be logged in to do this.':
      return 'Your session has ended. Sign in again.';
    default:
      if (err.status === 403) return 'You do not have permission to do this.';
      if (err.status === 429) return 'Too many requests. Wait a moment and try again.';
      return err.message;
  }
}
