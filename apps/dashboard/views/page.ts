import { MAX_COPIES, MESSAGE_LIMIT_BYTES } from '../submit-work.js';
import { card, type ViewContext } from './card.js';
import { html, type SafeHtml } from './html.js';
import { totals, type Totals } from './totals.js';
import type { JobView } from '../job-view.js';

/** Asks for cards changed since `since`; the server answers 204 when nothing changed. */
export function poller(since: number): SafeHtml {
  return html`<div id="poller" hx-get="/ui/updates?since=${since}" hx-trigger="every 1s" hx-swap="outerHTML"></div>`;
}

/** The "older tasks" pager: the next page of cards replaces it. */
export function olderButton(next: string | null): SafeHtml {
  if (!next) return html`<div id="older"></div>`;
  return html`<div id="older"><button type="button" hx-get="/ui/jobs?cursor=${next}" hx-target="#older" hx-swap="outerHTML">Show older tasks</button></div>`;
}

/** Cards inserted or replaced by id, kept newest first (htmx's upsert extension). */
export function upsertCards(cards: SafeHtml[]): SafeHtml {
  if (cards.length === 0) return html``;
  return html`<hx-upsert hx-target="#cards" key="data-order" sort="desc">${cards}</hx-upsert>`;
}

export interface PageModel {
  jobs: JobView[];
  next: string | null;
  rev: number;
  totals: Totals;
  context: ViewContext;
  /** A "Sign out" button, when the dashboard is behind an access token. */
  signOut?: boolean;
  /** The task kinds the form offers, the built-in `default` first. */
  kinds: string[];
}

export function page({ jobs, next, rev, totals: sums, context, signOut = false, kinds }: PageModel): SafeHtml {
  return html`<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="htmx-config" content='{"includeIndicatorCSS": false, "extensions": "upsert"}'>
  <title>event-driven-aci</title>
  <link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
  <link rel="stylesheet" href="/static/dashboard.css">
  <script src="/static/htmx.min.js"></script>
  <script src="/static/hx-upsert.min.js"></script>
  <script src="/static/dashboard.js" defer></script>
</head>
<body>
  <header class="top">
    <h1>event-driven-aci</h1>
    <p class="tagline">One container per task, billed per second.</p>
    ${totals(sums)}
    ${signOut ? html`<form method="post" action="/logout" class="sign-out"><button type="submit">Sign out</button></form>` : ''}
  </header>
  <main>
    <form id="add-work" class="add-work" hx-post="/ui/jobs" hx-swap="none"
          hx-status:4xx="target:#form-error swap:innerHTML" hx-status:5xx="target:#form-error swap:innerHTML">
      <label for="message">Work to do</label>
      <textarea id="message" name="message" rows="2" required maxlength="${MESSAGE_LIMIT_BYTES}" placeholder="a string of work, e.g. resize photo-42.jpg"></textarea>
      <div class="add-row">
        ${kinds.length > 1
          ? html`<label for="kind">Kind</label>
        <select id="kind" name="kind">${kinds.map((kind) => html`<option value="${kind}">${kind}</option>`)}</select>`
          : ''}
        <label for="count">Copies</label>
        <input id="count" name="count" type="number" min="1" max="${MAX_COPIES}" value="1">
        <button type="submit">Add work</button>
      </div>
      <div id="form-error" class="form-error" role="alert"></div>
    </form>
    <section id="cards" class="cards" aria-label="Tasks, newest first">
      ${jobs.map((job) => card(job, context))}
    </section>
    ${jobs.length === 0 ? html`<p class="empty" id="empty">No tasks yet: add some work above.</p>` : ''}
    ${olderButton(next)}
    ${poller(rev)}
  </main>
</body>
</html>`;
}
