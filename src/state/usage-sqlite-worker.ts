// The usage database's own thread (see usage-sqlite.ts): opens the file once, then answers the
// gateway's messages one at a time. A file that cannot be opened makes every call fail with why.
import { parentPort, workerData } from 'node:worker_threads';
import { SqliteUsageDatabase, type SqliteReply, type SqliteRequest } from './usage-sqlite.ts';

const port = parentPort!;
let database: SqliteUsageDatabase | undefined;
let failure = '';
try {
  database = new SqliteUsageDatabase((workerData as { file: string }).file);
} catch (error) {
  failure = `cannot open ${(workerData as { file: string }).file}: ${(error as Error).message}`;
}

port.on('message', (request: SqliteRequest) => {
  let reply: SqliteReply;
  try {
    if (request.op === 'close') {
      database?.close();
      database = undefined;
      failure = 'the usage database is closed';
      port.postMessage({ id: request.id, ok: true } satisfies SqliteReply);
      port.close();
      return;
    }
    if (database === undefined) throw new Error(failure);
    switch (request.op) {
      case 'ready':
        reply = { id: request.id, ok: true };
        break;
      case 'insert':
        database.insert(request.rows);
        reply = { id: request.id, ok: true };
        break;
      case 'summarize':
        reply = { id: request.id, ok: true, result: database.summarize(request.query) };
        break;
    }
  } catch (error) {
    reply = { id: request.id, ok: false, error: (error as Error).message };
  }
  port.postMessage(reply);
});
