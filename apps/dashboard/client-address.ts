import type { FastifyRequest } from 'fastify';
import { isIP } from 'node:net';

/**
 * Where a request's client address comes from: its socket, or on App Service the last entry of
 * `X-Forwarded-For`. App Service's front ends end TLS and forward each request, appending the
 * address they took the connection from (as `address:port`) to any X-Forwarded-For the client
 * sent: App Service's own access restrictions read "the (chain of) IPs that was visited prior to
 * reaching the backend" from it (https://github.com/madsd/articles/wiki/Access-restriction-HttpHeaders,
 * by the App Service networking team). Only the rightmost entry was written by the front end; the
 * ones before it are the client's to choose, so they are never used. Elsewhere the header is
 * anyone's to send and is ignored. The `:port` suffix is handled with or without it, since no
 * page we could read states the exact form.
 */
export type ClientAddressSource = 'socket' | 'app-service-forwarded-for';

export function clientAddressOf(request: FastifyRequest, source: ClientAddressSource): string {
  const socket = request.socket.remoteAddress ?? 'unknown';
  if (source === 'socket') return socket;
  const header = request.headers['x-forwarded-for'];
  const joined = Array.isArray(header) ? header.join(',') : header ?? '';
  const last = joined.split(',').map((entry) => entry.trim()).filter(Boolean).at(-1);
  return last === undefined ? socket : withoutPort(last);
}

/** `1.2.3.4:5678` → `1.2.3.4`; `[2001:db8::1]:5678` → `2001:db8::1`; a bare IPv6 address stays whole. */
export function withoutPort(entry: string): string {
  if (entry.startsWith('[')) return entry.slice(1, entry.indexOf(']') > 0 ? entry.indexOf(']') : undefined);
  if (isIP(entry)) return entry;
  const colon = entry.lastIndexOf(':');
  return colon > 0 && entry.indexOf(':') === colon ? entry.slice(0, colon) : entry;
}
