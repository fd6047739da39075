/**
 * oslo.messaging's wire format: the 2.0 envelope, the flattened request context and the ids
 * every message carries. Both transports send exactly these bytes.
 * @module
 */
import { randomFillSync } from 'node:crypto';
import { RequestContext } from '../context.js';

export const ENVELOPE_VERSION = '2.0';
const VERSION_KEY = 'oslo.version';
const MESSAGE_KEY = 'oslo.message';
const CONTEXT_PREFIX = '_context_';
/** Context key that carries the sender's journey span, so the receive span nests under it. */
export const JOURNEY_PARENT_KEY = 'journey_parent';

export type WireMessage = Record<string, unknown>;

// Random bytes for ids, drawn from the OS a few kilobytes at a time: ids are made several
// times per call, and randomUUID() plus dash removal cost four times as much.
const ID_POOL = Buffer.allocUnsafe(16 * 512);
let idPoolPos = ID_POOL.length;

/** `uuid.uuid4().hex` (random, version 4), the form of `_unique_id`, `_msg_id` and queue suffixes. */
export function uuidHex(): string {
  if (idPoolPos === ID_POOL.length) {
    randomFillSync(ID_POOL);
    idPoolPos = 0;
  }
  const o = idPoolPos;
  idPoolPos += 16;
  ID_POOL[o + 6] = (ID_POOL[o + 6]! & 0x0f) | 0x40;
  ID_POOL[o + 8] = (ID_POOL[o + 8]! & 0x3f) | 0x80;
  return ID_POOL.toString('hex', o, o + 16);
}

/*
 * Encoding. oslo.message is the message's JSON as a JSON string, so every value is encoded
 * twice: once to JSON, then escaped as string content. For the values messages are mostly
 * made of (ids, names, numbers, booleans, null, lists of role names) both passes can be done
 * at once: such a string has nothing to escape, so its doubly encoded form is \"<text>\".
 * Anything else (the call's arguments, odd strings) goes through JSON.stringify twice. The
 * bytes are exactly those of JSON.stringify(JSON.stringify(msg)) inside the envelope
 * (envelope.test.ts compares them on awkward inputs).
 */

// A character either pass would escape: quote, backslash, control characters, surrogates
// (a lone surrogate is escaped; a pair is not, but is left to the slow path anyway).
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** JSON.stringify(JSON.stringify(v)) without its outer quotes. */
function encodedTwice(v: unknown): string | undefined {
  const once = JSON.stringify(v);
  return once === undefined ? undefined : JSON.stringify(once).slice(1, -1);
}

/** A string's doubly encoded form. */
function wireString(s: string): string {
  return NEEDS_ESCAPE.test(s) ? encodedTwice(s)! : `\\"${s}\\"`;
}

/** Doubly encoded `value` of property `key`, or undefined when JSON.stringify leaves the property out. */
function wireValue(key: string, v: unknown): string | undefined {
  if (v === undefined || typeof v === 'function' || typeof v === 'symbol') return undefined;
  if (typeof v === 'object' && v !== null && typeof (v as { toJSON?: unknown }).toJSON === 'function') {
    // toJSON receives the property name: encode the property itself, keep the value.
    const once = JSON.stringify({ [key]: v });
    const value = once.slice(JSON.stringify(key).length + 2, -1);
    return value === '' ? undefined : JSON.stringify(value).slice(1, -1);
  }
  // bigint and the rest: JSON.stringify decides (it throws unless BigInt has a toJSON).
  return plainValue(v, 0) ?? encodedTwice(v);
}

/*
 * Plain data (objects whose prototype is Object's or null, arrays, strings, finite numbers,
 * booleans, null) encoded twice in one pass: about three times faster than the second
 * JSON.stringify, which escapes every quote of the first. Anything else anywhere inside
 * (toJSON, class instances, Maps, bigints, very deep or cyclic data) returns null and the
 * whole value goes through JSON.stringify twice, so the bytes never differ.
 */
const MAX_PLAIN_DEPTH = 32;

