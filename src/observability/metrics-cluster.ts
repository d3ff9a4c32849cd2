// Metrics with `--workers N`: a scrape lands on one worker but must see the whole process group.
// The worker asks the primary over IPC; the primary asks every ready worker for its registries
// (as JSON), combines them with prom-client's AggregatorRegistry.aggregate (counters and histogram
// buckets summed, each metric by its aggregator) and sends the text back.
//
// Not AggregatorRegistry.clusterMetrics(): it asks every connected worker, including one still
// loading its modules that cannot answer yet, so each worker restart would stall scrapes 5 s and
// fail them. Here a worker is asked only once it has said it is ready.
import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';

type ClusterMessage =
  | { type: 'switchyard:metrics-ready' }
  | { type: 'switchyard:metrics-scrape'; id: number }
  | { type: 'switchyard:metrics-text'; id: number; text?: string; error?: string }
  | { type: 'switchyard:metrics-collect'; id: number }
  | { type: 'switchyard:metrics-registries'; id: number; metrics?: object[]; error?: string };

/** How long the primary waits for every worker, and (a little longer) a worker for the primary. */
const COLLECT_TIMEOUT_MS = 5000;
const SCRAPE_TIMEOUT_MS = 7000;

interface Collection {
  waiting: Set<Worker>;
  results: object[][];
  resolve(text: string): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/** In the primary: answers the workers' scrapes with every ready worker's metrics, aggregated. */
export function aggregateWorkerMetrics(): void {
  const ready = new Set<Worker>();
  const collections = new Map<number, Collection>();
  let nextId = 0;

  const settle = (id: number, collection: Collection) => {
    if (collection.waiting.size > 0) return;
    collections.delete(id);
    clearTimeout(collection.timer);
    AggregatorRegistry.aggregate(collection.results).metrics().then(collection.resolve, collection.reject);
  };

  const collect = (): Promise<string> => new Promise((resolve, reject) => {
    const id = nextId++;
    const waiting = new Set([...ready].filter((worker) => worker.isConnected()));
    const timer = setTimeout(() => {
      collections.delete(id);
      reject(new Error(`${waiting.size} worker(s) did not send their metrics in time`));
    }, COLLECT_TIMEOUT_MS);
    timer.unref();
    const collection: Collection = { waiting, results: [], resolve, reject, timer };
    collections.set(id, collection);
    for (const worker of waiting) worker.send({ type: 'switchyard:metrics-collect', id } satisfies ClusterMessage);
    settle(id, collection);
  });

  cluster.on('message', (worker, message: ClusterMessage | undefined) => {
    switch (message?.type) {
      case 'switchyard:metrics-ready':
        ready.add(worker);
        return;
      case 'switchyard:metrics-registries': {
        const collection = collections.get(message.id);
        if (collection === undefined || !collection.waiting.delete(worker)) return;
        if (message.metrics !== undefined) collection.results.push(message.metrics);
        settle(message.id, collection);
        return;
      }
      case 'switchyard:metrics-scrape': {
        const reply = (answer: ClusterMessage) => {
          if (worker.isConnected()) worker.send(answer);
        };
        collect().then(
          (text) => reply({ type: 'switchyard:metrics-text', id: message.id, text }),
          (error: unknown) => reply({ type: 'switchyard:metrics-text', id: message.id, error: (error as Error).message }),
        );
        return;
      }
    }
  });
  // a worker that died is not waited for: its counts went with it
  cluster.on('exit', (worker) => {
    ready.delete(worker);
    for (const [id, collection] of collections) if (collection.waiting.delete(worker)) settle(id, collection);
  });
}

/** In a worker whose gateway is up: hands these registries to the primary when it collects. */
export function shareWithPrimary(registries: readonly Registry[]): void {
  if (process.send === undefined) return;
  process.on('message', (message: ClusterMessage | undefined) => {
    if (message?.type !== 'switchyard:metrics-collect') return;
    Promise.all(registries.map((registry) => registry.getMetricsAsJSON())).then(
      (lists) => send({ type: 'switchyard:metrics-registries', id: message.id, metrics: lists.flat() }),
      (error: unknown) => send({ type: 'switchyard:metrics-registries', id: message.id, error: (error as Error).message }),
    );
  });
  send({ type: 'switchyard:metrics-ready' });
}

function send(message: ClusterMessage): void {
  if (process.send !== undefined && process.connected) process.send(message);
}

const pending = new Map<number, { resolve: (text: string) => void; reject: (error: Error) => void; timer: NodeJS.Timeout }>();
let nextScrape = 0;
let listening = false;

/** In a worker: the whole process group's metrics, through the primary. */
export function scrapeThroughPrimary(): Promise<string> {
  if (!listening) {
    listening = true;
    process.on('message', (message: ClusterMessage | undefined) => {
      if (message?.type !== 'switchyard:metrics-text') return;
      const waiter = pending.get(message.id);
      if (waiter === undefined) return;
      pending.delete(message.id);
      clearTimeout(waiter.timer);
      if (message.text !== undefined) waiter.resolve(message.text);
      else waiter.reject(new Error(message.error ?? 'no answer from the primary process'));
    });
  }
  return new Promise((resolve, reject) => {
    if (process.send === undefined || !process.connected) {
      reject(new Error('no primary process to aggregate the workers\' metrics'));
      return;
    }
    const id = nextScrape++;
    const timer = setTimeout(() => {
      pending.delete(id);
      reject(new Error('the primary process did not answer in time'));
    }, SCRAPE_TIMEOUT_MS);
    timer.unref();
    pending.set(id, { resolve, reject, timer });
    send({ type: 'switchyard:metrics-scrape', id });
  });
}
