/**
 * The control services of `stratus up`: Keystone, Placement, Glance, Neutron (server and its
 * L2/DHCP/L3/metadata agents) and Cinder (api, scheduler, volume), plus devstack's defaults.
 * They run in `stratus up`'s worker thread (or in the one thread with `--threads 1`) and meet
 * Nova only over REST and, when a transport URL is given, the shared broker.
 * @module
 */
import os from 'node:os';
import type { MessageBus } from '../common/rpc/index.js';
import { openDatabase, type Database } from '../common/db/index.js';
import { listen } from '../common/http/app.js';
import type { ConfigOpts } from '../common/config/index.js';
import type { TokenValidator } from '../common/http/auth-types.js';
import { Session } from '../common/http/client.js';
import type { Secrets, StateDir } from './state-dir.js';
import { REGION, type CloudLayout } from './cloud-layout.js';
import { createIdentityService } from '../identity/service.js';
import { VerifiedPasswordFile } from '../identity/verified-memo.js';

const SERVICE_USERS = ['nova', 'placement', 'glance', 'neutron', 'cinder'];

export interface ControlOptions {
  state: StateDir;
  secrets: Secrets;
  layout: CloudLayout;
  bus: MessageBus;
  dbUrl: (name: string) => Promise<string>;
  config?: ConfigOpts;
  progress: (line: string) => void;
  /** Called once Keystone is bootstrapped and Placement answers: Nova's computes can report in. */
  onPlacementReady?: () => void;
}

export interface ControlServices {
  /** Keystone's own validator, for services in the same thread. */
  validator: TokenValidator;
  /** devstack's defaults: an image, the public/private networks and router1. */
  ensureDefaults(): Promise<void>;
  /** Cinder, started after Nova in the one-thread layout as before. */
  startCinder(): Promise<void>;
}

/**
 * Starts Keystone, Placement, Glance and Neutron; Cinder and the defaults follow through the
 * returned functions. Each service started pushes its stop onto `stops`, which the caller runs
 * in reverse (on failure too).
 */