function plainTwice(v: object, depth: number): string | null {
  if (depth > MAX_PLAIN_DEPTH) return null;
  if (Array.isArray(v)) {
    let out = '[';
    for (let i = 0; i < v.length; i++) {
      const x: unknown = v[i];
      const w = x === undefined || typeof x === 'function' || typeof x === 'symbol' ? 'null' : plainValue(x, depth + 1);
      if (w === null) return null;
      out += (i ? ',' : '') + w;
    }
    return out + ']';
  }
  const proto: unknown = Object.getPrototypeOf(v);
  if ((proto !== Object.prototype && proto !== null) || typeof (v as { toJSON?: unknown }).toJSON === 'function') return null;
  let out = '{';
  let first = true;
  for (const k of Object.keys(v)) {
    const x: unknown = (v as Record<string, unknown>)[k];
    if (x === undefined || typeof x === 'function' || typeof x === 'symbol') continue;
    const w = plainValue(x, depth + 1);
    if (w === null) return null;
    out += (first ? '' : ',') + wireKey(k) + w;
    first = false;
  }
  return out + '}';
}

function plainValue(x: unknown, depth: number): string | null {
  switch (typeof x) {
    case 'string':
      return wireString(x);
    case 'number':
      return Number.isFinite(x) ? String(x) : 'null';
    case 'boolean':
      return x ? 'true' : 'false';
    case 'object':
      return x === null ? 'null' : plainTwice(x, depth);
    default:
      return null;
  }
}

// Doubly encoded `"key":` prefixes, built once per key.
const wireKeys = new Map<string, string>();
function wireKey(k: string): string {
  let w = wireKeys.get(k);
  if (w === undefined) {
    w = `${wireString(k)}:`;
    if (wireKeys.size < 4096) wireKeys.set(k, w);
  }
  return w;
}

/** Appends the doubly encoded properties of `fields` to `out` (`first`: no comma before the first). */
function appendFields(out: string, fields: Record<string, unknown>, first: boolean): string {
  for (const k of Object.keys(fields)) {
    const v = wireValue(k, fields[k]);
    if (v === undefined) continue;
    out += (first ? '' : ',') + wireKey(k) + v;
    first = false;
  }
  return out;
}

const ENVELOPE_HEAD = `{"${VERSION_KEY}":"${ENVELOPE_VERSION}","${MESSAGE_KEY}":"{`;
const ENVELOPE_TAIL = '}"}';

// Message bytes are cut from a large slab: Buffer.from() measures the string first and takes
// a fresh 8 KiB pool every few messages; writing into a slab with room for the worst case
// (3 bytes per UTF-16 unit) does one pass. A message keeps its slab alive only while it is
// itself kept (queued or being decoded).
const SLAB_SIZE = 512 * 1024;
let slab = Buffer.allocUnsafeSlow(SLAB_SIZE);
let slabPos = 0;

// Buffer's own utf8Write: write() spends more on sorting out its optional arguments than on
// writing a short string.
type Utf8Writer = { utf8Write(s: string, offset: number): number };
const writeUtf8 = (buf: Buffer, s: string, offset: number): number => (buf as unknown as Utf8Writer).utf8Write(s, offset);

/** Room for `worst` more bytes in the slab (a fresh slab when the current one is full). */
function slabRoom(worst: number): void {
  if (slabPos + worst > SLAB_SIZE) {
    slab = Buffer.allocUnsafeSlow(SLAB_SIZE);
    slabPos = 0;
  }
}

/** The bytes written since `start`, as a buffer of their own; the slab moves on. */
function slabTake(start: number, end: number): Buffer {
  slabPos = (end + 7) & ~7;
  return slab.subarray(start, end);
}

/** The UTF-8 bytes of `s`, in a buffer of its own length. */
function utf8Bytes(s: string): Buffer {
  const worst = s.length * 3;
  if (worst > SLAB_SIZE / 8) return Buffer.from(s, 'utf8');
  slabRoom(worst);
  const start = slabPos;
  return slabTake(start, start + writeUtf8(slab, s, start));
}

