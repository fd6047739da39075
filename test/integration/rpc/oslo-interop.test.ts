/**
 * Wire compatibility with Python: Debian's python3-oslo.messaging talks to Stratus over the
 * local RabbitMQ in both directions (calls, casts, fanouts, remote errors, call-monitor
 * heartbeats and timeouts).
 */
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Connection } from 'rabbitmq-client';
import { RequestContext } from '../../../src/common/context.js';
import {
  createTransport,
  RpcClient,
  RpcServer,
  RemoteError,
  NoSuchMethod,
  UnsupportedVersion,
  MessagingTimeout,
  Notifier,
  NotificationListener,
  type MessageBus,
  type NotificationMetadata,
} from '../../../src/common/rpc/index.js';

const RABBIT_URL = process.env['STRATUS_TEST_RABBIT_URL'] ?? 'rabbit://guest:guest@127.0.0.1:5672/';
const PYTHON = process.env['STRATUS_OSLO_PYTHON'] ?? '/usr/bin/python3';
const HERE = path.dirname(fileURLToPath(import.meta.url));
const EXCHANGE = 'stratus_interop';

interface PyProc {
  child: ChildProcess;
  lines: Array<Record<string, unknown> | string>;
  waitFor(pred: (l: Record<string, unknown> | string) => boolean, ms?: number): Promise<void>;
  exited: Promise<number | null>;
  stderr: () => string;
}

function runPython(script: string, args: string[]): PyProc {
  const child = spawn(PYTHON, [path.join(HERE, script), ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: PyProc['lines'] = [];
  let err = '';
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const waiters: Array<() => void> = [];
  createInterface({ input: child.stdout! }).on('line', (l) => {
    try {
      lines.push(JSON.parse(l) as Record<string, unknown>);
    } catch {
      lines.push(l);
    }
    for (const w of waiters) w();
  });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return {
    child,
    lines,
    exited,
    stderr: () => err,
    waitFor: (pred, ms = 30_000) =>
      new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (lines.some(pred)) {
            clearTimeout(timer);
            resolve();
          }
        };
        const timer = setTimeout(() => reject(new Error(`python peer did not answer in time; stderr:\n${err}`)), ms);
        waiters.push(check);
        void exited.then(() => setTimeout(() => {
          if (!lines.some(pred)) {
            clearTimeout(timer);
            reject(new Error(`python peer exited; stderr:\n${err}`));
          }
        }, 50));
        check();
      }),
  };
}

const step = (lines: PyProc['lines'], name: string): Record<string, unknown> => {
  const l = lines.find((x) => typeof x === 'object' && x['step'] === name);
  assert.ok(l, `python step ${name} missing: ${JSON.stringify(lines)}`);
  return l as Record<string, unknown>;
};

