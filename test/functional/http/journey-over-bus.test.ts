/**
 * A request's whole journey across REST and the bus: a client calls "nova-api" over HTTP,
 * nova-api calls "nova-conductor" over RPC (in-process bus, same bytes as AMQP), and the
 * conductor calls "placement" over HTTP through the Session client. `stratus journey` then
 * prints every hop in order, nested by cause, found from the request id of any hop.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { createApp, listen } from '../../../src/common/http/app.js';
import { Session } from '../../../src/common/http/client.js';
import { currentContext, type RequestContext } from '../../../src/common/context.js';
import { addSpanSink } from '../../../src/common/journey/span.js';
import { JsonlSpanSink, readJourney } from '../../../src/common/journey/store.js';
import { journeyCommand } from '../../../src/common/journey/command.js';
import { createTransport, RpcClient, RpcServer, type MessageBus } from '../../../src/common/rpc/index.js';

const cleanups: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

void test('stratus journey shows HTTP -> RPC -> HTTP across three services', async () => {
  const stateDir = mkdtempSync(path.join(tmpdir(), 'stratus-journey-'));
  cleanups.push(() => rmSync(stateDir, { recursive: true, force: true }));
  const sink = new JsonlSpanSink(stateDir);
  const remove = addSpanSink(sink);
  cleanups.push(async () => {
    remove();
    await sink.close();
  });

  const bus: MessageBus = await createTransport(`inproc://journey-${randomUUID()}`);
  cleanups.push(() => bus.close());

  const placement = createApp({ service: 'placement-api', host: 'ctl1', faults: 'placement', microversion: { service: 'placement', min: '1.0', max: '1.39' } });
  placement.get('/allocation_candidates', async (req) => ({ allocation_requests: [], seen_global: currentContext()?.globalRequestId, mv: String(req.microversion) }));
  const placementUrl = await listen(placement);
  cleanups.push(() => placement.close());

  const session = new Session({ token: 'admin', endpointOverrides: { placement: placementUrl } });
  class Conductor {
    async schedule_and_build_instances(ctx: RequestContext, args: { name: string }): Promise<Record<string, unknown>> {
      const r = await session.get<Record<string, unknown>>('placement', '/allocation_candidates', { ctx, microversion: '1.36' });
      return { name: args.name, placement: r.body };
    }
  }
  const server = new RpcServer(bus, { topic: 'conductor', server: 'ctl1' }, [new Conductor()], { service: 'nova-conductor' });
  await server.start();
  cleanups.push(() => server.stop());
  const conductor = new RpcClient(bus, { topic: 'conductor' }, { service: 'nova-api', host: 'ctl1' });

  const nova: FastifyInstance = createApp({ service: 'nova-api', host: 'ctl1', faults: 'nova', requestIdHeaders: ['x-openstack-request-id', 'x-compute-request-id'] });
  nova.post('/v2.1/servers', async (req, reply) => {
    const ctx = currentContext()!;
    const result = await conductor.call<Record<string, unknown>>(ctx, 'schedule_and_build_instances', { name: (req.body as { server: { name: string } }).server.name });
    reply.code(202);
    return { server: result };
  });
  const novaUrl = await listen(nova);
  cleanups.push(() => nova.close());

  const res = await fetch(`${novaUrl}/v2.1/servers`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ server: { name: 'vm1' } }) });
  assert.equal(res.status, 202);
  const body = (await res.json()) as { server: { placement: { seen_global: string; mv: string } } };
  const novaRequestId = res.headers.get('x-compute-request-id')!;
  // The conductor's REST call carried nova-api's request id as the global id, and its microversion.
  assert.equal(body.server.placement.seen_global, novaRequestId);
  assert.equal(body.server.placement.mv, '1.36');

  // The rpc.receive span may land just after the reply; wait for it to be written.
  for (let i = 0; i < 100 && readJourney(stateDir, novaRequestId).length < 5; i++) {
    sink.flush();
    await new Promise((r) => setTimeout(r, 10));
  }
  sink.flush();
  const spans = readJourney(stateDir, novaRequestId);
  const byKind = (service: string, kind: string) => spans.find((s) => s.service === service && s.kind === kind);
  const novaIn = byKind('nova-api', 'http.in')!;
  const send = byKind('nova-api', 'rpc.send')!;
  const receive = byKind('nova-conductor', 'rpc.receive')!;
  const out = spans.find((s) => s.kind === 'http.out')!;
  const placementIn = byKind('placement-api', 'http.in')!;
  for (const s of [novaIn, send, receive, out, placementIn]) assert.ok(s, `missing hop in ${JSON.stringify(spans.map((x) => [x.service, x.kind]))}`);
  assert.equal(novaIn.parentId, null);
  assert.equal(send.parentId, novaIn.id);
  assert.equal(receive.parentId, send.id);
  assert.equal(out.parentId, receive.id);
  assert.equal(out.service, 'nova-conductor');
  assert.equal(placementIn.parentId, out.id);

  // Placement's own request id finds the same journey.
  const placementRequestId = placementIn.requestId!;
  assert.equal(readJourney(stateDir, placementRequestId).length, spans.length);

  let printed = '';
  const io = { out: (s: string) => void (printed += s), err: (s: string) => void (printed += s) };
  assert.equal(await journeyCommand(stateDir, [placementRequestId], io), 0);
  const lines = printed.trimEnd().split('\n');
  assert.match(lines[0]!, new RegExp(`^Journey ${novaRequestId}  ${spans.length} hops, 3 services`));
  const order = lines.slice(1).map((l) => (/(http\.in|http\.out|rpc\.send|rpc\.receive)/.exec(l) ?? [''])[0]);
  assert.deepEqual(order.slice(0, 5), ['http.in', 'rpc.send', 'rpc.receive', 'http.out', 'http.in']);
  assert.match(lines[5]!, /└─ http\.in +GET \/allocation_candidates -> 200 +placement-api@ctl1/);
});
