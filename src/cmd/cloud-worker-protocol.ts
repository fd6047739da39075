/**
 * What `stratus up`'s two threads say to each other: the main thread (Nova) starts the worker
 * (the control services) with `ControlWorkerData` and they exchange these messages. The
 * services themselves never use this channel: they meet over REST and the bus.
 * @module
 */
import type { Secrets } from './state-dir.js';
import type { CloudLayout } from './cloud-layout.js';

export interface ControlWorkerData {
  /** The module the worker runs (a `.ts` file: the bootstrap loads tsx first when needed). */
  entry: string;
  stateDir: string;
  secrets: Secrets;
  layout: CloudLayout;
  transportUrl?: string;
  databaseUrl?: string;
  databasePrefix?: string;
  /** oslo.config files the main thread loaded; the worker loads the same ones. */
  configFiles?: string[];
}

export type FromWorker =
  | { kind: 'progress'; line: string }
  /** Keystone is bootstrapped and Placement answers: Nova may start its computes. */
  | { kind: 'placement-ready' }
  | { kind: 'ready' }
  | { kind: 'failed'; message: string; stack?: string }
  | { kind: 'stopped' };

export type ToWorker = { kind: 'stop' };
