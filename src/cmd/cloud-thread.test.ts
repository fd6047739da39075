import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { startControlWorker, type ControlWorkerHandlers } from './cloud-thread.js';
import { layoutFor } from './cloud-layout.js';
import { resolvePorts } from './ports.js';
import { startCloud } from './cloud.js';

/** A stand-in for cloud-worker.ts: the protocol without the services. */
function standIn(dir: string, body: string): string {
  const file = path.join(dir, `worker-${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(file, `import { parentPort } from 'node:worker_threads';\nconst send = (m) => parentPort.postMessage(m);\n${body}\n`);
  return pathToFileURL(file).href;
}

async function withWorker(body: string, h: Partial<ControlWorkerHandlers>, fn: (w: ReturnType<typeof startControlWorker>) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'cloud-thread-'));
  const w = startControlWorker({
    entry: standIn(dir, body), stateDir: dir, secrets: { adminPassword: 'a', demoPassword: 'd', servicePassword: 's' },
    layout: layoutFor('127.0.0.1', await resolvePorts(false), 1),
  }, { progress: h.progress ?? (() => {}), onFailure: h.onFailure ?? (() => {}) });
  try {
    await fn(w);
  } finally {
    await w.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const STOPS_WHEN_TOLD = `parentPort.on('message', (m) => { if (m.kind === 'stop') { send({ kind: 'stopped' }); parentPort.close(); } });`;

void describe("stratus up's worker thread", () => {
  void test('progress lines and milestones reach the main thread; stop ends the thread', async () => {
    const lines: string[] = [];
    await withWorker(`${STOPS_WHEN_TOLD}
      send({ kind: 'progress', line: 'keystone   up' });
      send({ kind: 'placement-ready' });
      send({ kind: 'ready' });`, { progress: (l) => lines.push(l) }, async (w) => {
      await w.placementReady;
      await w.ready;
      assert.deepEqual(lines, ['keystone   up']);
    });
  });

  void test('a start-up failure rejects the milestones with the worker\'s error', async () => {
    await withWorker(`send({ kind: 'failed', message: 'keystone: no database', stack: 'Error: keystone: no database\\n    at here' }); parentPort.close();`, {}, async (w) => {
      await assert.rejects(w.placementReady, /keystone: no database/);
      await assert.rejects(w.ready, (e: Error) => e.stack === 'Error: keystone: no database\n    at here');
    });
  });

  void test('an error thrown in the worker after start-up is reported to the main thread', async () => {
    let failure: Error | null = null;
    let reported!: () => void;
    const done = new Promise<void>((r) => { reported = r; });
    await withWorker(`send({ kind: 'placement-ready' }); send({ kind: 'ready' });
      setTimeout(() => { throw new Error('neutron-server crashed'); }, 20);`, { onFailure: (e) => { failure = e; reported(); } }, async (w) => {
      await w.ready;
      await done;
      assert.match(failure!.message, /neutron-server crashed/);
    });
  });
});

void test('startCloud: a control service that cannot start fails the whole start and releases the state dir', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'cloud-fail-'));
  try {
    // Nothing listens on port 1: Keystone's database server cannot be reached.
    await assert.rejects(startCloud({ stateDir: dir, randomPorts: true, threads: 2, databaseUrl: 'postgresql://stratus@127.0.0.1:1' }), /ECONNREFUSED|connect/i);
    assert.equal(existsSync(path.join(dir, 'stratus.pid')), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
