/**
 * oslo.messaging's wire format: the 2.0 envelope, the flattened request context and the ids
 * every message carries. Both transports send exactly these bytes.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { RequestContext } from '../context.js';

export const ENVELOPE_VERSION = '2.0';
const VERSION_KEY = 'oslo.version';
const MESSAGE_KEY = 'oslo.message';
const CONTEXT_PREFIX = '_context_';
/** Context key that carries the sender's journey span, so the receive span nests under it. */
export const JOURNEY_PARENT_KEY = 'journey_parent';

export type WireMessage = Record<string, unknown>;

/** `uuid.uuid4().hex`, the form of `_unique_id`, `_msg_id` and queue suffixes. */
export function uuidHex(): string {
  return randomUUID().replaceAll('-', '');
}

/** Wraps a message in the 2.0 envelope and encodes it to the bytes that go on the wire. */
export function encodeMessage(msg: WireMessage): Buffer {
  // Same bytes as JSON.stringify({"oslo.version": "2.0", "oslo.message": <json>}), without the wrapper object.
  return Buffer.from(`{"${VERSION_KEY}":"${ENVELOPE_VERSION}","${MESSAGE_KEY}":${JSON.stringify(JSON.stringify(msg))}}`, 'utf8');
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

// The context keys RequestContext understands, with their wire names; taken from toDict()
// so the two stay in step.
let contextKeys: Array<[string, string]> | undefined;
function wireContextKeys(): Array<[string, string]> {
  contextKeys ??= [...Object.keys(new RequestContext().toDict()), JOURNEY_PARENT_KEY].map((k) => [k, prefixed(k)]);
  return contextKeys;
}

/**
 * Reads the request context out of a message's `_context_*` fields (oslo `unpack_context`).
 * Looks up the known keys instead of scanning every field: this runs once per message.
 */
export function unpackContext(msg: WireMessage): { ctx: RequestContext; journeyParent: string | null } {
  const raw: Record<string, unknown> = {};
  for (const [k, wire] of wireContextKeys()) {
    const v = msg[wire];
    if (v !== undefined) raw[k] = v;
  }
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
