// The dashboard as its own server (the App Service container): settings from the
// environment, adapters by settings, graceful close on SIGTERM.
import { errorMessage, SettingsError } from '../core/domain/errors.js';
import { buildApp } from './app.js';
import { createDashboardDeps } from './composition.js';
import { readDashboardSettings } from './settings.js';

try {
  const settings = readDashboardSettings(process.env);
  const deps = await createDashboardDeps(settings);
  const app = await buildApp(deps, { logger: { level: settings.logLevel }, accessToken: settings.accessToken });
  app.addHook('onClose', async () => {
    await Promise.allSettled([deps.store.close(), deps.queue.close()]);
  });
  await app.listen({ host: settings.host, port: settings.port });
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
} catch (error) {
  console.error(error instanceof SettingsError ? errorMessage(error) : error);
  process.exit(error instanceof SettingsError ? 2 : 1);
}
