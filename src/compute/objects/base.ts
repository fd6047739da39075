/**
 * Versioned objects, Nova's wire contract (nova/objects/base.py). An object has a name, a
 * version and typed fields; it travels as `{"nova_object.name", "nova_object.namespace",
 * "nova_object.version", "nova_object.data", "nova_object.changes"}`.
 *
 * Remotable methods run against an `ObjectBackend`: in nova-api and the conductors that is the
 * database; in nova-compute it is the cell conductor over RPC (`object_action`,
 * `object_class_action_versions`), Nova's "indirection API". The serializer hands every object
 * it decodes the backend of the process that received it.
 * @module
 */
import type { RequestContext } from '../../common/context.js';

export type FieldKind = 'string' | 'int' | 'float' | 'bool' | 'datetime' | 'dict' | 'list' | 'any' | `object:${string}` | `list:${string}`;

export interface ObjectBackend {
  /** True when remotable methods go over RPC to a conductor. */
  readonly remote: boolean;
  /** Runs `method` on `obj` where the data lives; updates `obj` in place; returns the result. */
  objectAction(ctx: RequestContext, obj: NovaObject, method: string, args: Record<string, unknown>): Promise<unknown>;
  /** Runs a class-level remotable method (`get_by_uuid`, `event_start`, ...). */
  objectClassAction(ctx: RequestContext, objName: string, method: string, args: Record<string, unknown>): Promise<unknown>;
}

type ObjClass = (new () => NovaObject) & { objName: string; VERSION: string; fields: Record<string, FieldKind> };
const registry = new Map<string, ObjClass>();

export function registerObject(cls: ObjClass): void {
  registry.set(cls.objName, cls);
}
export function objectClass(name: string): ObjClass | undefined {
  return registry.get(name);
}

/** Change tracking: what a field held at the last reset (see fieldMark). */
export type FieldMarks = Record<string, unknown>;
/** The mark of a field that was not set (or that a decoded primitive listed as changed). */
const NOT_SET: unique symbol = Symbol('unset');
/** A dict, list or object value, kept as its JSON (nested objects as dicts): in-place edits count as changes. */
class JsonMark {
  constructor(readonly json: string | undefined) {}
}

/** A class's field names and kinds, listed once per `fields` record (every hop walks them several times). */
const fieldLists = new WeakMap<Record<string, FieldKind>, { names: string[]; entries: [string, FieldKind][] }>();
function fieldList(cls: { fields: Record<string, FieldKind> }): { names: string[]; entries: [string, FieldKind][] } {
  let l = fieldLists.get(cls.fields);
  if (!l) fieldLists.set(cls.fields, (l = { names: Object.keys(cls.fields), entries: Object.entries(cls.fields) }));
  return l;
}
const fieldNames = (cls: { fields: Record<string, FieldKind> }): string[] => fieldList(cls).names;
const fieldEntries = (cls: { fields: Record<string, FieldKind> }): [string, FieldKind][] => fieldList(cls).entries;

export abstract class NovaObject {
  static objName = 'NovaObject';
  static VERSION = '1.0';
  static NAMESPACE = 'nova';
  static fields: Record<string, FieldKind> = {};
  /** Where remotable methods run; set by whoever created or decoded the object. */
  backend: ObjectBackend | null = null;
  private _orig: FieldMarks = {};
  /** The fields as a decoded primitive carried them (what its sender sent); null for objects made here. */
  private _sent: FieldMarks | null = null;

  get cls(): ObjClass {
    return this.constructor as ObjClass;
  }

  /** Field values by name, for generic code (serializer, DB mapping). */
  get(name: string): unknown {
    return (this as unknown as Record<string, unknown>)[name];
  }
  set(name: string, v: unknown): void {
    (this as unknown as Record<string, unknown>)[name] = v;
  }

