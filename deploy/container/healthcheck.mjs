// The image's HEALTHCHECK: GET /readyz with Node itself (the image has no curl). Exit 0 on 200,
// 1 otherwise (503 while draining, refused, timed out). The gateway listens on 18080 unless its
// config says otherwise; then set SWITCHYARD_HEALTHCHECK_URL to match.
import { get } from 'node:http';

const url = process.env.SWITCHYARD_HEALTHCHECK_URL || 'http://127.0.0.1:18080/readyz';
const request = get(url, { timeout: 2000 }, (response) => {
  response.resume();
  process.exitCode = response.statusCode === 200 ? 0 : 1;
});
request.on('timeout', () => request.destroy(new Error('timed out')));
request.on('error', () => {
  process.exitCode = 1;
});
