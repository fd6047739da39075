import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Span } from './span.js';
import { JsonlSpanSink, MemorySpanSink, lastJourneyId, readJourney, readSpans, selectJourney, spansFile } from './store.js';
import { formatJourney, formatJourneyList, journeyTree } from './format.js';
import { journeyCommand } from './command.js';

function span(p: Partial<Span> & Pick<Span, 'id' | 'journeyId' | 'start'>): Span {
  return {
    parentId: null, requestId: null, kind: 'internal', name: 'x', service: 'svc', host: null,
    durationMs: 1, status: 'ok', attributes: {}, ...p,
  };
}

const J1 = 'req-00000000-0000-4000-8000-000000000001';
const J2 = 'req-00000000-0000-4000-8000-000000000002';

/** A request through nova-api that casts to the conductor over RPC, which calls placement. */
const journey1: Span[] = [
  span({ id: 'a', journeyId: J1, requestId: J1, start: 1000, durationMs: 40, kind: 'http.in', name: 'POST /v2.1/servers', service: 'nova-api', host: 'ctl', attributes: { status: 202 } }),
  span({ id: 'b', parentId: 'a', journeyId: J1, requestId: J1, start: 1005, durationMs: 2, kind: 'rpc.send', name: 'conductor.schedule_and_build_instances', service: 'nova-api', host: 'ctl', attributes: { exchange: 'nova', routing_key: 'conductor', type: 'cast', version: '1.25' } }),
  span({ id: 'c', parentId: 'b', journeyId: J1, requestId: 'req-conductor', start: 1008, durationMs: 30, kind: 'rpc.receive', name: 'schedule_and_build_instances', service: 'nova-conductor', host: 'ctl' }),
  span({ id: 'd', parentId: 'c', journeyId: J1, requestId: 'req-conductor', start: 1010, durationMs: 10, kind: 'http.out', name: 'GET placement/allocation_candidates', service: 'nova-conductor', host: 'ctl', attributes: { status: 200 } }),
  span({ id: 'e', parentId: 'c', journeyId: J1, requestId: 'req-conductor', start: 1025, durationMs: 5, kind: 'db.transaction', name: 'instance_update', service: 'nova-conductor', host: 'ctl', status: 'error', error: 'Boom: no' }),
];

