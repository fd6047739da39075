/**
 * The two places a remotable method can run: the cell database itself (nova-api, conductors),
 * or the cell conductor over RPC (nova-compute's "indirection API", see conductor/rpcapi.ts).
 * @module
 */
import type { RequestContext } from '../../common/context.js';
import type { Database } from '../../common/db/connection.js';
import { ObjectActionError } from '../exception.js';
import { nowIso } from '../db/schema-helpers.js';
import { objectClass, type NovaObject, type ObjectBackend } from './base.js';

export type ClassMethod = (backend: ObjectBackend, ctx: RequestContext, args: Record<string, any>) => Promise<unknown>;

/** Per class: wire method name -> instance method name, and wire name -> class-level implementation. */
export interface Remotable {
  methods?: Record<string, string>;
  classMethods?: Record<string, ClassMethod>;
}
const remotables = new Map<string, Remotable>();
export function registerRemotable(objName: string, r: Remotable): void {
  remotables.set(objName, r);
}

/** Runs remotable methods directly against one cell database. */
export class CellDbBackend implements ObjectBackend {
  readonly remote = false;
  constructor(readonly cell: Database, readonly cellUuid: string | null = null) {}

  async objectAction(ctx: RequestContext, obj: NovaObject, method: string, args: Record<string, unknown>): Promise<unknown> {
    const name = remotables.get(obj.cls.objName)?.methods?.[method];
    const fn = name ? (obj as unknown as Record<string, unknown>)[name] : undefined;
    if (typeof fn !== 'function') throw new ObjectActionError(`Object action ${method} failed because: unknown method`, { action: method });
    obj.backend = this;
    return (fn as (c: RequestContext, a: Record<string, unknown>) => Promise<unknown>).call(obj, ctx, args);
  }

  async objectClassAction(ctx: RequestContext, objName: string, method: string, args: Record<string, unknown>): Promise<unknown> {
    const fn = remotables.get(objName)?.classMethods?.[method];
    if (!fn || !objectClass(objName) && !remotables.has(objName)) {
      throw new ObjectActionError(`Object action ${method} failed because: unknown class method of ${objName}`, { action: method });
    }
    return fn(this, ctx, args);
  }
}

export function cellOf(backend: ObjectBackend | null): Database {
  if (!backend || backend.remote || !(backend instanceof CellDbBackend)) throw new Error('object has no database backend');
  return backend.cell;
}

/** Inserts an object's new row into a cell table and reads it back (id and defaults), by uuid. */
export async function insertCellRow(db: Database, table: string, uuid: string, row: Record<string, unknown>): Promise<Record<string, any>> {
  await db.db.insertInto(table).values({ ...row, created_at: nowIso(), updated_at: null, deleted: 0 }).execute();
  return db.db.selectFrom(table).selectAll().where('uuid', '=', uuid).executeTakeFirstOrThrow();
}

/** The changed persisted fields of an object, as `{field: value}` (empty when none changed). */
export function changedColumns(obj: NovaObject, columns: readonly string[]): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const k of obj.whatChanged()) if (columns.includes(k)) values[k] = obj.get(k);
  return values;
}
