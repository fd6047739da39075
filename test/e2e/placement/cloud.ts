/**
 * Keystone and placement on free loopback ports, Keystone's catalog pointing at placement,
 * for tests that drive placement with real clients (Debian's openstack CLI with osc-placement).
 * `node --import tsx test/e2e/placement/cloud.ts` runs it standalone and prints an openrc.
 * @module
 */
import { listen } from '../../../src/common/http/app.js';
import { createPlacementApp } from '../../../src/placement/service.js';
import { runStandalone, startE2eKeystone } from '../support/keystone.js';

export interface PlacementCloud {
  authUrl: string;
  placementUrl: string;
  adminPassword: string;
  demoPassword: string;
  stop(): Promise<void>;
}

export async function startPlacementCloud(): Promise<PlacementCloud> {
  const ks = await startE2eKeystone({ label: 'placement', service: { type: 'placement', name: 'placement' } });
  const placement = await createPlacementApp({ database: await ks.openDb('placement'), validator: ks.identity.validator, authUrl: ks.authUrl });
  await listen(placement, { host: '127.0.0.1', port: ks.servicePort });
  return {
    authUrl: ks.authUrl, placementUrl: ks.serviceUrl, adminPassword: ks.adminPassword, demoPassword: ks.demoPassword,
    async stop() {
      await placement.close();
      await ks.stop();
    },
  };
}

await runStandalone(startPlacementCloud, import.meta.url);
