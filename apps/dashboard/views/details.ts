import { billedUnits, usageCostUsd } from '../../core/domain/pricing.js';
import type { JobView } from '../job-view.js';
import { STATE_WORDS, stateClass, type ViewContext } from './card.js';
import { between, formatDuration, formatUsd, timeTag } from './format.js';
import { html, type SafeHtml } from './html.js';

interface Step {
  label: string;
  at: string | null;
  /** What the time since the previous step was spent on. */
  spent: string;
}

/** Each earlier attempt: its container, its own timeline, why it ended, what it cost, its logs. */
function earlierAttempts(job: JobView, { prices }: ViewContext): SafeHtml {
  return html`<section>
    <h3>Earlier attempts</h3>
    <ol class="attempts">
      ${job.priorAttempts.map((attempt) => {
        const units = billedUnits(attempt);
        return html`<li>
        <span class="step">Attempt ${attempt.n}</span> <code>${attempt.containerName}</code>
        <span class="took">dispatched ${attempt.dispatchedAt ? timeTag(attempt.dispatchedAt) : '–'}, started ${attempt.startedAt ? timeTag(attempt.startedAt) : '–'}, ended ${timeTag(attempt.finishedAt)}</span>
        <span class="cost">${formatUsd(units ? usageCostUsd(units, prices) : null)}</span>
        <p class="reason">${attempt.reason}</p>
        <a href="/api/containers/${attempt.containerName}/logs" target="_blank" rel="noopener">its logs</a>
      </li>`;
      })}
    </ol>
  </section>`;
}

/**
 * The More Details modal for one container: a native <dialog> the page's script opens, which
 * loads the metrics (drawn as SVG) and the logs from the JSON endpoints named on it. While the
 * task is live the script fetches this fragment again and swaps in its `data-live-part`s (badge,
 * message, attempts, timeline, cost), until it shows a terminal state.
 */
export function details(job: JobView, { prices, costLabel }: ViewContext, { logsFollowed }: { logsFollowed: boolean }): SafeHtml {
  const steps: Step[] = [
    { label: 'Enqueued', at: job.enqueuedAt, spent: '' },
    { label: 'Dispatched', at: job.dispatchedAt, spent: 'queue wait' },
    { label: 'Started', at: job.startedAt, spent: 'container start' },
    { label: 'Finished', at: job.finishedAt, spent: 'run' },
  ];
  const live = job.state === 'Pending' || job.state === 'InProgress';
  const name = job.containerName;
  return html`<dialog class="details ${stateClass(job.state)}" aria-labelledby="details-title"
  data-container="${name}" data-live="${live}" data-details-url="/ui/containers/${name}/details"
  data-metrics-url="/api/containers/${name}/metrics" data-logs-url="/api/containers/${name}/logs">
  <header class="details-head" data-live-part="head">
    <h2 id="details-title"><code>${name}</code></h2>
    <span class="badge">${STATE_WORDS[job.state]}</span>
    <form method="dialog"><button type="submit" class="close" aria-label="Close">Close</button></form>
  </header>
  <section data-live-part="message">
    <h3>Message</h3>
    <pre class="message-full">${job.message}</pre>
    ${job.error ? html`<p class="reason">${job.error}</p>` : ''}
    ${job.output ? html`<p class="output">${job.output}</p>` : ''}
  </section>
  <div data-live-part="attempts">${job.priorAttempts.length > 0 ? earlierAttempts(job, { prices, costLabel }) : ''}</div>
  <section data-live-part="timeline">
    <h3>Timeline${job.priorAttempts.length > 0 ? html` <small>(attempt ${job.priorAttempts.length + 1})</small>` : ''}</h3>
    <ol class="timeline">
      ${steps.map((step, i) => {
        const took = i > 0 ? between(steps[i - 1]!.at, step.at) : null;
        return html`<li class="${step.at ? 'reached' : 'waiting'}">
        <span class="step">${step.label}</span>
        ${step.at ? timeTag(step.at) : html`<span class="not-yet">not yet</span>`}
        ${took !== null ? html`<span class="took">${step.spent}: ${formatDuration(took)}</span>` : ''}
      </li>`;
      })}
    </ol>
  </section>
  <section data-live-part="cost">
    <h3>Cost</h3>
    <p class="details-cost">${job.cpu !== null
      ? html`${formatUsd(job.costUsd)} for ${job.cpu} vCPU and ${job.memoryGb} GiB, billed per second (${costLabel}: ${formatUsd(prices.vcpuSecondUsd)}/vCPU-s, ${formatUsd(prices.gbSecondUsd)}/GiB-s)${job.priorAttempts.length > 0 ? ', every attempt included' : ''}`
      : job.priorAttempts.length > 0
        ? html`${formatUsd(job.costUsd)} for the earlier attempts; the next has not started.`
        : 'Nothing yet: no container has been started.'}</p>
  </section>
  <section>
    <h3>CPU <small>(millicores)</small></h3>
    <div class="chart" data-series="cpu" data-unit="m">Loading metrics…</div>
    <h3>Memory <small>(MiB)</small></h3>
    <div class="chart" data-series="memory" data-unit="MiB">Loading metrics…</div>
  </section>
  <section>
    <h3>Logs</h3>
    ${logsFollowed
      ? ''
      : html`<p class="logs-note">Only the end of this container's log can be read here (Azure's <code>listLogs</code> returns a tail, as Docker's logs are read here): this is that tail, fetched again while the task runs.</p>`}
    <pre class="logs">Loading logs…</pre>
  </section>
</dialog>`;
}