  isSet(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /** Copies fields from a plain record (only the object's fields). */
  update(values: Record<string, unknown>): this {
    for (const k of fieldNames(this.cls)) if (k in values) this.set(k, values[k]);
    return this;
  }

  resetChanges(fields?: string[]): void {
    // Always a new record: marks handed out (sentFields) never change under their holder.
    if (!fields) {
      this._orig = this.captureFields();
      return;
    }
    const marks = { ...this._orig };
    for (const k of fields) marks[k] = fieldMark(this.get(k));
    this._orig = marks;
  }

  /** Changed fields; `now` (from captureFields, taken after the last change) saves encoding the values again. */
  whatChanged(now?: FieldMarks): string[] {
    return now ? this.changedBetween(this._orig, now) : this.changedSince(this._orig);
  }

  /** The fields' values as they are now (for changedSince / changedBetween, the conductor's object_action diff). */
  captureFields(): FieldMarks {
    const marks: FieldMarks = {};
    for (const k of fieldNames(this.cls)) marks[k] = fieldMark(this.get(k));
    return marks;
  }

  /** Fields set now whose value differs (as JSON) from what `marks` recorded, or that were not set then. */
  changedSince(marks: FieldMarks): string[] {
    const out: string[] = [];
    for (const k of fieldNames(this.cls)) {
      const v = this.get(k);
      if (v !== undefined && (!(k in marks) || !sameAsMark(marks[k], v))) out.push(k);
    }
    return out;
  }

  /** changedSince(before) for the values `now` recorded. */
  changedBetween(before: FieldMarks, now: FieldMarks): string[] {
    const out: string[] = [];
    for (const k of fieldNames(this.cls)) {
      const m = now[k];
      if (m !== NOT_SET && m !== undefined && (!(k in before) || !sameMarks(before[k], m))) out.push(k);
    }
    return out;
  }

  /** Marks fields as changed (used when decoding a primitive that lists its changes). */
  markChanged(fields: string[]): void {
    const marks = { ...this._orig };
    for (const k of fields) marks[k] = NOT_SET;
    this._orig = marks;
  }

  /** Just decoded: unchanged except for `changes`, and the values kept as what the sender sent. */
  resetFromWire(changes: string[] | null): void {
    this.resetChanges();
    this._sent = this._orig;
    if (changes) this.markChanged(changes);
  }

  /** The fields as the primitive this object was decoded from carried them (null if made here). */
  sentFields(): FieldMarks | null {
    return this._sent;
  }

  toPrimitive(): Record<string, unknown> {
    const data: Record<string, unknown> = {};
    for (const [k, kind] of fieldEntries(this.cls)) {
      const v = this.get(k);
      if (v !== undefined) data[k] = fieldToPrimitive(kind, v);
    }
    const p: Record<string, unknown> = {
      'nova_object.name': this.cls.objName,
      'nova_object.namespace': 'nova',
      'nova_object.version': this.cls.VERSION,
      'nova_object.data': data,
    };
    const changes = this.whatChanged();
    if (changes.length) p['nova_object.changes'] = changes;
    return p;
  }

  /** Plain field record (nested objects become plain records too), for DB rows and API views. */
  toDict(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const k of fieldNames(this.cls)) {
      const v = this.get(k);
      if (v === undefined) continue;
      out[k] = v instanceof NovaObject ? v.toDict() : Array.isArray(v) ? v.map((x) => (x instanceof NovaObject ? x.toDict() : x)) : v;
    }
    return out;
  }

  clone<T extends NovaObject>(this: T): T {
    const c = fromPrimitive(this.toPrimitive(), this.backend) as T;
    c._orig = { ...this._orig };
    return c;
  }

  /** Runs a remotable method through the backend when it is remote; otherwise returns null. */
  protected async remote(ctx: RequestContext, method: string, args: Record<string, unknown>): Promise<{ result: unknown } | null> {
    if (!this.backend?.remote) return null;
    return { result: await this.backend.objectAction(ctx, this, method, args) };
  }
}

/** A value's JSON, nested objects as their dicts: two values are the same when these are equal. */
function snapshot(v: unknown): string | undefined {
  if (v instanceof NovaObject) return JSON.stringify(v.toDict());
  return JSON.stringify(v, (_k, x) => (x instanceof NovaObject ? x.toDict() : x));
}

/**
 * What to remember of a field value. Scalars are kept as they are and compared with ===
 * (most fields are scalars, and JSON-encoding each of them at every reset and every diff was
 * the bulk of the cost of an object hop); dicts, lists and objects are kept as their JSON.
 */
