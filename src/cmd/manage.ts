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
const SERVICES: Record<string, { dbs: { file: string; schema: string }[]; load: () => Promise<unknown> }> = {
  keystone: { dbs: [{ file: 'keystone', schema: 'keystone' }], load: () => import('../identity/db/migrations.js') },
  placement: { dbs: [{ file: 'placement', schema: 'placement' }], load: () => import('../placement/db/migrations.js') },
  glance: { dbs: [{ file: 'glance', schema: 'glance' }], load: () => import('../image/service.js') },
  neutron: { dbs: [{ file: 'neutron', schema: 'neutron' }], load: () => import('../network/service.js') },
  cinder: { dbs: [{ file: 'cinder', schema: 'cinder' }], load: () => import('../volume/service.js') },
  // nova-manage: `db sync` migrates the cell databases, `api_db sync` the API database.
  nova: {
    dbs: [{ file: 'nova_cell0', schema: 'nova' }, { file: 'nova_cell1', schema: 'nova' }],
    load: () => import('../compute/db/migrations.js'),
  },
};

async function databaseUrl(db: string, o: ManageOptions): Promise<string> {
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
  const isApiDb = service === 'nova' && cmd === 'api_db';
  if ((cmd === 'db' || isApiDb) && (sub === 'sync' || sub === 'version')) {
    await svc.load();
    o.stateDir.ensure();
    const dbs: { file: string; schema: string }[] = isApiDb ? [{ file: 'nova_api', schema: 'nova_api' }] : svc.dbs;
    for (const db of dbs) {
      const url = await databaseUrl(db.file, o);
      if (sub === 'sync') {
        const r = await dbSync(url, db.schema);
        out(`${db.file}: ${r.applied.length ? `applied ${r.applied.join(', ')}` : 'up to date'}`);
      } else {
        const v = await dbVersionCommand(url, db.schema);
        out(`${db.file}: ${v.applied.at(-1) ?? 'empty'}${v.pending.length ? ` (pending: ${v.pending.join(', ')})` : ''}`);
      }
    }
    return 0;
  }
  if (service === 'nova' && cmd === 'cell_v2') return cellV2(sub, args.slice(2), o, out);
  if (service === 'keystone' && cmd === 'bootstrap') return keystoneBootstrap(args.slice(1), o, out);
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

/** nova-manage cell_v2: map_cell0, create_cell, discover_hosts, list_cells, list_hosts. */
async function cellV2(sub: string | undefined, rest: string[], o: ManageOptions, out: (l: string) => void): Promise<number> {
  const nova = await import('../compute/manage.js');
  const { openNovaDatabase } = await import('../compute/deploy.js');
  const flag = (name: string) => {
    const i = rest.indexOf(`--${name}`);
    return i >= 0 ? rest[i + 1] : undefined;
  };
  o.stateDir.ensure();
  const api = await openNovaDatabase(o.stateDir.sqliteUrl('nova_api'), 'api');
  try {
    switch (sub) {
      case 'map_cell0': {
        const url = flag('database_connection') ?? o.stateDir.sqliteUrl('nova_cell0');
        const cell = await nova.mapCell0(api, url);
        out(`cell0 mapped: ${cell['uuid'] ?? nova.CELL0_UUID}`);
        return 0;
      }
      case 'create_cell': {
        const cell = await nova.createCell(api, {
          name: flag('name') ?? null,
          transportUrl: flag('transport-url') ?? flag('transport_url') ?? 'inproc://',
          databaseConnection: flag('database_connection') ?? o.stateDir.sqliteUrl(`nova_${flag('name') ?? 'cell'}`),
        });
        out(String(cell['uuid']));
        return 0;
      }
      case 'list_cells':
        for (const c of await nova.listCells(api)) out(`${c.name ?? ''}\t${c.uuid}\t${c.transport_url}\t${c.database_connection}\t${c.disabled ? 'disabled' : 'enabled'}`);
        return 0;
      case 'list_hosts':
        for (const h of await nova.listHosts(api, flag('cell_uuid'))) out(`${h.cell_name ?? ''}\t${h.cell_uuid}\t${h.hostname}`);
        return 0;
      case 'discover_hosts': {
        const opened: { close(): Promise<void> }[] = [];
        const openCell = async (url: string) => {
          const d = await openNovaDatabase(url, 'cell');
          opened.push(d);
          return d;
        };
        const found = await nova.discoverHosts(api, { byService: rest.includes('--by-service'), openCell }).finally(() => Promise.all(opened.map((d) => d.close())));
        for (const f of found) out(`mapped host ${f.host} to cell ${f.cell}`);
        if (!found.length) out('no unmapped hosts');
        return 0;
      }
      default:
        out('usage: stratus manage nova cell_v2 map_cell0|create_cell|discover_hosts|list_cells|list_hosts');
        return 2;
    }
  } finally {
    await api.close();
  }
}

/** keystone-manage bootstrap --bootstrap-password PW [--bootstrap-region-id R] [--bootstrap-public-url U]. */
async function keystoneBootstrap(rest: string[], o: ManageOptions, out: (l: string) => void): Promise<number> {
  const flag = (name: string) => {
    const i = rest.indexOf(`--${name}`);
    return i >= 0 ? rest[i + 1] : undefined;
  };
  const password = flag('bootstrap-password') ?? process.env['OS_BOOTSTRAP_PASSWORD'];
  if (!password) {
    out('bootstrap needs --bootstrap-password (or OS_BOOTSTRAP_PASSWORD)');
    return 2;
  }
  const { createIdentityService } = await import('../identity/service.js');
  const { openDatabase } = await import('../common/db/index.js');
  const { randomBytes } = await import('node:crypto');
  o.stateDir.ensure();
  const database = await openDatabase(await databaseUrl('keystone', o), { service: 'keystone' });
  const publicUrl = flag('bootstrap-public-url') ?? 'http://127.0.0.1:5000';
  const identity = await createIdentityService({ database, stateDir: o.stateDir.root, publicUrl });
  try {
    await identity.bootstrap({
      adminPassword: password,
      demoPassword: randomBytes(12).toString('base64url'),
      region: flag('bootstrap-region-id') ?? 'RegionOne',
      serviceUsers: [],
      services: [{ type: 'identity', name: 'keystone', publicUrl: `${publicUrl.replace(/\/+$/, '')}/v3` }],
    });
    out('bootstrap: domain default, project admin, user admin, roles admin/member/reader, identity endpoint');
    return 0;
  } finally {
    await identity.close();
    await database.close();
  }
}
