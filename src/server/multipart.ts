// Reads a multipart/form-data request body as it arrives (the parser is @fastify/busboy): text
// fields are kept in memory, in order and bounded; files are written to the upload spool as they
// come, the request paused while the disk catches up, so what an upload costs in memory does not
// grow with its size. The whole body counts against server.body_limit. Whatever ends the request
// (an answer, a failure, the client leaving mid-upload) removes its spooled files.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createWriteStream, type WriteStream } from 'node:fs';
import type { BusboyFileStream, BusboyInstance } from '@fastify/busboy';
import { createRequire } from 'node:module';
import { ErrorCode, GatewayError, invalidRequest } from '../canonical/errors.ts';
import { bodyCanceled, tooLarge } from './body.ts';
import { SpooledForm, type FormPart, type SpooledFile } from './spooled-form.ts';
import { uploadSpool, type UploadSpool } from './upload-spool.ts';

/**
 * @fastify/busboy, required on the first form rather than imported at start-up: most gateways never
 * receive one, and it is about 1 MB of resident memory and a dozen modules. Synchronous, so the
 * first form is read exactly as every later one.
 */
let busboy: typeof import('@fastify/busboy').Busboy | undefined;
function loadBusboy(): typeof import('@fastify/busboy').Busboy {
  busboy ??= (createRequire(import.meta.url)('@fastify/busboy') as typeof import('@fastify/busboy')).Busboy;
  return busboy;
}

export interface MultipartLimits {
  /** Text fields, at most. */
  readonly fields: number;
  /** Bytes of one text field, at most. */
  readonly fieldBytes: number;
  /** Bytes of all text fields together, at most (they are held in memory). */
  readonly textBytes: number;
  /** File parts, at most. */
  readonly files: number;
  /**
   * Bytes of a part's name, file name or content type, at most. The parser bounds a part's headers
   * only at 80 KiB, and names are held in memory beside the text fields, outside `textBytes`.
   */
  readonly nameBytes: number;
}

/**
 * Enough for every multipart call of the OpenAI API (an image edit's 16 images and a 32,000
 * character prompt, a transcription's speaker references as data URLs), small enough that the
 * text a form holds in memory stays a few megabytes.
 */
export const DEFAULT_MULTIPART_LIMITS: MultipartLimits = Object.freeze({ fields: 256, fieldBytes: 1024 * 1024, textBytes: 4 * 1024 * 1024, files: 32, nameBytes: 1024 });

export interface ReadMultipartOptions {
  /** The whole body's limit in bytes (`server.body_limit`). */
  limit: number;
  /** The request's response: when it closes, for whatever reason, the spooled files are removed. */
  response: ServerResponse;
  /** Where files wait; the process's own spool by default. */
  spool?: UploadSpool;
  limits?: Partial<MultipartLimits>;
}

const MULTIPART = /^multipart\/form-data\s*(;|$)/i;

/** A 415 for a request that is not multipart/form-data (what an endpoint taking forms checks first). */
export function requireMultipart(request: IncomingMessage): GatewayError | undefined {
  const type = request.headers['content-type'];
  if (type !== undefined && MULTIPART.test(type)) return undefined;
  const said = type === undefined ? 'no Content-Type' : `Content-Type '${type.slice(0, 100)}'`;
  return new GatewayError(ErrorCode.unsupportedMediaType,
    `This endpoint takes a multipart/form-data body, but the request has ${said}. Send the form as multipart/form-data (with curl: -F 'file=@audio.mp3' -F model=...).`,
    { status: 415, origin: 'downstream', errorClass: 'client-error' });
}

/**
 * Reads the form in `request` to its end. Rejects with a GatewayError: 415 (not a form), 413 (over
 * `limit`; the rest of the body is left unread), 400 (malformed, or over a field limit), 499 (the
 * client left) or 500 (the spool could not be written). After a rejection the request may still
 * have unread body: answer and discard it as the gateway does other refusals (refuseBody).
 */
export function readMultipart(request: IncomingMessage, options: ReadMultipartOptions): Promise<SpooledForm> {
  return new Promise((resolve, reject) => {
    const notForm = requireMultipart(request);
    if (notForm !== undefined) {
      reject(notForm);
      return;
    }
    const declared = request.headers['content-length'];
    if (declared !== undefined && Number(declared) > options.limit) {
      reject(tooLarge(options.limit));
      return;
    }
    if (options.response.destroyed) {
      reject(bodyCanceled());
      return;
    }
    new MultipartReader(request, options, resolve, reject);
  });
}