/** Wraps a message in the 2.0 envelope and encodes it to the bytes that go on the wire. */
export function encodeMessage(msg: WireMessage): Buffer {
  return utf8Bytes(appendFields(ENVELOPE_HEAD, msg, true) + ENVELOPE_TAIL);
}

/**
 * Encodes `fields` followed by the context as `_context_<key>` fields (oslo `pack_context`),
 * the same bytes as packContext() on the message and then encodeMessage(), without building
 * the flattened message.
 */
export function encodeWithContext(fields: WireMessage, ctx: RequestContext, journeyParent: string | null, sanitize = false): Buffer {
  const head = appendFields(ENVELOPE_HEAD, fields, true);
  const context = encodedContext(ctx, sanitize);
  const bare = head === ENVELOPE_HEAD;
  let tail = journeyParent ? (bare && !context.bytes.length ? '' : ',') + wireKey(CONTEXT_PREFIX + JOURNEY_PARENT_KEY) + wireString(journeyParent) : '';
  tail += ENVELOPE_TAIL;
  // The context's bytes are copied as they are: no string to join and encode again.
  const ctxBytes = bare ? context.bytes.subarray(1) : context.bytes;
  const worst = (head.length + tail.length) * 3 + ctxBytes.length;
  if (worst > SLAB_SIZE / 8) return Buffer.concat([Buffer.from(head, 'utf8'), ctxBytes, Buffer.from(tail, 'utf8')]);
  slabRoom(worst);
  const start = slabPos;
  let end = start + writeUtf8(slab, head, start);
  end += ctxBytes.copy(slab, end);
  end += writeUtf8(slab, tail, end);
  return slabTake(start, end);
}

/*
 * A context is sent many times (every RPC hop of a request, every notification) and its
 * fields make up most of a message, so its encoded bytes are kept with it and reused while
 * its toDict() values stay the same: the same values by identity, and arrays with the
 * same elements (a role added in place is seen). Catalog entries are taken as immutable,
 * as they come whole from the token.
 */
interface EncodedContext {
  values: unknown[];
  /** Copies of the array values' elements, to see changes made in place. */
  elements: (unknown[] | null)[];
  /** UTF-8 of the doubly encoded `,"_context_<key>":<value>` fields, each with its leading comma. */
  bytes: Buffer;
}
const encodedContexts = [new WeakMap<RequestContext, EncodedContext>(), new WeakMap<RequestContext, EncodedContext>()];

function encodedContext(ctx: RequestContext, sanitize: boolean): EncodedContext {
  const d = ctx.toDict();
  const cache = encodedContexts[sanitize ? 1 : 0]!;
  const hit = cache.get(ctx);
  if (hit && sameValues(d, hit)) return hit;
  const values: unknown[] = [];
  const elements: (unknown[] | null)[] = [];
  let text = '';
  for (const k in d) {
    const v = d[k];
    values.push(v);
    elements.push(Array.isArray(v) ? [...(v as unknown[])] : null);
    if (sanitize && (k === 'auth_token' || k === 'service_catalog')) continue;
    const wk = prefixed(k);
    const w = wireValue(wk, v);
    if (w !== undefined) text += ',' + wireKey(wk) + w;
  }
  const entry = { values, elements, bytes: Buffer.from(text, 'utf8') };
  cache.set(ctx, entry);
  return entry;
}

function sameValues(d: Record<string, unknown>, c: EncodedContext): boolean {
  let i = 0;
  for (const k in d) {
    const v = d[k];
    if (v !== c.values[i]) return false;
    const els = c.elements[i++];
    if (els) {
      const a = v as unknown[];
      if (a.length !== els.length) return false;
      for (let j = 0; j < a.length; j++) if (a[j] !== els[j]) return false;
    }
  }
  return i === c.values.length;
}

/**
 * Decodes wire bytes (or an already parsed body) into the inner message. Like oslo's
 * `deserialize_msg`, a dict without the envelope keys is taken as a 1.0 message as is.
 */
