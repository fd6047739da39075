/**
 * Keystone on a free loopback port in a temporary state directory, bootstrapped with a catalog
 * entry for the one service an e2e test drives (whose port is chosen here, before it listens).
 * The per-service e2e clouds (placement, image, network) build on it.
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

export interface E2eKeystone {
  dir: string;
  authUrl: string;
  identity: IdentityService;
  adminPassword: string;
  demoPassword: string;
  /** The URL the service under test must listen on (already in the catalog). */
  serviceUrl: string;
  servicePort: number;
  /** Opens `<dir>/<name>.db`, closed by stop(). */
  openDb(name: string): Promise<Database>;
  projectId(name: string): Promise<string>;
  /** Closes the databases and Keystone, removes the directory. */
  stop(): Promise<void>;
}

export async function startE2eKeystone(o: { label: string; service: { type: string; name: string } }): Promise<E2eKeystone> {
  const dir = mkdtempSync(path.join(tmpdir(), `stratus-${o.label}-e2e-`));
  setLogDestination(path.join(dir, 'stratus.log'));
  const [kPort, servicePort] = [await freePort(), await freePort()];
  const kUrl = `http://127.0.0.1:${kPort}`;
  const serviceUrl = `http://127.0.0.1:${servicePort}`;
  const dbs: Database[] = [];
  const openDb = async (name: string) => {
    const d = await openDatabase(`sqlite:///${path.join(dir, `${name}.db`)}`, { service: name });
    dbs.push(d);
    return d;
  };
  const identity = await createIdentityService({ database: await openDb('keystone'), stateDir: dir, publicUrl: kUrl });
  await listen(identity.app, { host: '127.0.0.1', port: kPort });
  const adminPassword = 'admin-e2e-pw';
  const demoPassword = 'demo-e2e-pw';
  await identity.bootstrap({
    adminPassword, demoPassword, region: 'RegionOne',
    services: [{ type: 'identity', name: 'keystone', publicUrl: `${kUrl}/v3` }, { ...o.service, publicUrl: serviceUrl }],
    serviceUsers: [{ name: o.service.name, password: `${o.service.name}-pw` }],
  });
  return {
    dir, authUrl: `${kUrl}/v3`, identity, adminPassword, demoPassword, serviceUrl, servicePort, openDb,
    projectId: async (name) => (await identity.deps.resource.getProjectByName(name, 'default')).id,
    async stop() {
      await identity.app.close();
      await identity.close();
      for (const d of dbs.reverse()) await d.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** `node --import tsx test/e2e/<svc>/cloud.ts`: run a cloud standalone and print an openrc line. */
export async function runStandalone(start: () => Promise<{ authUrl: string; adminPassword: string; stop(): Promise<void> }>, moduleUrl: string): Promise<void> {
  if (moduleUrl !== `file://${process.argv[1]}`) return;
  const c = await start();
  console.log(`export OS_AUTH_URL=${c.authUrl} OS_USERNAME=admin OS_PASSWORD=${c.adminPassword} OS_PROJECT_NAME=admin `
    + 'OS_USER_DOMAIN_ID=default OS_PROJECT_DOMAIN_ID=default OS_IDENTITY_API_VERSION=3');
  const stop = () => void c.stop().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
