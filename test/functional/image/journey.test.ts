import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addSpanSink, type Span } from '../../../src/common/journey/span.js';
import { startGlance } from './helpers.js';

void test('an upload records its store write as a hop of the request journey', async () => {
  const g = await startGlance();
  const spans: Span[] = [];
  const remove = addSpanSink({ write: (s) => spans.push(s) });
  try {
    const id = (await g.app.inject({
      method: 'POST', url: '/v2/images', headers: { 'x-auth-token': 'member-a', 'content-type': 'application/json' },
      payload: JSON.stringify({ name: 'j', disk_format: 'raw', container_format: 'bare' }),
    })).json().id as string;
    const globalId = 'req-11111111-2222-3333-4444-555555555555';
    const r = await g.app.inject({
      method: 'PUT', url: `/v2/images/${id}/file`, payload: Buffer.from('journey'),
      headers: { 'x-auth-token': 'member-a', 'content-type': 'application/octet-stream', 'x-openstack-request-id': globalId },
    });
    assert.equal(r.statusCode, 204);
    const journey = spans.filter((s) => s.journeyId === globalId);
    const http = journey.find((s) => s.kind === 'http.in');
    const store = journey.find((s) => s.name === 'store.add');
    assert.ok(http && store, JSON.stringify(journey.map((s) => [s.kind, s.name])));
    assert.equal(store.parentId, http.id);
    assert.equal(store.attributes['size'], 7);
  } finally {
    remove();
    await g.close();
  }
});
