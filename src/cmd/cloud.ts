/**
 * The all-in-one cloud: every service of Stratus in one process, as `stratus up` runs it.
 * Services still meet only where OpenStack's do: REST over loopback HTTP, RPC over the bus
 * (in-process by default, RabbitMQ with a transport URL), each with its own database.
 * @module
 */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { createTransport, type MessageBus } from '../common/rpc/index.js';
import { openDatabase, ensureDatabaseExists, type Database } from '../common/db/index.js';
import { JsonlSpanSink } from '../common/journey/store.js';
import { addSpanSink } from '../common/journey/span.js';
import { setLogDestination } from '../common/log.js';
import { listen } from '../common/http/app.js';
import type { ConfigOpts } from '../common/config/index.js';
import { StateDir, renderCloudsYaml, renderOpenrc, type OpenrcSpec } from './state-dir.js';
import { resolvePorts, type ServiceType } from './ports.js';
import { createIdentityService } from '../identity/service.js';
import { createPlacementApp } from '../placement/service.js';
import { createImageApp, ensureDefaultImages } from '../image/service.js';
import { createNeutronServer, createL2Agent, createDhcpAgent, createL3Agent, createMetadataAgent, ensureDefaultNetworks } from '../network/service.js';
import { startNova } from '../compute/deploy.js';
import { createCinderApi, createCinderScheduler, createCinderVolume, ensureDefaultVolumeType } from '../volume/service.js';
import { Session } from '../common/http/client.js';

export interface CloudOptions {
  stateDir: string;
  /** Number of nova-compute hosts (each with its own L2 agent). */
  computes?: number;
  adminPassword?: string;
  /** `rabbit://...`; default: the in-process bus. */
  transportUrl?: string;
  /** A server URL without a database name (`mysql+pymysql://root@127.0.0.1`); default: SQLite files. */
  databaseUrl?: string;
  /** Prefix of every database name on that server (several clouds on one server, tests). */
  databasePrefix?: string;
  /** Bind address for every API. */
  bindHost?: string;
  /** Pick free ports instead of OpenStack's well-known ones (tests). */
  randomPorts?: boolean;
  onProgress?: (line: string) => void;
  /** oslo.config files loaded for the services that read options (keystone's [security_compliance], ...). */
  config?: ConfigOpts;
}

export interface Cloud {
  state: StateDir;
  urls: Record<ServiceType, string>;
  authUrl: string;
  admin: OpenrcSpec;
  demo: OpenrcSpec;
  computeHosts: string[];
  stop(): Promise<void>;
}

const REGION = 'RegionOne';
const SERVICE_USERS = ['nova', 'placement', 'glance', 'neutron', 'cinder'];

