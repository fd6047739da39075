/**
 * Keystone and Glance on free loopback ports, with the default images registered, for tests that
 * drive Glance with Debian's openstack CLI. `node --import tsx test/e2e/image/cloud.ts` runs it
 * standalone and prints an openrc.
 * @module
 */
import path from 'node:path';
import { listen } from '../../../src/common/http/app.js';
import { createImageApp, ensureDefaultImages } from '../../../src/image/service.js';
import { runStandalone, startE2eKeystone } from '../support/keystone.js';

export interface ImageCloud {
  dir: string;
  authUrl: string;
  imageUrl: string;
  adminPassword: string;
  demoPassword: string;
  stop(): Promise<void>;
}

export async function startImageCloud(): Promise<ImageCloud> {
  const ks = await startE2eKeystone({ label: 'image', service: { type: 'image', name: 'glance' } });
  const glance = await createImageApp({ database: await ks.openDb('glance'), stateDir: ks.dir, validator: ks.identity.validator, authUrl: ks.authUrl, publicUrl: ks.serviceUrl });
  await listen(glance, { host: '127.0.0.1', port: ks.servicePort });
  await ensureDefaultImages(glance, { dir: path.join(ks.dir, 'default-images') });
  return {
    dir: ks.dir, authUrl: ks.authUrl, imageUrl: ks.serviceUrl, adminPassword: ks.adminPassword, demoPassword: ks.demoPassword,
    async stop() {
      await glance.close();
      await ks.stop();
    },
  };
}

await runStandalone(startImageCloud, import.meta.url);
