/**
 * Keystone and Neutron (server + L2/DHCP/L3/metadata agents with noop backends) on free loopback
 * ports, with devstack's public/private/router1, for tests that drive Neutron with Debian's
 * `openstack` CLI. `node --import tsx test/e2e/network/cloud.ts` runs it standalone.
 * @module
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openDatabase, type Database } from '../../../src/common/db/index.js';
import { listen } from '../../../src/common/http/app.js';
import { setLogDestination } from '../../../src/common/log.js';
import { createTransport } from '../../../src/common/rpc/index.js';
import { freePort } from '../../../src/cmd/ports.js';
import { createIdentityService, type IdentityService } from '../../../src/identity/service.js';
import {
  createNeutronServer, createL2Agent, createDhcpAgent, createL3Agent, createMetadataAgent, ensureDefaultNetworks,
} from '../../../src/network/service.js';

export interface NetworkCloud {
  authUrl: string;
  networkUrl: string;
  adminPassword: string;
  demoPassword: string;
  stop(): Promise<void>;
}

export async function startNetworkCloud(): Promise<NetworkCloud> {
  const dir = mkdtempSync(path.join(tmpdir(), 'stratus-network-e2e-'));
  setLogDestination(path.join(dir, 'stratus.log'));
  const [kPort, nPort] = [await freePort(), await freePort()];
  const kUrl = `http://127.0.0.1:${kPort}`;
  const networkUrl = `http://127.0.0.1:${nPort}`;
  const kdb: Database = await openDatabase(`sqlite:///${path.join(dir, 'keystone.db')}`, { service: 'keystone' });
  const identity: IdentityService = await createIdentityService({ database: kdb, stateDir: dir, publicUrl: kUrl });
  await listen(identity.app, { host: '127.0.0.1', port: kPort });
  const adminPassword = 'admin-e2e-pw';
  const demoPassword = 'demo-e2e-pw';
  await identity.bootstrap({
    adminPassword, demoPassword, region: 'RegionOne',
    services: [
      { type: 'identity', name: 'keystone', publicUrl: `${kUrl}/v3` },
      { type: 'network', name: 'neutron', publicUrl: networkUrl },
    ],
    serviceUsers: [{ name: 'neutron', password: 'neutron-pw' }],
  });
  const ndb: Database = await openDatabase(`sqlite:///${path.join(dir, 'neutron.db')}`, { service: 'neutron' });
  const bus = await createTransport('inproc://');
  const server = await createNeutronServer({ database: ndb, bus, host: 'netnode', validator: identity.validator, authUrl: `${kUrl}/v3` });
  await listen(server.app, { host: '127.0.0.1', port: nPort });
  await server.start();
  const agents = [
    await createL2Agent({ bus, host: 'netnode' }), await createL2Agent({ bus, host: 'compute1' }),
    await createDhcpAgent({ bus, host: 'netnode' }), await createL3Agent({ bus, host: 'netnode', resyncIntervalMs: 1000 }),
    await createMetadataAgent({ bus, host: 'netnode' }),
  ];
  for (const a of agents) await a.start();
  const project = async (name: string): Promise<string> => {
    const token = await fetch(`${kUrl}/v3/auth/tokens`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name: 'admin', domain: { id: 'default' }, password: adminPassword } } },
        scope: { project: { name: 'admin', domain: { id: 'default' } } } } }),
    });
    const t = token.headers.get('x-subject-token')!;
    const r = await fetch(`${kUrl}/v3/projects?name=${name}`, { headers: { 'x-auth-token': t } });
    return ((await r.json()) as any).projects[0].id;
  };
  await ensureDefaultNetworks(server, { demoProjectId: await project('demo'), adminProjectId: await project('admin') });
  return {
    authUrl: `${kUrl}/v3`, networkUrl, adminPassword, demoPassword,
    async stop() {
      for (const a of agents.reverse()) await a.stop();
      await server.stop();
      await bus.close();
      await ndb.close();
      await identity.app.close();
      await identity.close();
      await kdb.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const c = await startNetworkCloud();
  console.log(`export OS_AUTH_URL=${c.authUrl} OS_USERNAME=admin OS_PASSWORD=${c.adminPassword} OS_PROJECT_NAME=admin `
    + 'OS_USER_DOMAIN_ID=default OS_PROJECT_DOMAIN_ID=default OS_IDENTITY_API_VERSION=3');
  const stop = () => void c.stop().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
