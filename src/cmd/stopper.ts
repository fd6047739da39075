/**
 * Stopping what was started, newest first, once: a cloud's thread stops its services in the
 * reverse order of starting them, and a failing step does not keep the rest from stopping.
 * @module
 */

/** A stop function over `steps` (pushed as each service starts), then `finish`. */
export function reverseStopper(steps: (() => Promise<void>)[], finish: () => void | Promise<void>): () => Promise<void> {
  let stopping: Promise<void> | null = null;
  return () =>
    (stopping ??= (async () => {
      for (const step of steps.reverse()) {
        try {
          await step();
        } catch {
          // keep stopping the rest
        }
      }
      await finish();
    })());
}
