// The dashboard's own script: what htmx does not do by itself. It opens the More Details
// <dialog> and draws its charts, keeps running cost meters moving, and resets the form after
// work is added. No eval, no inline handlers (the page's CSP forbids both).
'use strict';

const SVG = 'http://www.w3.org/2000/svg';

function svg(tag, attributes) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  return element;
}

/** A line chart of [{t, v}] as inline SVG, with the peak value and the span of time. */
function drawChart(container, points, unit, scale) {
  container.replaceChildren();
  if (points.length === 0) {
    const note = document.createElement('p');
    note.className = 'empty-chart';
    note.textContent = 'No samples yet.';
    container.append(note);
    return;
  }
  // Drawn at the container's own width so text keeps its size and the line fills the box.
  const width = Math.max(container.clientWidth, 200);
  const height = 120;
  const pad = { left: 44, right: 8, top: 10, bottom: 18 };
  const times = points.map((p) => Date.parse(p.t));
  const values = points.map((p) => p.v / scale);
  const t0 = Math.min(...times);
  const span = Math.max(Math.max(...times) - t0, 1);
  const peak = Math.max(...values, 1e-9);
  const x = (t) => pad.left + ((t - t0) / span) * (width - pad.left - pad.right);
  const y = (v) => height - pad.bottom - (v / peak) * (height - pad.top - pad.bottom);
  const chart = svg('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': `${container.dataset.series} over time` });
  chart.append(svg('line', { x1: pad.left, y1: y(0), x2: width - pad.right, y2: y(0), stroke: '#c5ccd4' }));
  const line = points.length === 1
    ? svg('circle', { cx: x(times[0]), cy: y(values[0]), r: 3, fill: '#1f6fd1' })
    : svg('polyline', {
        points: times.map((t, i) => `${x(t).toFixed(1)},${y(values[i]).toFixed(1)}`).join(' '),
        fill: 'none', stroke: '#1f6fd1', 'stroke-width': 2,
      });
  chart.append(line);
  const top = svg('text', { x: 4, y: pad.top + 4 });
  top.textContent = `${peak.toFixed(peak < 10 ? 1 : 0)} ${unit}`;
  const bottom = svg('text', { x: 4, y: y(0) });
  bottom.textContent = `0 ${unit}`;
  const duration = svg('text', { x: width - pad.right, y: height - 4, 'text-anchor': 'end' });
  duration.textContent = `${(span / 1000).toFixed(1)} s`;
  chart.append(top, bottom, duration);
  container.append(chart);
}

async function loadMetrics(dialog) {
  try {
    const response = await fetch(dialog.dataset.metricsUrl, { headers: { accept: 'application/json' } });
    if (!response.ok) throw new Error(`metrics: HTTP ${response.status}`);
    const metrics = await response.json();
    drawChart(dialog.querySelector('[data-series="cpu"]'), metrics.cpu, 'm', 1);
    drawChart(dialog.querySelector('[data-series="memory"]'), metrics.memory, 'MiB', 1024 * 1024);
  } catch (error) {
    for (const chart of dialog.querySelectorAll('.chart')) chart.textContent = `Could not load metrics: ${error.message}`;
  }
}

/**
 * The logs, read on from the last offset where the server can (a local file: only what is new
 * comes, and is appended); where it answers with the whole tail (Azure, Docker, the copy kept
 * after the container is gone), the tail replaces what is shown.
 */
async function loadLogs(dialog) {
  const pre = dialog.querySelector('.logs');
  try {
    const offset = Number(dialog.dataset.logOffset ?? 0);
    const response = await fetch(`${dialog.dataset.logsUrl}?from=${offset}`);
    const text = await response.text();
    if (!response.ok) {
      pre.textContent = `Could not load logs: HTTP ${response.status}`;
      return;
    }
    const next = response.headers.get('x-log-next');
    if (response.headers.get('x-log-read') === 'from-offset' && next !== null) {
      const shown = offset === 0 ? '' : pre.dataset.text ?? '';
      pre.dataset.text = shown + text;
      dialog.dataset.logOffset = next;
    } else {
      pre.dataset.text = text;
      dialog.dataset.logOffset = '0';
    }
    pre.textContent = pre.dataset.text || '(no output yet)';
  } catch (error) {
    pre.textContent = `Could not load logs: ${error.message}`;
  }
}

