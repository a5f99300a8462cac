import http from 'node:http';
import https from 'node:https';
import { syncBuiltinESMExports } from 'node:module';
import net from 'node:net';
import tls from 'node:tls';

export interface Attempt {
  /** Which API was called: fetch, http.request, https.get, net.connect, … */
  via: string;
  host: string;
  url?: string;
}

type Answer = (attempt: Attempt) => Response | undefined;

/**
 * Records every outbound request the process starts while installed, through each way Node
 * code reaches the network: the global fetch (undici, which the ACR token exchange uses),
 * http/https request and get, and the sockets under them (net and tls connect), so a client
 * that brings its own HTTP stack is seen too. Nothing leaves the machine: fetch is answered by
 * `answer` (or refused), every other call throws. Returns the record and the way to uninstall.
 */
export function guardNetwork(answer: Answer = () => undefined): { attempts: Attempt[]; restore: () => void } {
  const attempts: Attempt[] = [];
  const restores: (() => void)[] = [];
  const replace = <T extends object>(target: T, key: keyof T & string, replacement: unknown) => {
    const original = target[key];
    (target as any)[key] = replacement;
    restores.push(() => ((target as any)[key] = original));
  };

  replace(globalThis, 'fetch', async (input: string | URL | Request) => {
    const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
    const attempt = { via: 'fetch', host: url.hostname, url: url.href };
    attempts.push(attempt);
    const answered = answer(attempt);
    if (answered) return answered;
    throw new TypeError(`fetch failed: the test refuses ${url.href}`);
  });
  const refuse = (via: string) => (...args: unknown[]) => {
    const [first] = args;
    const host =
      typeof first === 'string' || first instanceof URL
        ? new URL(first).hostname
        : String((first as { host?: string; hostname?: string } | undefined)?.hostname ?? (first as { host?: string } | undefined)?.host ?? first);
    attempts.push({ via, host });
    throw new Error(`${via} to ${host}: the test refuses every connection`);
  };
  for (const [module, name] of [
    [http, 'http'],
    [https, 'https'],
  ] as const) {
    replace(module, 'request', refuse(`${name}.request`));
    replace(module, 'get', refuse(`${name}.get`));
  }
  replace(net, 'connect', refuse('net.connect'));
  replace(net, 'createConnection', refuse('net.createConnection'));
  replace(tls, 'connect', refuse('tls.connect'));
  // ES modules that imported these functions by name see the replacements too.
  syncBuiltinESMExports();

  return {
    attempts,
    restore: () => {
      for (const restore of restores.reverse()) restore();
      syncBuiltinESMExports();
    },
  };
}
