/**
 * Keystone alone on a free loopback port, bootstrapped, for tests that drive it with real
 * clients (Debian's openstack CLI, Tempest). `node --import tsx test/e2e/identity/server.ts`
 * also runs it standalone and prints an openrc.
 * @module
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openDatabase } from '../../../src/common/db/index.js';
import { listen } from '../../../src/common/http/app.js';
import { freePort } from '../../../src/cmd/ports.js';
import { createIdentityService, type IdentityService, type IdentityServiceOptions } from '../../../src/identity/service.js';

export interface RunningKeystone {
  svc: IdentityService;
  url: string;
  authUrl: string;
  adminPassword: string;
  demoPassword: string;
  stop(): Promise<void>;
}

export async function startKeystone(o: { port?: number; stateDir?: string; overrides?: IdentityServiceOptions['overrides']; identityOnly?: boolean } = {}): Promise<RunningKeystone> {
  const ownDir = !o.stateDir;
  const stateDir = o.stateDir ?? mkdtempSync(path.join(tmpdir(), 'stratus-keystone-e2e-'));
  const port = o.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const database = await openDatabase(`sqlite:///${path.join(stateDir, 'keystone.db')}`, { service: 'keystone' });
  const svc = await createIdentityService({ database, stateDir, publicUrl: url, overrides: o.overrides });
  await listen(svc.app, { host: '127.0.0.1', port });
  const adminPassword = 'admin-e2e-pw';
  const demoPassword = 'demo-e2e-pw';
  await svc.bootstrap({
    adminPassword,
    demoPassword,
    region: 'RegionOne',
    services: [
      { type: 'identity', name: 'keystone', publicUrl: `${url}/v3` },
      ...(o.identityOnly
        ? []
        : [
            { type: 'compute', name: 'nova', publicUrl: 'http://127.0.0.1:8774/v2.1' },
            { type: 'image', name: 'glance', publicUrl: 'http://127.0.0.1:9292' },
            { type: 'network', name: 'neutron', publicUrl: 'http://127.0.0.1:9696' },
            { type: 'placement', name: 'placement', publicUrl: 'http://127.0.0.1:8778' },
          ]),
    ],
    serviceUsers: [{ name: 'nova', password: 'nova-pw' }],
  });
  return {
    svc,
    url,
    authUrl: `${url}/v3`,
    adminPassword,
    demoPassword,
    async stop() {
      await svc.close();
      await database.close();
      if (ownDir) rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const port = Number(process.env['KEYSTONE_PORT'] ?? 0) || undefined;
  const k = await startKeystone({
    port,
    identityOnly: !!process.env['IDENTITY_ONLY'],
    overrides: process.env['SECURITY_COMPLIANCE']
      ? { security: { lockoutFailureAttempts: 2, lockoutDuration: 5, uniqueLastPasswordCount: 2, minimumPasswordAge: 0 } }
      : undefined,
  });
  console.log(`export OS_AUTH_URL=${k.authUrl} OS_USERNAME=admin OS_PASSWORD=${k.adminPassword} OS_PROJECT_NAME=admin OS_USER_DOMAIN_ID=default OS_PROJECT_DOMAIN_ID=default OS_IDENTITY_API_VERSION=3`);
  const stop = () => void k.stop().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