/**
 * The task's own parts of the modal (badge, message, attempts, timeline, cost), fetched again
 * and swapped in; returns whether the task is still live. The fragment is the server's own
 * markup (escaped by its templates), parsed inertly, never run.
 */
async function refreshParts(dialog) {
  const response = await fetch(dialog.dataset.detailsUrl);
  if (!response.ok) return dialog.dataset.live === 'true';
  const fresh = new DOMParser().parseFromString(await response.text(), 'text/html').querySelector('dialog.details');
  if (!fresh) return dialog.dataset.live === 'true';
  for (const part of fresh.querySelectorAll('[data-live-part]')) {
    const old = dialog.querySelector(`[data-live-part="${part.dataset.livePart}"]`);
    if (old) old.replaceWith(document.importNode(part, true));
  }
  localizeTimes(dialog);
  dialog.className = fresh.className;
  dialog.dataset.live = fresh.dataset.live;
  return fresh.dataset.live === 'true';
}

function loadDetails(dialog) {
  return Promise.all([loadMetrics(dialog), loadLogs(dialog)]);
}

/**
 * While the task is live, every 2 s: its parts, then its metrics and logs. The look that finds
 * it terminal loads the metrics and logs a last time and stops: nothing more will change.
 */
async function followDetails(dialog) {
  if (!dialog.isConnected || dialog.dataset.following === 'done') return;
  let live = true;
  try {
    live = await refreshParts(dialog);
  } catch {
    // A failed look is tried again at the next tick.
  }
  await loadDetails(dialog);
  if (!live) {
    dialog.dataset.following = 'done';
    return;
  }
  if (dialog.isConnected) dialog.refresh = setTimeout(() => followDetails(dialog), 2000);
}

function openDetails(dialog) {
  for (const other of document.querySelectorAll('dialog.details')) if (other !== dialog) other.remove();
  dialog.addEventListener('close', () => {
    clearTimeout(dialog.refresh);
    dialog.remove();
  });
  dialog.showModal();
  if (dialog.dataset.live === 'true') {
    dialog.dataset.following = 'yes';
    void loadDetails(dialog).then(() => {
      if (dialog.isConnected) dialog.refresh = setTimeout(() => followDetails(dialog), 2000);
    });
  } else {
    void loadDetails(dialog);
  }
}

function formatUsd(usd) {
  if (usd === 0) return '$0';
  return usd < 0.01 ? `$${usd.toFixed(7).replace(/0+$/, '')}` : `$${usd.toFixed(4)}`;
}

function tickCostMeters() {
  const now = Date.now();
  for (const meter of document.querySelectorAll('[data-cost-from]')) {
    const seconds = Math.max(0, Math.ceil((now - Date.parse(meter.dataset.costFrom)) / 1000));
    meter.textContent = formatUsd(seconds * Number(meter.dataset.costRate));
  }
}

// One format for every moment on the page: the reader's local time, 24-hour, to the second; the
// server's title (its UTC, to the millisecond) stays as the tooltip.
const LOCAL_TIME = { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' };

function localizeTimes(root) {
  const times = root.matches?.('time[datetime]') ? [root] : [];
  for (const time of [...times, ...root.querySelectorAll('time[datetime]')]) {
    if (time.dataset.local) continue;
    time.dataset.local = '1';
    if (!time.title) time.title = time.getAttribute('datetime');
    time.textContent = new Date(time.getAttribute('datetime')).toLocaleTimeString([], LOCAL_TIME);
  }
}

new MutationObserver((changes) => {
  for (const change of changes) {
    for (const node of change.addedNodes) {
      if (!(node instanceof Element)) continue;
      if (node.matches('dialog.details') && !node.open) openDetails(node);
      localizeTimes(node);
    }
  }
}).observe(document.body, { childList: true, subtree: true });

document.addEventListener('htmx:after:request', (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || form.id !== 'add-work') return;
  const status = event.detail?.ctx?.response?.status ?? 0;
  if (status >= 200 && status < 300) {
    form.reset();
    document.getElementById('form-error').replaceChildren();
  }
});

localizeTimes(document);
setInterval(tickCostMeters, 1000);
