import type { FastifyInstance } from 'fastify';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { notFound } from '../http-errors.js';

const require = createRequire(import.meta.url);
const HTMX_DIST = dirname(require.resolve('htmx.org/dist/htmx.min.js'));
// Source and build both sit below the package root; the assets stay in the source tree.
const STATIC_DIR = join(findPackageRoot(fileURLToPath(import.meta.url)), 'apps/dashboard/static');

const ASSETS: Record<string, { file: string; type: string }> = {
  'htmx.min.js': { file: join(HTMX_DIST, 'htmx.min.js'), type: 'text/javascript' },
  'hx-upsert.min.js': { file: join(HTMX_DIST, 'ext/hx-upsert.min.js'), type: 'text/javascript' },
  'dashboard.js': { file: join(STATIC_DIR, 'dashboard.js'), type: 'text/javascript' },
  'dashboard.css': { file: join(STATIC_DIR, 'dashboard.css'), type: 'text/css' },
  'favicon.svg': { file: join(STATIC_DIR, 'favicon.svg'), type: 'image/svg+xml' },
};

function findPackageRoot(from: string): string {
  let dir = dirname(from);
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${from}`);
    dir = parent;
  }
  return dir;
}

/** The page's script, stylesheet, icon and htmx, served by the app itself: no CDN, works offline. */
export async function staticAssetRoutes(app: FastifyInstance): Promise<void> {
  const assets = new Map(Object.entries(ASSETS).map(([name, asset]) => [name, { body: readFileSync(asset.file), type: asset.type }]));
  app.get<{ Params: { name: string } }>(
    '/static/:name',
    { schema: { params: { type: 'object', properties: { name: { type: 'string' } } } } },
    async (request, reply) => {
      const asset = assets.get(request.params.name);
      if (!asset) throw notFound(`no asset ${request.params.name}`);
      return reply.type(asset.type).header('cache-control', 'no-cache').send(asset.body);
    },
  );
  // Where a browser looks for a page's icon when the page names none (a log, a JSON answer): the same icon.
  const icon = assets.get('favicon.svg')!;
  app.get('/favicon.ico', async (_request, reply) => reply.type(icon.type).header('cache-control', 'no-cache').send(icon.body));
}
