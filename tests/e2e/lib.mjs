// Shared pieces of the end-to-end tests: the browser, an HTTP client for checking tokens
// outside the browser, TOTP codes computed from a displayed secret, and screenshots.

import { chromium } from 'playwright-core';
import { createHmac } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';

export const BASE = process.env.TOKEND_URL;
export const ADMIN_PASSWORD = process.env.E2E_ADMIN_PASSWORD;
const ARTIFACTS = process.env.E2E_ARTIFACTS || 'artifacts';

/** Every tokend run.sh started; the pages may talk to these and nothing else. */
const ORIGINS = [BASE, process.env.TOKEND_DEFAULTS_URL, process.env.TOKEND_SELF_URL, process.env.TOKEND_SECRET_URL]
  .filter(Boolean);

export const WIDTHS = { phone: { width: 390, height: 844 }, desktop: { width: 1280, height: 860 } };

/** Debian's Chromium with a fresh profile and no background traffic (the network is closed). */
export async function launch(name) {
  const context = await chromium.launchPersistentContext(`${process.env.E2E_PROFILE}-${name}`, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
    viewport: WIDTHS.desktop,
    acceptDownloads: true,
  });
  for (const origin of ORIGINS) {
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
  }
  return context;
}

/**
 * Watches a page for what must never happen: a request leaving tokend's origin, a script
 * error, or a Content-Security-Policy violation (Chromium reports those on the console).
 */
export function watch(page) {
  const problems = [];
  page.on('request', (r) => {
    const url = r.url();
    const ours = ORIGINS.some((origin) => url.startsWith(`${origin}/`));
    if (!ours && !url.startsWith('data:') && !url.startsWith('blob:')) problems.push(`external request ${url}`);
    if (/[?&](token|authToken|password)=/i.test(url)) problems.push(`secret in a URL: ${url}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    // 4xx answers of the API are expected (wrong password, challenges); Chromium logs them.
    if (m.type() === 'error' && !/the server responded with a status of 4\d\d/.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  return problems;
}

/** Full-page screenshots of the current page at phone and desktop widths. */
export async function screenshots(page, name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.evaluate(() => document.getElementById('toast').classList.remove('shown'));
  for (const [label, size] of Object.entries(WIDTHS)) {
    await page.setViewportSize(size);
    await page.screenshot({ path: path.join(ARTIFACTS, `${name}-${label}.png`), fullPage: true, animations: 'disabled' });
  }
  await page.setViewportSize(WIDTHS.desktop);
}

/** A plain HTTP call, as a script holding a token would make it. */
export async function http(method, urlPath, { headers = {}, body } = {}) {
  const response = await fetch(`${BASE}${urlPath}`, {
    method, headers: { 'Content-Type': 'application/json', ...headers }, body: body && JSON.stringify(body),
  });
  return { status: response.status, body: await response.json().catch(() => null) };
}

function base32(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const ch of text.replace(/[\s=]/g, '').toUpperCase()) bits += alphabet.indexOf(ch).toString(2).padStart(5, '0');
  return Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
}

/** RFC 6238 code (SHA-1, 6 digits, 30 s) for the step `offset` steps from now. */
export function totp(secret, offset = 0) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 30000) + offset));
  const mac = createHmac('sha1', base32(secret)).update(counter).digest();
  const at = mac[mac.length - 1] & 0xf;
  return String((mac.readUInt32BE(at) & 0x7fffffff) % 1000000).padStart(6, '0');
}

/** Answers the password dialog the server's 2FA challenge opens. */
export async function confirmWithPassword(page, password) {
  const dialog = page.getByRole('dialog', { name: 'Confirm it is you' });
  await dialog.getByLabel('Password').fill(password);
  await dialog.getByRole('button', { name: 'Continue' }).click();
  await dialog.waitFor({ state: 'detached' });
}

export async function signIn(page, user, password, base = BASE) {
  await page.goto(`${base}/ui/`);
  await page.getByLabel('Username or e-mail').fill(user);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** Reads the value of a show-once dialog's field, then closes the dialog. */
export async function takeSecret(page, title, label = 'Token') {
  const dialog = page.getByRole('dialog', { name: title });
  const value = await dialog.getByLabel(label, { exact: true }).inputValue();
  return { dialog, value };
}
