/** Small formatting rules shared by the views. */
import { html, type SafeHtml } from './html.js';

/**
 * A moment, in the one format every view uses: the page's script shows it in the reader's local
 * time (24-hour, to the second); its UTC, to the millisecond, is the tooltip. Before the script
 * runs (or without it) the text is the UTC time, said to be UTC.
 */
export function timeTag(iso: string): SafeHtml {
  return html`<time datetime="${iso}" title="${iso.slice(0, 10)} ${iso.slice(11, 23)} UTC">${iso.slice(11, 19)} UTC</time>`;
}

export function formatUsd(usd: number | null): string {
  if (usd === null) return '–';
  if (usd === 0) return '$0';
  // Per-second prices and short tasks cost millionths of a dollar: show them, not "$0.00".
  return usd < 0.01 ? `$${usd.toFixed(7).replace(/0+$/, '')}` : `$${usd.toFixed(4)}`;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${Math.round(seconds - minutes * 60)} s`;
}

export function between(from: string | null, to: string | null): number | null {
  return from && to ? Date.parse(to) - Date.parse(from) : null;
}

/** A shortened message for a card; the full text is in the details. */
export function preview(text: string, max = 280): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/**
 * A fixed-width decimal sort key from a UUIDv7 id (48-bit time and 12-bit counter), so the
 * page's upsert can order cards newest first by comparing keys as text or as numbers.
 */
export function orderKey(id: string): string {
  const hex = id.replace(/-/g, '');
  if (!/^[0-9a-f]{16}/.test(hex)) return '0'.padStart(20, '0');
  const ms = BigInt(`0x${hex.slice(0, 12)}`);
  const counter = BigInt(`0x${hex.slice(13, 16)}`);
  return (ms * 4096n + counter).toString().padStart(20, '0');
}
