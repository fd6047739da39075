/**
 * The all-in-one cloud, as `stratus up` runs it. Services meet only where OpenStack's do: REST
 * over loopback HTTP, RPC over the bus (in-process by default, RabbitMQ with a transport URL),
 * each with its own database. With two threads (the default on a machine with two CPUs or more)
 * Nova runs in the calling thread and Keystone, Placement, Glance, Neutron and Cinder in a
 * worker thread, as two hosts would: each thread has its own in-process broker, Nova validates
 * tokens over REST as keystonemiddleware does. `threads: 1` keeps everything in one thread
 * (debugging with breakpoints).
 * @module
 */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { createTransport, type MessageBus } from '../common/rpc/index.js';
import { JsonlSpanSink } from '../common/journey/store.js';
import { addSpanSink } from '../common/journey/span.js';
import { setLogDestination } from '../common/log.js';
import type { ConfigOpts } from '../common/config/index.js';
import type { TokenValidator } from '../common/http/auth-types.js';
import { StateDir, renderCloudsYaml, renderOpenrc, type OpenrcSpec } from './state-dir.js';
import { isAddressInUse, resolvePorts, type ServiceType } from './ports.js';
import { REGION, databaseUrls, layoutFor, type CloudLayout } from './cloud-layout.js';
import { startControlWorker } from './cloud-thread.js';
import { reverseStopper } from './stopper.js';

export interface CloudOptions {
  stateDir: string;
  /** Number of nova-compute hosts (each with its own L2 agent). */
  computes?: number;
  adminPassword?: string;
  /** `rabbit://...`; default: the in-process bus (one broker per thread). */
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
  /** 2: Nova in this thread, the other services in a worker thread; 1: all in this thread. Default 2 with >= 2 CPUs. */
  threads?: 1 | 2;
  /**
   * The worker thread failed after start-up; the cloud is stopped already. Default: the error is
   * printed to stderr.
   */
  onFailure?: (e: Error) => void;
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

/** Threads `stratus up` uses by default: two when there are two CPUs to run them. */
export function defaultThreads(): 1 | 2 {
  return os.availableParallelism() >= 2 ? 2 : 1;
}

export async function startCloud(opts: CloudOptions): Promise<Cloud> {
  // Free ports are checked, then bound a moment later; another process can win that race.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startCloudOnce(opts);
    } catch (e) {
      if (!opts.randomPorts || attempt >= 3 || !isAddressInUse(e)) throw e;
    }
  }
}

