/**
 * Hot statements built by Kysely once per shape and then re-run with fresh parameters.
 * For the one-row reads and writes of a volume's life, building and compiling the query cost
 * more CPU than the database's own work; the SQL text of a shape never changes, only its
 * parameters do. Works on every dialect: the cache belongs to one database (one dialect).
 * @module
 */
import type { CompiledQuery, Compilable, Kysely, QueryResult } from 'kysely';
import { runDirect } from '../../common/db/sqlite.js';

/** Stand-ins bound while a shape is compiled, so the compiled parameter list names its slots. */
const SLOT = '\u0000stratus-slot-';
const MAX_SHAPES = 256;

interface Shape {
  compiled: CompiledQuery;
  /** For each compiled parameter: the argument index it takes, or -1 to keep the compiled constant. */
  slots: number[];
}

export class PreparedQueries {
  private readonly shapes = new Map<string, Shape>();

  /** `root`: the database's own Kysely; any other handle given to run() is a transaction on it. */
  constructor(private readonly root: Kysely<any>) {}

  /**
   * Runs the query `build(slots)` makes, with `args` in the slots. `key` names the shape: queries
   * under one key must differ only in the values they bind.
   */
  run<R>(db: Kysely<any>, key: string, args: readonly unknown[], build: (slots: readonly string[]) => Compilable): Promise<QueryResult<R>> {
    return this.exec<R, QueryResult<R>>(db, key, args, build, (r) => r);
  }

  rows<R>(db: Kysely<any>, key: string, args: readonly unknown[], build: (slots: readonly string[]) => Compilable): Promise<R[]> {
    return this.exec<R, R[]>(db, key, args, build, (r) => r.rows as R[]);
  }

  /** Rows an UPDATE or DELETE touched. */
  affected(db: Kysely<any>, key: string, args: readonly unknown[], build: (slots: readonly string[]) => Compilable): Promise<number> {
    return this.exec(db, key, args, build, (r) => Number(r.numAffectedRows ?? 0n));
  }

  /**
   * On SQLite the statement runs at once unless it would have to wait for the connection; its
   * result then comes back in one resolved promise (no async layers: this is every hot query).
   */
  private exec<R, T>(db: Kysely<any>, key: string, args: readonly unknown[], build: (slots: readonly string[]) => Compilable, pick: (r: QueryResult<R>) => T): Promise<T> {
    try {
      const query = this.bind(key, args, build);
      const direct = runDirect<R>(this.root, query, db !== this.root);
      return direct ? Promise.resolve(pick(direct)) : db.executeQuery<R>(query).then(pick);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** The shape of `key` (compiled on first use) with `args` bound. */
  private bind(key: string, args: readonly unknown[], build: (slots: readonly string[]) => Compilable): CompiledQuery {
    let shape = this.shapes.get(key);
    if (!shape) {
      const slotValues = args.map((_, i) => `${SLOT}${i}`);
      const compiled = build(slotValues).compile();
      const slots = compiled.parameters.map((p) => (typeof p === 'string' && p.startsWith(SLOT) ? Number(p.slice(SLOT.length)) : -1));
      shape = { compiled, slots };
      if (this.shapes.size >= MAX_SHAPES) this.shapes.delete(this.shapes.keys().next().value!);
      this.shapes.set(key, shape);
    }
    const { compiled, slots } = shape;
    const parameters = slots.map((s, i) => (s >= 0 ? args[s] : compiled.parameters[i]));
    return { ...compiled, parameters };
  }
}