export function decodeMessage(body: Buffer | string | unknown): WireMessage {
  let outer: unknown = body;
  if (Buffer.isBuffer(body)) outer = JSON.parse(body.toString('utf8'));
  else if (typeof body === 'string') outer = JSON.parse(body);
  if (!outer || typeof outer !== 'object' || Array.isArray(outer)) throw new Error('message body is not a JSON object');
  const o = outer as Record<string, unknown>;
  if (!(VERSION_KEY in o) || !(MESSAGE_KEY in o)) return o;
  const version = String(o[VERSION_KEY]);
  if (version.split('.')[0] !== ENVELOPE_VERSION.split('.')[0]) {
    throw new Error(`Specified RPC envelope version, ${version}, not supported by this endpoint.`);
  }
  const inner = JSON.parse(String(o[MESSAGE_KEY])) as unknown;
  if (!inner || typeof inner !== 'object' || Array.isArray(inner)) throw new Error('oslo.message is not a JSON object');
  return inner as WireMessage;
}

// `_context_<key>` names, built once per key rather than once per message.
const prefixedKeys = new Map<string, string>();
function prefixed(k: string): string {
  let p = prefixedKeys.get(k);
  if (p === undefined) prefixedKeys.set(k, (p = CONTEXT_PREFIX + k));
  return p;
}

/** Adds the context as `_context_<key>` fields (oslo `pack_context`). */
export function packContext(msg: WireMessage, ctx: RequestContext, journeyParent: string | null, sanitize = false): void {
  const d = ctx.toDict();
  if (sanitize) {
    // Notifications never carry credentials (oslo.messaging's _sanitize_context).
    delete d['auth_token'];
    delete d['service_catalog'];
  }
  for (const k in d) msg[prefixed(k)] = d[k];
  if (journeyParent) msg[CONTEXT_PREFIX + JOURNEY_PARENT_KEY] = journeyParent;
}

// Reads the `_context_<key>` fields RequestContext understands into a `{<key>: value}` dict.
// Generated once from toDict()'s keys (so the two stay in step) as one object literal of named
// property reads: building the dict key by key was a fifth of a call's cost on the server.
type ContextPicker = (msg: WireMessage) => Record<string, unknown>;
let pickContext: ContextPicker | undefined;
function contextPicker(): ContextPicker {
  if (!pickContext) {
    const keys = [...Object.keys(new RequestContext().toDict()), JOURNEY_PARENT_KEY];
    const fields = keys.map((k) => `${JSON.stringify(k)}: m[${JSON.stringify(CONTEXT_PREFIX + k)}]`);
    pickContext = new Function('m', `return { ${fields.join(', ')} };`) as ContextPicker;
  }
  return pickContext;
}

/** Reads the request context out of a message's `_context_*` fields (oslo `unpack_context`). */
export function unpackContext(msg: WireMessage): { ctx: RequestContext; journeyParent: string | null } {
  const raw = contextPicker()(msg);
  const jp = raw[JOURNEY_PARENT_KEY];
  return { ctx: RequestContext.fromDict(raw), journeyParent: typeof jp === 'string' ? jp : null };
}

/** oslo's notification timestamp: `str(timeutils.utcnow())` with microseconds, UTC. */
export function osloTimestamp(d = new Date()): string {
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return (
    `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ` +
    `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}.${p(d.getUTCMilliseconds(), 3)}000`
  );
}

/** Keeps the last few `_unique_id`s and reports repeats (oslo `_MsgIdCache`). */
export class DuplicateCache {
  private readonly ids: string[] = [];
  constructor(private readonly size = 16) {}
  /** True when `id` was seen recently; otherwise remembers it. */
  seen(id: unknown): boolean {
    if (typeof id !== 'string') return false;
    if (this.ids.includes(id)) return true;
    this.ids.push(id);
    if (this.ids.length > this.size) this.ids.shift();
    return false;
  }
}
