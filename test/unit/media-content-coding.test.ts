// Media downloads ask for identity; a server that compresses anyway is decoded (never inlined
// compressed), and the decoded size is bounded, so a small compressed body cannot inflate without end.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import { MediaFetcher } from '../../src/upstream/media.ts';

const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==', 'base64');
const asked: (string | undefined)[] = [];
const server = http.createServer((request, response) => {
  asked.push(request.headers['accept-encoding']);
  if (request.url === '/dot.png') {
    response.writeHead(200, { 'content-type': 'image/png', 'content-encoding': 'gzip' });
    response.end(zlib.gzipSync(png));
  } else if (request.url === '/bomb') {
    // 64 MB of zeros in about 64 kB
    response.writeHead(200, { 'content-type': 'image/png', 'content-encoding': 'gzip' });
    response.end(zlib.gzipSync(Buffer.alloc(64 * 1024 * 1024)));
  } else {
    response.writeHead(200, { 'content-type': 'image/png', 'content-encoding': 'compress' });
    response.end(png);
  }
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
after(() => server.close());

test('a compressed download is decoded, a bomb stops at media.max_bytes, an unknown coding is refused', async () => {
  const fetcher = new MediaFetcher({ allowPrivateNetworks: true, maxBytes: 1024 * 1024, timeoutMs: 5000 });
  after(() => fetcher.close());
  const media = await fetcher.fetch(`${base}/dot.png`, new AbortController().signal);
  assert.deepEqual(Buffer.from(media.data, 'base64'), png);
  await assert.rejects(fetcher.fetch(`${base}/bomb`, new AbortController().signal), /larger than 1048576 bytes/);
  await assert.rejects(fetcher.fetch(`${base}/odd`, new AbortController().signal), (error: Error & { status?: number }) => {
    assert.equal(error.status, 400);
    assert.match(error.message, /Content-Encoding 'compress' cannot be decoded/);
    return true;
  });
  assert.deepEqual(asked, ['identity', 'identity', 'identity']);
});
