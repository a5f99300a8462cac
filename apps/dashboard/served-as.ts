import { isIP } from 'node:net';
import type { SettingsReader } from '../core/settings/reader.js';

/** How browsers reach the dashboard: a request for any other host name, or from any other origin, is refused. */
export interface ServedAs {
  /** Host names without a port, lowercase; IPv6 addresses in brackets, as in a Host header. */
  hosts: string[];
  /** The scheme browsers use: an Origin must match it as well as the host. */
  scheme: 'http' | 'https';
  /** Paths answered whatever the Host header says (App Service's health check). */
  anyHostPaths: string[];
}

/** The names a loopback bind is reached by. */
const LOOPBACK_HOSTS = ['127.0.0.1', 'localhost', '[::1]'];

/** What `buildApp` assumes when told nothing: the local stack's loopback bind, over http. */
export const LOOPBACK: ServedAs = { hosts: LOOPBACK_HOSTS, scheme: 'http', anyHostPaths: [] };

const WILDCARD_BINDS = new Set(['0.0.0.0', '::', '[::]']);

/** The host name of a Host header: lowercase, without its port, an IPv6 address kept in brackets. */
export function hostnameOf(hostHeader: string): string {
  const host = hostHeader.trim().toLowerCase();
  if (host.startsWith('[')) return host.slice(0, host.indexOf(']') + 1);
  return host.replace(/:\d*$/, '');
}

function asHostHeaderName(address: string): string {
  return isIP(address) === 6 ? `[${address.toLowerCase()}]` : address.toLowerCase();
}

export function isLoopback(bind: string): boolean {
  return bind === 'localhost' || bind === '::1' || bind === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(bind);
}

/**
 * Reads ALLOWED_HOSTS (comma-separated host names, no ports) and works out the names the
 * dashboard answers: a loopback bind adds 127.0.0.1, localhost and [::1]; a specific address
 * adds itself; a bind to every address (0.0.0.0) adds nothing, so it needs ALLOWED_HOSTS or
 * `fallback` (on App Service, the site's own host name). Refusing every other Host header
 * stops DNS rebinding: a page on evil.example whose name resolves to this machine.
 */
export function readServedHosts(read: SettingsReader, bind: string, fallback = ''): string[] {
  const listed = read.string('ALLOWED_HOSTS', fallback);
  const hosts = new Set<string>();
  for (const entry of listed.split(',').map((h) => h.trim().toLowerCase()).filter(Boolean)) {
    const bracketed = isIP(entry) === 6 ? `[${entry}]` : entry;
    if (!/^(\[[0-9a-f:.]+\]|[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*)$/.test(bracketed)) {
      read.problem(`ALLOWED_HOSTS must list host names without ports, separated by commas (got "${entry}")`);
      continue;
    }
    hosts.add(bracketed);
  }
  if (isLoopback(bind)) for (const name of [...LOOPBACK_HOSTS, asHostHeaderName(bind)]) hosts.add(name);
  else if (!WILDCARD_BINDS.has(bind)) hosts.add(asHostHeaderName(bind));
  if (hosts.size === 0) {
    read.problem(`HOST ${bind} listens on every address: set ALLOWED_HOSTS to the host names the dashboard is reached by (for example ALLOWED_HOSTS=dash.example.com,192.168.1.20)`);
  }
  return [...hosts];
}
