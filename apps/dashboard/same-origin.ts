import type { FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from './http-errors.js';
import { hostnameOf, type ServedAs } from './served-as.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Runs before any route (and before the answer to a malformed URL): throws to refuse. */
export type Guard = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

export function pathOf(request: FastifyRequest): string {
  return request.url.split('?')[0]!;
}

/**
 * Answers only the host names the dashboard is served under, so a page on another site whose
 * name was pointed at this machine (DNS rebinding) can neither read tasks nor add work.
 * 421 Misdirected Request: "the server is unwilling to produce an authoritative response
 * for the target URI" (RFC 9110, section 15.5.20).
 */
export function refuseOtherHosts({ hosts, anyHostPaths }: ServedAs): Guard {
  const allowed = new Set(hosts);
  const open = new Set(anyHostPaths);
  return async (request) => {
    if (open.has(pathOf(request))) return;
    const host = request.headers.host;
    if (!host) throw new HttpError(400, 'NO_HOST', 'the request has no Host header; this server answers only for the host names it is served under');
    const name = hostnameOf(host);
    if (!allowed.has(name)) {
      throw new HttpError(421, 'UNKNOWN_HOST', `this server does not answer for the host name "${name}" (ALLOWED_HOSTS names those it answers for)`);
    }
  };
}

/**
 * Refuses a state-changing request that a browser sent from another site (CSRF). Browsers
 * mark every request with Sec-Fetch-Site, and a cross-origin POST with Origin, which must
 * then match this server's scheme, host and port; scripts such as curl send neither and are
 * let through, since they carry no victim's cookies.
 */
export function refuseCrossOrigin({ scheme }: ServedAs): Guard {
  return async (request) => {
    if (SAFE_METHODS.has(request.method)) return;
    const site = request.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin' && site !== 'none') {
      throw new HttpError(403, 'CROSS_ORIGIN', `a ${site} request may not change anything here`);
    }
    const origin = request.headers.origin;
    if (origin === undefined) return;
    if (origin === 'null') {
      throw new HttpError(403, 'CROSS_ORIGIN', 'a request from an opaque origin may not change anything here');
    }
    let from: URL;
    try {
      from = new URL(origin);
    } catch {
      throw new HttpError(403, 'CROSS_ORIGIN', `the Origin header "${origin}" is not a URL`);
    }
    const host = request.headers.host;
    if (!host) throw new HttpError(400, 'NO_HOST', 'the request has no Host header to compare its Origin with');
    let served: URL;
    try {
      served = new URL(`${scheme}://${host}`);
    } catch {
      throw new HttpError(400, 'BAD_HOST', `the Host header "${host}" is not a host name`);
    }
    // Compared as origins, so a default port written out (":80") matches one left out.
    if (from.origin !== served.origin) {
      throw new HttpError(403, 'CROSS_ORIGIN', `a request from ${origin} may not change anything here`);
    }
  };
}
