import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Session } from '../../common/http/client.js';
import { NovaNotifier, type NovaEvent } from './nova.js';

/** A stand-in for the service user's session: records each POST with the time it was made. */
function recordingSession(): { session: Session; posts: { at: number; events: NovaEvent[] }[] } {
  const posts: { at: number; events: NovaEvent[] }[] = [];
  const session = {
    async request(_method: string, _service: string, _path: string, o: { body: { events: NovaEvent[] } }) {
      posts.push({ at: performance.now(), events: o.body.events });
      return { status: 200, body: { events: o.body.events.map((e) => ({ ...e, code: 200 })) }, headers: {} };
    },
  } as unknown as Session;
  return { session, posts };
}

const plugged = (server: string): NovaEvent => ({ name: 'network-vif-plugged', server_uuid: server, tag: `port-${server}`, status: 'completed' });

test('an event queued while idle goes out at once; events queued during the interval go as one batch after it', async () => {
  const { session, posts } = recordingSession();
  const n = new NovaNotifier(session, 200);
  n.queue(plugged('a'));
  await new Promise((r) => setImmediate(r));
  assert.equal(posts.length, 1, 'sent without waiting for the interval');
  n.queue(plugged('b'));
  n.queue(plugged('c'));
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(posts.length, 1, 'held back until the interval has passed');
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(posts.length, 2);
  assert.deepEqual(posts[1]!.events.map((e) => e.server_uuid), ['b', 'c']);
  assert.ok(posts[1]!.at - posts[0]!.at >= 190, 'the second batch waited one interval');
  await n.stop();
});

test('stop sends what is queued without waiting out the interval', async () => {
  const { session, posts } = recordingSession();
  const n = new NovaNotifier(session, 10_000);
  n.queue(plugged('a'));
  await new Promise((r) => setImmediate(r));
  n.queue(plugged('b'));
  const t0 = performance.now();
  await n.stop();
  assert.ok(performance.now() - t0 < 1000);
  assert.deepEqual(posts.map((p) => p.events.map((e) => e.server_uuid)), [['a'], ['b']]);
  n.queue(plugged('c'));
  assert.equal(posts.length, 2, 'nothing is queued after stop');
});