class MultipartReader {
  private readonly request: IncomingMessage;
  private readonly response: ServerResponse;
  private readonly spool: UploadSpool;
  private readonly limit: number;
  private readonly limits: MultipartLimits;
  private readonly resolve: (form: SpooledForm) => void;
  private readonly reject: (error: GatewayError) => void;
  private readonly parser: BusboyInstance | undefined;
  private readonly parts: FormPart[] = [];
  private readonly spoolers: FileSpooler[] = [];
  private received = 0;
  private textBytes = 0;
  private writing = 0;
  private requestEnded = false;
  private parserFinished = false;
  private settled = false;
  private form: SpooledForm | undefined = undefined;

  constructor(request: IncomingMessage, options: ReadMultipartOptions, resolve: (form: SpooledForm) => void, reject: (error: GatewayError) => void) {
    this.request = request;
    this.response = options.response;
    this.spool = options.spool ?? uploadSpool();
    this.limit = options.limit;
    this.limits = options.limits === undefined ? DEFAULT_MULTIPART_LIMITS : { ...DEFAULT_MULTIPART_LIMITS, ...options.limits };
    this.resolve = resolve;
    this.reject = reject;
    this.response.once('close', this.onResponseClose);
    let parser: BusboyInstance;
    try {
      parser = loadBusboy()({
        headers: request.headers as { 'content-type': string },
        // no `parts` limit: past it busboy skips parts without a word; the two counts bound them
        limits: { fields: this.limits.fields, fieldSize: this.limits.fieldBytes, files: this.limits.files },
      });
    } catch (error) {
      this.parser = undefined;
      this.fail(malformed((error as Error).message));
      return;
    }
    this.parser = parser;
    parser.on('field', this.onField);
    parser.on('file', this.onFile);
    parser.on('finish', this.onParserFinish);
    parser.on('error', this.onParserError);
    parser.on('drain', this.onDrain);
    parser.on('fieldsLimit', this.onFieldsLimit);
    parser.on('filesLimit', this.onFilesLimit);
    request.on('data', this.onData);
    request.on('end', this.onEnd);
    request.on('error', this.onAbort);
    request.on('close', this.onRequestClose);
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.settled) return;
    this.received += chunk.length;
    if (this.received > this.limit) {
      this.fail(tooLarge(this.limit));
      return;
    }
    // the parser holds its input until the disk has taken the file part it belongs to
    if (!this.parser!.write(chunk)) this.request.pause();
  };

  private readonly onDrain = (): void => {
    if (!this.settled) this.request.resume();
  };

  private readonly onEnd = (): void => {
    if (this.settled) return;
    this.requestEnded = true;
    this.parser!.end();
  };

  private readonly onAbort = (): void => {
    if (!this.settled) this.fail(bodyCanceled());
  };

  private readonly onRequestClose = (): void => {
    if (!this.settled && !this.request.complete) this.fail(bodyCanceled());
  };

  private readonly onResponseClose = (): void => {
    if (this.form !== undefined) this.form.dispose();
    else if (!this.settled) this.fail(bodyCanceled());
  };

  private readonly onField = (name: string | undefined, value: string, _nameTruncated: boolean, valueTruncated: boolean, _encoding: string, contentType: string): void => {
    if (this.settled) return;
    if (name === undefined) {
      this.fail(malformed('a text part has no name in its Content-Disposition'));
      return;
    }
    if (this.overlong(name, undefined, contentType)) return;
    if (valueTruncated) {
      this.fail(invalidRequest(`The form field '${name}' is longer than ${this.limits.fieldBytes} bytes.`, name));
      return;
    }
    this.textBytes += Buffer.byteLength(value);
    if (this.textBytes > this.limits.textBytes) {
      this.fail(invalidRequest(`The form's text fields together are longer than ${this.limits.textBytes} bytes.`, name));
      return;
    }
    this.parts.push({ kind: 'field', field: { name, value, contentType } });
  };

  private readonly onFile = (name: string | undefined, stream: BusboyFileStream, filename: string | undefined, _encoding: string, contentType: string): void => {
    if (this.settled) {
      stream.resume();
      return;
    }
    if (name === undefined) {
      stream.resume();
      this.fail(malformed('a file part has no name in its Content-Disposition'));
      return;
    }
    if (this.overlong(name, filename, contentType)) {
      stream.resume();
      return;
    }
    const spooler = new FileSpooler(this, stream, { name, filename: filename ?? '', contentType, size: 0, path: this.spool.nextPath() });
    this.spoolers.push(spooler);
    this.parts.push({ kind: 'file', file: spooler.file });
    this.writing++;
  };

  /** Fails the form when a part's name, file name or content type is over `nameBytes`. */
  private overlong(name: string, filename: string | undefined, contentType: string): boolean {
    const limit = this.limits.nameBytes;
    const what = Buffer.byteLength(name) > limit ? 'name' : filename !== undefined && Buffer.byteLength(filename) > limit ? 'file name' : Buffer.byteLength(contentType) > limit ? 'content type' : undefined;
    if (what === undefined) return false;
    this.fail(invalidRequest(`A part of the form has a ${what} longer than ${limit} bytes.`));
    return true;
  }

  /** A file part is on disk, whole. */
  fileWritten(): void {
    this.writing--;
    this.check();
  }

  private readonly onParserFinish = (): void => {
    this.parserFinished = true;
    this.check();
  };

  private readonly onParserError = (error: unknown): void => {
    if (!this.settled) this.fail(malformed((error as Error).message));
  };

  private readonly onFieldsLimit = (): void => {
    if (!this.settled) this.fail(invalidRequest(`The form has more than ${this.limits.fields} text fields.`));
  };

  private readonly onFilesLimit = (): void => {
    if (!this.settled) this.fail(invalidRequest(`The form has more than ${this.limits.files} files.`));
  };

  private check(): void {
    if (this.settled || !this.requestEnded || !this.parserFinished || this.writing > 0) return;
    this.settled = true;
    this.detach();
    const form = new SpooledForm(this.parts, this.received, this.spool);
    this.form = form;
    // the client may have left while the last part was being written
    if (this.response.destroyed) form.dispose();
    this.resolve(form);
  }

  /** Stops reading, removes whatever was spooled and rejects. */
  fail(error: GatewayError): void {
    if (this.settled) return;
    this.settled = true;
    this.detach();
    this.response.off('close', this.onResponseClose);
    for (const spooler of this.spoolers) spooler.discard();
    this.reject(error);
  }

  private detach(): void {
    const request = this.request;
    request.off('data', this.onData);
    request.off('end', this.onEnd);
    request.off('error', this.onAbort);
    request.off('close', this.onRequestClose);
    const parser = this.parser;
    if (parser === undefined) return;
    parser.off('field', this.onField);
    parser.off('file', this.onFile);
    parser.off('drain', this.onDrain);
    if (!this.parserFinished) {
      // the parser may still complain about the input it was cut off from
      parser.on('error', ignore);
      parser.destroy();
    }
  }

  spoolRemove(path: string): void {
    this.spool.remove(path);
  }

  spoolWriteFailed(error: Error): void {
    const code = (error as NodeJS.ErrnoException).code;
    this.fail(new GatewayError(ErrorCode.internal, `Could not write the uploaded file to the gateway's temporary directory (${code ?? error.message}); check the free space and permissions of TMPDIR.`, {
      status: 500, origin: 'gateway', errorClass: 'none', cause: error,
    }));
  }
}

