// The token audit log (GET /api/v1/tokend.audit), newest first, filtered by user and event,
// paged by the server. It records who minted or revoked which kind of token, never a token.

import * as api from './api.js';
import { $, h, cell, formatDate, toast } from './dom.js';

const PAGE_SIZE = 25;
const state = { offset: 0, user: '', event: '', total: 0 };

const EVENT_NAMES = { 'token.created': 'Created', 'token.revoked': 'Revoked', 'token.refused': 'Refused' };

const who = (party) => party?.username || party?._id || '—';

function row(e) {
  return h('tr', {},
    cell('Time', formatDate(e.at)),
    cell('Event', EVENT_NAMES[e.event] || e.event),
    cell('Actor', who(e.actor)),
    cell('Subject', who(e.subject)),
    cell('Token', [e.tokenKind, e.tokenLabel].filter(Boolean).join(' · ')),
    cell('Address', e.clientAddress || ''),
    cell('How', e.detail || ''));
}

export async function showAudit() {
  const { events, total } = await api.get('/api/v1/tokend.audit',
    { count: PAGE_SIZE, offset: state.offset, user: state.user, event: state.event });
  state.total = total;
  const tbody = $('audit-table').querySelector('tbody');
  tbody.replaceChildren(...events.map(row));
  if (events.length === 0) tbody.append(h('tr', {}, h('td', { colspan: 7 }, 'No events match.')));
  const pager = $('audit-pager');
  const first = total === 0 ? 0 : state.offset + 1;
  pager.querySelector('.pager-info').textContent = `${first}–${state.offset + events.length} of ${total}`;
  pager.querySelector('[data-step="-1"]').disabled = state.offset === 0;
  pager.querySelector('[data-step="1"]').disabled = state.offset + events.length >= total;
}

export function initAudit() {
  const report = (err) => toast(api.explain(err));
  $('audit-filter').addEventListener('submit', (e) => {
    e.preventDefault();
    state.user = $('audit-user').value.trim();
    state.event = $('audit-event').value;
    state.offset = 0;
    showAudit().catch(report);
  });
  $('audit-pager').addEventListener('click', (e) => {
    const step = Number(e.target.dataset?.step);
    if (!step) return;
    state.offset = Math.max(0, state.offset + step * PAGE_SIZE);
    showAudit().catch(report);
  });
}
