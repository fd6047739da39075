/** GET / and GET /v3: Keystone's version documents. @module */
import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from './common.js';

export const API_VERSION = 'v3.14';
const UPDATED = '2020-04-07T00:00:00Z';

export function versionDoc(d: ApiDeps): Record<string, unknown> {
  return {
    id: API_VERSION,
    status: 'stable',
    updated: UPDATED,
    links: [{ rel: 'self', href: `${d.publicUrl}/v3/` }],
    'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.identity-v3+json' }],
  };
}

export function registerDiscovery(app: FastifyInstance, d: ApiDeps): void {
  app.get('/', { config: { public: true } }, async (_req, reply) => {
    reply.code(300);
    return { versions: { values: [versionDoc(d)] } };
  });
  app.get('/v3', { config: { public: true } }, async () => ({ version: versionDoc(d) }));
}
