/**
 * cinder-volume's volume notifications carry the volume's usage info and its user metadata
 * (`notify_about_volume_usage`), through create and delete, the way a Ceilometer listener sees them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openDatabase } from '../common/db/index.js';
import type { TokenValidator } from '../common/http/auth-types.js';
import { createTransport, NotificationListener } from '../common/rpc/index.js';
import { createCinderApi, createCinderScheduler, createCinderVolume, ensureDefaultVolumeType } from './service.js';

const PROJECT = 'b0000000000000000000000000000002';
const validator: TokenValidator = {
  async validate() {
    return {
      userId: 'c0000000000000000000000000000002', userName: 'demo', userDomainId: 'default', projectId: PROJECT, projectName: 'demo',
      projectDomainId: 'default', roles: ['member', 'reader'], methods: ['password'], auditIds: ['a'],
      expiresAt: new Date(Date.now() + 3_600_000).toISOString(), issuedAt: new Date().toISOString(),
    };
  },
};

void test('volume.create.* and volume.delete.* carry the volume and its metadata', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'cinder-notif-'));
  const database = await openDatabase(`sqlite:///${path.join(dir, 'cinder.db')}`, { service: 'cinder' });
  const bus = await createTransport(`inproc://notif-${randomUUID()}`);
  const events: { type: string; payload: Record<string, any> }[] = [];
  const listener = new NotificationListener(bus, [{ topic: 'notifications' }], [{
    info(_ctx: unknown, _publisher: string, eventType: string, payload: Record<string, any>) {
      events.push({ type: eventType, payload });
    },
  }]);
  await listener.start();
  await ensureDefaultVolumeType({ database });
  const app = await createCinderApi({ database, bus, validator, host: 't' });
  const scheduler = await createCinderScheduler({ database, bus, host: 't' });
  const volume = await createCinderVolume({ database, bus, host: 't', stateDir: dir });
  await volume.start();
  await scheduler.start();
  try {
    const req = async (method: 'GET' | 'POST' | 'DELETE', url: string, body?: unknown) => {
      const r = await app.inject({ method, url: `/v3/${PROJECT}${url}`, headers: { 'x-auth-token': 't' }, ...(body ? { payload: body as object } : {}) });
      return { status: r.statusCode, body: r.body ? JSON.parse(r.body) : null };
    };
    const waitFor = async (type: string) => {
      for (let i = 0; i < 400 && !events.some((e) => e.type === type); i++) await new Promise((r) => setTimeout(r, 10));
      const e = events.find((x) => x.type === type);
      assert.ok(e, `${type} was not sent`);
      return e.payload;
    };
    const created = await req('POST', '/volumes', { volume: { size: 1, name: 'n1', metadata: { b: '2', a: '1' } } });
    assert.equal(created.status, 202);
    const id = created.body.volume.id as string;

    const start = await waitFor('volume.create.start');
    assert.equal(start['volume_id'], id);
    assert.equal(start['status'], 'creating');
    assert.equal(start['display_name'], 'n1');
    assert.equal(start['size'], 1);
    assert.equal(start['tenant_id'], PROJECT);
    assert.deepEqual(start['metadata'], { a: '1', b: '2' });
    const end = await waitFor('volume.create.end');
    assert.equal(end['status'], 'available');
    assert.ok(end['launched_at']);
    assert.deepEqual(end['metadata'], { a: '1', b: '2' });

    assert.equal((await req('DELETE', `/volumes/${id}`)).status, 202);
    const delStart = await waitFor('volume.delete.start');
    assert.equal(delStart['status'], 'deleting');
    assert.deepEqual(delStart['metadata'], { a: '1', b: '2' });
    const delEnd = await waitFor('volume.delete.end');
    assert.equal(delEnd['status'], 'deleted');
    assert.equal((await req('GET', `/volumes/${id}`)).status, 404);

    // A volume without metadata notifies an empty dict.
    const plain = await req('POST', '/volumes', { volume: { size: 1 } });
    const plainId = plain.body.volume.id as string;
    for (let i = 0; i < 400 && !events.some((e) => e.type === 'volume.create.end' && e.payload['volume_id'] === plainId); i++) await new Promise((r) => setTimeout(r, 10));
    const plainStart = events.find((e) => e.type === 'volume.create.start' && e.payload['volume_id'] === plainId);
    assert.deepEqual(plainStart?.payload['metadata'], {});
  } finally {
    await listener.stop();
    await volume.stop();
    await scheduler.stop();
    await app.close();
    await bus.close();
    await database.close();
    await rm(dir, { recursive: true, force: true });
  }
});
