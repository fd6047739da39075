import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startGlance, type Glance } from './helpers.js';

void describe('glance limits', () => {
  let g: Glance;
  before(async () => {
    g = await startGlance({ sizeCap: 1000 });
  });
  after(async () => g.close());

  const json = (method: string, url: string, body?: unknown) =>
    g.app.inject({ method: method as 'POST', url, headers: { 'x-auth-token': 'member-a', 'content-type': 'application/json', accept: 'application/json' }, ...(body ? { payload: JSON.stringify(body) } : {}) });

  void test('an upload over image_size_cap is 413 and the image goes back to queued', async () => {
    const img = (await json('POST', '/v2/images', { name: 'big', disk_format: 'raw', container_format: 'bare' })).json();
    const r = await g.app.inject({
      method: 'PUT', url: `/v2/images/${img.id}/file`,
      headers: { 'x-auth-token': 'member-a', 'content-type': 'application/octet-stream', accept: 'application/json' },
      payload: Buffer.alloc(1500),
    });
    assert.equal(r.statusCode, 413);
    assert.equal(r.json().title, 'Request Entity Too Large');
    const shown = (await json('GET', `/v2/images/${img.id}`)).json();
    assert.equal(shown.status, 'queued');
    assert.equal(shown.size, null);
    // And a retry within the cap succeeds.
    const ok = await g.app.inject({
      method: 'PUT', url: `/v2/images/${img.id}/file`, headers: { 'x-auth-token': 'member-a', 'content-type': 'application/octet-stream' }, payload: Buffer.alloc(900),
    });
    assert.equal(ok.statusCode, 204);
  });

  void test('more than 128 properties or tags is 413', async () => {
    const props: Record<string, string> = { name: 'many' };
    for (let i = 0; i < 129; i++) props[`p${i}`] = 'x';
    const r = await json('POST', '/v2/images', props);
    assert.equal(r.statusCode, 413);
    assert.match(r.json().message, /number of allowed image properties\. Attempted: 129, Maximum: 128/);
    const tags = Array.from({ length: 129 }, (_, i) => `t${i}`);
    assert.equal((await json('POST', '/v2/images', { name: 'tags', tags })).statusCode, 413);
  });
});