void describe('oslo.messaging interop over RabbitMQ', () => {
  const buses: MessageBus[] = [];
  const queues: string[] = [];
  const procs: PyProc[] = [];
  after(async () => {
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGTERM');
    await Promise.all(procs.map((p) => p.exited));
    for (const b of buses) await b.close();
    const conn = new Connection({ url: RABBIT_URL.replace(/^rabbit:/, 'amqp:') });
    for (const q of queues) await conn.queueDelete({ queue: q }).catch(() => undefined);
    await conn.close();
  });

  void test('a Python client calls, casts and fanouts to a Stratus server', async () => {
    const topic = `interop_${randomUUID().slice(0, 8)}`;
    queues.push(topic, `${topic}.stratus1`);
    const casts: Array<{ args: Record<string, unknown>; requestId: string }> = [];
    class InstanceNotFound extends Error {}
    class Manager {
      target = { version: '5.1' };
      async echo(ctx: RequestContext, args: Record<string, unknown>): Promise<unknown> {
        return { args, request_id: ctx.requestId, user_id: ctx.userId, project_id: ctx.projectId, peer: 'stratus' };
      }
      async note(ctx: RequestContext, args: Record<string, unknown>): Promise<void> {
        casts.push({ args, requestId: ctx.requestId });
      }
      async fail(_ctx: RequestContext, args: Record<string, unknown>): Promise<never> {
        throw new InstanceNotFound(`Instance ${String(args['id'])} could not be found.`);
      }
      async slow(_ctx: RequestContext, args: Record<string, unknown>): Promise<string> {
        await new Promise((r) => setTimeout(r, Number(args['ms'])));
        return 'done';
      }
    }
    class TaskManager {
      target = { namespace: 'compute_task', version: '1.20' };
      async migrate_server(_ctx: RequestContext, args: Record<string, unknown>): Promise<unknown> {
        return { namespace: 'compute_task', args };
      }
    }
    const bus = await createTransport(RABBIT_URL);
    buses.push(bus);
    const server = new RpcServer(bus, { topic, server: 'stratus1', exchange: EXCHANGE }, [new Manager(), new TaskManager()]);
    await server.start();
    const py = runPython('py_client.py', [RABBIT_URL, EXCHANGE, topic, 'stratus1']);
    procs.push(py);
    const code = await py.exited;
    assert.equal(code, 0, `python client failed:\n${py.stderr()}`);
    const call = step(py.lines, 'call');
    assert.deepEqual(call['result'], {
      args: { a: 1, b: [1, 2], c: { d: null } },
      request_id: call['request_id'],
      user_id: 'py-user',
      project_id: 'py-project',
      peer: 'stratus',
    });
    assert.equal((step(py.lines, 'call_server')['result'] as { args: unknown }).args !== undefined, true);
    assert.deepEqual(step(py.lines, 'namespace')['result'], { namespace: 'compute_task', args: { flavor: 'm1' } });
    assert.deepEqual(step(py.lines, 'remote_error'), {
      step: 'remote_error',
      raised: 'RemoteError',
      exc_type: 'InstanceNotFound',
      value: 'Instance i-1 could not be found.',
    });
    // The Python caller allows oslo_messaging.rpc.dispatcher, so it rebuilds the real classes.
    assert.ok((step(py.lines, 'no_such_method')['bases'] as string[]).includes('NoSuchMethod'));
    assert.ok((step(py.lines, 'unsupported_version')['bases'] as string[]).includes('UnsupportedVersion'));
    assert.equal(step(py.lines, 'monitored')['result'], 'done');
    assert.equal(step(py.lines, 'timeout')['raised'], 'MessagingTimeout');
    const deadline = Date.now() + 5000;
    while (casts.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(casts.map((c) => c.args).sort((a, b) => Number(a['n']) - Number(b['n'])), [{ n: 1 }, { n: 2 }]);
    assert.equal(casts[0]!.requestId, call['request_id']);
    await server.stop();
  });

  void test('a Stratus client calls a Python server', async () => {
    const topic = `interop_${randomUUID().slice(0, 8)}`;
    queues.push(topic, `${topic}.py1`);
    const py = runPython('py_server.py', [RABBIT_URL, EXCHANGE, topic, 'py1']);
    procs.push(py);
    await py.waitFor((l) => l === 'READY');
    const bus = await createTransport(RABBIT_URL);
    buses.push(bus);
    const client = new RpcClient(bus, { topic, exchange: EXCHANGE, version: '2.0' }, { timeoutMs: 20_000 });
    const ctx = new RequestContext({ userId: 'ts-user', projectId: 'ts-project', roles: ['admin'] });

    const r = await client.call<Record<string, unknown>>(ctx, 'echo', { a: 1, nested: { b: ['x'] } });
    assert.deepEqual(r, { args: { a: 1, nested: { b: ['x'] } }, request_id: ctx.requestId, user_id: 'ts-user', roles: ['admin'], peer: 'python' });
    assert.equal((await client.prepare({ server: 'py1', version: '2.3' }).call<{ peer: string }>(ctx, 'echo')).peer, 'python');

    await client.prepare({ server: 'py1' }).cast(ctx, 'note', { n: 1 });
    await client.prepare({ fanout: true }).cast(ctx, 'note', { n: 2 });
    await py.waitFor((l) => typeof l === 'object' && (l['cast'] as { n?: number })?.n === 2);
    await py.waitFor((l) => typeof l === 'object' && (l['cast'] as { n?: number })?.n === 1);
    assert.equal((py.lines.find((l) => typeof l === 'object' && 'cast' in l) as Record<string, unknown>)['request_id'], ctx.requestId);

    await assert.rejects(client.call(ctx, 'fail', { id: 'i-9' }), (e: unknown) => {
      assert.ok(e instanceof RemoteError);
      assert.equal(e.excType, 'InstanceNotFound');
      assert.equal(e.value, 'Instance i-9 could not be found.');
      assert.match(e.traceback, /Traceback/);
      return true;
    });
    await assert.rejects(client.call(ctx, 'bad_value', { v: 3 }), (e: unknown) => e instanceof RemoteError && e.excType === 'ValueError' && e.value === 'bad value 3');
    await assert.rejects(client.call(ctx, 'nope'), NoSuchMethod);
    await assert.rejects(client.prepare({ version: '2.4' }).call(ctx, 'echo'), UnsupportedVersion);
    // Python's call-monitor watchdog heartbeats keep a call alive past the monitor timeout.
    assert.equal(await client.prepare({ callMonitorTimeoutMs: 2000 }).call(ctx, 'slow', { seconds: 3.5 }), 'slept');
    await assert.rejects(client.prepare({ timeoutMs: 800 }).call(ctx, 'slow', { seconds: 2 }), MessagingTimeout);
    py.child.kill('SIGTERM');
    assert.equal(await py.exited, 0);
  });

  void test('notifications: Stratus notifier -> Python listener, Python notifier -> Stratus listener', async () => {
    const topic = `interop_notif_${randomUUID().slice(0, 8)}`;
    queues.push(`${topic}.info`, `${topic}.error`);
    const bus = await createTransport(RABBIT_URL);
    buses.push(bus);

    const pyListener = runPython('py_notify.py', ['listen', RABBIT_URL, EXCHANGE, topic]);
    procs.push(pyListener);
    await pyListener.waitFor((l) => l === 'READY');
    const notifier = new Notifier(bus, { publisherId: 'compute.tshost', exchange: EXCHANGE, topics: [topic] });
    const ctx = new RequestContext({ userId: 'ts-user', authToken: 'secret' });
    await notifier.info(ctx, 'compute.instance.create.end', { instance_id: 'i-7' });
    await notifier.error(ctx, 'compute.instance.create.error', { code: 500 });
    await pyListener.waitFor((l) => typeof l === 'object' && l['priority'] === 'error');
    await pyListener.waitFor((l) => typeof l === 'object' && l['priority'] === 'info');
    const info = pyListener.lines.find((l) => typeof l === 'object' && l['priority'] === 'info') as Record<string, unknown>;
    assert.equal(info['publisher_id'], 'compute.tshost');
    assert.equal(info['event_type'], 'compute.instance.create.end');
    assert.deepEqual(info['payload'], { instance_id: 'i-7' });
    assert.equal(info['request_id'], ctx.requestId);
    assert.equal(info['has_token'], false);
    const meta = info['metadata'] as Record<string, unknown>;
    assert.match(String(meta['timestamp']), /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{6}$/);
    pyListener.child.kill('SIGTERM');
    assert.equal(await pyListener.exited, 0);

    const got: Array<{ priority: string; publisherId: string; eventType: string; payload: unknown; meta: NotificationMetadata; requestId: string }> = [];
    const record = (priority: string) => (c: RequestContext, publisherId: string, eventType: string, payload: unknown, meta: NotificationMetadata): void => {
      got.push({ priority, publisherId, eventType, payload, meta, requestId: c.requestId });
    };
    const listener = new NotificationListener(bus, [{ topic, exchange: EXCHANGE }], [{ info: record('info'), error: record('error') }]);
    await listener.start();
    const pySender = runPython('py_notify.py', ['send', RABBIT_URL, EXCHANGE, topic]);
    procs.push(pySender);
    assert.equal(await pySender.exited, 0, pySender.stderr());
    const deadline = Date.now() + 10_000;
    while (got.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await listener.stop();
    const pinfo = got.find((g) => g.priority === 'info')!;
    assert.ok(pinfo, JSON.stringify(got));
    assert.equal(pinfo.publisherId, 'compute.pyhost');
    assert.equal(pinfo.eventType, 'compute.instance.create.end');
    assert.deepEqual(pinfo.payload, { instance_id: 'i-1' });
    assert.equal(pinfo.requestId, 'req-00000000-0000-0000-0000-0000000000aa');
    assert.match(String(pinfo.meta.message_id), /^[0-9a-f-]{36}$/);
    assert.deepEqual(got.find((g) => g.priority === 'error')?.payload, { code: 500 });
  });
});