export async function startControlServices(o: ControlOptions, stops: (() => Promise<void>)[]): Promise<ControlServices> {
  const { layout, bus, progress, secrets, state } = o;
  const { host, ports, urls } = layout;
  const hostname = os.hostname();
  const authUrl = urls.identity;
  const open = async (name: string, service: string): Promise<Database> => {
    const d = await openDatabase(await o.dbUrl(name), { service });
    stops.push(() => d.close());
    return d;
  };

  // Keystone first: every other service validates tokens against it.
  const identity = await createIdentityService({
    database: await open('keystone', 'keystone'), stateDir: state.root, publicUrl: `http://${host}:${ports.identity}`,
    ...(o.config ? { config: o.config } : {}),
  });
  stops.push(() => identity.close());
  await listen(identity.app, { host, port: ports.identity });
  stops.push(() => identity.app.close());
  // The bootstrap's password hashing runs on the thread pool (bcrypt): Placement, Glance and
  // Neutron are created meanwhile, and Nova hears "placement ready" as soon as Keystone is.
  const bootstrap = identity.bootstrap({
    adminPassword: secrets.adminPassword,
    demoPassword: secrets.demoPassword,
    verified: new VerifiedPasswordFile(state.file('bootstrap-verified.json')),
    region: REGION,
    serviceUsers: SERVICE_USERS.map((name) => ({ name, password: secrets.servicePassword })),
    services: [
      { type: 'identity', name: 'keystone', publicUrl: urls.identity },
      { type: 'compute', name: 'nova', publicUrl: urls.compute },
      { type: 'placement', name: 'placement', publicUrl: urls.placement },
      { type: 'image', name: 'glance', publicUrl: urls.image },
      { type: 'network', name: 'neutron', publicUrl: urls.network },
      { type: 'volumev3', name: 'cinderv3', publicUrl: urls.volume },
      { type: 'block-storage', name: 'cinder', publicUrl: urls.volume },
    ],
  });
  bootstrap.catch(() => undefined);
  // The other services' modules load while the bootstrap hashes (loading them first would put
  // them on the way to "placement ready").
  const { createPlacementApp } = await import('../placement/service.js');
  const validator = identity.validator;
  const serviceSession = (name: string) =>
    new Session({ authUrl, username: name, password: secrets.servicePassword, projectName: 'service', userDomainId: 'default', projectDomainId: 'default' });

  const placement = await createPlacementApp({ database: await open('placement', 'placement'), validator, authUrl });
  await listen(placement, { host, port: ports.placement });
  stops.push(() => placement.close());
  const keystoneReady = bootstrap.then(() => {
    progress(`keystone   ${urls.identity}`);
    progress(`placement  ${urls.placement}`);
    o.onPlacementReady?.();
  });
  keystoneReady.catch(() => undefined);

  const { createImageApp, ensureDefaultImages } = await import('../image/service.js');
  const { sendEventsIntervalMs } = await import('../network/config.js');
  const { createNeutronServer, createL2Agent, createDhcpAgent, createL3Agent, createMetadataAgent, ensureDefaultNetworks } = await import('../network/service.js');
  const { createCinderApi, createCinderScheduler, createCinderVolume, ensureDefaultVolumeType } = await import('../volume/service.js');
  const image = await createImageApp({ database: await open('glance', 'glance'), stateDir: state.root, validator, authUrl, publicUrl: urls.image });
  await listen(image, { host, port: ports.image });
  stops.push(() => image.close());

  const neutron = await createNeutronServer({
    database: await open('neutron', 'neutron'), bus, host: hostname, validator, authUrl,
    novaNotifier: { session: serviceSession('neutron'), sendEventsIntervalMs: sendEventsIntervalMs(o.config) },
  });
  await listen(neutron.app, { host, port: ports.network });
  await neutron.start();
  stops.push(() => neutron.stop());
  for (const agentHost of layout.computeHosts) {
    const l2 = await createL2Agent({ bus, host: agentHost });
    await l2.start();
    stops.push(() => l2.stop());
  }
  for (const make of [createDhcpAgent, createL3Agent, createMetadataAgent]) {
    const agent = await make({ bus, host: hostname });
    await agent.start();
    stops.push(() => agent.stop());
  }
  await keystoneReady;
  progress(`glance     ${urls.image}`);
  progress(`neutron    ${urls.network} (+ l2 agents on ${layout.computeHosts.join(', ')}, dhcp, l3, metadata agents)`);

  // Cinder: cinder-api, cinder-scheduler and one cinder-volume backend (file driver).
  const startCinder = async () => {
    const cinderDb = await open('cinder', 'cinder');
    const cinderApi = await createCinderApi({
      database: cinderDb, bus, host: hostname, validator, authUrl,
      novaSession: serviceSession('cinder'), glanceSession: serviceSession('cinder'),
    });
    await listen(cinderApi, { host, port: ports.volume });
    stops.push(() => cinderApi.close());
    await ensureDefaultVolumeType({ database: cinderDb });
    const cinderScheduler = await createCinderScheduler({ database: cinderDb, bus, host: hostname });
    await cinderScheduler.start();
    stops.push(() => cinderScheduler.stop());
    const cinderVolume = await createCinderVolume({
      database: cinderDb, bus, host: hostname, stateDir: state.root,
      glanceSession: serviceSession('cinder'), novaSession: serviceSession('cinder'),
    });
    await cinderVolume.start();
    stops.push(() => cinderVolume.stop());
    progress(`cinder     ${urls.volume.replace('/$(project_id)s', '')} (api, scheduler, volume ${hostname}@lvmdriver-1 on the file driver)`);
  };

  const ensureDefaults = async () => {
    const projectId = async (name: string) => (await identity.deps.resource.getProjectByName(name, 'default')).id;
    const adminProjectId = await projectId('admin');
    await ensureDefaultImages(image, { dir: state.file('images', 'defaults'), owner: adminProjectId });
    await ensureDefaultNetworks(neutron, { demoProjectId: await projectId('demo'), adminProjectId });
  };
  return { validator, ensureDefaults, startCinder };
}
