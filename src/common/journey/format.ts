/**
 * Prints a journey as its hops in order, nested by cause (parentId), each with its offset from
 * the start of the journey, its duration, service and host, kind and name:
 *
 *   Journey req-1f0c…  4 hops, 2 services, 18.4 ms
 *      +0.0 ms   18.4 ms  http.in   POST /v2.1/servers -> 202        nova-api@ctl1     req-1f0c…
 *      +2.1 ms    6.0 ms  └─ http.out  GET image/v2/images/… -> 200   nova-api@ctl1
 *      +2.9 ms    4.2 ms     └─ http.in  GET /v2/images/:id -> 200    glance-api@ctl1   req-77ab…
 * @module
 */
import type { Span } from './span.js';

export interface SpanNode {
  span: Span;
  children: SpanNode[];
  depth: number;
}

/** Builds the cause tree: a span whose parent is not in the journey is a root. */
export function journeyTree(spans: Span[]): SpanNode[] {
  const sorted = [...spans].sort((a, b) => a.start - b.start || a.id.localeCompare(b.id));
  const nodes = new Map<string, SpanNode>();
  for (const s of sorted) nodes.set(s.id, { span: s, children: [], depth: 0 });
  const roots: SpanNode[] = [];
  for (const s of sorted) {
    const node = nodes.get(s.id)!;
    const parent = s.parentId ? nodes.get(s.parentId) : undefined;
    if (parent && parent !== node) parent.children.push(node);
    else roots.push(node);
  }
  const setDepth = (n: SpanNode, d: number, seen: Set<SpanNode>): void => {
    if (seen.has(n)) return;
    seen.add(n);
    n.depth = d;
    for (const c of n.children) setDepth(c, d + 1, seen);
  };
  const seen = new Set<SpanNode>();
  for (const r of roots) setDepth(r, 0, seen);
  return roots;
}

/** Depth-first order of the tree, with the tree-drawing prefix for each hop. */
export function flattenTree(roots: SpanNode[]): Array<{ node: SpanNode; prefix: string }> {
  const out: Array<{ node: SpanNode; prefix: string }> = [];
  const seen = new Set<SpanNode>();
  const walk = (n: SpanNode, lead: string, last: boolean, top: boolean): void => {
    if (seen.has(n)) return;
    seen.add(n);
    out.push({ node: n, prefix: top ? '' : `${lead}${last ? '└─ ' : '├─ '}` });
    const childLead = top ? '' : `${lead}${last ? '   ' : '│  '}`;
    n.children.forEach((c, i) => walk(c, childLead, i === n.children.length - 1, false));
  };
  for (const r of roots) walk(r, '', true, true);
  return out;
}

function ms(n: number): string {
  return n >= 1000 ? `${(n / 1000).toFixed(2)} s` : `${n.toFixed(1)} ms`;
}

/** The hop's name plus what matters about it: the HTTP status, the RPC method and target. */
function describe(s: Span): string {
  const a = s.attributes ?? {};
  let text = s.name;
  if (typeof a['status'] === 'number') text += ` -> ${a['status']}`;
  if ((s.kind === 'rpc.send' || s.kind === 'rpc.receive') && typeof a['routing_key'] === 'string') {
    // "build_instances  cast nova/compute.host1 v6.0"
    const version = typeof a['version'] === 'string' && a['version'] ? ` v${a['version']}` : '';
    text += `  ${typeof a['type'] === 'string' ? `${a['type']} ` : ''}${typeof a['exchange'] === 'string' ? `${a['exchange']}/` : ''}${a['routing_key']}${version}`;
  }
  if (s.kind === 'notification' && typeof a['event_type'] === 'string' && a['event_type'] !== s.name) text += `  ${a['event_type']}`;
  if (s.status === 'error') text += s.error ? `  ! ${s.error}` : '  ! error';
  return text;
}

function where(s: Span): string {
  return s.host ? `${s.service}@${s.host}` : s.service;
}

export interface FormatOptions {
  /** Show each hop's own request id (default true). */
  requestIds?: boolean;
}

export function formatJourney(spans: Span[], opts: FormatOptions = {}): string {
  if (spans.length === 0) return 'No spans.\n';
  const roots = journeyTree(spans);
  const rows = flattenTree(roots);
  const t0 = Math.min(...spans.map((s) => s.start));
  const end = Math.max(...spans.map((s) => s.start + s.durationMs));
  const services = new Set(spans.map((s) => s.service));
  const journeyIds = [...new Set(spans.map((s) => s.journeyId))];
  const lines: string[] = [];
  lines.push(
    `Journey ${journeyIds.join(', ')}  ${spans.length} hop${spans.length === 1 ? '' : 's'}, ` +
      `${services.size} service${services.size === 1 ? '' : 's'}, ${ms(end - t0)}`,
  );
  const cells = rows.map(({ node, prefix }) => {
    const s = node.span;
    return {
      offset: `+${ms(s.start - t0)}`,
      duration: ms(s.durationMs),
      what: `${prefix}${s.kind.padEnd(14)} ${describe(s)}`,
      where: where(s),
      rid: opts.requestIds === false ? '' : (s.requestId ?? ''),
    };
  });
  const w = (k: 'offset' | 'duration' | 'what' | 'where') => Math.max(...cells.map((c) => [...c[k]].length));
  const [wo, wd, ww, wh] = [w('offset'), w('duration'), w('what'), w('where')];
  const pad = (s: string, n: number) => s + ' '.repeat(Math.max(0, n - [...s].length));
  for (const c of cells) {
    lines.push(
      `  ${' '.repeat(wo - c.offset.length)}${c.offset}  ${' '.repeat(wd - c.duration.length)}${c.duration}  ${pad(c.what, ww)}  ${pad(c.where, wh)}  ${c.rid}`.trimEnd(),
    );
  }
  return lines.join('\n') + '\n';
}

/** One line per journey, newest last: start time, id, first hop, hop count, duration. */
export function formatJourneyList(spans: Span[], limit = 20): string {
  const byJourney = new Map<string, Span[]>();
  for (const s of spans) {
    if (!s.journeyId || s.journeyId === 'none') continue;
    let list = byJourney.get(s.journeyId);
    if (!list) byJourney.set(s.journeyId, (list = []));
    list.push(s);
  }
  const rows = [...byJourney.entries()]
    .map(([id, list]) => {
      const first = list.reduce((a, b) => (b.start < a.start ? b : a));
      const end = Math.max(...list.map((s) => s.start + s.durationMs));
      return { id, first, count: list.length, duration: end - first.start };
    })
    .sort((a, b) => a.first.start - b.first.start)
    .slice(-limit);
  if (rows.length === 0) return 'No journeys recorded.\n';
  return (
    rows
      .map((r) => `${new Date(r.first.start).toISOString()}  ${r.id}  ${String(r.count).padStart(3)} hops  ${ms(r.duration).padStart(9)}  ${where(r.first)} ${r.first.name}`)
      .join('\n') + '\n'
  );
}
