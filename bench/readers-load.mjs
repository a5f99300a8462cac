// The readers row's load, in a process of its own so that its clients don't share the
// benchmark's event loop (which times /healthz and tasks). Reads {url, pollers, listers,
// seconds, since} from stdin; `pollers` clients each ask /ui/updates?since=<their revision> once
// a second (taking the revision from each answer, as the page's poller does); `listers` clients
// each list /api/jobs?limit=500, one request after another. Writes counts to stdout as JSON.
import { Agent, request } from 'node:http';

const input = JSON.parse(await new Promise((resolve) => {
  let text = '';
  process.stdin.on('data', (chunk) => (text += chunk));
  process.stdin.on('end', () => resolve(text));
}));
const { url, pollers, listers, seconds, since } = input;
const until = Date.now() + seconds * 1000;
const counts = { polls: 0, pollErrors: 0, lists: 0, listErrors: 0, listMs: [] };

function get(agent, path) {
  return new Promise((resolve) => {
    const started = performance.now();
    const req = request(`${url}${path}`, { agent, timeout: 30_000 }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8'), ms: performance.now() - started }));
      res.on('error', () => resolve({ status: 0, body: '', ms: performance.now() - started }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve({ status: 0, body: '', ms: performance.now() - started }));
    req.end();
  });
}

async function poller(offset) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  let rev = since;
  // Spread over the first second, as tabs opened at different times are.
  await new Promise((resolve) => setTimeout(resolve, offset));
  while (Date.now() < until) {
    const next = Date.now() + 1000;
    const answer = await get(agent, `/ui/updates?since=${rev}`);
    if (answer.status === 200 || answer.status === 204) counts.polls++;
    else counts.pollErrors++;
    const seen = /since=(\d+)/.exec(answer.body);
    if (seen) rev = Number(seen[1]);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - Date.now())));
  }
  agent.destroy();
}

async function lister() {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  while (Date.now() < until) {
    const answer = await get(agent, '/api/jobs?limit=500');
    if (answer.status === 200) {
      counts.lists++;
      counts.listMs.push(answer.ms);
    } else counts.listErrors++;
  }
  agent.destroy();
}

await Promise.all([
  ...Array.from({ length: pollers }, (_, i) => poller((i * 1000) / pollers)),
  ...Array.from({ length: listers }, () => lister()),
]);
process.stdout.write(JSON.stringify(counts));
