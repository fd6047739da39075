/**
 * `stratus up`'s worker thread: Keystone, Placement, Glance, Neutron (+ agents) and Cinder with
 * their own bus (a per-thread in-process broker, or the shared transport URL), their own log
 * stream and span writer on the same state directory files. Reports progress to the main
 * thread, stops when told to, and reports a start-up failure instead of dying silently.
 * @module
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createTransport } from '../common/rpc/index.js';
import { JsonlSpanSink } from '../common/journey/store.js';
import { addSpanSink } from '../common/journey/span.js';
import { setLogDestination } from '../common/log.js';
import { ConfigOpts } from '../common/config/index.js';
import { StateDir } from './state-dir.js';
import { startControlServices } from './cloud-control.js';
import { databaseUrls } from './cloud-layout.js';
import type { ControlWorkerData, FromWorker, ToWorker } from './cloud-worker-protocol.js';
import { reverseStopper } from './stopper.js';

const port = parentPort!;
const data = workerData as ControlWorkerData;
const send = (m: FromWorker) => port.postMessage(m);

const state = new StateDir(data.stateDir);
setLogDestination(state.file('stratus.log'));
// The main thread's writer rotates the file; this one follows.
const sink = new JsonlSpanSink(state.root, { follower: true });
const removeSink = addSpanSink(sink);
const stops: (() => Promise<void>)[] = [];
const stopAll = reverseStopper(stops, async () => {
  removeSink();
  await sink.close();
});

port.on('message', (m: ToWorker) => {
  if (m.kind !== 'stop') return;
  void stopAll().then(() => {
    send({ kind: 'stopped' });
    // Nothing more to hear: let the thread end once its services' handles are closed.
    port.close();
  });
});

try {
  const bus = await createTransport(data.transportUrl ?? 'inproc://');
  stops.push(() => bus.close());
  let config: ConfigOpts | undefined;
  if (data.configFiles?.length) {
    config = new ConfigOpts();
    config.load({ configFiles: data.configFiles });
  }
  const control = await startControlServices({
    state, secrets: data.secrets, layout: data.layout, bus,
    dbUrl: databaseUrls(state, data.databaseUrl, data.databasePrefix),
    ...(config ? { config } : {}),
    progress: (line) => send({ kind: 'progress', line }),
    onPlacementReady: () => send({ kind: 'placement-ready' }),
  }, stops);
  await control.startCinder();
  await control.ensureDefaults();
  send({ kind: 'ready' });
} catch (e) {
  await stopAll();
  const err = e instanceof Error ? e : new Error(String(e));
  send({ kind: 'failed', message: err.message, ...(err.stack ? { stack: err.stack } : {}) });
  port.close();
}
