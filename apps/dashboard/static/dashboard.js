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

async function loadDetails(dialog) {
  try {
    const response = await fetch(dialog.dataset.metricsUrl, { headers: { accept: 'application/json' } });
    if (!response.ok) throw new Error(`metrics: HTTP ${response.status}`);
    const metrics = await response.json();
    drawChart(dialog.querySelector('[data-series="cpu"]'), metrics.cpu, 'm', 1);
    drawChart(dialog.querySelector('[data-series="memory"]'), metrics.memory, 'MiB', 1024 * 1024);
  } catch (error) {
    for (const chart of dialog.querySelectorAll('.chart')) chart.textContent = `Could not load metrics: ${error.message}`;
  }
  try {
    const response = await fetch(dialog.dataset.logsUrl);
    const text = await response.text();
    dialog.querySelector('.logs').textContent = response.ok ? text || '(no output yet)' : `Could not load logs: HTTP ${response.status}`;
  } catch (error) {
    dialog.querySelector('.logs').textContent = `Could not load logs: ${error.message}`;
  }
}

function openDetails(dialog) {
  for (const other of document.querySelectorAll('dialog.details')) if (other !== dialog) other.remove();
  dialog.addEventListener('close', () => {
    clearInterval(dialog.refresh);
    dialog.remove();
  });
  dialog.showModal();
  void loadDetails(dialog);
  // A running container's charts and logs keep up while the modal is open.
  if (dialog.dataset.live === 'true') dialog.refresh = setInterval(() => loadDetails(dialog), 2000);
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
