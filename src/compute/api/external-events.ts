/**
 * Nova's os-server-external-events: Neutron and Cinder tell Nova what happened to a server's ports and volumes.
 * @module
 */
import type { FastifyInstance } from 'fastify';
import { notFound } from '../../common/errors.js';
import { validateBody } from '../../common/http/validation.js';
import type { ComputeApiFacade } from '../api.js';
import type { ExternalEvent } from '../rpcapi.js';
import { requireAdmin } from './common.js';

const EVENT_NAMES = ['network-changed', 'network-vif-plugged', 'network-vif-unplugged', 'network-vif-deleted', 'volume-extended', 'power-update', 'accelerator-request-bound'];

export function registerExternalEvents(app: FastifyInstance, compute: ComputeApiFacade): void {
  // ---- external events (Neutron, Cinder) ----
  app.post('/os-server-external-events', async (req, reply) => {
    requireAdmin(req, 'os_compute_api:os-server-external-events:create');
    const body = validateBody<{ events: Record<string, string>[] }>(req, {
      type: 'object', required: ['events'], additionalProperties: false,
      properties: {
        events: {
          type: 'array', minItems: 1,
          items: {
            type: 'object', required: ['name', 'server_uuid'], additionalProperties: false,
            properties: { name: { type: 'string', enum: EVENT_NAMES }, server_uuid: { type: 'string', format: 'uuid' }, tag: { type: 'string', maxLength: 255 }, status: { type: 'string', enum: ['failed', 'completed', 'in-progress'] } },
          },
        },
      },
    });
    const events: ExternalEvent[] = body.events.map((e) => ({ name: e['name']!, tag: e['tag'] ?? null, status: (e['status'] ?? 'completed') as ExternalEvent['status'], instance_uuid: e['server_uuid']! }));
    const results = await compute.externalInstanceEvent(req.ctx, events);
    const out = results.map(({ event }, i) => {
      const v: Record<string, unknown> = { name: event.name, server_uuid: event.server_uuid, status: event.status, code: event.code };
      if (body.events[i]!['tag'] !== undefined) v['tag'] = event.tag;
      return v;
    });
    const accepted = out.filter((e) => e['code'] === 200);
    if (accepted.length === 0) throw notFound('No instances found for any event', { type: 'InstanceNotFound' });
    reply.code(accepted.length === out.length ? 200 : 207);
    return { events: out };
  });
}
