// The dashboard's files (/ui): the page (ui/index.html), the app's ES modules and styles under
// ui/, and the vendor modules (htm's Preact standalone build, uPlot) from node_modules. Nothing is
// read until the first /ui request; then every file is read once and kept in memory (with a gzip
// copy), so the dashboard costs nothing to a gateway nobody looks at. A URL is only ever a key in
// that map — never joined to a file path. Assets are served under /ui/assets/<hash>/, the hash of
// every file's content: they are cached for a year, and the page (never cached) names the new
// hash after an upgrade.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { LocalHandler, LocalRoute } from '../pipeline/gateway.ts';
import { writeHead } from '../pipeline/respond.ts';
import type { RequestContext } from '../pipeline/context.ts';

export const UI_PATH = '/ui';
export const ASSETS_PREFIX = '/ui/assets/';

/** The dashboard's Content-Security-Policy: its own origin only, no inline script or style. */
export const UI_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
  + "frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/** Headers on every /ui answer. */
const SECURITY_HEADERS = [
  'content-security-policy', UI_CSP,
  'x-content-type-options', 'nosniff',
  'referrer-policy', 'no-referrer',
  'x-frame-options', 'DENY',
  'cross-origin-opener-policy', 'same-origin',
  'cross-origin-resource-policy', 'same-origin',
] as const;

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

/** The vendor files served, by the name the app imports them under (the only files taken from node_modules). */
const VENDOR: readonly { name: string; pkg: string; file: string }[] = [
  { name: 'vendor/htm-preact.js', pkg: 'htm', file: 'preact/standalone.module.js' },
  { name: 'vendor/uplot.js', pkg: 'uplot', file: 'dist/uPlot.esm.js' },
  { name: 'vendor/uplot.css', pkg: 'uplot', file: 'dist/uPlot.min.css' },
];

/** Larger files are sent gzipped to a client that takes it. */
const GZIP_MIN_BYTES = 1024;
/** The page names its assets with this placeholder (replaced by /ui/assets/<hash>). */
const ASSETS_PLACEHOLDER = /%ASSETS%/g;

interface Asset {
  body: Buffer;
  gzip: Buffer | undefined;
  type: string;
  etag: string;
}

interface Loaded {
  hash: string;
  index: Asset;
  /** By path under /ui/assets/<hash>/. */
  files: Map<string, Asset>;
}

const here = dirname(fileURLToPath(import.meta.url));
/** The repository's (or installed package's) ui/ folder. */
export const UI_ROOT = join(here, '..', '..', 'ui');

function asset(body: Buffer, type: string): Asset {
  return {
    body,
    gzip: body.length >= GZIP_MIN_BYTES && !type.startsWith('image/png') ? gzipSync(body) : undefined,
    type,
    etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
  };
}

async function listFiles(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && TYPES[extname(entry.name)] !== undefined)
    .map((entry) => relative(root, join(entry.parentPath, entry.name)).split(sep).join('/'))
    .filter((path) => path !== 'index.html')
    .sort();
}

/** The folder of package `name`, from a file it resolved to (its exports hide package.json). */
function packageDirOf(resolved: string, name: string): string {
  let dir = dirname(resolved);
  while (basename(dir) !== name) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`package ${name} not found above ${resolved}`);
    dir = parent;
  }
  return dir;
}

async function load(root: string): Promise<Loaded> {
  const require = createRequire(import.meta.url);
  const sources = new Map<string, Buffer>();
  for (const path of await listFiles(root)) sources.set(path, await readFile(join(root, path)));
  for (const vendor of VENDOR) {
    const packageDir = packageDirOf(require.resolve(vendor.pkg), vendor.pkg);
    sources.set(vendor.name, await readFile(join(packageDir, vendor.file)));
  }
  const digest = createHash('sha256');
  for (const [path, body] of sources) digest.update(path).update('\0').update(body);
  const hash = digest.digest('hex').slice(0, 12);
  const files = new Map<string, Asset>();
  for (const [path, body] of sources) files.set(path, asset(body, TYPES[extname(path)]!));
  const page = (await readFile(join(root, 'index.html'), 'utf8')).replace(ASSETS_PLACEHOLDER, `${ASSETS_PREFIX}${hash}`);
  return { hash, index: asset(Buffer.from(page), TYPES['.html']!), files };
}

function acceptsGzip(context: RequestContext): boolean {
  const accepted = context.request.headers['accept-encoding'];
  return typeof accepted === 'string' && accepted.includes('gzip');
}

function send(context: RequestContext, found: Asset, cacheControl: string): void {
  const response = context.response;
  if (response.headersSent || response.destroyed) return;
  const headers: string[] = [...SECURITY_HEADERS, 'x-request-id', context.id, 'cache-control', cacheControl, 'etag', found.etag, 'vary', 'accept-encoding'];
  if (context.request.headers['if-none-match'] === found.etag) {
    writeHead(response, 304, headers);
    response.end();
    return;
  }
  const body = found.gzip !== undefined && acceptsGzip(context) ? found.gzip : found.body;
  if (body !== found.body) headers.push('content-encoding', 'gzip');
  headers.push('content-type', found.type, 'content-length', String(body.length));
  writeHead(response, 200, headers);
  response.end(context.request.method === 'HEAD' ? undefined : body);
}

/** A plain-text answer with the dashboard's headers (404, 500). */
export function sendUiText(context: RequestContext, status: number, text: string): void {
  const response = context.response;
  if (response.headersSent || response.destroyed) return;
  writeHead(response, status, [...SECURITY_HEADERS, 'x-request-id', context.id, 'cache-control', 'no-store', 'content-type', 'text/plain; charset=utf-8', 'content-length', String(Buffer.byteLength(text))]);
  response.end(text);
}

export class UiAssets {
  private readonly root: string;
  private loading: Promise<Loaded> | undefined = undefined;

  constructor(root = UI_ROOT) {
    this.root = root;
  }

  /** The files, read on first use (a failed read is tried again next time). */
  files(): Promise<Loaded> {
    this.loading ??= load(this.root).catch((error: unknown) => {
      this.loading = undefined;
      throw error;
    });
    return this.loading;
  }

  /** `GET /ui`, `/ui/` (the page) and `/ui/assets/<hash>/<file>`; 404 for anything else under /ui. */
  readonly handler: LocalHandler = (_gateway, context) => {
    const path = context.path;
    this.files().then((loaded) => {
      if (path === UI_PATH || path === `${UI_PATH}/` || path === `${UI_PATH}/index.html`) {
        send(context, loaded.index, 'no-cache');
        return;
      }
      const prefix = `${ASSETS_PREFIX}${loaded.hash}/`;
      const found = path.startsWith(prefix) ? loaded.files.get(path.slice(prefix.length)) : undefined;
      if (found === undefined) sendUiText(context, 404, `Not found: ${path.slice(0, 200)}\n`);
      else send(context, found, 'public, max-age=31536000, immutable');
    }, (error: unknown) => sendUiText(context, 500, `The dashboard's files could not be read: ${(error as Error).message}\n`));
  };
}

/** The routes of the page and its files (the session routes are apart: admin/ui-session.ts). */
export function uiAssetRoutes(assets: UiAssets): LocalRoute[] {
  const entry = { method: 'GET' as const, local: assets.handler, public: true };
  return [
    { path: UI_PATH, entry },
    { path: `${UI_PATH}/`, entry, match: (rest) => ({ file: rest }) },
  ];
}
