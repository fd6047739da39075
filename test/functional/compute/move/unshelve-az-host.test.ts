/**
 * Unshelve with an availability zone (2.77) and with a host or an unpinned zone (2.91), with
 * upstream's checks: state first (409), the zone must exist (400), the host is admin-only (403),
 * must exist (400) and lie in the zone the server will have (409); the body is ignored before 2.77.
 * compute2 is put in zone `az2` by a host aggregate.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { raiseMicroversionCeilingForTests } from '../../../../src/compute/api/common.js';
import { bootArgs, login, waitForStatus, withCloud, type Client } from '../helpers.js';

raiseMicroversionCeilingForTests('2.92');
const MV = (v: string) => ({ 'X-OpenStack-Nova-API-Version': v });

async function shelveOffloaded(c: Client, id: string): Promise<void> {
  const r = await c.call('POST', 'compute', `/servers/${id}/action`, { shelve: null });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  await waitForStatus(c, id, 'SHELVED_OFFLOADED');
}

test('unshelve to a zone (2.77), to a host and unpinned (2.91)', async () => {
  await withCloud(2, async (cloud) => {
    const demo = await login(cloud, 'demo');
    const admin = await login(cloud, 'admin');
    const [h1, h2] = cloud.computeHosts as [string, string];
    let r = await admin.call('POST', 'compute', '/os-aggregates', { aggregate: { name: 'agg2', availability_zone: 'az2' } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    r = await admin.call('POST', 'compute', `/os-aggregates/${r.body.aggregate.id}/action`, { add_host: { host: h2 } });
    assert.equal(r.status, 200, JSON.stringify(r.body));

    const { imageRef, networkId } = await bootArgs(demo);
    r = await demo.call('POST', 'compute', '/servers', { server: { name: 'u1', imageRef, flavorRef: '1', networks: [{ uuid: networkId }], availability_zone: 'nova' } });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const id = r.body.server.id;
    const s0 = await waitForStatus(demo, id, 'ACTIVE');
    assert.equal(s0['OS-EXT-AZ:availability_zone'], 'nova');
    const act = (body: unknown, v: string, c: Client = demo) => c.call('POST', 'compute', `/servers/${id}/action`, { unshelve: body }, MV(v));

    // Not shelved: the state check comes first (409), whatever the body.
    r = await act({ availability_zone: 'az2' }, '2.77');
    assert.equal(r.status, 409);
    await shelveOffloaded(demo, id);

    // 2.77 schema: an object needs availability_zone, a name, and nothing else.
    for (const bad of [{}, { availability_zone: 'az2', host: h2 }, { availability_zone: '' }, { availability_zone: 1 }, { foo: 'x' }]) {
      r = await act(bad, '2.77');
      assert.equal(r.status, 400, `2.77 ${JSON.stringify(bad)}`);
    }
    r = await act({ availability_zone: null }, '2.77');
    assert.equal(r.status, 400, 'null (unpin) only from 2.91');
    r = await act({ availability_zone: 'nosuchzone' }, '2.77');
    assert.equal(r.status, 400);
    assert.equal(r.body.badRequest.message, 'The requested availability zone is not available');

    // 2.77: to az2, so onto compute2.
    r = await act({ availability_zone: 'az2' }, '2.77');
    assert.equal(r.status, 202, JSON.stringify(r.body));
    let s = await waitForStatus(admin, id, 'ACTIVE');
    assert.equal(s['OS-EXT-SRV-ATTR:host'], h2);
    assert.equal(s['OS-EXT-AZ:availability_zone'], 'az2');
    await shelveOffloaded(demo, id);

    // 2.91 matrix.
    for (const bad of [{ foo: 'x' }, { host: 1 }, { availability_zone: 3 }]) {
      r = await act(bad, '2.91', admin);
      assert.equal(r.status, 400, `2.91 ${JSON.stringify(bad)}`);
    }
    r = await act({ host: h1 }, '2.90', admin);
    assert.equal(r.status, 400, 'no host before 2.91');
    r = await act({ host: h1 }, '2.91');
    assert.equal(r.status, 403, 'a host is for admins');
    r = await act({ host: 'nosuchhost' }, '2.91', admin);
    assert.equal(r.status, 400);
    assert.equal(r.body.badRequest.message, 'Compute host nosuchhost could not be found.');
    // The server is pinned to az2 now: compute1 is not in it.
    r = await act({ host: h1 }, '2.91', admin);
    assert.equal(r.status, 409);
    assert.equal(r.body.conflictingRequest.message, `Host "${h1}" is not in the availability zone "az2".`);
    r = await act({ host: h2, availability_zone: 'nova' }, '2.91', admin);
    assert.equal(r.status, 409);
    // Unpinned and sent to compute1.
    r = await act({ availability_zone: null, host: h1 }, '2.91', admin);
    assert.equal(r.status, 202, JSON.stringify(r.body));
    s = await waitForStatus(admin, id, 'ACTIVE');
    assert.equal(s['OS-EXT-SRV-ATTR:host'], h1);
    assert.equal(s['OS-EXT-AZ:availability_zone'], 'nova');

    // With a host on a server that is not offloaded: 409 (the state check still comes first).
    r = await act({ host: h2 }, '2.91', admin);
    assert.equal(r.status, 409);
    // Before 2.77 the body is not looked at; {} at 2.91 is a plain unshelve.
    await shelveOffloaded(demo, id);
    r = await act({ availability_zone: 'whatever' }, '2.76');
    assert.equal(r.status, 202, JSON.stringify(r.body));
    await waitForStatus(demo, id, 'ACTIVE');
    await shelveOffloaded(demo, id);
    r = await act({}, '2.91');
    assert.equal(r.status, 202, JSON.stringify(r.body));
    await waitForStatus(demo, id, 'ACTIVE');
  });
});
