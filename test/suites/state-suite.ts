// What the state suites share: a clock the test moves by hand, a fresh store per test, and the
// skip list with reasons (Hono's habit: an implementation that cannot pass a case says so in
// writing, by name). A Redis/Valkey implementation runs the same suites with its own factory.
import { test } from 'node:test';

/** The suites' epoch: an hour boundary near the real time, so a shared store's expiries stay sane. */
export function suiteEpoch(): number {
  return Math.floor(Date.now() / 3_600_000) * 3_600_000;
}

export class ManualClock {
  time: number;
  readonly now = (): number => this.time;

  constructor(start = suiteEpoch()) {
    this.time = start;
  }

  advance(ms: number): number {
    this.time += ms;
    return this.time;
  }
}

/**
 * Builds a fresh, empty store for one test, on the test's clock. A shared implementation gives
 * each call its own key prefix (or database) so tests do not see each other's state.
 */
export type StoreFactory<Store, Settings = undefined> = (clock: () => number, settings: Settings) => Store | Promise<Store>;

export interface SuiteOptions<Store> {
  /** Test name → why this implementation skips it. */
  skip?: Readonly<Record<string, string>>;
  /** Closes a store after its test (connections, timers). */
  dispose?: (store: Store) => void | Promise<void>;
}

/** One test of a suite on a fresh store, skipped with its written reason when the implementation lists it. */
export function storeTest<Store, Settings>(
  create: StoreFactory<Store, Settings>, options: SuiteOptions<Store>, name: string, settings: Settings,
  body: (store: Store, clock: ManualClock) => Promise<void> | void,
): void {
  const reason = options.skip?.[name];
  test(name, reason !== undefined ? { skip: reason } : {}, async () => {
    const clock = new ManualClock();
    const store = await create(clock.now, settings);
    try {
      await body(store, clock);
    } finally {
      await options.dispose?.(store);
    }
  });
}
