/**
 * Waits until the condition holds, polling, bounded by limitMs: for ordering a concurrent step
 * (a reconciler pass, a restart), never for a timing claim.
 */
export async function until(condition: () => boolean | Promise<boolean>, what: string, limitMs = 15_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
