/**
 * Where journey spans are kept: JSON lines in `<state-dir>/journey/spans.jsonl` (appended in
 * small batches, flushed on close and at exit), or memory in tests. Reading finds a whole
 * journey from its id or from the request id of any hop in it.
 * @module
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { Span, SpanSink } from './span.js';

export function journeyDir(stateDir: string): string {
  return path.join(stateDir, 'journey');
}

export function spansFile(stateDir: string): string {
  return path.join(journeyDir(stateDir), 'spans.jsonl');
}

export interface JsonlSpanSinkOptions {
  /** How long a span may wait in the buffer. */
  flushIntervalMs?: number;
  /** Flush at once when this many spans are waiting. */
  maxBuffered?: number;
}

/** Appends spans to `<stateDir>/journey/spans.jsonl`. One line per span; O_APPEND keeps lines whole across processes. */
export class JsonlSpanSink implements SpanSink {
  readonly file: string;
  private fd: number | null;
  private buffer: string[] = [];
  private timer: NodeJS.Timeout | null = null;
  private readonly interval: number;
  private readonly maxBuffered: number;
  private readonly onExit = (): void => this.flush();

  constructor(stateDir: string, opts: JsonlSpanSinkOptions = {}) {
    mkdirSync(journeyDir(stateDir), { recursive: true });
    this.file = spansFile(stateDir);
    this.fd = openSync(this.file, 'a');
    this.interval = opts.flushIntervalMs ?? 200;
    this.maxBuffered = opts.maxBuffered ?? 512;
    process.on('exit', this.onExit);
  }

  write(span: Span): void {
    if (this.fd === null) return;
    this.buffer.push(JSON.stringify(span));
    if (this.buffer.length >= this.maxBuffered) this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), this.interval);
      this.timer.unref();
    }
  }

  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.fd === null || this.buffer.length === 0) return;
    const data = this.buffer.join('\n') + '\n';
    this.buffer = [];
    writeSync(this.fd, data);
  }

  close(): Promise<void> {
    this.flush();
    if (this.fd !== null) {
      closeSync(this.fd);
      this.fd = null;
    }
    process.off('exit', this.onExit);
    return Promise.resolve();
  }
}

/** Keeps spans in memory (tests, the dashboard's live view). */
export class MemorySpanSink implements SpanSink {
  readonly spans: Span[] = [];

  write(span: Span): void {
    this.spans.push(span);
  }

  clear(): void {
    this.spans.length = 0;
  }

  /** The spans of the journey that `id` (journey id or any hop's request id) belongs to. */
  journey(id: string): Span[] {
    return selectJourney(this.spans, id);
  }
}

/** Every span in the state directory, in the order written. Broken lines (a crash mid-write) are skipped. */
export function readSpans(stateDir: string): Span[] {
  const file = spansFile(stateDir);
  if (!existsSync(file)) return [];
  const out: Span[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line) continue;
    try {
      out.push(JSON.parse(line) as Span);
    } catch {
      // skip
    }
  }
  return out;
}

/** The journey ids that `id` names: itself if it is one, or the journeys of the hops whose request id it is. */
export function journeyIdsFor(spans: Span[], id: string): Set<string> {
  const ids = new Set<string>();
  for (const s of spans) {
    if (s.journeyId === id || s.requestId === id || s.attributes?.['remoteRequestId'] === id) ids.add(s.journeyId);
  }
  return ids;
}

export function selectJourney(spans: Span[], id: string): Span[] {
  const ids = journeyIdsFor(spans, id);
  return spans.filter((s) => ids.has(s.journeyId)).sort((a, b) => a.start - b.start);
}

/** The spans of one journey, found by its id or by the request id of any hop. */
export function readJourney(stateDir: string, journeyIdOrRequestId: string): Span[] {
  return selectJourney(readSpans(stateDir), journeyIdOrRequestId);
}

/** The newest journey: the one whose first span started last (ignoring spans outside any request). */
export function lastJourneyId(stateDir: string, spans: Span[] = readSpans(stateDir)): string | null {
  const first = journeyStarts(spans);
  let best: string | null = null;
  let bestStart = -Infinity;
  for (const [id, start] of first) {
    if (start > bestStart) {
      best = id;
      bestStart = start;
    }
  }
  return best;
}

/** journey id -> its earliest span start, for journeys that belong to a request. */
export function journeyStarts(spans: Span[]): Map<string, number> {
  const first = new Map<string, number>();
  for (const s of spans) {
    if (!s.journeyId || s.journeyId === 'none') continue;
    const cur = first.get(s.journeyId);
    if (cur === undefined || s.start < cur) first.set(s.journeyId, s.start);
  }
  return first;
}
