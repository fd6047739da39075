/**
 * Journey spans: every hop a request takes (HTTP in/out, RPC send/receive, DB transaction,
 * notification, agent action) records one span. Spans are grouped by the journey id
 * (the global request id, or the request id when there is none) and nested by `parentId`.
 *
 * The current span travels in AsyncLocalStorage inside a process and in the RPC context
 * (`journey_parent`) and the `traceparent` HTTP header across processes.
 * @module
 */
import { randomFillSync } from 'node:crypto';
import { createRequire } from 'node:module';
import type * as OtelApi from '@opentelemetry/api';
import { ambient, currentContext, type RequestContext } from '../context.js';

export type SpanKind = 'http.in' | 'http.out' | 'rpc.send' | 'rpc.receive' | 'db.transaction' | 'notification' | 'agent' | 'internal';

export interface Span {
  id: string;
  parentId: string | null;
  journeyId: string;
  requestId: string | null;
  kind: SpanKind;
  name: string;
  service: string;
  host: string | null;
  /** epoch milliseconds (fractional) */
  start: number;
  durationMs: number;
  status: 'ok' | 'error';
  error?: string;
  attributes: Record<string, unknown>;
}

export interface SpanInit {
  kind: SpanKind;
  name: string;
  service: string;
  host?: string | null;
  attributes?: Record<string, unknown>;
  /** Explicit parent (e.g. taken from an incoming RPC message); defaults to the span in progress. */
  parentId?: string | null;
  /** Explicit context; defaults to the context in progress. */
  ctx?: RequestContext;
  /** Make `ctx` the context in progress inside the span too (one scope instead of two). */
  enterContext?: boolean;
}

/** Where finished spans go (the state directory in all-in-one mode, memory in tests). */
export interface SpanSink {
  write(span: Span): void;
}

const sinks = new Set<SpanSink>();
export function addSpanSink(sink: SpanSink): () => void {
  sinks.add(sink);
  return () => sinks.delete(sink);
}

// OpenTelemetry's CommonJS build: its ES build is 51 modules, each a round trip to the
// TypeScript loader's hooks thread at start-up (about 50 ms of CPU in every thread of
// `stratus up`). The API keeps its registry on globalThis, so both builds see one SDK.
const { trace, SpanStatusCode } = createRequire(import.meta.url)('@opentelemetry/api') as typeof OtelApi;
const tracer: OtelApi.Tracer = trace.getTracer('stratus');

/** The span in progress lives in the ambient scope next to the request context (see context.ts). */
export function currentSpanId(): string | null {
  return ambient.getStore()?.spanId ?? null;
}

// Span ids come from random bytes drawn a few kilobytes at a time: two spans per RPC call made
// randomUUID() + dash removal + slice a hot spot on the bus; this is a quarter of the cost.
const SPAN_ID_POOL = Buffer.allocUnsafe(8 * 1024);
let spanIdPos = SPAN_ID_POOL.length;

export function newSpanId(): string {
  if (spanIdPos === SPAN_ID_POOL.length) {
    randomFillSync(SPAN_ID_POOL);
    spanIdPos = 0;
  }
  const o = spanIdPos;
  spanIdPos += 8;
  return SPAN_ID_POOL.toString('hex', o, o + 8);
}

/** Runs `fn` as a span; children started inside it nest under it. */
export async function withSpan<T>(init: SpanInit, fn: (span: Span) => Promise<T>): Promise<T> {
  // The span takes the caller's attributes object as its own (callers build one per span).
  const ctx = init.ctx ?? currentContext();
  const span: Span = {
    id: newSpanId(),
    parentId: init.parentId !== undefined ? init.parentId : currentSpanId(),
    journeyId: ctx?.journeyId ?? 'none',
    requestId: ctx?.requestId ?? null,
    kind: init.kind,
    name: init.name,
    service: init.service,
    host: init.host ?? null,
    start: performance.timeOrigin + performance.now(),
    durationMs: 0,
    status: 'ok',
    attributes: init.attributes ?? {},
  };
  const otel = tracer.startSpan(`${init.kind} ${init.name}`, { attributes: { 'stratus.service': init.service } });
  const t0 = performance.now();
  try {
    const scopeCtx = init.enterContext && init.ctx ? init.ctx : currentContext();
    return await ambient.run({ ctx: scopeCtx, spanId: span.id, spanService: span.service, spanHost: span.host }, () => fn(span));
  } catch (e) {
    span.status = 'error';
    span.error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    otel.setStatus({ code: SpanStatusCode.ERROR, message: span.error });
    throw e;
  } finally {
    span.durationMs = performance.now() - t0;
    otel.end();
    emit(span);
  }
}

/** Records a span that has no body to wrap (an event at a point in time, or measured elsewhere). */
export function recordSpan(
  init: SpanInit & { id?: string; start?: number; durationMs?: number; status?: 'ok' | 'error'; error?: string },
): Span {
  const ctx = init.ctx ?? currentContext();
  const span: Span = {
    id: init.id ?? newSpanId(),
    parentId: init.parentId !== undefined ? init.parentId : currentSpanId(),
    journeyId: ctx?.journeyId ?? 'none',
    requestId: ctx?.requestId ?? null,
    kind: init.kind,
    name: init.name,
    service: init.service,
    host: init.host ?? null,
    start: init.start ?? performance.timeOrigin + performance.now(),
    durationMs: init.durationMs ?? 0,
    status: init.status ?? 'ok',
    attributes: { ...(init.attributes ?? {}) },
  };
  if (init.error !== undefined) span.error = init.error;
  // Measured elsewhere, so hand OpenTelemetry the span's own start and end times.
  const otel = tracer.startSpan(`${span.kind} ${span.name}`, { startTime: span.start, attributes: { 'stratus.service': span.service } });
  if (span.status === 'error') otel.setStatus({ code: SpanStatusCode.ERROR, ...(span.error ? { message: span.error } : {}) });
  otel.end(span.start + span.durationMs);
  emit(span);
  return span;
}

/** Runs `fn` with `spanId` as the parent of spans it starts (used when a span arrives over the wire). */
export function runUnderSpan<T>(spanId: string | null, fn: () => T, owner?: { service: string; host?: string | null }): T {
  return spanId ? ambient.run({ ctx: currentContext(), spanId, spanService: owner?.service ?? null, spanHost: owner?.host ?? null }, fn) : fn();
}

/** The service (and host) whose span is in progress, e.g. to name the caller of an outgoing request. */
export function currentSpanOwner(): { service: string; host: string | null } | null {
  const s = ambient.getStore();
  return s?.spanService ? { service: s.spanService, host: s.spanHost } : null;
}

function emit(span: Span): void {
  for (const s of sinks) {
    try {
      s.write(span);
    } catch {
      // A broken sink must never break the request it observes.
    }
  }
}
