/**
 * Runs `task` over `inputs` with at most `limit` in flight, keeping input order in the result.
 * Sources of a window are fetched this way: parallel enough to hide network latency, bounded
 * so one topic with 500 feeds can't open 500 sockets at once.
 */
export async function mapWithConcurrency<T, R>(inputs: readonly T[], limit: number, task: (input: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(inputs.length);
  let next = 0;
  async function lane(): Promise<void> {
    while (next < inputs.length) {
      const index = next++;
      results[index] = await task(inputs[index] as T, index);
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, inputs.length)) }, lane));
  return results;
}
