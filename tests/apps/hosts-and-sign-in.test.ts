import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { readDashboardSettings } from '../../apps/dashboard/settings.js';
import { readLocalSettings } from '../../stacks/local/settings.js';
import { withFixtureKinds } from '../helpers.js';
import { buildTestApp, type DashboardUnderTest } from './test-app.js';
import { queueDepth } from '../queue-inspection.js';

const TOKEN = 'a-long-enough-dashboard-token-123';
const APP_SERVICE_HOST = 'app-eda-dev.azurewebsites.net';
const DASHBOARD_ENV = { QUEUE: 'sqlite', QUEUE_PATH: '/tmp/q.db', CONTAINERS: 'none', DATABASE_URI: 'sqlite:/tmp/j.db', DASHBOARD_TOKEN: TOKEN };

/** One HTTP/1.0 request over a socket, as written: HTTP/1.0 may leave the Host header out. */
function rawRequest(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(request));
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
  });
}

describe('host names: only those the stack is served under', () => {
  let dash: DashboardUnderTest;
  afterEach(async () => dash?.close());

  it('refuses a foreign Host with a matching Origin (DNS rebinding): it can neither add work nor read tasks', async () => {
    dash = await buildTestApp();
    await dash.app.inject({ method: 'POST', url: '/api/jobs', headers: { 'content-type': 'application/json' }, payload: '{"message":"mine"}' });
    const evil = { host: 'evil.example:3000', origin: 'http://evil.example:3000', 'sec-fetch-site': 'same-origin' };
    const add = await dash.app.inject({ method: 'POST', url: '/api/jobs', headers: { ...evil, 'content-type': 'application/json' }, payload: '{"message":"theirs"}' });
    expect(add.statusCode).toBe(421);
    expect(add.json()).toEqual({ error: 'this server does not answer for the host name "evil.example" (ALLOWED_HOSTS names those it answers for)' });
    for (const url of ['/api/jobs', '/', '/ui/updates?since=0', '/healthz']) {
      const read = await dash.app.inject({ url, headers: evil });
      expect(read.statusCode, url).toBe(421);
      expect(read.body).not.toContain('mine');
    }
    expect((await dash.store.list({ limit: 10 })).jobs.map((j) => j.message)).toEqual(['mine']);
    expect(queueDepth(dash.queue).active).toBe(1);
  });

  it('answers 127.0.0.1, localhost and [::1] on any port for a loopback bind', async () => {
    dash = await buildTestApp();
    for (const host of ['127.0.0.1:3000', 'localhost', 'LOCALHOST:8080', '[::1]:3000']) {
      expect((await dash.app.inject({ url: '/api/jobs', headers: { host } })).statusCode, host).toBe(200);
    }
    expect((await dash.app.inject({ url: '/api/jobs', headers: { host: '127.0.0.2:3000' } })).statusCode).toBe(421);
  });

  it('refuses an Origin whose scheme differs from the server’s', async () => {
    dash = await buildTestApp();
    const response = await dash.app.inject({
      method: 'POST',
      url: '/api/jobs',
      headers: { host: 'localhost:3000', origin: 'https://localhost:3000', 'content-type': 'application/json' },
      payload: '{"message":"hi"}',
    });
    expect(response.statusCode).toBe(403);
    expect(response.json().error).toBe('a request from https://localhost:3000 may not change anything here');
    expect(await dash.isEmpty()).toBe(true);
  });

  it('says a request has no Host header, rather than blaming its Origin', async () => {
    dash = await buildTestApp();
    await dash.app.listen({ host: '127.0.0.1', port: 0 });
    const port = (dash.app.server.address() as { port: number }).port;
    const body = '{"message":"hi"}';
    const answer = await rawRequest(
      port,
      `POST /api/jobs HTTP/1.0\r\nOrigin: http://127.0.0.1:${port}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
    expect(answer).toMatch(/^HTTP\/1\.[01] 400 /);
    expect(answer).toContain('{"error":"the request has no Host header; this server answers only for the host names it is served under"}');
    expect(await dash.isEmpty()).toBe(true);
  });

  it('reads ALLOWED_HOSTS for the local stack, and needs it for a bind to every address', () => {
    expect(readLocalSettings(withFixtureKinds()).servedAs).toEqual({ hosts: ['127.0.0.1', 'localhost', '[::1]'], scheme: 'http', anyHostPaths: [] });
    const locked = { DASHBOARD_TOKEN: TOKEN };
    expect(readLocalSettings(withFixtureKinds({ ...locked, HOST: '0.0.0.0', ALLOWED_HOSTS: 'dash.example.com, 192.168.1.20' })).servedAs.hosts).toEqual(['dash.example.com', '192.168.1.20']);
    expect(readLocalSettings(withFixtureKinds({ ...locked, HOST: '192.168.1.20' })).servedAs.hosts).toEqual(['192.168.1.20']);
    expect(readLocalSettings(withFixtureKinds({ HOST: '::1' })).servedAs.hosts).toEqual(['127.0.0.1', 'localhost', '[::1]']);
    expect(() => readLocalSettings(withFixtureKinds({ ...locked, HOST: '0.0.0.0' }))).toThrow(/HOST 0\.0\.0\.0 listens on every address: set ALLOWED_HOSTS/);
    expect(() => readLocalSettings(withFixtureKinds({ ALLOWED_HOSTS: 'dash.example.com:3000' }))).toThrow(/ALLOWED_HOSTS must list host names without ports/);
  });

  it('on App Service answers its own host name over https, with HSTS, and leaves /healthz to the platform’s probe', async () => {
    const settings = readDashboardSettings({ ...DASHBOARD_ENV, WEBSITE_HOSTNAME: APP_SERVICE_HOST });
    expect(settings.servedAs).toEqual({ hosts: [APP_SERVICE_HOST], scheme: 'https', anyHostPaths: ['/healthz'] });
    dash = await buildTestApp({ servedAs: settings.servedAs, accessToken: TOKEN });
    const site = { host: APP_SERVICE_HOST, authorization: `Bearer ${TOKEN}` };
    const ok = await dash.app.inject({ url: '/api/jobs', headers: site });
    expect(ok.statusCode).toBe(200);
    expect(ok.headers['strict-transport-security']).toBe('max-age=31536000');
    expect((await dash.app.inject({ url: '/api/jobs', headers: { ...site, host: 'localhost' } })).statusCode).toBe(421);
    expect((await dash.app.inject({ url: '/healthz', headers: { host: '10.0.0.7:8080' } })).statusCode).toBe(200);
    const postFrom = (origin: string) =>
      dash.app.inject({ method: 'POST', url: '/api/jobs', headers: { ...site, origin, 'content-type': 'application/json' }, payload: '{"message":"hi"}' });
    expect((await postFrom(`http://${APP_SERVICE_HOST}`)).statusCode).toBe(403);
    const https = await postFrom(`https://${APP_SERVICE_HOST}`);
    expect(https.statusCode).toBe(202);
    // ALLOWED_HOSTS replaces the default host name (a custom domain).
    expect(readDashboardSettings({ ...DASHBOARD_ENV, WEBSITE_HOSTNAME: APP_SERVICE_HOST, ALLOWED_HOSTS: 'dash.example.com' }).servedAs.hosts).toEqual(['dash.example.com']);
    expect(() => readDashboardSettings(DASHBOARD_ENV)).toThrow(/HOST 0\.0\.0\.0 listens on every address: set ALLOWED_HOSTS/);
  });
});

describe('signing in to the deployed dashboard', () => {
  let dash: DashboardUnderTest;
  afterEach(async () => dash?.close());
  const login = (token: string) =>
    dash.app.inject({ method: 'POST', url: '/login', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `token=${token}` });

  it('answers a malformed cookie with 401, not an error', async () => {
    dash = await buildTestApp({ accessToken: TOKEN });
    for (const cookie of ['eda_token=%E0%A4%A', 'eda_token=%', '=;;eda_token', 'eda_token="unterminated']) {
      const response = await dash.app.inject({ url: '/api/jobs', headers: { cookie } });
      expect(response.statusCode, cookie).toBe(401);
      expect(response.json().error).toMatch(/access token is required/);
    }
  });

  it('counts wrong sign-ins per address: the eleventh wrong one gets 429, and the page says so; other addresses are not held up', async () => {
    dash = await buildTestApp({ accessToken: TOKEN });
    for (let i = 0; i < 10; i++) expect((await login('guess')).statusCode).toBe(401);
    const limited = await login('guess');
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['content-type']).toMatch(/^text\/html/);
    expect(limited.headers['retry-after']).toBe('60');
    expect(limited.body).toMatch(/<p class="error" role="alert">too many wrong access tokens from this address: try again in 60 s<\/p>/);
    // That address is refused on every path now, even with the right token…
    expect((await login(TOKEN)).statusCode).toBe(429);
    expect((await dash.app.inject({ url: '/api/jobs', headers: { authorization: `Bearer ${TOKEN}` } })).statusCode).toBe(429);
    // …but another address, with no failures of its own, signs in and reads at once.
    const elsewhere = await dash.app.inject({ method: 'POST', url: '/login', remoteAddress: '10.1.2.3', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `token=${TOKEN}` });
    expect(elsewhere.statusCode).toBe(303);
    expect((await dash.app.inject({ url: '/api/jobs', remoteAddress: '10.1.2.3', headers: { authorization: `Bearer ${TOKEN}` } })).statusCode).toBe(200);
  });

  it('counts wrong bearer tokens and cookies as it counts sign-ins, and not requests without a credential or with the right one', async () => {
    dash = await buildTestApp({ accessToken: TOKEN });
    const from = (remoteAddress: string, headers: Record<string, string>) => dash.app.inject({ url: '/api/jobs', remoteAddress, headers });
    // Without a credential, or with the right one, nothing is counted however often.
    for (let i = 0; i < 30; i++) expect((await from('10.0.0.1', {})).statusCode).toBe(401);
    for (let i = 0; i < 30; i++) expect((await from('10.0.0.1', { authorization: `Bearer ${TOKEN}` })).statusCode).toBe(200);
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await from('10.0.0.2', { cookie: `eda_token=guess-${i}` })).statusCode);
    expect(statuses).toEqual([...Array(10).fill(401), 429, 429]);
    // The cookie's failures and the sign-in form's share one count.
    expect((await dash.app.inject({ method: 'POST', url: '/login', remoteAddress: '10.0.0.2', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `token=${TOKEN}` })).statusCode).toBe(429);
    expect((await from('10.0.0.1', { authorization: `Bearer ${TOKEN}` })).statusCode).toBe(200);
  });

  it('sets the cookie Secure only when browsers come over https', async () => {
    dash = await buildTestApp({ accessToken: TOKEN });
    expect(String((await login(TOKEN)).headers['set-cookie'])).not.toMatch(/Secure/);
    await dash.close();
    dash = await buildTestApp({ accessToken: TOKEN, servedAs: { hosts: ['localhost'], scheme: 'https', anyHostPaths: [] } });
    expect(String((await login(TOKEN)).headers['set-cookie'])).toMatch(/HttpOnly; Secure; SameSite=Strict/);
  });

  it('signs out: the cookie is cleared and the page offers it only when there is a token', async () => {
    dash = await buildTestApp({ accessToken: TOKEN });
    const cookie = String((await login(TOKEN)).headers['set-cookie']).split(';')[0]!;
    const page = await dash.app.inject({ url: '/', headers: { accept: 'text/html', cookie } });
    expect(page.body).toContain('<form method="post" action="/logout" class="sign-out">');
    const out = await dash.app.inject({ method: 'POST', url: '/logout', headers: { cookie } });
    expect(out.statusCode).toBe(303);
    expect(out.headers.location).toBe('/login');
    expect(String(out.headers['set-cookie'])).toMatch(/^eda_token=; Max-Age=0; Path=\/; .*HttpOnly; SameSite=Strict/);
    const fromElsewhere = await dash.app.inject({ method: 'POST', url: '/logout', headers: { origin: 'https://evil.example' } });
    expect(fromElsewhere.statusCode).toBe(403);
    await dash.close();
    dash = await buildTestApp();
    expect((await dash.app.inject('/')).body).not.toContain('action="/logout"');
  });
});
