/**
 * Keystone, Glance and Cinder (api, scheduler, volume) on free loopback ports, wired as
 * `stratus up` wires them, for tests that drive Cinder with Debian's `openstack` CLI.
 * `node --import tsx test/e2e/volume/cloud.ts` runs it standalone and prints an openrc.
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
import { createImageApp, ensureDefaultImages } from '../../../src/image/service.js';
import { startCinder } from '../../../src/volume/deploy.js';

export interface VolumeCloud {
  dir: string;
  authUrl: string;
  volumeUrl: string;
  adminPassword: string;
  demoPassword: string;
  stop(): Promise<void>;
}

export async function startVolumeCloud(): Promise<VolumeCloud> {
  const dir = mkdtempSync(path.join(tmpdir(), 'stratus-volume-e2e-'));
  setLogDestination(path.join(dir, 'stratus.log'));
  const [kPort, gPort, cPort] = [await freePort(), await freePort(), await freePort()];
  const kUrl = `http://127.0.0.1:${kPort}`;
  const imageUrl = `http://127.0.0.1:${gPort}`;
  const volumeBase = `http://127.0.0.1:${cPort}`;
  const kdb: Database = await openDatabase(`sqlite:///${path.join(dir, 'keystone.db')}`, { service: 'keystone' });
  const identity: IdentityService = await createIdentityService({ database: kdb, stateDir: dir, publicUrl: kUrl });
  await listen(identity.app, { host: '127.0.0.1', port: kPort });
  const adminPassword = 'admin-e2e-pw';
  const demoPassword = 'demo-e2e-pw';
  const servicePassword = 'service-e2e-pw';
  await identity.bootstrap({
    adminPassword, demoPassword, region: 'RegionOne',
    services: [
      { type: 'identity', name: 'keystone', publicUrl: `${kUrl}/v3` },
      { type: 'image', name: 'glance', publicUrl: imageUrl },
      { type: 'volumev3', name: 'cinderv3', publicUrl: `${volumeBase}/v3/$(project_id)s` },
      { type: 'block-storage', name: 'cinder', publicUrl: `${volumeBase}/v3/$(project_id)s` },
    ],
    serviceUsers: [{ name: 'glance', password: servicePassword }, { name: 'cinder', password: servicePassword }],
  });
  const authUrl = `${kUrl}/v3`;
  const gdb: Database = await openDatabase(`sqlite:///${path.join(dir, 'glance.db')}`, { service: 'glance' });
  const glance = await createImageApp({ database: gdb, stateDir: dir, validator: identity.validator, authUrl, publicUrl: imageUrl });
  await listen(glance, { host: '127.0.0.1', port: gPort });
  await ensureDefaultImages(glance, { dir: path.join(dir, 'default-images') });

  const cdb: Database = await openDatabase(`sqlite:///${path.join(dir, 'cinder.db')}`, { service: 'cinder' });
  const bus = await createTransport('inproc://volume-e2e');
  // As `stratus up` wires it (src/volume/deploy.ts).
  const cinder = await startCinder({
    database: cdb, bus, stateDir: dir, host: 'controller', validator: identity.validator, authUrl,
    serviceCredentials: { username: 'cinder', password: servicePassword }, listen: { host: '127.0.0.1', port: cPort },
  });
  return {
    dir, authUrl, volumeUrl: volumeBase, adminPassword, demoPassword,
    async stop() {
      await cinder.stop();
      await bus.close();
      await cdb.close();
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
  const c = await startVolumeCloud();
  console.log(`export OS_AUTH_URL=${c.authUrl} OS_USERNAME=admin OS_PASSWORD=${c.adminPassword} OS_PROJECT_NAME=admin OS_USER_DOMAIN_ID=default OS_PROJECT_DOMAIN_ID=default OS_IDENTITY_API_VERSION=3`);
  const stop = () => void c.stop().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
