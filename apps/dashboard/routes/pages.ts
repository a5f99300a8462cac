import type { FastifyInstance } from 'fastify';
import type { DashboardDeps } from '../deps.js';

export async function pageRoutes(app: FastifyInstance, _deps: DashboardDeps): Promise<void> {
  app.get('/', async (_request, reply) => {
    reply.type('text/html; charset=utf-8');
    return '<!doctype html><title>event-driven-aci</title><p>POST work to /api/jobs.</p>';
  });
}
