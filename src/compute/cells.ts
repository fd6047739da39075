/**
 * Cells v2 as API-level services see them: the `cell_mappings` rows of the API DB, each
 * opened as its database and its message bus (nova/context.py `target_cell`,
 * `scatter_gather_cells`). cell0 has a database and no bus.
 * @module
 */
import type { Database } from '../common/db/connection.js';
import type { MessageBus } from '../common/rpc/index.js';
import * as apiDb from './db/api-api.js';
import { CellDbBackend } from './objects/backend.js';

export interface Cell {
  id: number;
  uuid: string;
  name: string | null;
  transportUrl: string;
  databaseConnection: string;
  disabled: boolean;
  db: Database;
  /** The object backend writing this cell's DB directly. */
  backend: CellDbBackend;
  isCell0: boolean;
}

export interface CellOpeners {
  openDatabase(url: string): Promise<Database>;
  openTransport(url: string): Promise<MessageBus>;
}

export class CellRegistry {
  private cells = new Map<number, Cell>();
  private buses = new Map<string, Promise<MessageBus>>();
  private dbs = new Map<string, Promise<Database>>();
  private loaded: Promise<void> | null = null;

  constructor(readonly api: Database, private readonly openers: CellOpeners) {}

  /** Re-reads cell_mappings (nova's cell caches refresh on SIGHUP; we refresh when a cell is unknown). */
  async refresh(): Promise<void> {
    const rows = await apiDb.cellMappingList(this.api);
    for (const r of rows) {
      if (this.cells.has(r['id'])) continue;
      const url = r['database_connection'] as string;
      if (!this.dbs.has(url)) this.dbs.set(url, this.openers.openDatabase(url));
      const db = await this.dbs.get(url)!;
      this.cells.set(r['id'], {
        id: r['id'], uuid: r['uuid'], name: r['name'], transportUrl: r['transport_url'], databaseConnection: url,
        disabled: Boolean(r['disabled']), db, backend: new CellDbBackend(db, r['uuid']), isCell0: r['uuid'] === apiDb.CELL0_UUID,
      });
    }
  }

  private async ensure(): Promise<void> {
    if (!this.loaded) this.loaded = this.refresh().catch((e) => { this.loaded = null; throw e; });
    await this.loaded;
  }

  async all(): Promise<Cell[]> {
    await this.ensure();
    return [...this.cells.values()];
  }

  /** Every cell but cell0 (where computes live). */
  async computeCells(): Promise<Cell[]> {
    return (await this.all()).filter((c) => !c.isCell0);
  }

  async byId(id: number): Promise<Cell> {
    await this.ensure();
    if (!this.cells.has(id)) await this.refresh();
    const c = this.cells.get(id);
    if (!c) throw new Error(`Cell ${id} has no mapping`);
    return c;
  }

  async byUuid(uuid: string): Promise<Cell> {
    await this.ensure();
    let c = [...this.cells.values()].find((x) => x.uuid === uuid);
    if (!c) {
      await this.refresh();
      c = [...this.cells.values()].find((x) => x.uuid === uuid);
    }
    if (!c) throw new Error(`Cell ${uuid} has no mapping`);
    return c;
  }

  async cell0(): Promise<Cell> {
    return this.byUuid(apiDb.CELL0_UUID);
  }

  /** The cell's message bus (its transport_url), opened once. */
  async busFor(cell: Cell): Promise<MessageBus> {
    if (cell.isCell0) throw new Error('cell0 has no message queue');
    if (!this.buses.has(cell.transportUrl)) this.buses.set(cell.transportUrl, this.openers.openTransport(cell.transportUrl));
    return this.buses.get(cell.transportUrl)!;
  }

  /** The cell an instance lives in, by its mapping; null while it is only a build request. */
  async cellForInstance(uuid: string): Promise<Cell | null | undefined> {
    const m = await apiDb.instanceMappingGet(this.api, uuid);
    if (!m) return undefined;
    if (m['cell_id'] === null || m['cell_id'] === undefined) return null;
    return this.byId(m['cell_id']);
  }

  /** Runs `fn` against every cell at once and gathers the results (errors become `null`). */
  async scatterGather<T>(fn: (cell: Cell) => Promise<T>, cells?: Cell[]): Promise<Map<Cell, T | null>> {
    const list = cells ?? (await this.all());
    const results = await Promise.all(list.map(async (c) => {
      try {
        return [c, await fn(c)] as const;
      } catch {
        return [c, null] as const;
      }
    }));
    return new Map(results);
  }

  async close(): Promise<void> {
    // Databases and buses are owned by whoever made the openers; nothing to release here.
    this.cells.clear();
  }
}
