/**
 * `stratus manage <service> ...`: what keystone-manage, nova-manage, glance-manage,
 * neutron-db-manage and placement-manage do, against the state directory's databases
 * (or the `[database] connection` of the given config files).
 * @module
 */
import { ConfigOpts, registerDatabaseOpts } from '../common/config/index.js';
import { dbSync, dbVersionCommand } from '../common/db/index.js';
import type { StateDir } from './state-dir.js';

export interface ManageOptions {
  stateDir: StateDir;
  configFiles: string[];
  out?: (line: string) => void;
}

/** Which databases a service owns, and the module that registers their migrations. */
const SERVICES: Record<string, { dbs: string[]; load: () => Promise<unknown> }> = {
  keystone: { dbs: ['keystone'], load: () => import('../identity/db/migrations.js') },
  placement: { dbs: ['placement'], load: () => import('../placement/db/migrations.js') },
};

async function databaseUrl(service: string, db: string, o: ManageOptions): Promise<string> {
  if (o.configFiles.length) {
    const conf = new ConfigOpts();
    registerDatabaseOpts(conf, null);
    conf.load({ configFiles: o.configFiles });
    const url = conf.get<string | null>('database', 'connection');
    if (url) return url;
  }
  return o.stateDir.sqliteUrl(db);
}

export async function manage(service: string, args: string[], o: ManageOptions): Promise<number> {
  const out = o.out ?? ((l: string) => console.log(l));
  const svc = SERVICES[service];
  if (!svc) {
    out(`unknown service '${service}'; one of: ${Object.keys(SERVICES).join(', ')}`);
    return 2;
  }
  const [cmd, sub] = args;
  if (cmd === 'db' && (sub === 'sync' || sub === 'version')) {
    await svc.load();
    o.stateDir.ensure();
    for (const db of svc.dbs) {
      const url = await databaseUrl(service, db, o);
      if (sub === 'sync') {
        const r = await dbSync(url, db);
        out(`${db}: ${r.applied.length ? `applied ${r.applied.join(', ')}` : 'up to date'}`);
      } else {
        const v = await dbVersionCommand(url, db);
        out(`${db}: ${v.applied.at(-1) ?? 'empty'}${v.pending.length ? ` (pending: ${v.pending.join(', ')})` : ''}`);
      }
    }
    return 0;
  }
  if (service === 'keystone' && (cmd === 'fernet_setup' || cmd === 'fernet_rotate')) {
    const { KeyRepository } = await import('../identity/token/key-repository.js');
    o.stateDir.ensure();
    const repo = new KeyRepository(o.stateDir.file('fernet-keys'));
    if (cmd === 'fernet_setup') repo.setup();
    else repo.rotate();
    out(`${cmd}: keys in ${repo.dir}`);
    return 0;
  }
  out(`unknown command for ${service}: ${args.join(' ') || '(none)'}`);
  return 2;
}
