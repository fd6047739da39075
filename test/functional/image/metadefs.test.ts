import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startGlance, type Glance } from './helpers.js';

void describe('glance metadata definitions', () => {
  let g: Glance;
  before(async () => {
    g = await startGlance();
  });
  after(async () => g.close());
  const call = (tok: string, method: string, url: string, body?: unknown) =>
    g.app.inject({
      method: method as 'GET', url,
      headers: { 'x-auth-token': tok, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
    });

  void test('schemas are named as glance names them', async () => {
    const names: Record<string, string> = {
      namespace: 'namespace', namespaces: 'namespaces', resource_type: 'resource_type_association',
      resource_types: 'resource_type_associations', object: 'object', objects: 'objects', property: 'property',
      properties: 'properties', tag: 'tag', tags: 'tags',
    };
    for (const [path, name] of Object.entries(names)) assert.equal((await call('reader-a', 'GET', `/v2/schemas/metadefs/${path}`)).json().name, name);
  });

  void test('namespace lifecycle with resource types, objects, properties and tags', async () => {
    const rts = (await call('reader-a', 'GET', '/v2/metadefs/resource_types')).json().resource_types;
    assert.equal(rts[0].name, 'OS::Glance::Image');
    const ns = await call('admin', 'POST', '/v2/metadefs/namespaces', {
      namespace: 'ns1', visibility: 'public', protected: true, display_name: 'NS 1', resource_type_associations: [{ name: 'OS::Nova::Flavor' }],
    });
    assert.equal(ns.statusCode, 201, ns.body);
    assert.equal(ns.json().resource_type_associations[0].name, 'OS::Nova::Flavor');
    assert.equal((await call('admin', 'POST', '/v2/metadefs/namespaces', { namespace: 'ns1' })).statusCode, 409);
    assert.equal((await call('member-a', 'POST', '/v2/metadefs/namespaces', { namespace: 'ns2' })).statusCode, 403);
    assert.ok((await call('member-b', 'GET', '/v2/metadefs/namespaces')).json().namespaces.some((n: { namespace: string }) => n.namespace === 'ns1'));

    const obj = await call('admin', 'POST', '/v2/metadefs/namespaces/ns1/objects', { name: 'o1', properties: { a: { type: 'string', title: 'A' } } });
    assert.equal(obj.statusCode, 201, obj.body);
    assert.equal((await call('admin', 'PUT', '/v2/metadefs/namespaces/ns1/objects/o1', { name: 'o2' })).json().name, 'o2');
    assert.deepEqual((await call('reader-a', 'GET', '/v2/metadefs/namespaces/ns1/objects')).json().objects.map((o: { name: string }) => o.name), ['o2']);
    assert.equal((await call('admin', 'DELETE', '/v2/metadefs/namespaces/ns1/objects/o2')).statusCode, 204);
    assert.equal((await call('admin', 'GET', '/v2/metadefs/namespaces/ns1/objects/o2')).statusCode, 404);

    const prop = await call('admin', 'POST', '/v2/metadefs/namespaces/ns1/properties', { name: 'hypervisor', title: 'HV', type: 'string', enum: ['kvm', 'qemu'] });
    assert.equal(prop.statusCode, 201, prop.body);
    assert.equal(prop.json().title, 'HV');
    assert.equal((await call('admin', 'PUT', '/v2/metadefs/namespaces/ns1/properties/hypervisor', { name: 'hypervisor', title: 'HV2', type: 'string' })).json().title, 'HV2');
    assert.deepEqual(Object.keys((await call('admin', 'GET', '/v2/metadefs/namespaces/ns1/properties')).json().properties), ['hypervisor']);
    assert.equal((await call('admin', 'DELETE', '/v2/metadefs/namespaces/ns1/properties/hypervisor')).statusCode, 204);

    assert.equal((await call('admin', 'POST', '/v2/metadefs/namespaces/ns1/tags', { tags: [{ name: 't1' }, { name: 't2' }] })).statusCode, 201);
    assert.equal((await call('admin', 'POST', '/v2/metadefs/namespaces/ns1/tags/t3')).statusCode, 201);
    assert.equal((await call('admin', 'PUT', '/v2/metadefs/namespaces/ns1/tags/t3', { name: 't4' })).json().name, 't4');
    assert.deepEqual((await call('admin', 'GET', '/v2/metadefs/namespaces/ns1/tags')).json().tags.map((t: { name: string }) => t.name), ['t1', 't2', 't4']);
    assert.equal((await call('admin', 'DELETE', '/v2/metadefs/namespaces/ns1/tags')).statusCode, 204);
    assert.deepEqual((await call('admin', 'GET', '/v2/metadefs/namespaces/ns1/tags')).json().tags, []);

    assert.equal((await call('admin', 'DELETE', '/v2/metadefs/namespaces/ns1/resource_types/OS::Nova::Flavor')).statusCode, 204);
    assert.equal((await call('admin', 'DELETE', '/v2/metadefs/namespaces/ns1')).statusCode, 403);
    const upd = await call('admin', 'PUT', '/v2/metadefs/namespaces/ns1', { namespace: 'ns1', visibility: 'private', protected: false });
    assert.equal(upd.json().visibility, 'private');
    assert.equal((await call('member-b', 'GET', '/v2/metadefs/namespaces/ns1')).statusCode, 404);
    assert.equal((await call('admin', 'DELETE', '/v2/metadefs/namespaces/ns1')).statusCode, 204);
    assert.equal((await call('admin', 'GET', '/v2/metadefs/namespaces/ns1')).statusCode, 404);
  });
});
