import { afterEach, describe, expect, it } from 'vitest';
import { withoutPort } from '../../apps/dashboard/client-address.js';
import { readDashboardSettings } from '../../apps/dashboard/settings.js';
import { buildTestApp, type DashboardUnderTest } from './test-app.js';

const TOKEN = 'a-long-enough-dashboard-token-123';
const ENV = { QUEUE: 'sqlite', QUEUE_PATH: '/tmp/q.db', CONTAINERS: 'none', DATABASE_URI: 'sqlite:/tmp/j.db', DASHBOARD_TOKEN: TOKEN, HOST: '127.0.0.1' };

describe('whose address a wrong credential counts against', () => {
  let dash: DashboardUnderTest;
  afterEach(async () => dash?.close());

  it('trusts X-Forwarded-For only where App Service says it runs (WEBSITE_SITE_NAME)', () => {
    expect(readDashboardSettings(ENV).clientAddress).toBe('socket');
    expect(readDashboardSettings({ ...ENV, WEBSITE_SITE_NAME: 'app-eda-dev' }).clientAddress).toBe('app-service-forwarded-for');
  });

  it('on App Service, counts the rightmost X-Forwarded-For entry, port stripped: a forged entry before it changes nothing', async () => {
    const settings = readDashboardSettings({ ...ENV, WEBSITE_SITE_NAME: 'app-eda-dev' });
    dash = await buildTestApp({ accessToken: TOKEN, clientAddress: settings.clientAddress });
    // Every request comes from the same front end socket, as behind App Service.
    const via = (forwardedFor: string, token: string) =>
      dash.app.inject({ url: '/api/jobs', remoteAddress: '169.254.129.1', headers: { 'x-forwarded-for': forwardedFor, authorization: `Bearer ${token}` } });
    for (let i = 0; i < 11; i++) await via(`10.9.9.${i}, 203.0.113.7:5${i}123`, 'guess');
    expect((await via('203.0.113.7:61000', 'guess')).statusCode).toBe(429);
    expect((await via('203.0.113.7', TOKEN)).statusCode).toBe(429);
    // Another client behind the same front end is not held up.
    expect((await via('198.51.100.4:40000', TOKEN)).statusCode).toBe(200);
    expect((await via('203.0.113.7:1, 198.51.100.4:40001', TOKEN)).statusCode).toBe(200);
  });

  it('off App Service, ignores X-Forwarded-For: changing it does not escape the count', async () => {
    dash = await buildTestApp({ accessToken: TOKEN, clientAddress: readDashboardSettings(ENV).clientAddress });
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      statuses.push((await dash.app.inject({ url: '/api/jobs', remoteAddress: '10.0.0.9', headers: { 'x-forwarded-for': `192.0.2.${i}`, authorization: 'Bearer guess' } })).statusCode);
    }
    expect(statuses.slice(10)).toEqual([429, 429]);
    expect((await dash.app.inject({ url: '/api/jobs', remoteAddress: '10.0.0.8', headers: { 'x-forwarded-for': '10.0.0.9', authorization: `Bearer ${TOKEN}` } })).statusCode).toBe(200);
  });

  it('strips a port from IPv4 and bracketed IPv6 entries, and leaves a bare IPv6 address whole', () => {
    expect(withoutPort('203.0.113.7:5123')).toBe('203.0.113.7');
    expect(withoutPort('203.0.113.7')).toBe('203.0.113.7');
    expect(withoutPort('[2001:db8::1]:5123')).toBe('2001:db8::1');
    expect(withoutPort('2001:db8::1')).toBe('2001:db8::1');
  });
});
