import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigOpts } from '../common/config/index.js';
import { sendEventsIntervalMs } from './config.js';
import { DEFAULT_SEND_EVENTS_INTERVAL_MS } from './notifiers/nova.js';

function confWith(text: string): ConfigOpts {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'neutron-conf-')), 'neutron.conf');
  writeFileSync(file, text);
  const c = new ConfigOpts({});
  c.load({ configFiles: [file] });
  return c;
}

test('send_events_interval: seconds in neutron.conf, milliseconds to the notifier', () => {
  assert.equal(sendEventsIntervalMs(), DEFAULT_SEND_EVENTS_INTERVAL_MS);
  assert.equal(sendEventsIntervalMs(confWith('[DEFAULT]\n')), DEFAULT_SEND_EVENTS_INTERVAL_MS);
  assert.equal(sendEventsIntervalMs(confWith('[DEFAULT]\nsend_events_interval = 2\n')), 2000);
  assert.equal(sendEventsIntervalMs(confWith('[DEFAULT]\nsend_events_interval = 0.25\n')), 250);
  assert.throws(() => sendEventsIntervalMs(confWith('[DEFAULT]\nsend_events_interval = -1\n')), /send_events_interval/);
});
