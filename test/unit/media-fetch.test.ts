import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { MediaFetcher, isPrivateAddress } from '../../src/upstream/media.ts';
import { inlineMedia, needsInlining } from '../../src/pipeline/media.ts';
import type { CanonicalRequest } from '../../src/canonical/request.ts';

const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==', 'base64');
const server = http.createServer((request, response) => {
  if (request.url === '/dot.png') {
    response.writeHead(200, { 'content-type': 'image/png; charset=binary' });
    response.end(png);
  } else if (request.url === '/big') {
    response.writeHead(200, { 'content-type': 'image/png' });
    response.end(Buffer.alloc(4096));
  } else {
    response.writeHead(404);
    response.end();
  }
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
after(() => server.close());

test('private, loopback and link-local addresses are recognised', () => {
  for (const address of ['127.0.0.1', '10.1.2.3', '172.20.0.1', '192.168.1.1', '169.254.169.254', '::1', 'fd00::1', 'fe80::1', '::ffff:127.0.0.1', '0.0.0.0']) {
    assert.equal(isPrivateAddress(address), true, address);
  }
  for (const address of ['8.8.8.8', '1.1.1.1', '2606:4700::1111']) assert.equal(isPrivateAddress(address), false, address);
});

test('loopback URLs are refused unless private networks are allowed', async () => {
  const guarded = new MediaFetcher({ allowPrivateNetworks: false, maxBytes: 1024, timeoutMs: 2000 });
  await assert.rejects(guarded.fetch(`${base}/dot.png`, new AbortController().signal), (error: Error & { status?: number }) => {
    assert.equal(error.status, 400);
    assert.match(error.message, /private and loopback addresses are not fetched/);
    return true;
  });
  await assert.rejects(guarded.fetch('http://localhost:1/x.png', new AbortController().signal), /private and loopback/);
  await assert.rejects(guarded.fetch('file:///etc/passwd', new AbortController().signal), /only http and https/);
  await guarded.close();
});

test('downloads within the limits, with the media type from the answer', async () => {
  const fetcher = new MediaFetcher({ allowPrivateNetworks: true, maxBytes: 1024, timeoutMs: 2000 });
  const media = await fetcher.fetch(`${base}/dot.png`, new AbortController().signal);
  assert.equal(media.mediaType, 'image/png');
  assert.deepEqual(Buffer.from(media.data, 'base64'), png);
  await assert.rejects(fetcher.fetch(`${base}/big`, new AbortController().signal), /larger than 1024 bytes/);
  await assert.rejects(fetcher.fetch(`${base}/missing.png`, new AbortController().signal), /answered 404/);
  await fetcher.close();
});

test('inlineMedia replaces URL images in messages and tool results with base64', async () => {
  const fetcher = new MediaFetcher({ allowPrivateNetworks: true, maxBytes: 1024, timeoutMs: 2000 });
  const request: CanonicalRequest = {
    model: 'm', stream: false, sampling: {},
    messages: [
      { role: 'user', content: [{ type: 'text', text: 'look' }, { type: 'image', source: { kind: 'url', url: `${base}/dot.png` } }] },
      { role: 'tool', content: [{ type: 'tool-result', toolCallId: 'c1', content: [{ type: 'image', source: { kind: 'url', url: `${base}/dot.png` } }] }] },
    ],
  };
  assert.equal(needsInlining(request), true);
  await inlineMedia(request, fetcher).done;
  assert.equal(needsInlining(request), false);
  const image = request.messages[0]!.content[1] as { source: { kind: string; mediaType: string; data: string } };
  assert.deepEqual(image.source, { kind: 'base64', mediaType: 'image/png', data: png.toString('base64') });
  await fetcher.close();
});
