/**
 * Nova's API timestamp format: ISO without the zone, with microseconds
 * (oslo's `isotime`-less str(datetime)), e.g. 2026-01-02T03:04:05.123000.
 * @module
 */

/** Turns a stored ISO timestamp (millisecond precision, 'Z') into Nova's microsecond form. */
export function usec(s: string | null | undefined): string | null {
  if (!s) return null;
  return s.replace('Z', '').replace(/\.(\d{3})$/, '.$1000');
}
