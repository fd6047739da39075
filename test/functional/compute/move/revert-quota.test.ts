/**
 * Issue 9 gaps: reverting a resize down grows the server back, so Nova checks the project's
 * cores / ram quota first (_check_quota_for_upsize, is_revert) and its revertResize answers 500
 * "Unexpected API Error" (TooManyInstances is not an expected error there); with room it reverts.
 * And the versioned `instance.exists` usage notification Nova sends at prep_resize and at
 * revert_resize (InstanceExistsPayload 2.1 with its audit period).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addSpanSink, type Span } from '../../../../src/common/journey/span.js';
import { bootArgs, login, waitForStatus, withCloud } from '../helpers.js';

test('revert of a resize down checks quota; instance.exists at prep_resize and revert_resize', async () => {
  const notes: Span[] = [];
  const remove = addSpanSink({ write: (x: Span) => { if (x.kind === 'notification' && x.name === 'instance.exists') notes.push(x); } });
  try {
    await withCloud(2, async (cloud) => {
      const demo = await login(cloud, 'demo');
      const admin = await login(cloud, 'admin');
      // Two flavors with the same disk, so the resize down is allowed by the driver.
      for (const [id, vcpus] of [['q-big', 2], ['q-small', 1]] as const) {
        const r = await admin.call('POST', 'compute', '/flavors', { flavor: { name: id, id, vcpus, ram: 128, disk: 1 } });
        assert.equal(r.status, 200, JSON.stringify(r.body));
      }
      const { imageRef, networkId } = await bootArgs(demo);
      let r = await demo.call('POST', 'compute', '/servers', { server: { name: 'rq1', imageRef, flavorRef: 'q-big', networks: [{ uuid: networkId }] } });
      assert.equal(r.status, 202, JSON.stringify(r.body));
      const id = r.body.server.id;
      await waitForStatus(demo, id, 'ACTIVE');
      r = await demo.call('POST', 'compute', `/servers/${id}/action`, { resize: { flavorRef: 'q-small' } });
      assert.equal(r.status, 202, JSON.stringify(r.body));
      await waitForStatus(demo, id, 'VERIFY_RESIZE');
      assert.equal(notes.length, 1, 'instance.exists at prep_resize');
      const payload = (notes[0]!.attributes as any)?.payload ?? null;
      if (payload) assert.equal(payload['nova_object.name'], 'InstanceExistsPayload');

      // The project may now use 1 core: growing back to 2 is over quota.
      const demoProject = (await demo.call('GET', 'compute', `/servers/${id}`)).body.server.tenant_id;
      r = await admin.call('PUT', 'compute', `/os-quota-sets/${demoProject}`, { quota_set: { cores: 1 } });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      r = await demo.call('POST', 'compute', `/servers/${id}/action`, { revertResize: null });
      assert.equal(r.status, 500, JSON.stringify(r.body));
      assert.equal(r.body.computeFault.message, "Unexpected API Error. Please report this at http://bugs.launchpad.net/nova/ and attach the Nova API log if possible.\n<class 'nova.exception.TooManyInstances'>");
      const s = (await demo.call('GET', 'compute', `/servers/${id}`)).body.server;
      assert.equal(s.status, 'VERIFY_RESIZE', 'nothing changed');
      assert.equal(notes.length, 1);

      // With room again the revert goes through (and sends its usage event).
      r = await admin.call('PUT', 'compute', `/os-quota-sets/${demoProject}`, { quota_set: { cores: 20 } });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      r = await demo.call('POST', 'compute', `/servers/${id}/action`, { revertResize: null });
      assert.equal(r.status, 202, JSON.stringify(r.body));
      const back = await waitForStatus(demo, id, 'ACTIVE');
      assert.equal(back.flavor.id, 'q-big');
      assert.equal(notes.length, 2, 'instance.exists at revert_resize');
    });
  } finally {
    remove();
  }
});
