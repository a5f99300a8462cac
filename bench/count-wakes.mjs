// Preloaded into a stack process by the benchmark's "events" section (node --import, through
// NODE_OPTIONS), never by `npm start`: notes the wall-clock time of every callback the event
// loop runs for a resource (a timer firing, an interval's tick, an immediate, an fs.watch event,
// a socket's data; promises and nextTicks run within another callback and are left out), and writes them to BENCH_WAKES on
// SIGUSR2. Several callbacks in one turn of the loop each count: the count is an upper bound.
import { createHook } from 'node:async_hooks';
import { writeFileSync } from 'node:fs';

const types = new Map();
const wakes = [];
const now = () => performance.timeOrigin + performance.now();

createHook({
  init(id, type) {
    // A promise's reaction or a nextTick runs inside the callback that queued it: not a wake.
    if (type === 'PROMISE' || type === 'TickObject' || type === 'Microtask') return;
    // Where a timer was made: the first frame outside Node's own code names its owner.
    const origin = type === 'Timeout' ? (new Error().stack ?? '').split('\n').slice(1).find((line) => !line.includes('node:') && !line.includes('count-wakes')) : undefined;
    types.set(id, origin ? `${type} ${origin.trim().replace(/^at /, '')}` : type);
  },
  before(id) {
    const type = types.get(id);
    if (type) wakes.push({ at: now(), type });
  },
  destroy(id) {
    types.delete(id);
  },
}).enable();

process.on('SIGUSR2', () => writeFileSync(process.env.BENCH_WAKES, JSON.stringify(wakes)));
