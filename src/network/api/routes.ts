/**
 * Neutron's v2.0 REST API mounted on the common app: version documents, the core and
 * extension resources, router interface actions, tags, quotas, extensions, availability zones.
 * Anything else answers 404 like a Neutron without that extension.
 * @module
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import * as X from '../common/exceptions.js';
import type { NeutronCore } from '../plugin/index.js';
import type { Dict } from '../plugin/core.js';
import { mountResource } from './controller.js';
import { EXTENSIONS } from './extensions.js';
import { registerAgentSchedulerRoutes } from './agent-scheduler-routes.js';

const V = '/v2.0';

function selfUrl(req: FastifyRequest, path: string): string {
  return `${req.protocol}://${req.headers.host ?? 'localhost'}${path}`;
}

export function registerNeutronRoutes(app: FastifyInstance, n: NeutronCore): void {
  app.get('/', { config: { public: true } }, async (req) => ({
    versions: [{ id: 'v2.0', status: 'CURRENT', links: [{ href: selfUrl(req, '/v2.0/'), rel: 'self' }] }],
  }));
  app.get(V, async (req) => ({
    resources: ['subnet', 'network', 'subnetpool', 'port'].map((r) => ({
      name: r, collection: `${r}s`, links: [{ href: selfUrl(req, `/v2.0/${r}s`), rel: 'self' }],
    })),
  }));

  const c = n.core;
  mountResource(app, V, 'network', {
    list: (ctx, o) => c.listNetworks(ctx, o), get: (ctx, id) => c.getNetwork(ctx, id),
    create: (ctx, b) => c.createNetwork(ctx, b), update: (ctx, id, b) => c.updateNetwork(ctx, id, b), delete: (ctx, id) => c.deleteNetwork(ctx, id),
  });
  mountResource(app, V, 'subnet', {
    list: (ctx, o) => c.listSubnets(ctx, o), get: (ctx, id) => c.getSubnet(ctx, id),
    create: (ctx, b) => c.createSubnet(ctx, b), update: (ctx, id, b) => c.updateSubnet(ctx, id, b), delete: (ctx, id) => c.deleteSubnet(ctx, id),
  });
  mountResource(app, V, 'port', {
    list: (ctx, o) => c.listPorts(ctx, o), get: (ctx, id) => c.getPort(ctx, id),
    create: (ctx, b) => c.createPort(ctx, b), update: (ctx, id, b) => c.updatePort(ctx, id, b), delete: (ctx, id) => c.deletePort(ctx, id),
  });
  const sp = n.subnetPools;
  mountResource(app, V, 'subnetpool', {
    list: (ctx, o) => sp.list(ctx, o), get: (ctx, id) => sp.get(ctx, id),
    create: (ctx, b) => sp.create(ctx, b), update: (ctx, id, b) => sp.update(ctx, id, b), delete: (ctx, id) => sp.delete(ctx, id),
  });
  const sg = n.securityGroups;
  mountResource(app, V, 'security_group', {
    list: (ctx, o) => sg.list(ctx, o), get: (ctx, id) => sg.get(ctx, id),
    create: (ctx, b) => sg.create(ctx, b), update: (ctx, id, b) => sg.update(ctx, id, b), delete: (ctx, id) => sg.delete(ctx, id),
  }, 'security-groups');
  mountResource(app, V, 'security_group_rule', {
    list: (ctx, o) => sg.listRules(ctx, o), get: (ctx, id) => sg.getRule(ctx, id),
    createBulk: (ctx, b) => sg.createRules(ctx, b), update: (ctx, id, b) => sg.updateRule(ctx, id, b), delete: (ctx, id) => sg.deleteRule(ctx, id),
  }, 'security-group-rules');
  const l3 = n.l3;
  mountResource(app, V, 'router', {
    list: (ctx, o) => l3.list(ctx, o), get: (ctx, id) => l3.get(ctx, id),
    create: (ctx, b) => l3.create(ctx, b), update: (ctx, id, b) => l3.update(ctx, id, b), delete: (ctx, id) => l3.delete(ctx, id),
  });
  app.put(`${V}/routers/:id/add_router_interface`, async (req) => l3.addInterface(req.ctx, (req.params as Dict)['id'], interfaceBody(req.body)));
  app.put(`${V}/routers/:id/remove_router_interface`, async (req) => l3.removeInterface(req.ctx, (req.params as Dict)['id'], interfaceBody(req.body)));
  mountResource(app, V, 'floatingip', {
    list: (ctx, o) => l3.listFips(ctx, o), get: (ctx, id) => l3.getFip(ctx, id),
    create: (ctx, b) => l3.createFip(ctx, b), update: (ctx, id, b) => l3.updateFip(ctx, id, b), delete: (ctx, id) => l3.deleteFip(ctx, id),
  });
  const rbac = n.rbac;
  mountResource(app, V, 'rbac_policy', {
    list: (ctx, o) => rbac.list(ctx, o), get: (ctx, id) => rbac.get(ctx, id),
    create: (ctx, b) => rbac.create(ctx, b), update: (ctx, id, b) => rbac.update(ctx, id, b), delete: (ctx, id) => rbac.delete(ctx, id),
  }, 'rbac-policies');
  const agents = n.agents;
  mountResource(app, V, 'agent', {
    list: (ctx, o) => agents.list(ctx, o), get: (ctx, id) => agents.get(ctx, id),
    update: (ctx, id, b) => agents.update(ctx, id, b), delete: (ctx, id) => agents.delete(ctx, id),
  });

  app.get(`${V}/availability_zones`, async () => ({ availability_zones: await agents.availabilityZones() }));
  app.get(`${V}/extensions`, async () => ({ extensions: EXTENSIONS }));
  app.get(`${V}/extensions/:alias`, async (req) => {
    const e = EXTENSIONS.find((x) => x.alias === (req.params as Dict)['alias']);
    if (!e) throw X.HTTPNotFound(`Extension with alias ${(req.params as Dict)['alias']} does not exist`);
    return { extension: e };
  });

  registerAgentSchedulerRoutes(app, n);
  registerQuotaRoutes(app, n);
  registerTagRoutes(app, n);
}

function interfaceBody(body: unknown): Dict {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw X.HTTPBadRequest('Body contains invalid data');
  const b = body as Dict;
  for (const k of Object.keys(b)) if (k !== 'subnet_id' && k !== 'port_id') throw X.HTTPBadRequest(`Unrecognized attribute(s) '${k}'`);
  for (const k of ['subnet_id', 'port_id']) {
    if (b[k] !== undefined && (typeof b[k] !== 'string' || !/^[0-9a-fA-F-]{32,36}$/.test(b[k]))) {
      throw X.HTTPBadRequest(`Invalid input for ${k}. Reason: '${String(b[k])}' is not a valid UUID.`);
    }
  }
  return b;
}

function registerQuotaRoutes(app: FastifyInstance, n: NeutronCore): void {
  const q = n.quotas;
  app.get(`${V}/quotas`, async (req) => ({ quotas: await q.listAll(req.ctx) }));
  app.get(`${V}/quotas/:project/default`, async () => ({ quota: q.defaults() }));
  app.get(`${V}/quotas/:project/details`, async (req) => ({ quota: await q.details(req.ctx, (req.params as Dict)['project']) }));
  app.get(`${V}/quotas/:project`, async (req) => ({ quota: await q.show(req.ctx, (req.params as Dict)['project']) }));
  app.put(`${V}/quotas/:project`, async (req) => {
    const body = req.body as Dict | undefined;
    if (!body || typeof body['quota'] !== 'object' || body['quota'] === null) throw X.HTTPBadRequest("Unable to find 'quota' in request body");
    return { quota: await q.update(req.ctx, (req.params as Dict)['project'], body['quota']) };
  });
  app.delete(`${V}/quotas/:project`, async (req, reply: FastifyReply) => {
    await q.reset(req.ctx, (req.params as Dict)['project']);
    reply.code(204);
    return reply.send();
  });
}

const TAGGABLE = ['networks', 'subnets', 'ports', 'routers', 'floatingips', 'security-groups', 'subnetpools'];

function registerTagRoutes(app: FastifyInstance, n: NeutronCore): void {
  for (const coll of TAGGABLE) {
    const key = coll === 'security-groups' ? 'security_groups' : coll;
    const base = `${V}/${coll}/:id/tags`;
    app.get(base, async (req) => ({ tags: await n.tags.get(req.ctx, key, (req.params as Dict)['id']) }));
    app.put(base, async (req) => {
      const body = req.body as Dict | undefined;
      if (!body || !('tags' in body)) throw X.HTTPBadRequest("Invalid input for tags. Reason: Unable to find 'tags' in request body.");
      return { tags: await n.tags.replace(req.ctx, key, (req.params as Dict)['id'], body['tags']) };
    });
    app.delete(base, async (req, reply) => {
      await n.tags.remove(req.ctx, key, (req.params as Dict)['id']);
      reply.code(204);
      return reply.send();
    });
    app.get(`${base}/:tag`, async (req, reply) => {
      const p = req.params as Dict;
      await n.tags.has(req.ctx, key, p['id'], p['tag']);
      reply.code(204);
      return reply.send();
    });
    app.put(`${base}/:tag`, async (req, reply) => {
      const p = req.params as Dict;
      await n.tags.add(req.ctx, key, p['id'], p['tag']);
      reply.code(201);
      return reply.send();
    });
    app.delete(`${base}/:tag`, async (req, reply) => {
      const p = req.params as Dict;
      await n.tags.remove(req.ctx, key, p['id'], p['tag']);
      reply.code(204);
      return reply.send();
    });
  }
}
