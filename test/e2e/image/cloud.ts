/**
 * Keystone and Glance on free loopback ports, with the default images `stratus up` registers,
 * for tests that drive Glance with Debian's `openstack` CLI.
 * `node --import tsx test/e2e/image/cloud.ts` runs it standalone and prints an openrc.
 * @module
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openDatabase, type Database } from '../../../src/common/db/index.js';
import { listen } from '../../../src/common/http/app.js';
import { setLogDestination } from '../../../src/common/log.js';
import { freePort } from '../../../src/cmd/ports.js';
import { createIdentityService, type IdentityService } from '../../../src/identity/service.js';
import { createImageApp, ensureDefaultImages } from '../../../src/image/service.js';

export interface ImageCloud {
  dir: string;
  authUrl: string;
  imageUrl: string;
  adminPassword: string;
  demoPassword: string;
  stop(): Promise<void>;
}

export async function startImageCloud(): Promise<ImageCloud> {
  const dir = mkdtempSync(path.join(tmpdir(), 'stratus-image-e2e-'));
  setLogDestination(path.join(dir, 'stratus.log'));
  const [kPort, gPort] = [await freePort(), await freePort()];
  const kUrl = `http://127.0.0.1:${kPort}`;
  const imageUrl = `http://127.0.0.1:${gPort}`;
  const kdb: Database = await openDatabase(`sqlite:///${path.join(dir, 'keystone.db')}`, { service: 'keystone' });
  const identity: IdentityService = await createIdentityService({ database: kdb, stateDir: dir, publicUrl: kUrl });
  await listen(identity.app, { host: '127.0.0.1', port: kPort });
  const adminPassword = 'admin-e2e-pw';
  const demoPassword = 'demo-e2e-pw';
  await identity.bootstrap({
    adminPassword, demoPassword, region: 'RegionOne',
    services: [
      { type: 'identity', name: 'keystone', publicUrl: `${kUrl}/v3` },
      { type: 'image', name: 'glance', publicUrl: imageUrl },
    ],
    serviceUsers: [{ name: 'glance', password: 'glance-pw' }],
  });
  const gdb: Database = await openDatabase(`sqlite:///${path.join(dir, 'glance.db')}`, { service: 'glance' });
  const glance = await createImageApp({ database: gdb, stateDir: dir, validator: identity.validator, authUrl: `${kUrl}/v3`, publicUrl: imageUrl });
  await listen(glance, { host: '127.0.0.1', port: gPort });
  await ensureDefaultImages(glance, { dir: path.join(dir, 'default-images') });
  return {
    dir, authUrl: `${kUrl}/v3`, imageUrl, adminPassword, demoPassword,
    async stop() {
      await glance.close();
      await gdb.close();
      await identity.app.close();
      await identity.close();
      await kdb.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const c = await startImageCloud();
  console.log(`export OS_AUTH_URL=${c.authUrl} OS_USERNAME=admin OS_PASSWORD=${c.adminPassword} OS_PROJECT_NAME=admin OS_USER_DOMAIN_ID=default OS_PROJECT_DOMAIN_ID=default OS_IDENTITY_API_VERSION=3`);
  const stop = () => void c.stop().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
