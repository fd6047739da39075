/**
 * Queries built and compiled once, run many times: the hot paths (port create) would otherwise
 * rebuild and recompile the same Kysely query tree for every request, which costs several
 * times what SQLite spends running it. A query is built with `arg(n)` placeholders where the
 * values go; compiling it records which bound parameter is which argument, and each run binds
 * the arguments in those places. The SQL comes from the database's own compiler, so it is right
 * for whichever dialect the database is (SQLite, MySQL, PostgreSQL); the drivers keep their
 * own prepared-statement caches keyed by that SQL.
 * @module
 */
import type { Compilable, CompiledQuery, Kysely, QueryResult, Transaction } from 'kysely';
import { runDirect } from '../../common/db/sqlite.js';

const MARK = '\u0000stratus-arg:';

/** The database each open transaction runs on (set by whoever opens it), for runDirect. */
const roots = new WeakMap<object, Kysely<any>>();

/** Records that `trx` is a transaction of `root`, so prepared queries in it can run directly. */
export function bindTransaction(trx: Transaction<any>, root: Kysely<any>): void {
  roots.set(trx, root);
}

/** A placeholder for the n-th argument of a prepared query (a string as far as Kysely knows). */
export const arg = (n: number): string => `${MARK}${n}`;

type Slot = { arg: number } | { value: unknown };

interface Compiled {
  query: CompiledQuery;
  slots: Slot[];
}

/**
 * One query shape, compiled on first use for each database it runs on (keyed by the database's
 * adapter, which a Kysely instance shares with its transactions; one process may hold SQLite,
 * MySQL and PostgreSQL databases at once).
 */
export class PreparedQuery<Row = Record<string, any>> {
  private readonly compiled = new WeakMap<object, Compiled>();

  constructor(private readonly build: (db: Kysely<any>) => Compilable) {}

  private compile(db: Kysely<any>): Compiled {
    const key = db.getExecutor().adapter;
    let c = this.compiled.get(key);
    if (!c) {
      const query = this.build(db).compile();
      const slots: Slot[] = query.parameters.map((p) =>
        typeof p === 'string' && p.startsWith(MARK) ? { arg: Number(p.slice(MARK.length)) } : { value: p });
      this.compiled.set(key, (c = { query, slots }));
    }
    return c;
  }

  /**
   * Runs it in `db` (a Kysely or a transaction of it) with `args` bound. On SQLite it runs at
   * once on the handle (runDirect) instead of through Kysely's connection hand-off, which costs
   * more promises than the statement costs SQLite: outside a transaction, or inside one whose
   * database bindTransaction recorded.
   */
  async execute(db: Kysely<any> | Transaction<any>, ...args: unknown[]): Promise<QueryResult<Row>> {
    const { query, slots } = this.compile(db);
    const parameters = slots.map((s) => ('arg' in s ? args[s.arg] : s.value));
    const bound = { ...query, parameters };
    const root = db.isTransaction ? roots.get(db) : db;
    const direct = root ? runDirect<Row>(root, bound, root !== db) : undefined;
    return direct ?? db.executeQuery<Row>(bound);
  }

  async rows(db: Kysely<any> | Transaction<any>, ...args: unknown[]): Promise<Row[]> {
    return (await this.execute(db, ...args)).rows;
  }

  async first(db: Kysely<any> | Transaction<any>, ...args: unknown[]): Promise<Row | undefined> {
    return (await this.execute(db, ...args)).rows[0];
  }
}

/** Shorthand: `prepared((db) => db.selectFrom('ports').selectAll().where('id', '=', arg(0)))`. */
export function prepared<Row = Record<string, any>>(build: (db: Kysely<any>) => Compilable): PreparedQuery<Row> {
  return new PreparedQuery<Row>(build);
}
