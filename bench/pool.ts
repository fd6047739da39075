/** The benches' load shape: `n` operations, `concurrency` in flight, each worker taking the next when its last one ends. */
export async function inFlight(n: number, concurrency: number, op: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, n) }, async () => {
      while (next < n) await op(next++);
    }),
  );
}
