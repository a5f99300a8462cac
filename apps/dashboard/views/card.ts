import type { JobState } from '../../core/domain/job.js';
import { costPerSecondUsd, type PriceTable } from '../../core/domain/pricing.js';
import type { JobView } from '../job-view.js';
import { formatUsd, orderKey, preview, timeTag } from './format.js';
import { html, type SafeHtml } from './html.js';

export interface ViewContext {
  prices: PriceTable;
  /** "ACI equivalent" on the local stack, "ACI" on Azure. */
  costLabel: string;
}

/** Colour is never the only signal: every card says its state in words too. */
export const STATE_WORDS: Record<JobState, string> = {
  Pending: 'Pending',
  InProgress: 'In progress',
  Done: 'Done',
  Failed: 'Failed',
};

export function stateClass(state: JobState): string {
  return `state-${state.toLowerCase()}`;
}

/** One task as a card, keyed by the job id so a newer rendering replaces it in place. */
export function card(job: JobView, context: ViewContext): SafeHtml {
  const percent = Math.round((job.progress ?? 0) * 100);
  return html`<article id="job-${job.id}" class="card ${stateClass(job.state)}" data-order="${orderKey(job.id)}" data-state="${job.state}">
  <div class="card-head">
    <span class="badge">${STATE_WORDS[job.state]}</span>
    <span class="kind" title="the task's kind">${job.kind}</span>
    ${job.priorAttempts.length > 0 ? html`<span class="attempt" title="earlier attempts were lost or killed">attempt ${job.priorAttempts.length + 1}</span>` : ''}
    ${job.state === 'Pending'
      ? html`<span class="container pending-note">waiting for a container${job.dispatchedAt ? ' to start' : ''}</span>`
      : html`<code class="container" title="${job.containerName}">${job.containerName}</code>`}
  </div>
  <p class="message">${preview(job.message)}</p>
  ${job.state === 'InProgress'
    ? html`<div class="progress"><progress max="100" value="${percent}">${percent}%</progress><span>${percent}%</span></div>`
    : ''}
  ${job.state === 'Pending' && job.error ? html`<p class="retry">${retryNote(job)}</p>` : ''}
  ${job.state === 'Failed' ? html`<p class="reason">${job.error ?? 'failed'}</p>` : ''}
  ${job.state === 'Done' && job.output ? html`<p class="output">${job.output}</p>` : ''}
  <div class="card-foot">
    ${costMeter(job, context)}
    ${timeTag(job.enqueuedAt)}
    <button type="button" class="details-button" hx-get="/ui/containers/${job.containerName}/details" hx-target="body" hx-swap="beforeend">More Details</button>
    ${job.state === 'Failed'
      ? html`<button type="button" class="requeue-button" hx-post="/ui/jobs/${job.id}/requeue" hx-swap="none">Requeue</button>`
      : ''}
  </div>
</article>`;
}

/** Why a Pending task is waiting again: its last attempt ended, or starting its container failed. */
function retryNote(job: JobView): string {
  const last = job.priorAttempts[job.priorAttempts.length - 1];
  if (last && !job.dispatchedAt && job.error === last.reason) return `Attempt ${last.n} ended, running it again: ${last.reason}`;
  return `Starting the container failed, retrying: ${job.error}`;
}

/** A finished task's cost; a running one's meter, which the page's script keeps running. */
function costMeter(job: JobView, { prices, costLabel }: ViewContext): SafeHtml {
  const title = `${costLabel} at ${formatUsd(prices.vcpuSecondUsd)}/vCPU-s and ${formatUsd(prices.gbSecondUsd)}/GiB-s`;
  const from = job.dispatchedAt ?? job.startedAt;
  if (!job.finishedAt && from && job.cpu !== null && job.memoryGb !== null) {
    const rate = costPerSecondUsd(job.cpu, job.memoryGb, prices);
    return html`<span class="cost running" title="${title}" data-cost-from="${from}" data-cost-rate="${rate}">${formatUsd(job.costUsd)}</span>`;
  }
  return html`<span class="cost" title="${title}">${formatUsd(job.costUsd)}</span>`;
}
