/**
 * Opens a service database from an OpenStack-style `[database] connection` URL:
 * `sqlite:///abs/path.db`, `sqlite://` (memory), `mysql+pymysql://user:pw@host[:port]/db`,
 * `postgresql://user:pw@host[:port]/db` (also `postgresql+psycopg2://`).
 * @module
 */
import type { Kysely, Transaction } from 'kysely';

export type DialectName = 'sqlite' | 'mysql' | 'postgres';

export interface ParsedDbUrl {
  dialect: DialectName;
  /** sqlite: file path or ':memory:'. */
  path?: string;
  host?: string;
  port?: number;
  user?: string;
  password?: string;
  database?: string;
}

export function parseDbUrl(url: string): ParsedDbUrl {
  const m = /^([a-z0-9]+)(?:\+[a-z0-9_]+)?:\/\/(.*)$/i.exec(url);
  if (!m) throw new Error(`Invalid database connection URL: ${url}`);
  const scheme = m[1]!.toLowerCase();
  const rest = m[2]!;
  if (scheme === 'sqlite') {
    // sqlite:///relative.db -> "relative.db"; sqlite:////abs.db -> "/abs.db"; sqlite:// -> memory
    const p = rest.startsWith('/') ? rest.slice(1) : rest;
    return { dialect: 'sqlite', path: p === '' || p === ':memory:' ? ':memory:' : p };
  }
  const u = new URL(`x://${rest}`);
  const base = {
    host: u.hostname || '127.0.0.1',
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    database: decodeURIComponent(u.pathname.replace(/^\//, '')),
  };
  if (scheme === 'mysql' || scheme === 'mariadb') return { dialect: 'mysql', port: Number(u.port || 3306), ...base };
  if (scheme === 'postgresql' || scheme === 'postgres') return { dialect: 'postgres', port: Number(u.port || 5432), ...base };
  throw new Error(`Unsupported database scheme: ${scheme}`);
}

/** A service database: the Kysely handle plus what the dialect helpers need to know. */
export interface Database<DB = any> {
  readonly db: Kysely<DB>;
  readonly dialect: DialectName;
  readonly url: string;
  /** Runs `fn` in one transaction; every multi-row change goes through here. */
  transaction<T>(fn: (trx: Transaction<DB>) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

// The implementation lives in open.ts; re-exported here so the contract module is the one import.
export { openDatabase, ensureDatabaseExists, dropDatabase, type OpenDatabaseOptions } from './open.js';
