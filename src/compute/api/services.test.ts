import { test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { APIVersion } from '../../common/http/microversion.js';
import { memoryDb } from '../db/testing.js';
import * as hostApi from '../db/host-api.js';
import { registerServices } from './services.js';

// A cell whose database does not answer: from 2.69 its computes are listed from their host
// mappings with status UNKNOWN; before 2.69 they are left out (HostAPI.service_get_all).
test('os-services lists the computes of a down cell as UNKNOWN from 2.69', async () => {
  const api = await memoryDb('api');
  const cellDb = await memoryDb('cell');
  try {
    await api.db.insertInto('cell_mappings').values([
      { id: 1, uuid: 'up-cell', name: 'cell1', transport_url: 'x', database_connection: 'x', disabled: 0 },
      { id: 2, uuid: 'down-cell', name: 'cell2', transport_url: 'x', database_connection: 'x', disabled: 0 },
    ]).execute();
    await api.db.insertInto('host_mappings').values([{ cell_id: 1, host: 'compute1' }, { cell_id: 2, host: 'compute9' }]).execute();
    await hostApi.serviceReport(cellDb, 'nova-compute', 'compute1', 'compute');
    const up = { uuid: 'up-cell', db: cellDb };
    const down = { uuid: 'down-cell', db: null };
    const compute = {
      api,
      cells: {
        all: async () => [up, down],
        computeCells: async () => [up, down],
        scatterGather: async (fn: (c: unknown) => Promise<unknown>) => new Map<unknown, unknown>([[up, await fn(up)], [down, null]]),
      },
    };
    const app = Fastify();
    app.addHook('onRequest', async (req) => {
      (req as any).ctx = { isAdmin: true };
      (req as any).microversion = APIVersion.parse(String(req.headers['x-version'] ?? '2.1'));
    });
    registerServices(app, compute as any);
    const list = async (v: string) => JSON.parse((await app.inject({ method: 'GET', url: '/os-services', headers: { 'x-version': v } })).body).services;
    assert.deepEqual((await list('2.68')).map((s: any) => s.host), ['compute1']);
    const s69 = await list('2.69');
    assert.equal(s69.length, 2);
    assert.deepEqual(s69[1], { binary: 'nova-compute', host: 'compute9', status: 'UNKNOWN' });
    assert.equal(s69[0].status, 'enabled');
    assert.equal(s69[0].state, 'up');
    await app.close();
  } finally {
    await api.close();
    await cellDb.close();
  }
});
