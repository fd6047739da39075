/**
 * AMQP 0-9-1 frames of one `basic.publish` (method, content header, body frames), encoded into
 * a single buffer. The RabbitMQ transport writes these straight to the connection's socket for
 * messages on its publishing channel: rabbitmq-client's basicPublish runs every message
 * through an object-mode stream, a generator and three buffers, and flushes the socket
 * per message once back-pressure has kicked in, which made publishing half of a call's cost.
 * Frames of one publish are contiguous, as AMQP requires per channel; other channels'
 * frames may come before or after, which AMQP allows.
 * @module
 */

const FRAME_METHOD = 1;
const FRAME_HEADER = 2;
const FRAME_BODY = 3;
const FRAME_END = 0xce;
const CLASS_BASIC = 60;
const METHOD_PUBLISH = 40;

// Content-header property flags (basic class), in the order their values follow.
const FLAG_CONTENT_TYPE = 0x8000;
const FLAG_CONTENT_ENCODING = 0x4000;
const FLAG_DELIVERY_MODE = 0x1000;
const FLAG_EXPIRATION = 0x0100;
const FLAG_TIMESTAMP = 0x0040;

// What kombu puts on every message it publishes for oslo.
const CONTENT_TYPE = Buffer.from('application/json');
const CONTENT_ENCODING = Buffer.from('utf-8');

export interface PublishFrame {
  channel: number;
  exchange: string;
  routingKey: string;
  mandatory: boolean;
  /** Per-message TTL in milliseconds (AMQP `expiration`, a decimal string on the wire). */
  expirationMs?: number;
  body: Buffer;
  /** Negotiated frame_max: the largest frame, header and end octet included. */
  frameMax: number;
}

function shortStrLength(s: string): number {
  const n = Buffer.byteLength(s, 'utf8');
  if (n > 255) throw new RangeError(`AMQP short string longer than 255 bytes: ${s.slice(0, 40)}...`);
  return n;
}

/** The frames of one basic.publish, non-persistent (delivery mode 1), as one buffer. */
export function encodePublish(p: PublishFrame): Buffer {
  const exLen = shortStrLength(p.exchange);
  const rkLen = shortStrLength(p.routingKey);
  const expiration = p.expirationMs !== undefined ? String(Math.max(0, Math.round(p.expirationMs))) : undefined;
  const expLen = expiration !== undefined ? expiration.length : 0;
  const methodPayload = 4 + 2 + 1 + exLen + 1 + rkLen + 1;
  const headerPayload = 2 + 2 + 8 + 2 + (1 + CONTENT_TYPE.length) + (1 + CONTENT_ENCODING.length) + 1 + (expiration !== undefined ? 1 + expLen : 0) + 8;
  const maxChunk = p.frameMax - 8;
  const bodyLen = p.body.length;
  const chunks = bodyLen === 0 ? 0 : Math.ceil(bodyLen / maxChunk);
  const size = 7 + methodPayload + 1 + (7 + headerPayload + 1) + chunks * 8 + bodyLen;
  const buf = Buffer.allocUnsafe(size);
  let o = 0;

  // basic.publish: ticket, exchange, routing key, mandatory / immediate bits.
  o = buf.writeUInt8(FRAME_METHOD, o);
  o = buf.writeUInt16BE(p.channel, o);
  o = buf.writeUInt32BE(methodPayload, o);
  o = buf.writeUInt16BE(CLASS_BASIC, o);
  o = buf.writeUInt16BE(METHOD_PUBLISH, o);
  o = buf.writeUInt16BE(0, o);
  o = buf.writeUInt8(exLen, o);
  o += buf.write(p.exchange, o, 'utf8');
  o = buf.writeUInt8(rkLen, o);
  o += buf.write(p.routingKey, o, 'utf8');
  o = buf.writeUInt8(p.mandatory ? 1 : 0, o);
  o = buf.writeUInt8(FRAME_END, o);

  // Content header: body size and properties.
  o = buf.writeUInt8(FRAME_HEADER, o);
  o = buf.writeUInt16BE(p.channel, o);
  o = buf.writeUInt32BE(headerPayload, o);
  o = buf.writeUInt16BE(CLASS_BASIC, o);
  o = buf.writeUInt16BE(0, o);
  o = buf.writeUInt32BE(Math.floor(bodyLen / 2 ** 32), o);
  o = buf.writeUInt32BE(bodyLen >>> 0, o);
  o = buf.writeUInt16BE(FLAG_CONTENT_TYPE | FLAG_CONTENT_ENCODING | FLAG_DELIVERY_MODE | (expiration !== undefined ? FLAG_EXPIRATION : 0) | FLAG_TIMESTAMP, o);
  o = buf.writeUInt8(CONTENT_TYPE.length, o);
  o += CONTENT_TYPE.copy(buf, o);
  o = buf.writeUInt8(CONTENT_ENCODING.length, o);
  o += CONTENT_ENCODING.copy(buf, o);
  o = buf.writeUInt8(1, o);
  if (expiration !== undefined) {
    o = buf.writeUInt8(expLen, o);
    o += buf.write(expiration, o, 'latin1');
  }
  const ts = Math.floor(Date.now() / 1000);
  o = buf.writeUInt32BE(Math.floor(ts / 2 ** 32), o);
  o = buf.writeUInt32BE(ts >>> 0, o);
  o = buf.writeUInt8(FRAME_END, o);

  // Body, in frames of at most frame_max.
  for (let start = 0; start < bodyLen; start += maxChunk) {
    const n = Math.min(maxChunk, bodyLen - start);
    o = buf.writeUInt8(FRAME_BODY, o);
    o = buf.writeUInt16BE(p.channel, o);
    o = buf.writeUInt32BE(n, o);
    o += p.body.copy(buf, o, start, start + n);
    o = buf.writeUInt8(FRAME_END, o);
  }
  return buf;
}
