/**
 * os-server-external-events (nova/api/openstack/compute/server_external_events.py): Neutron
 * and Cinder tell Nova what happened to a server's ports and volumes (admin only). The names
 * grow with the microversion: volume-extended (2.51), power-update (2.76),
 * accelerator-request-bound (2.82). Each event answers with its own code: 200 accepted,
 * 404 unknown server, 400 a tag-requiring event without a tag, 422 a server without a host;
 * the whole answer is 207 when any event was not accepted.
 * @module
 */
import type { FastifyInstance } from 'fastify';
import { validateBody } from '../../common/http/validation.js';
import type { ComputeApiFacade } from '../api.js';
import type { ExternalEvent } from '../rpcapi.js';
import { requireAdmin } from './common.js';

const BASE_NAMES = ['network-changed', 'network-vif-plugged', 'network-vif-unplugged', 'network-vif-deleted'];
const createSchema = (names: string[]) => ({
  type: 'object', required: ['events'], additionalProperties: false,
  properties: {
    events: {
      type: 'array', minItems: 1,
      items: {
        type: 'object', required: ['name', 'server_uuid'], additionalProperties: false,
        properties: {
          name: { type: 'string', enum: names }, server_uuid: { type: 'string', format: 'uuid' },
          status: { type: 'string', enum: ['failed', 'completed', 'in-progress'] }, tag: { type: 'string', maxLength: 255 },
        },
      },
    },
  },
});
const V251 = [...BASE_NAMES, 'volume-extended'];
const V276 = [...V251, 'power-update'];
const V282 = [...V276, 'accelerator-request-bound'];
export const CREATE_EVENTS_SCHEMAS = [
  { schema: createSchema(BASE_NAMES), max: '2.50' },
  { schema: createSchema(V251), min: '2.51', max: '2.75' },
  { schema: createSchema(V276), min: '2.76', max: '2.81' },
  { schema: createSchema(V282), min: '2.82' },
];

export function registerExternalEvents(app: FastifyInstance, compute: ComputeApiFacade): void {
  app.post('/os-server-external-events', async (req, reply) => {
    const body = validateBody<{ events: Record<string, string>[] }>(req, CREATE_EVENTS_SCHEMAS);
    requireAdmin(req, 'os_compute_api:os-server-external-events:create');
    const events: ExternalEvent[] = body.events.map((e) => ({ name: e['name']!, tag: e['tag'] ?? null, status: (e['status'] ?? 'completed') as ExternalEvent['status'], instance_uuid: e['server_uuid']! }));
    const results = await compute.externalInstanceEvent(req.ctx, events);
    // Each event comes back as it was sent, with its outcome.
    const out = results.map(({ event }, i) => ({ ...body.events[i]!, status: event.code === 200 ? 'completed' : 'failed', code: event.code }));
    reply.code(out.every((e) => e.code === 200) ? 200 : 207);
    return { events: out };
  });
}