async function startCloudOnce(opts: CloudOptions): Promise<Cloud> {
  const progress = opts.onProgress ?? (() => {});
  const threads = opts.threads ?? defaultThreads();
  const state = new StateDir(opts.stateDir);
  state.ensure();
  state.lock();
  const secrets = state.secrets(opts.adminPassword);
  setLogDestination(state.file('stratus.log'));
  const sink = new JsonlSpanSink(state.root);
  const removeSink = addSpanSink(sink);

  const stops: (() => Promise<void>)[] = [];
  const stopAll = reverseStopper(stops, async () => {
    removeSink();
    await sink.close();
    state.unlock();
  });

  try {
    const host = opts.bindHost ?? '127.0.0.1';
    const layout = layoutFor(host, await resolvePorts(opts.randomPorts ?? false, host), opts.computes ?? 1);
    const { urls } = layout;
    const authUrl = urls.identity;
    const dbUrl = databaseUrls(state, opts.databaseUrl, opts.databasePrefix);
    const busLine = opts.transportUrl ? opts.transportUrl.replace(/\/\/[^@]*@/, '//***@') : 'in-process (oslo.messaging wire format)';

    let validator: TokenValidator;
    let afterNova: () => Promise<void>;
    let bus: MessageBus;
    if (threads === 2) {
      // The worker first, so it loads Keystone & co. while this thread loads Nova.
      let failure: Error | null = null;
      const worker = startControlWorker({
        stateDir: state.root, secrets, layout,
        ...(opts.transportUrl ? { transportUrl: opts.transportUrl } : {}),
        ...(opts.databaseUrl ? { databaseUrl: opts.databaseUrl } : {}),
        ...(opts.databasePrefix ? { databasePrefix: opts.databasePrefix } : {}),
        ...(opts.config?.configFiles.length ? { configFiles: opts.config.configFiles } : {}),
      }, {
        progress,
        onFailure: (e) => {
          failure = e;
          void stopAll().then(() => (opts.onFailure ?? ((err: Error) => console.error(`stratus: ${err.stack ?? err.message}`)))(e));
        },
      });
      stops.push(() => worker.stop());
      const novaModule = import('../compute/deploy.js');
      novaModule.catch(() => undefined);
      bus = await createTransport(opts.transportUrl ?? 'inproc://');
      stops.push(() => bus.close());
      progress(`bus        ${busLine}${opts.transportUrl ? '' : ', one broker per thread'}`);
      const { HttpTokenValidator } = await import('../identity/middleware.js');
      // keystonemiddleware in front of nova-api: tokens are validated over REST, results cached.
      validator = new HttpTokenValidator({ authUrl, username: 'nova', password: secrets.servicePassword, projectName: 'service' });
      await worker.placementReady;
      afterNova = async () => {
        await worker.ready;
        if (failure) throw failure;
      };
    } else {
      bus = await createTransport(opts.transportUrl ?? 'inproc://');
      stops.push(() => bus.close());
      progress(`bus        ${busLine}`);
      const { startControlServices } = await import('./cloud-control.js');
      const control = await startControlServices({
        state, secrets, layout, bus, dbUrl, progress, ...(opts.config ? { config: opts.config } : {}),
      }, stops);
      validator = control.validator;
      afterNova = async () => {
        await control.startCinder();
        await control.ensureDefaults();
      };
    }

    await startNovaServices(layout, { bus, dbUrl, validator, secrets: secrets.servicePassword, stops, progress, ...(opts.config ? { config: opts.config } : {}) });
    await afterNova();

    const admin: OpenrcSpec = { authUrl, username: 'admin', password: secrets.adminPassword, projectName: 'admin', region: REGION };
    const demo: OpenrcSpec = { authUrl, username: 'demo', password: secrets.demoPassword, projectName: 'demo', region: REGION };
    writeFileSync(state.file('openrc'), renderOpenrc(admin));
    writeFileSync(state.file('clouds.yaml'), renderCloudsYaml(admin, demo));
    return { state, urls, authUrl, admin, demo, computeHosts: layout.computeHosts, stop: stopAll };
  } catch (e) {
    await stopAll();
    throw e;
  }
}

/** nova-api, the super-conductor, cell1's conductor, the scheduler and one nova-compute per host. */
async function startNovaServices(layout: CloudLayout, o: {
  bus: MessageBus; dbUrl: (name: string) => Promise<string>; validator: TokenValidator; secrets: string;
  stops: (() => Promise<void>)[]; progress: (line: string) => void; config?: ConfigOpts;
}): Promise<void> {
  const { startNova } = await import('../compute/deploy.js');
  const nova = await startNova({
    apiDatabaseUrl: await o.dbUrl('nova_api'),
    cell0DatabaseUrl: await o.dbUrl('nova_cell0'),
    cell1DatabaseUrl: await o.dbUrl('nova_cell1'),
    bus: o.bus,
    host: os.hostname(),
    computes: layout.computeHosts,
    validator: o.validator,
    authUrl: layout.urls.identity,
    serviceCredentials: { username: 'nova', password: o.secrets, projectName: 'service' },
    listen: { host: layout.host, port: layout.ports.compute },
    ...(o.config ? { config: o.config } : {}),
  });
  o.stops.push(() => nova.stop());
  const hosts = layout.computeHosts.join(', ');
  o.progress(`nova       ${layout.urls.compute} (api, super-conductor, cell1 conductor, scheduler, compute on ${hosts})`);
}
