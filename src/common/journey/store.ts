/**
 * Where journey spans are kept: JSON lines in `<state-dir>/journey/spans.jsonl` (appended in
 * small batches, flushed on close and at exit), or memory in tests. Reading finds a whole
 * journey from its id or from the request id of any hop in it.
 * @module
 */
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readFileSync, renameSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { Span, SpanSink } from './span.js';

export function journeyDir(stateDir: string): string {
  return path.join(stateDir, 'journey');
}

export function spansFile(stateDir: string): string {
  return path.join(journeyDir(stateDir), 'spans.jsonl');
}

/** The previous file, kept when the current one grows past its limit. */
export function previousSpansFile(stateDir: string): string {
  return path.join(journeyDir(stateDir), 'spans.1.jsonl');
}

export interface JsonlSpanSinkOptions {
  /** How long a span may wait in the buffer. */
  flushIntervalMs?: number;
  /** Flush at once when this many spans are waiting. */
  maxBuffered?: number;
  /** Past this size the file becomes spans.1.jsonl and a new one starts (default 64 MiB). */
  maxBytes?: number;
  /**
   * Another writer of the same file (the other thread of `stratus up`) rotates it: this one
   * never renames, and reopens the file when it finds it was renamed away.
   */
  follower?: boolean;
}

/**
 * Appends spans to `<stateDir>/journey/spans.jsonl`. One line per span; O_APPEND keeps lines
 * whole across writers (threads or processes), and sizes are read from the file itself so a
 * file shared by several writers still rotates at its limit.
 */
export class JsonlSpanSink implements SpanSink {
  readonly file: string;
  private fd: number | null;
  private buffer: string[] = [];
  private timer: NodeJS.Timeout | null = null;
  private readonly interval: number;
  private readonly maxBuffered: number;
  private readonly maxBytes: number;
  private readonly previous: string;
  private readonly follower: boolean;
  private readonly onExit = (): void => this.flush();

  constructor(stateDir: string, opts: JsonlSpanSinkOptions = {}) {
    mkdirSync(journeyDir(stateDir), { recursive: true });
    this.file = spansFile(stateDir);
    this.previous = previousSpansFile(stateDir);
    this.fd = openSync(this.file, 'a');
    this.follower = opts.follower ?? false;
    this.interval = opts.flushIntervalMs ?? 200;
    this.maxBuffered = opts.maxBuffered ?? 512;
    this.maxBytes = opts.maxBytes ?? 64 * 1024 * 1024;
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
    if (this.follower) this.reopenIfRotated();
    else {
      const size = fstatSync(this.fd).size;
      if (size > 0 && size + data.length > this.maxBytes) this.rotate();
    }
    writeSync(this.fd!, data);
  }

  /** One generation is kept: journeys are for looking at recent requests, not an archive. */
  private rotate(): void {
    closeSync(this.fd!);
    renameSync(this.file, this.previous);
    this.fd = openSync(this.file, 'a');
  }

  /** The rotating writer renamed the file: append to the new one from now on. */
  private reopenIfRotated(): void {
    const now = statSync(this.file, { throwIfNoEntry: false });
    if (now && now.ino === fstatSync(this.fd!).ino) return;
    closeSync(this.fd!);
    this.fd = openSync(this.file, 'a');
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

function readLines(stateDir: string): string[] {
  const out: string[] = [];
  for (const file of [previousSpansFile(stateDir), spansFile(stateDir)]) {
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, 'utf8').split('\n')) if (line) out.push(line);
  }
  return out;
}

function parseLines(lines: string[]): Span[] {
  const out: Span[] = [];
  for (const line of lines) {
    try {
      out.push(JSON.parse(line) as Span);
    } catch {
      // A line cut short by a crash mid-write.
    }
  }
  return out;
}

/** Every span in the state directory, in the order written. Broken lines (a crash mid-write) are skipped. */
export function readSpans(stateDir: string): Span[] {
  return parseLines(readLines(stateDir));
}

/** The journey ids that `id` names: itself if it is one, or the journeys of the hops whose request id it is. */
export function journeyIdsFor(spans: Span[], id: string): Set<string> {
  const ids = new Set<string>();
  for (const s of spans) {
    if (s.journeyId === id || s.requestId === id || s.attributes?.['remoteRequestId'] === id) ids.add(s.journeyId);
  }
  // Spans recorded outside any request (start-up, a token validated before its request's
  // context exists) share the 'none' id: they are no one's journey.
  if (id !== 'none') ids.delete('none');
  return ids;
}

export function selectJourney(spans: Span[], id: string): Span[] {
  const ids = journeyIdsFor(spans, id);
  return spans.filter((s) => ids.has(s.journeyId)).sort((a, b) => a.start - b.start);
}

/**
 * The spans of one journey, found by its id or by the request id of any hop. Only lines that
 * mention the id (then the journey ids found) are parsed, so a large file reads quickly.
 */
export function readJourney(stateDir: string, journeyIdOrRequestId: string): Span[] {
  const lines = readLines(stateDir);
  const ids = journeyIdsFor(parseLines(lines.filter((l) => l.includes(journeyIdOrRequestId))), journeyIdOrRequestId);
  if (ids.size === 0) return [];
  const wanted = [...ids];
  return selectJourney(parseLines(lines.filter((l) => wanted.some((id) => l.includes(id)))), journeyIdOrRequestId);
}

/**
 * The newest journey: the one started last by a request from outside (a root http.in span),
 * so background work (periodic tasks, heartbeats) does not hide the user's last command.
 * Without any such request, the journey whose first span started last.
 */
export function lastJourneyId(stateDir: string, spans: Span[] = readSpans(stateDir)): string | null {
  const known = new Set(spans.map((s) => s.id));
  // Requests our own services sent without a journey (keystonemiddleware validating a token
  // before the request's context exists, a service authenticating) are not anyone's command:
  // their http.out span names the request id the callee gave them.
  const fromUs = new Set<unknown>();
  for (const s of spans) if (s.kind === 'http.out' && s.attributes?.['remoteRequestId']) fromUs.add(s.attributes['remoteRequestId']);
  let best: Span | null = null;
  for (const s of spans) {
    if (s.kind !== 'http.in' || !s.journeyId || s.journeyId === 'none') continue;
    if (s.parentId && known.has(s.parentId)) continue;
    if (s.requestId && fromUs.has(s.requestId)) continue;
    if (!best || s.start > best.start) best = s;
  }
  if (best) return best.journeyId;
  let id: string | null = null;
  let start = -Infinity;
  for (const [j, t] of journeyStarts(spans)) {
    if (t > start) {
      id = j;
      start = t;
    }
  }
  return id;
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
