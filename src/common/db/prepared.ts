/**
 * Hot queries built by Kysely once per shape and database, then run with fresh parameters.
 * For one-row reads and writes, building and compiling the query tree, and Kysely's connection
 * hand-off, cost more CPU than the database's own work. A shape is compiled with stand-ins where
 * its values go; each run binds the arguments in those places. The SQL comes from the database's
 * own compiler (right for SQLite, MySQL and PostgreSQL alike); on SQLite the statement runs at
 * once (runDirect) unless a transaction it is not part of holds the connection.
 * @module
 */
import type { CompiledQuery, Compilable, Kysely, QueryResult } from 'kysely';
import { runDirect, runDirectRaw } from './sqlite.js';

/** Stand-ins bound while a shape is compiled, so the compiled parameter list names its slots. */
const SLOT = '\u0000stratus-prepared-';
const MAX_SHAPES = 256;

interface Shape {
  compiled: CompiledQuery;
  /** For each compiled parameter: the argument index it takes, or -1 to keep the compiled constant. */
  slots: number[];
}

/** Compiled shapes, per root database (a transaction shares its root's dialect and cache). */
const shapesByRoot = new WeakMap<Kysely<any>, Map<string, Shape>>();

/**
 * Runs the query `build(slots)` makes, with `args` in the slots. `root` is the database's own
 * Kysely; `db` is root itself or a transaction on it. Queries under one `key` must differ only
 * in the values they bind (put anything that changes the SQL text, such as a list's length or
 * the columns set, in the key).
 */
export function runPrepared<R = Record<string, any>>(root: Kysely<any>, db: Kysely<any>, key: string, args: readonly unknown[],
  build: (slots: readonly string[]) => Compilable): Promise<QueryResult<R>> {
  try {
    const query = bind(root, key, args, build);
    const direct = runDirect<R>(root, query, db !== root);
    return direct ? Promise.resolve(direct) : db.executeQuery<R>(query);
  } catch (e) {
    return Promise.reject(e);
  }
}

/**
 * runPrepared for a SELECT of `columns`, each row as the array of their values in that order
 * (runDirectRaw on SQLite; other dialects' row objects are turned into arrays): for reads of
 * thousands of wide rows that build their own records.
 */
export async function runPreparedRaw(root: Kysely<any>, db: Kysely<any>, key: string, args: readonly unknown[], columns: readonly string[],
  build: (slots: readonly string[]) => Compilable): Promise<unknown[][]> {
  const query = bind(root, key, args, build);
  const direct = runDirectRaw(root, query, db !== root);
  if (direct) return direct;
  return (await db.executeQuery<Record<string, unknown>>(query)).rows.map((r) => columns.map((c) => r[c]));
}

/** The shape of `key` (compiled on first use) with `args` bound. */
function bind(root: Kysely<any>, key: string, args: readonly unknown[], build: (slots: readonly string[]) => Compilable): CompiledQuery {
  let shapes = shapesByRoot.get(root);
  if (!shapes) shapesByRoot.set(root, (shapes = new Map()));
  let shape = shapes.get(key);
  if (!shape) {
    const compiled = build(args.map((_, i) => `${SLOT}${i}`)).compile();
    const slots = compiled.parameters.map((p) => (typeof p === 'string' && p.startsWith(SLOT) ? Number(p.slice(SLOT.length)) : -1));
    shape = { compiled, slots };
    if (shapes.size >= MAX_SHAPES) shapes.delete(shapes.keys().next().value!);
    shapes.set(key, shape);
  }
  const { compiled, slots } = shape;
  const parameters = slots.map((s, i) => (s >= 0 ? args[s] : compiled.parameters[i]));
  return { ...compiled, parameters };
}