function fieldMark(v: unknown): unknown {
  if (v === undefined) return NOT_SET;
  if (v === null || (typeof v !== 'object' && typeof v !== 'function')) return v;
  return new JsonMark(snapshot(v));
}

/** Whether two marks record the same value (the same JSON). */
function sameMarks(a: unknown, b: unknown): boolean {
  if (a === NOT_SET || b === NOT_SET) return false;
  if (a instanceof JsonMark) return b instanceof JsonMark ? a.json === b.json : a.json === JSON.stringify(b);
  if (b instanceof JsonMark) return JSON.stringify(a) === b.json;
  if (a === b) return true;
  if (typeof a === 'number' || typeof b === 'number') return JSON.stringify(a) === JSON.stringify(b);
  return false;
}

/** Whether `v` equals the remembered value: the same JSON, as comparing snapshots did. */
function sameAsMark(mark: unknown, v: unknown): boolean {
  if (mark === NOT_SET) return false;
  if (mark instanceof JsonMark) return mark.json === snapshot(v);
  if (mark === v) return true;
  if (v !== null && (typeof v === 'object' || typeof v === 'function')) return JSON.stringify(mark) === snapshot(v);
  // NaN, Infinity and null all encode as null; -0 as 0.
  if (typeof mark === 'number' || typeof v === 'number') return JSON.stringify(mark) === JSON.stringify(v);
  return false;
}

function fieldToPrimitive(kind: FieldKind, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (kind.startsWith('object:')) return (v as NovaObject).toPrimitive();
  if (kind.startsWith('list:')) return (v as NovaObject[]).map((o) => o.toPrimitive());
  return v;
}

function fieldFromPrimitive(kind: FieldKind, v: unknown, backend: ObjectBackend | null): unknown {
  if (v === null || v === undefined) return null;
  if (kind.startsWith('object:')) return fromPrimitive(v as Record<string, unknown>, backend);
  if (kind.startsWith('list:')) return (v as Record<string, unknown>[]).map((p) => fromPrimitive(p, backend));
  return v;
}

export function isPrimitiveObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && 'nova_object.name' in v;
}

export class IncompatibleObjectVersion extends Error {
  constructor(name: string, version: string) {
    super(`Version ${version} of ${name} is not supported`);
    this.name = 'IncompatibleObjectVersion';
  }
}

/** Decodes a `nova_object.*` primitive into its registered class. */
export function fromPrimitive(p: Record<string, unknown>, backend: ObjectBackend | null = null): NovaObject {
  const name = String(p['nova_object.name']);
  const cls = registry.get(name);
  if (!cls) throw new Error(`Unsupported object type ${name}`);
  const version = String(p['nova_object.version'] ?? '1.0');
  if (Number(version.split('.')[0]) !== Number(cls.VERSION.split('.')[0])) throw new IncompatibleObjectVersion(name, version);
  const obj = new cls();
  obj.backend = backend;
  const data = (p['nova_object.data'] ?? {}) as Record<string, unknown>;
  for (const [k, kind] of fieldEntries(cls)) {
    if (k in data) obj.set(k, fieldFromPrimitive(kind, data[k], backend));
  }
  const changes = p['nova_object.changes'];
  obj.resetFromWire(Array.isArray(changes) ? changes.map(String) : null);
  return obj;
}

/**
 * The bus Serializer (NovaObjectSerializer): objects become primitives on the way out and
 * objects again, bound to this process's backend, on the way in. Works through arrays and dicts.
 */
export class NovaObjectSerializer {
  constructor(private readonly backend: ObjectBackend | null = null) {}

  serializeEntity(_ctx: unknown, v: unknown): unknown {
    if (v instanceof NovaObject) return v.toPrimitive();
    if (Array.isArray(v)) return v.map((x) => this.serializeEntity(_ctx, x));
    if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
      const o: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) o[k] = this.serializeEntity(_ctx, x);
      return o;
    }
    return v;
  }

  deserializeEntity(_ctx: unknown, v: unknown): unknown {
    if (isPrimitiveObject(v)) return fromPrimitive(v, this.backend);
    if (Array.isArray(v)) return v.map((x) => this.deserializeEntity(_ctx, x));
    if (v && typeof v === 'object') {
      const o: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) o[k] = this.deserializeEntity(_ctx, x);
      return o;
    }
    return v;
  }
}
