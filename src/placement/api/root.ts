/**
 * GET / : placement's version document (placement/handlers/root.py).
 * @module
 */
import type { FastifyInstance } from 'fastify';
import { PLACEMENT_MAX_VERSION, PLACEMENT_MIN_VERSION } from './versions.js';
import { sendJson } from './util.js';

export function registerRoot(app: FastifyInstance): void {
  app.get('/', { config: { public: true } }, async (req, reply) => sendJson(req, reply, {
    versions: [{
      id: `v${PLACEMENT_MIN_VERSION}`,
      max_version: PLACEMENT_MAX_VERSION,
      min_version: PLACEMENT_MIN_VERSION,
      status: 'CURRENT',
      links: [{ rel: 'self', href: '' }],
    }],
  }));
}
