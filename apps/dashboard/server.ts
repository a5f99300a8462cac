// The dashboard as its own server (the App Service container): settings from the
// environment, adapters by settings, graceful close on SIGTERM. Unlike `npm start`, it does
// not stop when its store or queue cannot be reached: App Service would only restart it, so it
// stays up and /healthz answers 503 naming the part, until the part answers.
import { errorMessage, SettingsError } from '../core/domain/errors.js';
import { buildApp } from './app.js';
import { createDashboardDeps } from './composition.js';
import { httpServerOptions } from './http-limits.js';
import type { OpenWhenReachableOptions } from './open-when-reachable.js';
import { readDashboardSettings } from './settings.js';

/** How long requests in flight get after an unexpected error before the process exits. */
const DRAIN_MS = 10_000;

try {
  const settings = readDashboardSettings(process.env);
  // Parts open only on use, after the app (and its logger) exists.
  let report: OpenWhenReachableOptions['onChange'] = () => {};
  const deps = await createDashboardDeps(settings, { onChange: (change) => report?.(change) });
  let brokenBy: string | null = null;
  deps.storageFault = async () => brokenBy;
  let logServerError: (error: Error) => void = (error) => console.error(`the HTTP server: ${errorMessage(error)}`);
  const app = await buildApp(deps, {
    ...httpServerOptions(settings.http, (error) => logServerError(error)),
    logger: { level: settings.logLevel },
    accessToken: settings.accessToken,
    clientAddress: settings.clientAddress,
    servedAs: settings.servedAs,
  });
  logServerError = (error) => app.log.error(`the HTTP server could not take a connection: ${errorMessage(error)}`);
  report = ({ part, reachable, reason }) => {
    if (reachable) app.log.info(`the ${part} is open`);
    else app.log.error(`the ${part} cannot be reached (tried again on the next request after 5 s): ${reason}`);
  };
  app.addHook('onClose', async () => {
    await Promise.allSettled([deps.store.close(), deps.queue.close()]);
  });
  await app.listen({ host: settings.host, port: settings.port });
  // Open both now rather than on the first request; a failure is logged and retried later.
  void Promise.allSettled([deps.store.ping(), deps.queue.ping()]);
  const stop = () => {
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(`error while closing: ${errorMessage(error)}`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  // After an uncaught error the state is unknown (Node's advice): answer 503 and refuse work
  // while requests in flight drain, then exit with one line; App Service starts it again.
  let failed = false;
  const onUnexpected = (error: unknown) => {
    console.error('unexpected error:', error);
    if (failed) return;
    failed = true;
    brokenBy = `the dashboard is stopping after an unexpected error: ${errorMessage(error)}`;
    setTimeout(() => {
      console.error(`stopped after an unexpected error: ${errorMessage(error)}`);
      process.exit(1);
    }, DRAIN_MS).unref();
    app.close().finally(() => {
      console.error(`stopped after an unexpected error: ${errorMessage(error)}`);
      process.exit(1);
    });
  };
  process.on('uncaughtException', onUnexpected);
  process.on('unhandledRejection', onUnexpected);
} catch (error) {
  console.error(error instanceof SettingsError ? errorMessage(error) : error);
  process.exit(error instanceof SettingsError ? 2 : 1);
}
