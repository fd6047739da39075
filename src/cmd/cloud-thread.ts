/**
 * The main thread's handle on `stratus up`'s worker thread (see cloud-worker.ts): start it
 * early so both threads load their modules in parallel, wait for its milestones, hear about
 * its failures, and stop it.
 * @module
 */
import { Worker } from 'node:worker_threads';
import type { ControlWorkerData, FromWorker, ToWorker } from './cloud-worker-protocol.js';

/** How long a stopped worker may take to end on its own before it is terminated. */
const EXIT_GRACE_MS = 5_000;

export interface ControlWorker {
  /** Keystone bootstrapped and Placement listening. */
  placementReady: Promise<void>;
  /** Every control service and devstack's defaults are in place. */
  ready: Promise<void>;
  stop(): Promise<void>;
}

export interface ControlWorkerHandlers {
  progress: (line: string) => void;
  /** The worker failed after start-up (an uncaught error, or it ended on its own). */
  onFailure: (e: Error) => void;
}

/** `entry` defaults to cloud-worker.ts (tests run stand-ins). */
export function startControlWorker(data: Omit<ControlWorkerData, 'entry'> & { entry?: string }, h: ControlWorkerHandlers): ControlWorker {
  const entry = data.entry ?? new URL('./cloud-worker.ts', import.meta.url).href;
  const worker = new Worker(new URL('./cloud-worker-boot.mjs', import.meta.url), { workerData: { ...data, entry } satisfies ControlWorkerData });
  let placementOk!: () => void;
  let readyOk!: () => void;
  let startFailed!: (e: Error) => void;
  const failed = new Promise<never>((_, reject) => { startFailed = reject; });
  failed.catch(() => undefined);
  const placementReady = Promise.race([new Promise<void>((r) => { placementOk = r; }), failed]);
  const ready = Promise.race([new Promise<void>((r) => { readyOk = r; }), failed]);
  // Awaited later; a start-up failure must not count as unhandled before then.
  placementReady.catch(() => undefined);
  ready.catch(() => undefined);
  let started = false;
  let stopRequested = false;
  let stopped!: () => void;
  const stoppedP = new Promise<void>((r) => { stopped = r; });
  const exited = new Promise<void>((r) => worker.once('exit', () => r()));

  const fail = (e: Error) => {
    if (stopRequested) return;
    if (started) h.onFailure(e);
    else startFailed(e);
  };
  worker.on('message', (m: FromWorker) => {
    switch (m.kind) {
      case 'progress': h.progress(m.line); break;
      case 'placement-ready': placementOk(); break;
      case 'ready': started = true; readyOk(); break;
      case 'failed': {
        const e = new Error(m.message);
        if (m.stack) e.stack = m.stack;
        fail(e);
        break;
      }
      case 'stopped': stopped(); break;
    }
  });
  worker.on('error', (e) => fail(e));
  worker.once('exit', (code) => {
    stopped();
    fail(new Error(`the control services' thread ended (exit code ${code})`));
  });

  return {
    placementReady,
    ready,
    stop: async () => {
      if (stopRequested) return exited;
      stopRequested = true;
      try {
        worker.postMessage({ kind: 'stop' } satisfies ToWorker);
      } catch {
        // already gone
      }
      await stoppedP;
      const timer = setTimeout(() => void worker.terminate(), EXIT_GRACE_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}
