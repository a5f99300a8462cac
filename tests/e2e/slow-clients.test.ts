import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, sleep, tempDir } from '../helpers.js';
import { getJob, postJob, startStackProcess, type RunningStack } from '../local-stack-process.js';

const DESCRIPTORS = 400;
const SLOW_CLIENTS = 600;
const REQUEST_TIMEOUT_SECONDS = 4;
const BYTE_EVERY_MS = 5000;

interface SlowClient {
  openedAt: number;
  closedAt: number | null;
  socket: Socket;
}

/**
 * A client that sends a request's headers and then its body one byte every 5 s: without a
 * request timeout it holds a connection (and a descriptor) for ever.
 */
function slowClient(url: URL): SlowClient {
  const client: SlowClient = { openedAt: Date.now(), closedAt: null, socket: connect(Number(url.port), url.hostname) };
  const { socket } = client;
  let ticker: NodeJS.Timeout | undefined;
  socket.on('connect', () => {
    socket.write(`POST /api/jobs HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{`);
    ticker = setInterval(() => socket.write(' '), BYTE_EVERY_MS);
  });
  socket.on('data', () => {}); // a 408 answer, then the close
  socket.on('error', () => {}); // refused or reset: closed either way
  socket.on('close', () => {
    clearInterval(ticker);
    client.closedAt = Date.now();
  });
  return client;
}

describe('clients cannot exhaust the stack', () => {
  const dir = tempDir();
  let stack: RunningStack | null = null;
  let clients: SlowClient[] = [];
  afterEach(async () => {
    for (const client of clients) client.socket.destroy();
    if (stack && stack.child.exitCode === null) await stack.stop(2);
    dir.remove();
  });

  it(`under ulimit -n ${DESCRIPTORS}, ${SLOW_CLIENTS} slow-body clients are closed within the request timeout + 5 s while tasks run to Done`, async () => {
    stack = await startStackProcess(
      {
        DATA_DIR: join(dir.path, 'data'),
        WORK_SECONDS: '6',
        MAX_CONCURRENT: '4',
        HTTP_REQUEST_TIMEOUT_SECONDS: String(REQUEST_TIMEOUT_SECONDS),
      },
      { descriptorLimit: DESCRIPTORS },
    );
    const url = new URL(stack.url);
    // Tasks running while the clients arrive.
    const before = await Promise.all(Array.from({ length: 4 }, (_, i) => postJob(stack!.url, `before ${i}`)));
    await eventually(async () => (await Promise.all(before.map((t) => getJob(stack!.url, t.id)))).every((j) => j.state === 'InProgress'), 10_000, 'the tasks running');

    clients = Array.from({ length: SLOW_CLIENTS }, () => slowClient(url));
    await eventually(() => clients.every((c) => c.closedAt !== null), (REQUEST_TIMEOUT_SECONDS + 10) * 1000, 'every slow client closed');

    expect(stack.child.exitCode).toBeNull();
    const held = clients.map((c) => c.closedAt! - c.openedAt);
    expect(Math.max(...held)).toBeLessThanOrEqual((REQUEST_TIMEOUT_SECONDS + 5) * 1000);
    // Some were served until the timeout, the rest refused at once: the cap, not the descriptors, said no.
    expect(held.filter((ms) => ms >= REQUEST_TIMEOUT_SECONDS * 1000 - 1000).length).toBeGreaterThan(0);

    const ended = await eventually(async () => {
      const jobs = await Promise.all(before.map((t) => getJob(stack!.url, t.id)));
      return jobs.every((j) => ['Done', 'Failed'].includes(j.state as string)) ? jobs : undefined;
    }, 20_000, 'the running tasks ended');
    expect(ended.map((j) => j.state)).toEqual(['Done', 'Done', 'Done', 'Done']);

    // New work is accepted and done afterwards.
    const after = await postJob(stack.url, 'after');
    await eventually(async () => (await getJob(stack!.url, after.id)).state === 'Done', 15_000, 'the new task Done');
    expect(stack.child.exitCode).toBeNull();
    expect(stack.output()).not.toMatch(/EMFILE.*\n\s+at /);
  }, 60_000);
});
