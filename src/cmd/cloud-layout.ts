/**
 * Where `stratus up`'s services listen, what the catalog says, and which databases they use:
 * shared by both threads, and light (no service modules) so the main thread can start the
 * worker before it loads anything heavy.
 * @module
 */
import type { StateDir } from './state-dir.js';
import type { ServiceType } from './ports.js';

export const REGION = 'RegionOne';

/** Where every API listens and what the catalog says. */
export interface CloudLayout {
  host: string;
  ports: Record<ServiceType, number>;
  urls: Record<ServiceType, string>;
  computeHosts: string[];
}

export function layoutFor(host: string, ports: Record<ServiceType, number>, computes: number): CloudLayout {
  const base = (t: ServiceType) => `http://${host}:${ports[t]}`;
  return {
    host,
    ports,
    urls: {
      identity: `${base('identity')}/v3`,
      compute: `${base('compute')}/v2.1`,
      placement: base('placement'),
      image: base('image'),
      network: base('network'),
      volume: `${base('volume')}/v3/$(project_id)s`,
    },
    computeHosts: Array.from({ length: Math.max(1, computes) }, (_, i) => `compute${i + 1}`),
  };
}

/** Database URLs: SQLite files in the state directory, or one database per service on a server. */
export function databaseUrls(state: StateDir, databaseUrl?: string, prefix = ''): (name: string) => Promise<string> {
  return async (name) => {
    if (!databaseUrl) return state.sqliteUrl(name);
    const url = `${databaseUrl.replace(/\/+$/, '')}/${prefix}${name}`;
    const { ensureDatabaseExists } = await import('../common/db/index.js');
    await ensureDatabaseExists(url);
    return url;
  };
}
