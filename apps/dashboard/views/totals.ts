import { JOB_STATES, type JobState } from '../../core/domain/job.js';
import { formatUsd } from './format.js';
import { html, type SafeHtml } from './html.js';
import { STATE_WORDS, stateClass } from './card.js';

export interface Totals {
  counts: Record<JobState, number>;
  costUsd: number;
  costLabel: string;
}

export function totals({ counts, costUsd, costLabel }: Totals): SafeHtml {
  const all = JOB_STATES.reduce((sum, state) => sum + counts[state], 0);
  return html`<div id="totals" class="totals" aria-live="polite">
  <span class="total-count">${all} task${all === 1 ? '' : 's'}</span>
  ${JOB_STATES.map((state) => html`<span class="total ${stateClass(state)}">${STATE_WORDS[state]} <b>${counts[state]}</b></span>`)}
  <span class="total-cost">cost <b>${formatUsd(costUsd)}</b> <small>(${costLabel})</small></span>
</div>`;
}

/** The header's figures as a partial beside the cards they count: one answer carries both. */
export function totalsPartial(sums: Totals): SafeHtml {
  return html`<hx-partial hx-target="#totals" hx-swap="outerHTML">${totals(sums)}</hx-partial>`;
}
