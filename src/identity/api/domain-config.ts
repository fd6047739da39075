/** /v3/domains/{id}/config[/{group}[/{option}]] and /v3/domains/config/.../default. @module */
import type { FastifyInstance } from 'fastify';
import { CONFIG_DEFAULTS, type DomainConfig, type DomainConfigManager } from '../core/domain-config.js';
import { authorize, checkBody, type ApiDeps } from './common.js';
import { notFoundError, forbiddenError } from '../util.js';

export interface DomainConfigDeps extends ApiDeps {
  domainConfig: DomainConfigManager;
}

const body = { type: 'object', properties: { config: { type: 'object', minProperties: 1 } }, required: ['config'] };
type P = { Params: { id: string; group: string; option: string } };

export function registerDomainConfig(app: FastifyInstance, d: DomainConfigDeps): void {
  const cfg = (req: { body: unknown }) => checkBody<{ config: DomainConfig }>(body, req.body).config;
  const domain = (id: string) => d.resource.getDomain(id);

  // defaults first: 'config' is not a domain id
  app.get('/v3/domains/config/default', async (req) => {
    await authorize(d, req, 'identity:get_domain_config_default');
    return { config: CONFIG_DEFAULTS };
  });
  app.get<P>('/v3/domains/config/:group/default', async (req) => {
    await authorize(d, req, 'identity:get_domain_config_default');
    const g = CONFIG_DEFAULTS[req.params.group];
    if (!g) throw forbiddenError(`Invalid domain specific configuration: Group ${req.params.group} is not supported for domain specific configurations.`);
    return { config: { [req.params.group]: g } };
  });
  app.get<P>('/v3/domains/config/:group/:option/default', async (req) => {
    await authorize(d, req, 'identity:get_domain_config_default');
    const g = CONFIG_DEFAULTS[req.params.group];
    if (!g || !(req.params.option in g)) throw notFoundError('domain config default', `${req.params.group}/${req.params.option}`);
    return { config: { [req.params.option]: g[req.params.option] } };
  });

  app.put<P>('/v3/domains/:id/config', async (req, reply) => {
    await authorize(d, req, 'identity:create_domain_config');
    await domain(req.params.id);
    const existed = await d.domainConfig.exists(req.params.id);
    await d.domainConfig.replace(req.params.id, cfg(req));
    reply.code(existed ? 200 : 201);
    return { config: await d.domainConfig.get(req.params.id).catch(() => ({})) };
  });
  app.get<P>('/v3/domains/:id/config', async (req) => {
    await authorize(d, req, 'identity:get_domain_config');
    await domain(req.params.id);
    return { config: await d.domainConfig.get(req.params.id) };
  });
  app.patch<P>('/v3/domains/:id/config', async (req) => {
    await authorize(d, req, 'identity:update_domain_config');
    await domain(req.params.id);
    await d.domainConfig.update(req.params.id, cfg(req));
    return { config: await d.domainConfig.get(req.params.id) };
  });
  app.delete<P>('/v3/domains/:id/config', async (req, reply) => {
    await authorize(d, req, 'identity:delete_domain_config');
    await domain(req.params.id);
    await d.domainConfig.delete(req.params.id);
    reply.code(204);
    return '';
  });
  app.get<P>('/v3/domains/:id/config/:group', async (req) => {
    await authorize(d, req, 'identity:get_domain_config');
    await domain(req.params.id);
    return { config: await d.domainConfig.get(req.params.id, req.params.group) };
  });
  app.patch<P>('/v3/domains/:id/config/:group', async (req) => {
    await authorize(d, req, 'identity:update_domain_config');
    await domain(req.params.id);
    await d.domainConfig.update(req.params.id, cfg(req), req.params.group);
    return { config: await d.domainConfig.get(req.params.id) };
  });
  app.delete<P>('/v3/domains/:id/config/:group', async (req, reply) => {
    await authorize(d, req, 'identity:delete_domain_config');
    await domain(req.params.id);
    await d.domainConfig.delete(req.params.id, req.params.group);
    reply.code(204);
    return '';
  });
  app.get<P>('/v3/domains/:id/config/:group/:option', async (req) => {
    await authorize(d, req, 'identity:get_domain_config');
    await domain(req.params.id);
    const c = await d.domainConfig.get(req.params.id, req.params.group, req.params.option);
    return { config: { [req.params.option]: c[req.params.group]![req.params.option] } };
  });
  app.patch<P>('/v3/domains/:id/config/:group/:option', async (req) => {
    await authorize(d, req, 'identity:update_domain_config');
    await domain(req.params.id);
    // the body names the option directly: {"config": {"driver": "ldap"}}
    const b = cfg(req) as unknown as Record<string, unknown>;
    await d.domainConfig.update(req.params.id, { [req.params.group]: b }, req.params.group, req.params.option);
    return { config: await d.domainConfig.get(req.params.id) };
  });
  app.delete<P>('/v3/domains/:id/config/:group/:option', async (req, reply) => {
    await authorize(d, req, 'identity:delete_domain_config');
    await domain(req.params.id);
    await d.domainConfig.delete(req.params.id, req.params.group, req.params.option);
    reply.code(204);
    return '';
  });
}
