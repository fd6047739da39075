/**
 * Keystone and Neutron (server + L2/DHCP/L3/metadata agents with noop backends) on free loopback
 * ports, with devstack's public/private/router1, for tests that drive Neutron with Debian's
 * `openstack` CLI. `node --import tsx test/e2e/network/cloud.ts` runs it standalone.
 * @module
 */
import { listen } from '../../../src/common/http/app.js';
import { createTransport } from '../../../src/common/rpc/index.js';
import {
  createNeutronServer, createL2Agent, createDhcpAgent, createL3Agent, createMetadataAgent, ensureDefaultNetworks,
} from '../../../src/network/service.js';
import { runStandalone, startE2eKeystone } from '../support/keystone.js';

export interface NetworkCloud {
  authUrl: string;
  networkUrl: string;
  adminPassword: string;
  demoPassword: string;
  stop(): Promise<void>;
}

export async function startNetworkCloud(): Promise<NetworkCloud> {
  const ks = await startE2eKeystone({ label: 'network', service: { type: 'network', name: 'neutron' } });
  const bus = await createTransport('inproc://');
  const server = await createNeutronServer({ database: await ks.openDb('neutron'), bus, host: 'netnode', validator: ks.identity.validator, authUrl: ks.authUrl });
  await listen(server.app, { host: '127.0.0.1', port: ks.servicePort });
  await server.start();
  const agents = [
    await createL2Agent({ bus, host: 'netnode' }), await createL2Agent({ bus, host: 'compute1' }),
    await createDhcpAgent({ bus, host: 'netnode' }), await createL3Agent({ bus, host: 'netnode', resyncIntervalMs: 1000 }),
    await createMetadataAgent({ bus, host: 'netnode' }),
  ];
  for (const a of agents) await a.start();
  await ensureDefaultNetworks(server, { demoProjectId: await ks.projectId('demo'), adminProjectId: await ks.projectId('admin') });
  return {
    authUrl: ks.authUrl, networkUrl: ks.serviceUrl, adminPassword: ks.adminPassword, demoPassword: ks.demoPassword,
    async stop() {
      for (const a of agents.reverse()) await a.stop();
      await server.stop();
      await bus.close();
      await ks.stop();
    },
  };
}

await runStandalone(startNetworkCloud, import.meta.url);
