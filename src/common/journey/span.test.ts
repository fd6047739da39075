import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withSpan, recordSpan, addSpanSink, runUnderSpan, currentSpanOwner, currentSpanId, type Span } from './span.js';
import { RequestContext, runWithContext } from '../context.js';

void test('spans nest by cause and carry the journey id of the context', async () => {
  const spans: Span[] = [];
  const remove = addSpanSink({ write: (s) => spans.push(s) });
  const ctx = new RequestContext({ globalRequestId: 'req-00000000-0000-4000-8000-000000000001' });
  await runWithContext(ctx, () =>
    withSpan({ kind: 'http.in', name: 'POST /servers', service: 'nova-api' }, async (outer) => {
      await withSpan({ kind: 'rpc.send', name: 'schedule_and_build_instances', service: 'nova-api' }, async () => {});
      recordSpan({ kind: 'notification', name: 'instance.create.start', service: 'nova-compute' });
      assert.ok(outer.id);
    }),
  );
  remove();
  assert.equal(spans.length, 3);
  const outer = spans.find((s) => s.kind === 'http.in')!;
  for (const s of spans.filter((x) => x !== outer)) assert.equal(s.parentId, outer.id);
  assert.ok(spans.every((s) => s.journeyId === ctx.globalRequestId));
});

void test('a failing body marks the span as an error and still records it', async () => {
  const spans: Span[] = [];
  const remove = addSpanSink({ write: (s) => spans.push(s) });
  await assert.rejects(withSpan({ kind: 'internal', name: 'boom', service: 't' }, async () => { throw new Error('bad'); }));
  remove();
  assert.equal(spans[0]!.status, 'error');
  assert.match(spans[0]!.error!, /bad/);
});

void test('runUnderSpan links a span that arrived over the wire', async () => {
  const spans: Span[] = [];
  const remove = addSpanSink({ write: (s) => spans.push(s) });
  await runUnderSpan('abcd', () => withSpan({ kind: 'rpc.receive', name: 'm', service: 's' }, async () => {}));
  remove();
  assert.equal(spans[0]!.parentId, 'abcd');
});

void test('the span in progress knows its service; runUnderSpan can name the owner', async () => {
  assert.equal(currentSpanOwner(), null);
  await withSpan({ kind: 'rpc.receive', name: 'm', service: 'nova-conductor', host: 'c1' }, async () => {
    assert.deepEqual(currentSpanOwner(), { service: 'nova-conductor', host: 'c1' });
  });
  runUnderSpan('ffff', () => {
    assert.equal(currentSpanId(), 'ffff');
    assert.equal(currentSpanOwner(), null);
  });
  runUnderSpan('eeee', () => assert.deepEqual(currentSpanOwner(), { service: 'nova-api', host: null }), { service: 'nova-api' });
});

void test('recordSpan takes a preset id, times and error', () => {
  const spans: Span[] = [];
  const remove = addSpanSink({ write: (s) => spans.push(s) });
  recordSpan({ id: '0123456789abcdef', kind: 'http.in', name: 'GET /', service: 's', start: 1000, durationMs: 5, status: 'error', error: 'X: y' });
  remove();
  assert.deepEqual(
    { id: spans[0]!.id, start: spans[0]!.start, d: spans[0]!.durationMs, status: spans[0]!.status, error: spans[0]!.error },
    { id: '0123456789abcdef', start: 1000, d: 5, status: 'error', error: 'X: y' },
  );
});
