/**
 * nova-api's REST app: /v2.1 (and /v2.1/{project_id}) with the compute microversions, Nova's
 * faults and both request-id headers.
 * @module
 */
import type { FastifyInstance } from 'fastify';
import { COMPUTE_REQUEST_ID_HEADER, OPENSTACK_REQUEST_ID_HEADER, createApp } from '../../common/http/app.js';
import type { TokenValidator } from '../../common/http/auth-types.js';
import type { ComputeApiFacade } from '../api.js';
import { registerServerActions } from './actions.js';
import { MIN_MICROVERSION, maxMicroversion } from './common.js';
import { registerFlavors } from './flavors.js';
import { registerGroupsAndAggregates } from './groups-aggregates.js';
import type { SchedulerAPI } from '../../scheduler/rpcapi.js';
import { registerKeypairs } from './keypairs.js';
import { registerLiveMigrationControls, registerMigrations } from './migrations.js';
import { registerQuotas } from './quotas.js';
import { registerHosts } from './hosts.js';
import { registerInstanceActions } from './instance-actions.js';
import { registerExternalEvents } from './external-events.js';
import { registerServerTagsAndMetadata } from './server-tags-metadata.js';
import { registerProxies } from './proxies.js';
import { registerMoveActions } from './server-actions-move.js';
import { registerServers } from './servers.js';
import { registerInterfaces } from './interfaces.js';
import { registerUsage } from './usage.js';
import { registerVersions } from './versions.js';
import { registerVolumeAttachments } from './volume-attachments.js';
import { registerDiagnostics } from './diagnostics.js';
import { registerTopology } from './topology.js';
import { registerIps } from './ips.js';
import type { CinderAPI } from '../volume/cinder.js';

export function createNovaApiApp(compute: ComputeApiFacade, o: { host: string; validator?: TokenValidator; authUrl?: string; scheduler?: SchedulerAPI; cinder?: CinderAPI }): FastifyInstance {
  const app = createApp({
    service: 'nova-api', host: o.host, faults: 'nova',
    microversion: { service: 'compute', min: MIN_MICROVERSION, max: maxMicroversion(), legacyHeader: 'X-OpenStack-Nova-API-Version' },
    ...(o.validator ? { validator: o.validator } : {}),
    ...(o.authUrl ? { authUrl: o.authUrl } : {}),
    requestIdHeaders: [OPENSTACK_REQUEST_ID_HEADER, COMPUTE_REQUEST_ID_HEADER],
  });
  // Handlers that answer 202/204 without a body return null; webob sends an empty body.
  app.addHook('onSend', async (_req, reply, payload) => {
    if (payload === 'null' && reply.statusCode >= 200 && reply.statusCode < 300) {
      reply.removeHeader('content-type');
      return '';
    }
    return payload;
  });
  registerVersions(app);
  const routes = async (scope: FastifyInstance) => {
    registerServers(scope, compute, { volumesAttached: Boolean(o.cinder) });
    // Move actions (resize, migrate, confirm/revert) answer before the generic action dispatcher.
    registerMoveActions(scope, compute);
    registerMigrations(scope, compute);
    registerLiveMigrationControls(scope, compute);
    registerServerActions(scope, compute, registerProxies(scope, compute));
    registerFlavors(scope, compute.api);
    registerKeypairs(scope, compute.api);
    registerQuotas(scope, compute);
    registerHosts(scope, compute);
    registerInstanceActions(scope, compute);
    registerExternalEvents(scope, compute);
    registerServerTagsAndMetadata(scope, compute);
    registerUsage(scope, compute);
    registerInterfaces(scope, compute);
    registerDiagnostics(scope, compute);
    registerTopology(scope, compute);
    registerGroupsAndAggregates(scope, compute, o.scheduler ?? null);
    // os-volume_attachments exists only when Nova has a Cinder to talk to.
    if (o.cinder) registerVolumeAttachments(scope, compute, o.cinder);
    registerIps(scope, compute);
  };
  // Both mounts exist upstream: with and without the project id in the path.
  void app.register(routes, { prefix: '/v2.1' });
  void app.register(routes, { prefix: '/v2.1/:project_id' });
  void app.register(routes, { prefix: '/v2' });
  void app.register(routes, { prefix: '/v2/:project_id' });
  return app;
}
