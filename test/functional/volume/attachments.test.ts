/**
 * The attach flows Nova drives: the attachments API (3.27, complete at 3.44) and the legacy
 * volume actions; statuses move available -> reserved -> attaching -> in-use -> available.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCinder, startStandInNova, PROJECT_A, type Cinder } from './helpers.js';

const A = `/v3/${PROJECT_A}`;
const SERVER = '8d3f6f5e-2b56-4d3c-9a8f-2f8c1b7e6a01';
const CONNECTOR = { host: 'compute1', ip: '127.0.0.1', initiator: 'iqn.1993-08.org.debian:01:abc', multipath: false, platform: 'x86_64', os_type: 'linux' };
let c: Cinder;

before(async () => {
  c = await startCinder({ withGlance: false });
});
after(async () => {
  await c?.close();
});

async function newVolume(): Promise<any> {
  const r = await c.req('POST', `${A}/volumes`, { body: { volume: { size: 1 } } });
  return c.waitVolume(r.body.volume.id, 'available');
}

const status = async (id: string) => (await c.req('GET', `${A}/volumes/${id}`)).body.volume;

void test('attachments API: create without connector (reserved), update (attaching), complete (in-use), delete (available)', async () => {
  const v = await newVolume();
  const below = await c.req('POST', `${A}/attachments`, { body: { attachment: { volume_uuid: v.id, instance_uuid: SERVER } } });
  assert.equal(below.status, 404, 'attachments need 3.27');

  const created = await c.req('POST', `${A}/attachments`, { version: '3.44', body: { attachment: { volume_uuid: v.id, instance_uuid: SERVER } } });
  assert.equal(created.status, 200, JSON.stringify(created.body));
  const att = created.body.attachment;
  assert.equal(att.status, 'reserved');
  assert.equal(att.instance, SERVER);
  assert.equal(att.connection_info, null);
  assert.equal((await status(v.id)).status, 'reserved');
  // A second server cannot reserve a non-multiattach volume.
  const second = await c.req('POST', `${A}/attachments`, { version: '3.44', body: { attachment: { volume_uuid: v.id, instance_uuid: '9d3f6f5e-2b56-4d3c-9a8f-2f8c1b7e6a02' } } });
  assert.equal(second.status, 400);

  const upd = await c.req('PUT', `${A}/attachments/${att.id}`, { version: '3.44', body: { attachment: { connector: { ...CONNECTOR, mountpoint: '/dev/vdb' } } } });
  assert.equal(upd.status, 200, JSON.stringify(upd.body));
  assert.equal(upd.body.attachment.status, 'attaching');
  assert.equal(upd.body.attachment.connection_info.driver_volume_type, 'local');
  assert.match(upd.body.attachment.connection_info.data.device_path, new RegExp(`volume-${v.id}$`));
  assert.equal(upd.body.attachment.attach_mode, 'rw');
  assert.equal((await status(v.id)).status, 'attaching');

  const done = await c.req('POST', `${A}/attachments/${att.id}/action`, { version: '3.44', body: { 'os-complete': null } });
  assert.equal(done.status, 204);
  const inUse = await status(v.id);
  assert.equal(inUse.status, 'in-use');
  assert.equal(inUse.attachments.length, 1);
  assert.deepEqual(
    { server_id: inUse.attachments[0].server_id, attachment_id: inUse.attachments[0].attachment_id, device: inUse.attachments[0].device, host_name: inUse.attachments[0].host_name },
    { server_id: SERVER, attachment_id: att.id, device: '/dev/vdb', host_name: null },
  );
  const admin = await c.req('GET', `/v3/x/volumes/${v.id}`, { token: 'admin' });
  assert.equal(admin.body.volume.attachments[0].host_name, 'compute1');
  assert.equal((await c.req('DELETE', `${A}/volumes/${v.id}`)).status, 400, 'attached volumes cannot be deleted');

  const listed = await c.req('GET', `${A}/attachments?volume_id=${v.id}`, { version: '3.27' });
  assert.deepEqual(listed.body.attachments, [{ id: att.id, status: 'attached', instance: SERVER, volume_id: v.id }]);
  const shown = await c.req('GET', `${A}/attachments/${att.id}`, { version: '3.27' });
  assert.equal(shown.body.attachment.status, 'attached');
  assert.ok(shown.body.attachment.attached_at);

  const del = await c.req('DELETE', `${A}/attachments/${att.id}`, { version: '3.44' });
  assert.equal(del.status, 200);
  assert.deepEqual(del.body, { attachments: [] });
  const back = await status(v.id);
  assert.equal(back.status, 'available');
  assert.deepEqual(back.attachments, []);
  assert.equal((await c.req('GET', `${A}/attachments/${att.id}`, { version: '3.27' })).status, 404);
  await c.req('DELETE', `${A}/volumes/${v.id}`);
});

void test('attachment created with a connector is attaching at once and returns connection_info', async () => {
  const v = await newVolume();
  const r = await c.req('POST', `${A}/attachments`, { version: '3.27', body: { attachment: { volume_uuid: v.id, instance_uuid: SERVER, connector: CONNECTOR } } });
  assert.equal(r.status, 200);
  assert.equal(r.body.attachment.status, 'attaching');
  assert.ok(r.body.attachment.connection_info.data.device_path);
  const del = await c.req('DELETE', `${A}/attachments/${r.body.attachment.id}`, { version: '3.27' });
  assert.equal(del.status, 200);
  assert.equal((await status(v.id)).status, 'available');
  await c.req('DELETE', `${A}/volumes/${v.id}`);
});

void test('legacy actions: reserve, initialize_connection, attach, begin_detaching, terminate_connection, detach', async () => {
  const v = await newVolume();
  const act = (body: unknown) => c.req('POST', `${A}/volumes/${v.id}/action`, { body });
  assert.equal((await act({ 'os-reserve': null })).status, 202);
  assert.equal((await status(v.id)).status, 'attaching');
  assert.equal((await act({ 'os-reserve': null })).status, 400, 'a reserved volume cannot be reserved again');
  assert.equal((await act({ 'os-unreserve': null })).status, 202);
  assert.equal((await status(v.id)).status, 'available');
  assert.equal((await act({ 'os-reserve': null })).status, 202);
  const conn = await act({ 'os-initialize_connection': { connector: CONNECTOR } });
  assert.equal(conn.status, 200);
  assert.equal(conn.body.connection_info.driver_volume_type, 'local');
  assert.equal((await act({ 'os-attach': { instance_uuid: SERVER, mountpoint: '/dev/vdc', mode: 'rw' } })).status, 202);
  const attached = await status(v.id);
  assert.equal(attached.status, 'in-use');
  assert.equal(attached.attachments[0].device, '/dev/vdc');
  assert.equal(attached.metadata.attached_mode, 'rw');
  assert.equal((await act({ 'os-begin_detaching': null })).status, 202);
  assert.equal((await status(v.id)).status, 'detaching');
  assert.equal((await act({ 'os-roll_detaching': null })).status, 202);
  assert.equal((await status(v.id)).status, 'in-use');
  assert.equal((await act({ 'os-begin_detaching': null })).status, 202);
  assert.equal((await act({ 'os-terminate_connection': { connector: CONNECTOR } })).status, 202);
  assert.equal((await act({ 'os-detach': { attachment_id: attached.attachments[0].attachment_id } })).status, 202);
  const detached = await status(v.id);
  assert.equal(detached.status, 'available');
  assert.deepEqual(detached.attachments, []);
  assert.equal(detached.metadata.attached_mode, undefined);

  const missing = '2bd54e8b-5b8c-4b7f-90a4-8c7b4d5c6a11';
  assert.equal((await c.req('POST', `${A}/volumes/${missing}/action`, { body: { 'os-reserve': null } })).status, 404);
  assert.equal((await c.req('POST', `${A}/volumes/${missing}/action`, { body: { 'os-attach': { instance_uuid: SERVER, mountpoint: '/dev/vdb' } } })).status, 404);
  await c.req('DELETE', `${A}/volumes/${v.id}`);
});

void test('extending an attached volume (3.42) posts volume-extended to Nova', async () => {
  const nova = await startStandInNova(c);
  const events = nova.posts;
  try {
    const v = await nova.volumeOnVol2(async () => c.waitVolume((await c.req('POST', `${A}/volumes`, { body: { volume: { size: 1 } } })).body.volume.id, 'available'));
    const att = (await c.req('POST', `${A}/attachments`, { version: '3.44', body: { attachment: { volume_uuid: v.id, instance_uuid: SERVER, connector: CONNECTOR } } })).body.attachment;
    await c.req('POST', `${A}/attachments/${att.id}/action`, { version: '3.44', body: { 'os-complete': null } });
    assert.equal((await c.req('POST', `${A}/volumes/${v.id}/action`, { body: { 'os-extend': { new_size: 2 } } })).status, 400, 'in-use extend needs 3.42');
    assert.equal((await c.req('POST', `${A}/volumes/${v.id}/action`, { version: '3.42', body: { 'os-extend': { new_size: 2 } } })).status, 202);
    for (let i = 0; i < 400 && !events.length; i++) await new Promise((r) => setTimeout(r, 25));
    assert.equal(events[0].url, '/v2.1/os-server-external-events');
    assert.deepEqual(events[0].body, { events: [{ name: 'volume-extended', server_uuid: SERVER, tag: v.id }] });
    const after = await status(v.id);
    assert.equal(after.status, 'in-use');
    assert.equal(after.size, 2);
    await c.req('DELETE', `${A}/attachments/${att.id}`, { version: '3.44' });
    await c.req('DELETE', `${A}/volumes/${v.id}`);
    await c.waitGone(`${A}/volumes/${v.id}`);
  } finally {
    await nova.close();
  }
});
