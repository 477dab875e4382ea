// The first scrape of a check window, for both local drivers (encoder canary, generation canary): a
// check compares the scrape at its end with the one taken when its window began (`lastCheckTime`).
// Without a baseline for the window that ends (e.g. after a restart) the check has no verdict.

export class CheckBaseline<T> {
  private current: { at: string | undefined; value: T } | undefined;

  /** The baseline of the window that began at `at`, if one was taken. */
  of(at: string | undefined): T | undefined {
    return this.current !== undefined && this.current.at === at ? this.current.value : undefined;
  }

  /**
   * Called after every tick. Outside a check window it forgets; when a new window began at `at` its
   * baseline is `scraped` (taken this tick), else a scrape started now, kept only if the window is
   * still the same once it answers (`windowNow`).
   */
  roll(
    inWindow: boolean,
    at: string | undefined,
    scraped: T | undefined,
    scrape: () => Promise<T | undefined>,
    windowNow: () => string | undefined,
  ): void {
    if (!inWindow) {
      this.current = undefined;
      return;
    }
    if (this.current?.at === at) return;
    if (scraped !== undefined) {
      this.current = { at, value: scraped };
      return;
    }
    this.current = undefined;
    void scrape().then((value) => {
      if (value !== undefined && windowNow() === at) this.current = { at, value };
    });
  }
}
