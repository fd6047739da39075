/**
 * WAL checkpoints of neutron-server's SQLite file, off the request path. SQLite's automatic
 * checkpoint runs inside whichever commit pushes the WAL past 1000 pages: that commit copies
 * the WAL into the database file and fsyncs it, so about one port create in a hundred waited
 * tens of milliseconds on the disk (the p99 of the bench). Here the connection the server uses
 * stops checkpointing and a worker thread with its own connection runs PASSIVE checkpoints
 * every few hundred milliseconds; PASSIVE never blocks the writer, and the writer starts the
 * WAL over once a checkpoint has caught up. Not for MySQL/PostgreSQL or in-memory SQLite.
 * @module
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../common/db/connection.js';
import { parseDbUrl } from '../../common/db/connection.js';
import { getLogger } from '../../common/log.js';

const log = getLogger('neutron-server');

/** What the worker runs (plain CommonJS so it needs no TypeScript loader). */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Sqlite = require(workerData.module);
const db = new Sqlite(workerData.file, { timeout: 5000 });
const checkpoint = () => {
  try {
    const r = db.pragma('wal_checkpoint(PASSIVE)')[0];
    parentPort.postMessage({ checkpointed: r ? r.checkpointed : 0 });
  } catch (e) {
    // busy or locked: the next round catches up
  }
};
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on('message', (m) => {
  if (m !== 'stop') return;
  clearInterval(timer);
  checkpoint();
  db.close();
  parentPort.close();
});
parentPort.postMessage({ ready: true });
`;

export interface Checkpointer {
  /** Frames copied into the database file so far (for tests). */
  readonly checkpointed: number;
  stop(): Promise<void>;
}

export const DEFAULT_CHECKPOINT_INTERVAL_MS = 200;

/**
 * Starts background checkpoints for `database` when it is a SQLite file; returns null (and
 * leaves SQLite's automatic checkpoints on) for anything else or when the worker cannot start.
 */
export async function startCheckpointer(database: Database, intervalMs = DEFAULT_CHECKPOINT_INTERVAL_MS): Promise<Checkpointer | null> {
  if (database.dialect !== 'sqlite') return null;
  const file = parseDbUrl(database.url).path;
  if (!file || file === ':memory:') return null;
  const db = database.db as Kysely<any>;
  let worker: Worker;
  try {
    worker = new Worker(WORKER_SOURCE, {
      eval: true, workerData: { file, intervalMs, module: createRequire(import.meta.url).resolve('better-sqlite3') },
    });
    await new Promise<void>((resolve, reject) => {
      worker.once('error', reject);
      worker.once('message', () => { worker.off('error', reject); resolve(); });
    });
  } catch (e) {
    log.warn({ err: e }, 'WAL checkpoints stay in the request path: checkpoint worker did not start');
    return null;
  }
  let checkpointed = 0;
  worker.on('message', (m: { checkpointed?: number }) => { checkpointed += m.checkpointed ?? 0; });
  worker.on('error', (e) => log.warn({ err: e }, 'checkpoint worker failed'));
  worker.unref();
  await sql`pragma wal_autocheckpoint = 0`.execute(db);
  let stopped = false;
  return {
    get checkpointed() { return checkpointed; },
    async stop() {
      if (stopped) return;
      stopped = true;
      // the connection may outlive this server (shared handle): give it its checkpoints back
      await sql`pragma wal_autocheckpoint = 1000`.execute(db).catch(() => undefined);
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      worker.ref(); // keeps the process up until the last checkpoint is done
      worker.postMessage('stop');
      await exited;
    },
  };
}
