import { html, type SafeHtml } from './html.js';

/** The deployed dashboard's sign-in page, with what went wrong last time, if anything. */
export function loginPage(error: string): SafeHtml {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in · event-driven-aci</title>
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/static/dashboard.css"></head>
<body><main>
  <h1>event-driven-aci</h1>
  <form method="post" action="/login" class="add-work">
    <label for="token">Access token (<code>pulumi stack output dashboardToken --show-secrets</code>)</label>
    <input id="token" name="token" type="password" required autocomplete="current-password">
    <button type="submit">Sign in</button>
    ${error ? html`<p class="error" role="alert">${error}</p>` : ''}
  </form>
</main></body></html>`;
}
