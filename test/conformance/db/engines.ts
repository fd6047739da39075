/**
 * The three SQL engines the db conformance suites run on. Each run gets its own uniquely named
 * database (a temp SQLite file, or a new MariaDB/PostgreSQL database) and drops it at the end.
 * Servers: STRATUS_TEST_MYSQL_URL (default mysql+pymysql://root@127.0.0.1:3306) and
 * STRATUS_TEST_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432), without a database.
 * An engine that cannot be reached is skipped with the reason.
 * @module
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { dropDatabase, ensureDatabaseExists, type DialectName } from '../../../src/common/db/connection.js';

export interface Engine {
  name: DialectName;
  /** Creates a fresh database and returns its URL. */
  create(): Promise<string>;
  /** Drops every database `create` made. */
  cleanup(): Promise<void>;
  /** Why the engine is skipped, or false. */
  skip: string | false;
}

const servers: Record<Exclude<DialectName, 'sqlite'>, string> = {
  mysql: process.env['STRATUS_TEST_MYSQL_URL'] ?? 'mysql+pymysql://root@127.0.0.1:3306',
  postgres: process.env['STRATUS_TEST_POSTGRES_URL'] ?? 'postgresql://postgres@127.0.0.1:5432',
};

const uniqueName = (): string => `stratus_test_${process.pid}_${randomBytes(4).toString('hex')}`;

function serverEngine(name: 'mysql' | 'postgres'): Engine {
  const created: string[] = [];
  return {
    name,
    skip: false,
    async create() {
      const url = `${servers[name].replace(/\/+$/, '')}/${uniqueName()}`;
      await ensureDatabaseExists(url);
      created.push(url);
      return url;
    },
    async cleanup() {
      for (const url of created.splice(0)) await dropDatabase(url);
    },
  };
}

function sqliteEngine(): Engine {
  let dir: string | null = null;
  return {
    name: 'sqlite',
    skip: false,
    async create() {
      dir ??= mkdtempSync(path.join(tmpdir(), 'stratus-db-conformance-'));
      return `sqlite:///${path.join(dir, `${uniqueName()}.sqlite`)}`;
    },
    async cleanup() {
      if (dir) rmSync(dir, { recursive: true, force: true });
      dir = null;
    },
  };
}

/** Probes the servers once: an engine is usable when a database can be created and dropped on it. */
export async function engines(): Promise<Engine[]> {
  const out: Engine[] = [sqliteEngine()];
  for (const name of ['mysql', 'postgres'] as const) {
    const e = serverEngine(name);
    try {
      await e.create();
      await e.cleanup();
    } catch (err) {
      e.skip = `${name} not reachable at ${servers[name]}: ${(err as Error).message}`;
    }
    out.push(e);
  }
  return out;
}
