// How a token's lifetime and use read in the tables: when it expires (expired and
// expiring-soon tokens stand out), when and from where it was last used, and its scope.
// Shared by "My tokens", "My sessions" and the administration of a user's tokens.

import { h, formatDate } from './dom.js';

/** A token that ends within this many days is flagged, as GitLab warns a week ahead. */
export const SOON_DAYS = 7;
const DAY_MS = 24 * 60 * 60 * 1000;

/** 'none' (never expires), 'expired', 'soon' (within SOON_DAYS) or 'later'. */
export function expiryState(expiresAt, now = Date.now()) {
  if (!expiresAt) return 'none';
  const at = new Date(expiresAt).getTime();
  if (Number.isNaN(at)) return 'none';
  if (at <= now) return 'expired';
  return at - now <= SOON_DAYS * DAY_MS ? 'soon' : 'later';
}

/** The class a table row takes so that expired and expiring tokens stand out. */
export function rowClass(expiresAt) {
  return { expired: 'expired', soon: 'expiring' }[expiryState(expiresAt)] || '';
}

function daysLeft(expiresAt) {
  const days = Math.ceil((new Date(expiresAt).getTime() - Date.now()) / DAY_MS);
  if (days <= 1) return 'Expires within a day';
  return `Expires in ${days} days`;
}

/** "Never", or the date with a badge when it is past or near. */
export function expiryContent(expiresAt) {
  const state = expiryState(expiresAt);
  if (state === 'none') return ['Never'];
  const date = h('time', { datetime: expiresAt }, formatDate(expiresAt));
  if (state === 'expired') return [h('span', { class: 'badge off' }, 'Expired'), ' ', date];
  if (state === 'soon') return [h('span', { class: 'badge warn' }, daysLeft(expiresAt)), ' ', date];
  return [date];
}

/** "Never used", or the time and the address it came from. */
export function lastUsedContent(at, address) {
  if (!at) return ['Never used'];
  const parts = [h('time', { datetime: at }, formatDate(at))];
  if (address) parts.push(h('span', { class: 'address' }, ` from ${address}`));
  return parts;
}

/** Full scope reads plainly; a read-only token carries a badge. */
export function scopeContent(scope) {
  return scope === 'read-only' ? [h('span', { class: 'badge' }, 'Read-only')] : ['Full'];
}

/** Under a regenerated token's name: until when its previous value keeps working, if it does. */
export function graceNote(validUntil) {
  if (!validUntil || expiryState(validUntil) === 'expired') return [];
  return [h('span', { class: 'note' }, `Previous value works until ${formatDate(validUntil)}`)];
}