export async function startCloud(opts: CloudOptions): Promise<Cloud> {
  const progress = opts.onProgress ?? (() => {});
  const state = new StateDir(opts.stateDir);
  state.ensure();
  state.lock();
  const secrets = state.secrets(opts.adminPassword);
  setLogDestination(state.file('stratus.log'));
  const sink = new JsonlSpanSink(state.root);
  const removeSink = addSpanSink(sink);

  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const s of stops.reverse()) {
      try {
        await s();
      } catch {
        // keep stopping the rest
      }
    }
    removeSink();
    await sink.close();
    state.unlock();
  };

  try {
    const host = opts.bindHost ?? '127.0.0.1';
    const ports = await resolvePorts(opts.randomPorts ?? false, host);
    const base = (t: ServiceType) => `http://${host}:${ports[t]}`;
    const urls: Record<ServiceType, string> = {
      identity: `${base('identity')}/v3`,
      compute: `${base('compute')}/v2.1`,
      placement: base('placement'),
      image: base('image'),
      network: base('network'),
      volume: `${base('volume')}/v3/$(project_id)s`,
    };
    const authUrl = urls.identity;

    const dbUrl = async (name: string): Promise<string> => {
      if (!opts.databaseUrl) return state.sqliteUrl(name);
      const url = `${opts.databaseUrl.replace(/\/+$/, '')}/${opts.databasePrefix ?? ''}${name}`;
      await ensureDatabaseExists(url);
      return url;
    };
    const open = async (name: string, service: string): Promise<Database> => {
      const d = await openDatabase(await dbUrl(name), { service });
      stops.push(() => d.close());
      return d;
    };

    const bus: MessageBus = await createTransport(opts.transportUrl ?? 'inproc://');
    stops.push(() => bus.close());
    progress(`bus        ${opts.transportUrl ? opts.transportUrl.replace(/\/\/[^@]*@/, '//***@') : 'in-process (oslo.messaging wire format)'}`);

    // Keystone first: every other service validates tokens against it.
    const identity = await createIdentityService({
      database: await open('keystone', 'keystone'), stateDir: state.root, publicUrl: base('identity'),
      ...(opts.config ? { config: opts.config } : {}),
    });
    stops.push(() => identity.close());
    await listen(identity.app, { host, port: ports.identity });
    stops.push(() => identity.app.close());
    await identity.bootstrap({
      adminPassword: secrets.adminPassword,
      demoPassword: secrets.demoPassword,
      region: REGION,
      serviceUsers: SERVICE_USERS.map((name) => ({ name, password: secrets.servicePassword })),
      services: [
        { type: 'identity', name: 'keystone', publicUrl: urls.identity.replace(/\/v3$/, '/v3') },
        { type: 'compute', name: 'nova', publicUrl: urls.compute },
        { type: 'placement', name: 'placement', publicUrl: urls.placement },
        { type: 'image', name: 'glance', publicUrl: urls.image },
        { type: 'network', name: 'neutron', publicUrl: urls.network },
        { type: 'volumev3', name: 'cinderv3', publicUrl: urls.volume },
        { type: 'block-storage', name: 'cinder', publicUrl: urls.volume },
      ],
    });
    progress(`keystone   ${urls.identity}`);
    const validator = identity.validator;
    const serviceSession = (name: string) =>
      new Session({ authUrl, username: name, password: secrets.servicePassword, projectName: 'service', userDomainId: 'default', projectDomainId: 'default' });

    const placement = await createPlacementApp({ database: await open('placement', 'placement'), validator, authUrl });
    await listen(placement, { host, port: ports.placement });
    stops.push(() => placement.close());
    progress(`placement  ${urls.placement}`);

    const image = await createImageApp({ database: await open('glance', 'glance'), stateDir: state.root, validator, authUrl, publicUrl: urls.image });
    await listen(image, { host, port: ports.image });
    stops.push(() => image.close());
    progress(`glance     ${urls.image}`);

    const neutron = await createNeutronServer({
      database: await open('neutron', 'neutron'),
      bus,
      host: os.hostname(),
      validator,
      authUrl,
      novaNotifier: { session: serviceSession('neutron') },
    });
    await listen(neutron.app, { host, port: ports.network });
    await neutron.start();
    stops.push(() => neutron.stop());
    const computeHosts = Array.from({ length: Math.max(1, opts.computes ?? 1) }, (_, i) => (i === 0 ? 'compute1' : `compute${i + 1}`));
    for (const agentHost of computeHosts) {
      const l2 = await createL2Agent({ bus, host: agentHost });
      await l2.start();
      stops.push(() => l2.stop());
    }
    for (const make of [createDhcpAgent, createL3Agent, createMetadataAgent]) {
      const agent = await make({ bus, host: os.hostname() });
      await agent.start();
      stops.push(() => agent.stop());
    }
    progress(`neutron    ${urls.network} (+ l2 agents on ${computeHosts.join(', ')}, dhcp, l3, metadata agents)`);

    const nova = await startNova({
      apiDatabaseUrl: await dbUrl('nova_api'),
      cell0DatabaseUrl: await dbUrl('nova_cell0'),
      cell1DatabaseUrl: await dbUrl('nova_cell1'),
      bus,
      host: os.hostname(),
      computes: computeHosts,
      validator,
      authUrl,
      serviceCredentials: { username: 'nova', password: secrets.servicePassword, projectName: 'service' },
      listen: { host, port: ports.compute },
      ...(opts.config ? { config: opts.config } : {}),
    });
    stops.push(() => nova.stop());
    progress(`nova       ${urls.compute} (api, super-conductor, cell1 conductor, scheduler, compute on ${computeHosts.join(', ')})`);

    // Cinder: cinder-api, cinder-scheduler and one cinder-volume backend (file driver).
    const cinderDb = await open('cinder', 'cinder');
    const cinderApi = await createCinderApi({
      database: cinderDb, bus, host: os.hostname(), validator, authUrl,
      novaSession: serviceSession('cinder'), glanceSession: serviceSession('cinder'),
    });
    await listen(cinderApi, { host, port: ports.volume });
    stops.push(() => cinderApi.close());
    await ensureDefaultVolumeType({ database: cinderDb });
    const cinderScheduler = await createCinderScheduler({ database: cinderDb, bus, host: os.hostname() });
    await cinderScheduler.start();
    stops.push(() => cinderScheduler.stop());
    const cinderVolume = await createCinderVolume({
      database: cinderDb, bus, host: os.hostname(), stateDir: state.root,
      glanceSession: serviceSession('cinder'), novaSession: serviceSession('cinder'),
    });
    await cinderVolume.start();
    stops.push(() => cinderVolume.stop());
    progress(`cinder     ${urls.volume.replace('/$(project_id)s', '')} (api, scheduler, volume ${os.hostname()}@lvmdriver-1 on the file driver)`);

    // devstack's defaults: an image, the public/private networks and router1.
    const projectId = async (name: string) => (await identity.deps.resource.getProjectByName(name, 'default')).id;
    const adminProjectId = await projectId('admin');
    await ensureDefaultImages(image, { dir: state.file('images', 'defaults'), owner: adminProjectId });
    await ensureDefaultNetworks(neutron, { demoProjectId: await projectId('demo'), adminProjectId });

    const admin: OpenrcSpec = { authUrl, username: 'admin', password: secrets.adminPassword, projectName: 'admin', region: REGION };
    const demo: OpenrcSpec = { authUrl, username: 'demo', password: secrets.demoPassword, projectName: 'demo', region: REGION };
    writeFileSync(state.file('openrc'), renderOpenrc(admin));
    writeFileSync(state.file('clouds.yaml'), renderCloudsYaml(admin, demo));
    return { state, urls, authUrl, admin, demo, computeHosts, stop: stopAll };
  } catch (e) {
    await stopAll();
    throw e;
  }
}
