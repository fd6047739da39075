/**
 * Keystone and placement on free loopback ports, Keystone's catalog pointing at placement,
 * for tests that drive placement with real clients (Debian's openstack CLI with osc-placement).
 * `node --import tsx test/e2e/placement/cloud.ts` runs it standalone and prints an openrc.
 * @module
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { openDatabase, type Database } from '../../../src/common/db/index.js';
import { listen } from '../../../src/common/http/app.js';
import { setLogDestination } from '../../../src/common/log.js';
import { freePort } from '../../../src/cmd/ports.js';
import { createIdentityService, type IdentityService } from '../../../src/identity/service.js';
import { createPlacementApp } from '../../../src/placement/service.js';

export interface PlacementCloud {
  authUrl: string;
  placementUrl: string;
  adminPassword: string;
  demoPassword: string;
  stop(): Promise<void>;
}

export async function startPlacementCloud(): Promise<PlacementCloud> {
  const dir = mkdtempSync(path.join(tmpdir(), 'stratus-placement-e2e-'));
  setLogDestination(path.join(dir, 'stratus.log'));
  const [kPort, pPort] = [await freePort(), await freePort()];
  const kUrl = `http://127.0.0.1:${kPort}`;
  const placementUrl = `http://127.0.0.1:${pPort}`;
  const kdb: Database = await openDatabase(`sqlite:///${path.join(dir, 'keystone.db')}`, { service: 'keystone' });
  const identity: IdentityService = await createIdentityService({ database: kdb, stateDir: dir, publicUrl: kUrl });
  await listen(identity.app, { host: '127.0.0.1', port: kPort });
  const adminPassword = 'admin-e2e-pw';
  const demoPassword = 'demo-e2e-pw';
  await identity.bootstrap({
    adminPassword, demoPassword, region: 'RegionOne',
    services: [
      { type: 'identity', name: 'keystone', publicUrl: `${kUrl}/v3` },
      { type: 'placement', name: 'placement', publicUrl: placementUrl },
    ],
    serviceUsers: [{ name: 'placement', password: 'placement-pw' }],
  });
  const pdb: Database = await openDatabase(`sqlite:///${path.join(dir, 'placement.db')}`, { service: 'placement' });
  const placement: FastifyInstance = await createPlacementApp({ database: pdb, validator: identity.validator, authUrl: `${kUrl}/v3` });
  await listen(placement, { host: '127.0.0.1', port: pPort });
  return {
    authUrl: `${kUrl}/v3`, placementUrl, adminPassword, demoPassword,
    async stop() {
      await placement.close();
      await pdb.close();
      await identity.app.close();
      await identity.close();
      await kdb.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const c = await startPlacementCloud();
  console.log(`export OS_AUTH_URL=${c.authUrl} OS_USERNAME=admin OS_PASSWORD=${c.adminPassword} OS_PROJECT_NAME=admin `
    + 'OS_USER_DOMAIN_ID=default OS_PROJECT_DOMAIN_ID=default OS_IDENTITY_API_VERSION=3');
  const stop = () => void c.stop().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
