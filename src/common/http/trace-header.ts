/**
 * How the journey's parent span crosses an HTTP hop: the W3C `traceparent` header
 * (`00-<trace-id>-<parent-span-id>-01`). The trace id is the journey's `req-<uuid>` without
 * dashes, so a real OpenTelemetry collector groups the same hops we do.
 * @module
 */
import { randomBytes } from 'node:crypto';

export const JOURNEY_PARENT_HEADER = 'traceparent';

const TRACEPARENT_RE = /^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/;

export function traceIdFor(journeyId: string): string {
  const hex = journeyId.replace(/^req-/, '').replace(/-/g, '').toLowerCase();
  return /^[0-9a-f]{32}$/.test(hex) ? hex : randomBytes(16).toString('hex');
}

export function formatTraceparent(journeyId: string, spanId: string): string {
  return `00-${traceIdFor(journeyId)}-${spanId}-01`;
}

/** The parent span id carried by an incoming request, or null. */
export function parseTraceparent(value: string | string[] | undefined): string | null {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return null;
  const m = TRACEPARENT_RE.exec(v.trim().toLowerCase());
  return m ? m[2]! : null;
}
