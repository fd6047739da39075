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

const UNSET = '\u0000unset';

export abstract class NovaObject {
  static objName = 'NovaObject';
  static VERSION = '1.0';
  static NAMESPACE = 'nova';
  static fields: Record<string, FieldKind> = {};
  /** Where remotable methods run; set by whoever created or decoded the object. */
  backend: ObjectBackend | null = null;
  private _orig: Record<string, string> = {};

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
    for (const k of Object.keys(this.cls.fields)) if (k in values) this.set(k, values[k]);
    return this;
  }

  resetChanges(fields?: string[]): void {
    for (const k of fields ?? Object.keys(this.cls.fields)) this._orig[k] = snapshot(this.get(k));
  }

  whatChanged(): string[] {
    return Object.keys(this.cls.fields).filter((k) => this.isSet(k) && this._orig[k] !== snapshot(this.get(k)));
  }

  /** Marks fields as changed (used when decoding a primitive that lists its changes). */
  markChanged(fields: string[]): void {
    for (const k of fields) this._orig[k] = UNSET;
  }

  toPrimitive(): Record<string, unknown> {
    const data: Record<string, unknown> = {};
    for (const [k, kind] of Object.entries(this.cls.fields)) {
      if (!this.isSet(k)) continue;
      data[k] = fieldToPrimitive(kind, this.get(k));
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
    for (const k of Object.keys(this.cls.fields)) {
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

function snapshot(v: unknown): string {
  if (v === undefined) return UNSET;
  if (v instanceof NovaObject) return JSON.stringify(v.toDict());
  return JSON.stringify(v, (_k, x) => (x instanceof NovaObject ? x.toDict() : x));
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
  for (const [k, kind] of Object.entries(cls.fields)) {
    if (k in data) obj.set(k, fieldFromPrimitive(kind, data[k], backend));
  }
  obj.resetChanges();
  const changes = p['nova_object.changes'];
  if (Array.isArray(changes)) obj.markChanged(changes.map(String));
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
