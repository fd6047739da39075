/**
 * Journey assertions shared by the compute functional tests: a request's hops, found in the
 * spans it left, in the order they must happen.
 */
import assert from 'node:assert/strict';
import type { Span } from '../../../../src/common/journey/span.js';

export type Hop = [label: string, matches: (x: Span) => boolean];

/**
 * Asserts that journey `journeyId` has a span for each hop and that each hop's first span
 * starts after the previous hop's; returns the journey's spans in start order.
 */
export function assertHopsInOrder(spans: readonly Span[], journeyId: string, hops: Hop[]): Span[] {
  const j = spans.filter((x) => x.journeyId === journeyId).sort((a, b) => a.start - b.start);
  const found = hops.map(([label, matches]) => {
    const i = j.findIndex(matches);
    assert.ok(i >= 0, `journey has ${label}: ${j.map((x) => `${x.kind}:${x.service}@${x.host}:${x.name}`).join(' | ')}`);
    return i;
  });
  for (let i = 1; i < found.length; i++) assert.ok(found[i]! > found[i - 1]!, `${hops[i]![0]} after ${hops[i - 1]![0]}`);
  return j;
}