/** Internal: a file part on its way to disk. */
class FileSpooler {
  readonly file: MutableSpooledFile;
  private readonly reader: MultipartReader;
  private readonly source: BusboyFileStream;
  private readonly writer: WriteStream;
  private closed = false;
  private discarded = false;

  constructor(reader: MultipartReader, source: BusboyFileStream, file: MutableSpooledFile) {
    this.reader = reader;
    this.source = source;
    this.file = file;
    // wx: never follow or reuse a file someone else made; 0600: this user only
    this.writer = createWriteStream(file.path, { flags: 'wx', mode: 0o600 });
    this.writer.on('error', this.onWriteError);
    this.writer.on('close', this.onClose);
    source.on('error', this.onSourceError);
    // pipe: the source pauses while the disk is behind, and the parser (so the request) with it
    source.pipe(this.writer);
  }

  private readonly onWriteError = (error: Error): void => {
    if (!this.discarded) this.reader.spoolWriteFailed(error);
  };

  /** The parser reports a part cut short as an error of the whole form too. */
  private readonly onSourceError = (): void => {};

  private readonly onClose = (): void => {
    this.closed = true;
    if (this.discarded) {
      this.reader.spoolRemove(this.file.path);
      return;
    }
    if (!this.writer.writableFinished) return; // failed: onWriteError reported it
    this.file.size = this.writer.bytesWritten;
    this.reader.fileWritten();
  };

  /** The form failed: stop writing and remove the file (once the writer has let go of it). */
  discard(): void {
    if (this.discarded) return;
    this.discarded = true;
    this.source.unpipe(this.writer);
    this.source.resume();
    if (this.closed) this.reader.spoolRemove(this.file.path);
    else this.writer.destroy();
  }
}

interface MutableSpooledFile extends SpooledFile {
  size: number;
}

function malformed(reason: string): GatewayError {
  let text = reason.replace(/\.$/, '');
  if (text === 'Multipart: Boundary not found') text = 'the Content-Type has no boundary parameter';
  else if (/unexpected end/i.test(text)) text = `${text.charAt(0).toLowerCase()}${text.slice(1)} (the body ended before the closing boundary)`;
  else text = text.charAt(0).toLowerCase() + text.slice(1);
  return invalidRequest(`Malformed multipart/form-data body: ${text}.`);
}

function ignore(): void {}
