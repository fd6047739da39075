import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withSpan, recordSpan, addSpanSink, runUnderSpan, type Span } from './span.js';
import { RequestContext, runWithContext } from '../context.js';

test('spans nest by cause and carry the journey id of the context', async () => {
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

test('a failing body marks the span as an error and still records it', async () => {
  const spans: Span[] = [];
  const remove = addSpanSink({ write: (s) => spans.push(s) });
  await assert.rejects(withSpan({ kind: 'internal', name: 'boom', service: 't' }, async () => { throw new Error('bad'); }));
  remove();
  assert.equal(spans[0]!.status, 'error');
  assert.match(spans[0]!.error!, /bad/);
});

test('runUnderSpan links a span that arrived over the wire', async () => {
  const spans: Span[] = [];
  const remove = addSpanSink({ write: (s) => spans.push(s) });
  await runUnderSpan('abcd', () => withSpan({ kind: 'rpc.receive', name: 'm', service: 's' }, async () => {}));
  remove();
  assert.equal(spans[0]!.parentId, 'abcd');
});
