import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { FastifyServerOptions } from 'fastify';
import type { SettingsReader } from '../core/settings/reader.js';

/**
 * How long and how many clients the dashboard's HTTP server serves (README: "Settings"). Node's
 * defaults hold a slow client forever (Fastify's connectionTimeout and requestTimeout are 0), so
 * 600 clients sending a byte every 5 s used every descriptor the stack had.
 */
export interface HttpLimits {
  /** The whole request (headers and body) must arrive within this; else 408 and the connection closes. */
  requestTimeoutMs: number;
  /** The request's headers must arrive within this (at most requestTimeoutMs). */
  headersTimeoutMs: number;
  /**
   * A connection with no bytes either way for this long is closed. An idle timeout, not a
   * request's: it must exceed the longest answer the API holds open (a 60 s `?wait`).
   */
  idleTimeoutMs: number;
  /** A kept-alive connection waits this long for its next request. */
  keepAliveTimeoutMs: number;
  /** Open connections at most; more are closed as they are accepted. */
  maxConnections: number;
}

/** The longest answer the API may hold open (`?wait`); the idle timeout must exceed it. */
export const LONGEST_HELD_ANSWER_MS = 60_000;

/** Descriptors kept for the stack's own work (stores, queue, logs, workers' spawns) whatever clients do. */
const RESERVED_DESCRIPTORS = 100;

/**
 * Node looks for requests past their timeout only every `connectionsCheckingInterval` (30 s by
 * default, so a requestTimeout of 10 s could hold a slow client 40 s), and its timer runs even
 * with no connection open, waking an idle stack. So Node's own check is put off as far as a
 * timer goes, and `RequestDeadlines` below does the job: a check every second, only while a
 * connection is open.
 */
const NODE_CHECKING_INTERVAL_MS = 2 ** 31 - 1;
const DEADLINE_CHECK_MS = 1000;

const ERROR_LOG_INTERVAL_MS = 10_000;

export function readHttpLimits(read: SettingsReader): HttpLimits {
  const requestTimeoutMs = read.number('HTTP_REQUEST_TIMEOUT_SECONDS', 30, { min: 1, max: 600 }) * 1000;
  const idleTimeoutMs = read.number('HTTP_IDLE_TIMEOUT_SECONDS', 75, { min: LONGEST_HELD_ANSWER_MS / 1000 + 1, max: 3600 }) * 1000;
  return {
    requestTimeoutMs,
    headersTimeoutMs: Math.min(requestTimeoutMs, 10_000),
    idleTimeoutMs,
    keepAliveTimeoutMs: read.number('HTTP_KEEP_ALIVE_TIMEOUT_SECONDS', 5, { min: 1, max: 600 }) * 1000,
    maxConnections: read.integer('HTTP_MAX_CONNECTIONS', 1000, { min: 1 }),
  };
}

/**
 * The process's open-file limit (RLIMIT_NOFILE, soft), from /proc; null where it can't be read.
 * Node has no getrlimit.
 */
export function descriptorLimit(limitsFile = '/proc/self/limits'): number | null {
  try {
    const line = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync(limitsFile, 'utf8'));
    return line && line[1] !== 'unlimited' ? Number(line[1]) : null;
  } catch {
    return null;
  }
}

/**
 * The connection cap the server uses: the setting, but never so many that clients take the
 * descriptors in-flight work needs (when descriptors run short, new connections are refused
 * first). At least one.
 */
export function connectionCap(limits: HttpLimits, descriptors: number | null): number {
  if (descriptors === null) return limits.maxConnections;
  return Math.max(1, Math.min(limits.maxConnections, descriptors - RESERVED_DESCRIPTORS, Math.floor(descriptors * 0.75)));
}

/**
 * Fastify's server options for these limits: its own timeouts, and a server factory that sets
 * what Fastify doesn't (connectionsCheckingInterval, headersTimeout, maxConnections). With a
 * factory, Fastify sets none of the server's timeouts itself, so the factory sets them all.
 * A failed accept (EMFILE when descriptors run out) is logged, not thrown.
 */
export function httpServerOptions(
  limits: HttpLimits,
  onServerError: (error: Error) => void,
  descriptors: number | null = descriptorLimit(),
): Pick<FastifyServerOptions, 'connectionTimeout' | 'requestTimeout' | 'keepAliveTimeout' | 'serverFactory'> {
  const maxConnections = connectionCap(limits, descriptors);
  return {
    connectionTimeout: limits.idleTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    serverFactory: (handler) => {
      const server: Server = createServer(
        {
          requestTimeout: limits.requestTimeoutMs,
          headersTimeout: limits.headersTimeoutMs,
          keepAliveTimeout: limits.keepAliveTimeoutMs,
          connectionsCheckingInterval: NODE_CHECKING_INTERVAL_MS,
        },
        handler,
      );
      server.setTimeout(limits.idleTimeoutMs);
      server.maxConnections = maxConnections;
      watchRequestDeadlines(server, limits.requestTimeoutMs);
      // After listen, an accept that fails (EMFILE, ENFILE) is an 'error' on the server:
      // without a listener it would end the process. The client's connection is simply not taken.
      // Logged at most once in ERROR_LOG_INTERVAL_MS: a flood of refused accepts is one line.
      let loggedAt = 0;
      server.on('listening', () =>
        server.on('error', (error) => {
          if (Date.now() - loggedAt < ERROR_LOG_INTERVAL_MS) return;
          loggedAt = Date.now();
          onServerError(error);
        }),
      );
      // Fastify answers client errors itself (408 on a request timeout) and closes the socket.
      return server;
    },
  };
}

/** Where a connection is: waiting for a request (or its headers), receiving its body, or answering it. */
interface Tracked {
  phase: 'waiting' | 'receiving' | 'answering';
  since: number;
}

/**
 * Closes a connection whose request has not arrived whole within `requestTimeoutMs`, counted
 * from when it opened or its last answer ended: a client sending a byte every few seconds holds
 * a descriptor no longer than that. An answer held open (a `?wait`) is not a request arriving,
 * and is left to the idle timeout. The check runs once a second while connections are open, and
 * not at all without one, so an idle stack is not woken by it.
 */
export function watchRequestDeadlines(server: Server, requestTimeoutMs: number, checkEveryMs = DEADLINE_CHECK_MS): void {
  const tracked = new Map<import('node:net').Socket, Tracked>();
  let timer: NodeJS.Timeout | null = null;
  const check = () => {
    const now = Date.now();
    for (const [socket, state] of tracked) {
      if (state.phase !== 'answering' && now - state.since > requestTimeoutMs) socket.destroy();
    }
  };
  server.on('connection', (socket) => {
    tracked.set(socket, { phase: 'waiting', since: Date.now() });
    timer ??= setInterval(check, checkEveryMs);
    socket.once('close', () => {
      tracked.delete(socket);
      if (tracked.size === 0 && timer) {
        clearInterval(timer);
        timer = null;
      }
    });
  });
  server.on('request', (request, response) => {
    const state = tracked.get(request.socket);
    if (!state) return;
    state.phase = 'receiving';
    request.once('end', () => {
      if (state.phase === 'receiving') state.phase = 'answering';
    });
    response.once('close', () => {
      state.phase = 'waiting';
      state.since = Date.now();
    });
  });
  server.once('close', () => {
    if (timer) clearInterval(timer);
    timer = null;
  });
}