void describe('span sinks', () => {
  void test('jsonl sink buffers, flushes on close, and reads back; broken lines are skipped', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'journey-'));
    try {
      const sink = new JsonlSpanSink(dir, { flushIntervalMs: 60_000 });
      for (const s of journey1) sink.write(s);
      assert.equal(readFileSync(spansFile(dir), 'utf8'), '');
      await sink.close();
      appendFileSync(spansFile(dir), '{"truncated\n');
      const again = new JsonlSpanSink(dir);
      again.write(span({ id: 'z', journeyId: J2, requestId: J2, start: 5000, kind: 'http.in' }));
      // Background work that started later does not count as the last journey.
      again.write(span({ id: 'p', journeyId: 'req-periodic', requestId: 'req-periodic', start: 9000, kind: 'db.transaction' }));
      await again.close();
      const all = readSpans(dir);
      assert.equal(all.length, 7);
      assert.deepEqual(readJourney(dir, J1).map((s) => s.id), ['a', 'b', 'c', 'd', 'e']);
      assert.deepEqual(readJourney(dir, 'req-conductor').map((s) => s.id), ['a', 'b', 'c', 'd', 'e']);
      assert.equal(lastJourneyId(dir), J2);
      assert.deepEqual(readJourney(dir, 'req-nothing'), []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  void test('the file rotates past its limit and both generations are read', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'journey-'));
    try {
      const sizes = journey1.map((s) => JSON.stringify(s).length + 1);
      const maxBytes = sizes[0]! + sizes[1]! + sizes[2]!;
      const sink = new JsonlSpanSink(dir, { maxBytes, maxBuffered: 1 });
      for (const s of journey1) sink.write(s);
      await sink.close();
      assert.equal(readFileSync(spansFile(dir), 'utf8').length, sizes[3]! + sizes[4]!);
      assert.deepEqual(readJourney(dir, J1).map((s) => s.id), ['a', 'b', 'c', 'd', 'e']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  void test('two writers of one file (the threads of stratus up): sizes count both, the follower follows a rotation', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'journey-'));
    try {
      const sizes = journey1.map((s) => JSON.stringify(s).length + 1);
      const owner = new JsonlSpanSink(dir, { maxBytes: sizes[0]! + sizes[1]! + sizes[2]!, maxBuffered: 1 });
      const follower = new JsonlSpanSink(dir, { maxBuffered: 1, follower: true });
      owner.write(journey1[0]!);
      follower.write(journey1[1]!);
      follower.write(journey1[2]!);
      // The file holds a, b, c from both writers: d does not fit, so the owner rotates.
      owner.write(journey1[3]!);
      follower.write(journey1[4]!);
      await owner.close();
      await follower.close();
      assert.equal(readFileSync(spansFile(dir), 'utf8').length, sizes[3]! + sizes[4]!, 'the follower appends to the new file');
      assert.deepEqual(readJourney(dir, J1).map((s) => s.id), ['a', 'b', 'c', 'd', 'e']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  void test("--last skips requests our services sent outside any journey (nova-api's keystonemiddleware validating the boot's token)", () => {
    const K = 'req-00000000-0000-4000-8000-00000000000b';
    const spans: Span[] = [
      ...journey1,
      // nova-api validates the token before the boot's context exists: no journey, no traceparent.
      span({ id: 'v', journeyId: 'none', start: 1001, kind: 'http.out', name: 'GET 127.0.0.1:5000/v3/auth/tokens', service: 'keystonemiddleware', attributes: { remoteRequestId: K } }),
      span({ id: 'k', journeyId: K, requestId: K, start: 1002, kind: 'http.in', name: 'GET /v3/auth/tokens', service: 'keystone' }),
      span({ id: 's', journeyId: 'none', start: 1, kind: 'db.transaction', name: 'keystone.db', service: 'keystone' }),
    ];
    assert.equal(lastJourneyId('/nonexistent', spans), J1);
    // Asking for the validation request itself finds it, without every span recorded outside a journey.
    assert.deepEqual(selectJourney(spans, K).map((s) => s.id), ['k']);
  });

  void test('memory sink', () => {
    const m = new MemorySpanSink();
    for (const s of journey1) m.write(s);
    m.write(span({ id: 'z', journeyId: J2, start: 1 }));
    assert.equal(m.journey('req-conductor').length, 5);
    m.clear();
    assert.equal(m.spans.length, 0);
  });
});

void describe('formatting', () => {
  void test('tree nests by cause; orphans are roots', () => {
    const roots = journeyTree([...journey1, span({ id: 'o', parentId: 'gone', journeyId: J1, start: 999 })]);
    assert.deepEqual(roots.map((r) => r.span.id), ['o', 'a']);
    assert.deepEqual(roots[1]!.children[0]!.children[0]!.children.map((c) => c.span.id), ['d', 'e']);
  });

  void test('hops in order with offsets, durations, nesting, service and errors', () => {
    const text = formatJourney([...journey1].reverse());
    const lines = text.trimEnd().split('\n');
    assert.equal(lines[0], `Journey ${J1}  5 hops, 2 services, 40.0 ms`);
    assert.match(lines[1]!, /^ +\+0\.0 ms +40\.0 ms  http\.in +POST \/v2\.1\/servers -> 202 +nova-api@ctl +req-0+-0000-4000-8000-000000000001$/);
    assert.match(lines[2]!, /^ +\+5\.0 ms +2\.0 ms  └─ rpc\.send +conductor\.schedule_and_build_instances  cast nova\/conductor v1\.25 +nova-api@ctl/);
    assert.match(lines[3]!, /^ +\+8\.0 ms +30\.0 ms     └─ rpc\.receive +schedule_and_build_instances +nova-conductor@ctl +req-conductor$/);
    assert.match(lines[4]!, /^ +\+10\.0 ms +10\.0 ms        ├─ http\.out +GET placement\/allocation_candidates -> 200/);
    assert.match(lines[5]!, /^ +\+25\.0 ms +5\.0 ms        └─ db\.transaction +instance_update  ! Boom: no/);
  });

  void test('journey list', () => {
    const text = formatJourneyList([...journey1, span({ id: 'z', journeyId: J2, start: 5000, service: 'glance-api', name: 'GET /v2/images' })]);
    const lines = text.trimEnd().split('\n');
    assert.equal(lines.length, 2);
    assert.match(lines[0]!, new RegExp(`${J1} +5 hops`));
    assert.match(lines[1]!, new RegExp(`${J2} +1 hops .*glance-api GET /v2/images`));
  });
});

void describe('journey command', () => {
  void test('usage, --last, --json, --list, unknown id', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'journey-'));
    try {
      let out = '';
      let err = '';
      const io = { out: (s: string) => void (out += s), err: (s: string) => void (err += s) };
      assert.equal(await journeyCommand(dir, ['--last'], io), 1);
      assert.match(err, /No journeys recorded/);
      const sink = new JsonlSpanSink(dir);
      for (const s of journey1) sink.write(s);
      await sink.close();
      assert.equal(await journeyCommand(dir, [], io), 2);
      assert.match(err, /Usage: stratus journey/);
      assert.equal(await journeyCommand(dir, ['--last'], io), 0);
      assert.equal(out, formatJourney(journey1));
      out = '';
      assert.equal(await journeyCommand(dir, ['req-conductor', '--json'], io), 0);
      assert.deepEqual(out.trimEnd().split('\n').map((l) => (JSON.parse(l) as Span).id), ['a', 'b', 'c', 'd', 'e']);
      out = '';
      assert.equal(await journeyCommand(dir, ['--list'], io), 0);
      assert.match(out, new RegExp(J1));
      assert.equal(await journeyCommand(dir, ['req-unknown'], io), 1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
