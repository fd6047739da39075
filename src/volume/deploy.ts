/**
 * Cinder the way `stratus up` runs it (devstack's layout): one database, cinder-api listening,
 * cinder-scheduler and one cinder-volume host with the file driver, the default volume types,
 * service sessions for Glance (image copies) and Nova (`volume-extended` events).
 * @module
 */
import os from 'node:os';
import type { TokenValidator } from '../common/http/auth-types.js';
import { listen } from '../common/http/app.js';
import { Session } from '../common/http/client.js';
import type { Database } from '../common/db/connection.js';
import type { MessageBus } from '../common/rpc/index.js';
import { createCinderApi, createCinderScheduler, createCinderVolume, ensureDefaultVolumeType, DEFAULT_BACKEND } from './service.js';

export interface StartCinderOptions {
  database: Database;
  bus: MessageBus;
  /** Volumes live under `<stateDir>/volumes`. */
  stateDir: string;
  host?: string;
  validator?: TokenValidator;
  authUrl: string;
  /** The `cinder` service user (project `service`, domain `default`). */
  serviceCredentials?: { username: string; password: string; projectName?: string };
  listen?: { host: string; port: number };
  backendName?: string;
  totalCapacityGb?: number;
  /** Service-type -> URL overrides for the service sessions (tests). */
  endpointOverrides?: Record<string, string>;
}

export interface CinderDeployment {
  url: string | null;
  stop(): Promise<void>;
}

export async function startCinder(opts: StartCinderOptions): Promise<CinderDeployment> {
  const host = opts.host ?? os.hostname();
  const creds = opts.serviceCredentials;
  const session = creds
    ? new Session({
      authUrl: opts.authUrl, username: creds.username, password: creds.password, projectName: creds.projectName ?? 'service',
      userDomainId: 'default', projectDomainId: 'default', service: 'cinder',
      ...(opts.endpointOverrides ? { endpointOverrides: opts.endpointOverrides } : {}),
    })
    : null;
  await ensureDefaultVolumeType({ database: opts.database, backendName: opts.backendName ?? DEFAULT_BACKEND });
  const app = await createCinderApi({
    database: opts.database, bus: opts.bus, host, authUrl: opts.authUrl, glanceSession: session, novaSession: session,
    ...(opts.validator ? { validator: opts.validator } : {}),
  });
  const stops: (() => Promise<void>)[] = [];
  try {
    const url = opts.listen ? await listen(app, opts.listen) : null;
    stops.push(() => app.close());
    const scheduler = await createCinderScheduler({ database: opts.database, bus: opts.bus, host });
    const volume = await createCinderVolume({
      database: opts.database, bus: opts.bus, host, stateDir: opts.stateDir, glanceSession: session, novaSession: session,
      backendName: opts.backendName ?? DEFAULT_BACKEND, ...(opts.totalCapacityGb !== undefined ? { totalCapacityGb: opts.totalCapacityGb } : {}),
    });
    await volume.start();
    stops.push(() => volume.stop());
    await scheduler.start();
    stops.push(() => scheduler.stop());
    return {
      url,
      async stop() {
        for (const s of stops.reverse()) await s().catch(() => undefined);
      },
    };
  } catch (e) {
    for (const s of stops.reverse()) await s().catch(() => undefined);
    throw e;
  }
}
