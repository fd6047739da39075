/** /v3/policies (stored blobs) and /v3/OS-OAUTH1/consumers (the consumer registry). @module */
import type { FastifyInstance } from 'fastify';
import type { PolicyBlobManager, PolicyBlob } from '../core/policy-blobs.js';
import type { ConsumerManager, Consumer } from '../core/consumers.js';
import { authorize, checkBody, listBody, query, selfLink, type ApiDeps } from './common.js';

export interface BlobDeps extends ApiDeps {
  policyBlobs: PolicyBlobManager;
  consumers: ConsumerManager;
}

const policySchema = (required: string[]) => ({
  type: 'object',
  properties: { policy: { type: 'object', properties: { blob: { type: 'string' }, type: { type: 'string', minLength: 1, maxLength: 255 } }, required, minProperties: 1 } },
  required: ['policy'],
});
const consumerSchema = {
  type: 'object',
  properties: { consumer: { type: 'object', properties: { description: { type: ['string', 'null'], maxLength: 64 } }, additionalProperties: false } },
  required: ['consumer'],
};

type P = { Params: { id: string } };

export function registerPoliciesAndConsumers(app: FastifyInstance, d: BlobDeps): void {
  const renderPolicy = (p: PolicyBlob) => ({ ...p, links: selfLink(d, `policies/${p.id}`) });
  const renderConsumer = (c: Consumer) => ({ ...c, links: selfLink(d, `OS-OAUTH1/consumers/${c.id}`) });

  app.post('/v3/policies', async (req, reply) => {
    await authorize(d, req, 'identity:create_policy');
    const b = checkBody<{ policy: Record<string, any> }>(policySchema(['blob', 'type']), req.body).policy;
    const { blob, type, ...extra } = b;
    reply.code(201);
    return { policy: renderPolicy(await d.policyBlobs.create({ blob, type, extra })) };
  });
  app.get('/v3/policies', async (req) => {
    await authorize(d, req, 'identity:list_policies');
    return listBody(d, req, 'policies', (await d.policyBlobs.list(query(req)['type'])).map(renderPolicy));
  });
  app.get<P>('/v3/policies/:id', async (req) => {
    await authorize(d, req, 'identity:get_policy');
    return { policy: renderPolicy(await d.policyBlobs.get(req.params.id)) };
  });
  app.patch<P>('/v3/policies/:id', async (req) => {
    await authorize(d, req, 'identity:update_policy');
    const b = checkBody<{ policy: Record<string, any> }>(policySchema([]), req.body).policy;
    return { policy: renderPolicy(await d.policyBlobs.update(req.params.id, b)) };
  });
  app.delete<P>('/v3/policies/:id', async (req, reply) => {
    await authorize(d, req, 'identity:delete_policy');
    await d.policyBlobs.delete(req.params.id);
    reply.code(204);
    return '';
  });

  app.post('/v3/OS-OAUTH1/consumers', async (req, reply) => {
    await authorize(d, req, 'identity:create_consumer');
    const b = checkBody<{ consumer: { description?: string | null } }>(consumerSchema, req.body).consumer;
    reply.code(201);
    return { consumer: renderConsumer(await d.consumers.create(b.description ?? null)) };
  });
  app.get('/v3/OS-OAUTH1/consumers', async (req) => {
    await authorize(d, req, 'identity:list_consumers');
    return listBody(d, req, 'consumers', (await d.consumers.list()).map(renderConsumer));
  });
  app.get<P>('/v3/OS-OAUTH1/consumers/:id', async (req) => {
    await authorize(d, req, 'identity:get_consumer');
    return { consumer: renderConsumer(await d.consumers.get(req.params.id)) };
  });
  app.patch<P>('/v3/OS-OAUTH1/consumers/:id', async (req) => {
    await authorize(d, req, 'identity:update_consumer');
    const b = checkBody<{ consumer: { description?: string | null } }>(consumerSchema, req.body).consumer;
    return { consumer: renderConsumer(await d.consumers.update(req.params.id, b.description ?? null)) };
  });
  app.delete<P>('/v3/OS-OAUTH1/consumers/:id', async (req, reply) => {
    await authorize(d, req, 'identity:delete_consumer');
    await d.consumers.delete(req.params.id);
    reply.code(204);
    return '';
  });
}
