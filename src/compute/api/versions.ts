/**
 * The version documents (`GET /` and `GET /v2.1`), advertising only what is implemented.
 * @module
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { MIN_MICROVERSION, maxMicroversion } from './common.js';

const UPDATED_21 = '2013-07-23T11:33:21Z';

function root(req: FastifyRequest): string {
  return `${(req.headers['x-forwarded-proto'] as string) ?? 'http'}://${req.headers['host'] ?? 'localhost'}`;
}

function v21(req: FastifyRequest) {
  return {
    id: 'v2.1', status: 'CURRENT', version: maxMicroversion(), min_version: MIN_MICROVERSION, updated: UPDATED_21,
    links: [{ rel: 'self', href: `${root(req)}/v2.1/` }],
  };
}
function v20(req: FastifyRequest) {
  return { id: 'v2.0', status: 'SUPPORTED', version: '', min_version: '', updated: '2011-01-21T11:33:21Z', links: [{ rel: 'self', href: `${root(req)}/v2/` }] };
}

export function registerVersions(app: FastifyInstance): void {
  app.get('/', { config: { public: true } }, async (req, reply) => {
    reply.code(200);
    return { versions: [v20(req), v21(req)] };
  });
  const doc = async (req: FastifyRequest) => ({
    version: {
      ...v21(req),
      links: [{ rel: 'self', href: `${root(req)}/v2.1/` }, { rel: 'describedby', type: 'text/html', href: 'http://docs.openstack.org/' }],
      'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.compute+json;version=2.1' }],
    },
  });
  app.get('/v2.1', { config: { public: true } }, doc);
}
