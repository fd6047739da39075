/**
 * Options every Stratus service has: `[DEFAULT] transport_url, host, debug, state_path` and
 * `[database] connection`. Every one has a default, so `stratus up` runs with no config file.
 * @module
 */
import os from 'node:os';
import path from 'node:path';
import type { ConfigOpts } from './config.js';
import { BoolOpt, IntOpt, StrOpt, type Opt } from './opts.js';

export const defaultOpts: Opt<any>[] = [
  new StrOpt('transport_url', {
    secret: true,
    help:
      'The network address and optional user credentials for connecting to the messaging backend, ' +
      'in URL format: driver://[user:pass@]host:port[,[userN:passN@]hostN:portN]/virtual_host. ' +
      'Unset means the in-process bus of an all-in-one `stratus up`.',
  }),
  new StrOpt('host', {
    default: os.hostname(),
    sampleDefault: '<hostname>',
    help: 'Name of this node, used in RPC topics (topic.host), service records and logs. Must be unique per service.',
  }),
  new BoolOpt('debug', { default: false, help: 'If set to true, the logging level will be set to DEBUG instead of INFO.' }),
  new StrOpt('state_path', {
    default: path.resolve('.stratus'),
    sampleDefault: '$cwd/.stratus',
    help: "Top-level directory for maintaining the service's state (SQLite files, images, keys, journeys).",
  }),
];

/** `[database]` (or `[api_database]`) options; `defaultConnection` is usually a SQLite file under state_path. */
export function databaseOpts(defaultConnection: string | null = null): Opt<any>[] {
  return [
    new StrOpt('connection', {
      default: defaultConnection,
      secret: true,
      deprecatedName: 'sql_connection',
      deprecatedGroup: 'DEFAULT',
      help:
        'The SQLAlchemy-style connection string used to connect to the database: sqlite:///path, ' +
        'mysql+pymysql://user:password@host/db or postgresql://user:password@host/db.',
    }),
    new IntOpt('max_pool_size', { default: 5, min: 1, help: 'Maximum number of SQL connections to keep open in a pool.' }),
    new IntOpt('db_max_retries', {
      default: 20,
      min: 0,
      help: 'Maximum retries of a transaction that failed on a deadlock.',
    }),
  ];
}

/** Registers the DEFAULT options. */
export function registerCommonOpts(conf: ConfigOpts): void {
  conf.register('DEFAULT', defaultOpts);
}

/**
 * Registers `[group] connection` etc. For a service database under the state directory pass e.g.
 * `sqlite:///$state_path/keystone.sqlite` (substituted when read).
 */
export function registerDatabaseOpts(conf: ConfigOpts, defaultConnection: string | null = null, group = 'database'): void {
  conf.register(group, databaseOpts(defaultConnection));
}
