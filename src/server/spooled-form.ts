// A multipart/form-data request read to its end: the text fields in memory, the files on disk
// (see upload-spool.ts). `body()` encodes the form again as a fresh stream, as often as there are
// attempts, with some text fields replaced (the routed model), and knows its exact length first,
// so each attempt is sent with a Content-Length.
import { randomBytes } from 'node:crypto';
import { close, open, read } from 'node:fs';
import { Readable } from 'node:stream';
import { ErrorCode, GatewayError } from '../canonical/errors.ts';
import type { UploadSpool } from './upload-spool.ts';

export interface FormField {
  readonly name: string;
  readonly value: string;
  /** The part's Content-Type; `text/plain` when it had none. */
  readonly contentType: string;
}

export interface FormFile {
  /** The form field's name, e.g. `file` or `image[]`. */
  readonly name: string;
  /** As the client sent it, without any directory part. */
  readonly filename: string;
  readonly contentType: string;
  /** Bytes. */
  readonly size: number;
}

/** A file part as it waits on disk. */
export interface SpooledFile extends FormFile {
  readonly path: string;
}

export type FormPart = { readonly kind: 'field'; readonly field: FormField } | { readonly kind: 'file'; readonly file: SpooledFile };

/**
 * Text fields to replace (every field of that name), add (at the end, when the form has none) or
 * drop (`null`).
 */
export type FieldOverrides = Readonly<Record<string, string | null>>;

const CRLF = Buffer.from('\r\n');
/** What one read from a spooled file hands on: undici writes it to the socket as it comes. */
const READ_CHUNK = 64 * 1024;

export class SpooledForm {
  /** Every part, in the order the client sent them. */
  readonly parts: readonly FormPart[];
  /** The text fields, in order. */
  readonly fields: readonly FormField[];
  /** The files, in order, without their place on disk. */
  readonly files: readonly FormFile[];
  /** The request body's size as received (multipart framing included). */
  readonly receivedBytes: number;
  /** Chosen once: every body() of this form is the same bytes for the same overrides. */
  readonly boundary: string;
  private readonly spool: UploadSpool;
  private readonly streams = new Set<FormBodyStream>();
  private disposed = false;

  constructor(parts: readonly FormPart[], receivedBytes: number, spool: UploadSpool) {
    this.parts = parts;
    this.receivedBytes = receivedBytes;
    this.spool = spool;
    const fields: FormField[] = [];
    const files: FormFile[] = [];
    for (const part of parts) {
      if (part.kind === 'field') fields.push(part.field);
      else files.push({ name: part.file.name, filename: part.file.filename, contentType: part.file.contentType, size: part.file.size });
    }
    this.fields = fields;
    this.files = files;
    this.boundary = `----switchyard-${randomBytes(16).toString('hex')}`;
  }

  /** The first text field named `name`. */
  field(name: string): string | undefined {
    for (const field of this.fields) if (field.name === name) return field.value;
    return undefined;
  }

  get contentType(): string {
    return `multipart/form-data; boundary=${this.boundary}`;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  /**
   * The form encoded again, as a stream read from the spooled files, with `overrides` applied.
   * Each call gives a new stream (one per attempt); `byteLength` and `contentType` go in its
   * request's headers. A file that cannot be read back fails the stream with a GatewayError of
   * the gateway's own (500), never blamed on the provider it was being sent to.
   */
  body(overrides?: FieldOverrides): FormBodyStream {
    // disposed = the response closed: the client is gone
    if (this.disposed) throw new GatewayError(ErrorCode.canceled, 'The request ended; its uploaded form was already released.', { status: 499, origin: 'downstream', errorClass: 'canceled' });
    const segments: (Buffer | SpooledFile)[] = [];
    const dashes = `--${this.boundary}\r\n`;
    let length = 0;
    const add = (segment: Buffer | SpooledFile): void => {
      segments.push(segment);
      length += Buffer.isBuffer(segment) ? segment.length : segment.size;
    };
    const written = new Set<string>();
    for (const part of this.parts) {
      if (part.kind === 'file') {
        const file = part.file;
        add(Buffer.from(`${dashes}Content-Disposition: form-data; name="${escapeQuoted(file.name)}"; filename="${escapeQuoted(file.filename)}"\r\nContent-Type: ${file.contentType}\r\n\r\n`));
        add(file);
        add(CRLF);
        continue;
      }
      const field = part.field;
      let value: string | null = field.value;
      if (overrides !== undefined && Object.hasOwn(overrides, field.name)) {
        value = overrides[field.name]!;
        written.add(field.name);
      }
      if (value !== null) add(fieldPart(dashes, field.name, value, field.contentType));
    }
    if (overrides !== undefined) {
      for (const name of Object.keys(overrides)) {
        const value = overrides[name];
        if (!written.has(name) && value !== null && value !== undefined) add(fieldPart(dashes, name, value, 'text/plain'));
      }
    }
    add(Buffer.from(`--${this.boundary}--\r\n`));
    const stream = new FormBodyStream(segments, length, this.contentType, this.streams);
    this.streams.add(stream);
    return stream;
  }

  /** Stops every body stream still being read and removes the spooled files. Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const stream of this.streams) stream.destroy();
    this.streams.clear();
    for (const part of this.parts) if (part.kind === 'file') this.spool.remove(part.file.path);
  }
}

function fieldPart(dashes: string, name: string, value: string, contentType: string): Buffer {
  const type = contentType === 'text/plain' ? '' : `Content-Type: ${contentType}\r\n`;
  return Buffer.from(`${dashes}Content-Disposition: form-data; name="${escapeQuoted(name)}"\r\n${type}\r\n${value}\r\n`);
}

/** A name or filename in a quoted header parameter, escaped as browsers and undici's FormData do. */
function escapeQuoted(text: string): string {
  return text.replace(/\r/g, '%0D').replace(/\n/g, '%0A').replace(/"/g, '%22');
}

/**
 * The re-encoded form: buffers pushed as they are, files read in chunks straight from disk, one
 * read at a time (as fast as the consumer reads, never more than a chunk ahead).
 */
export class FormBodyStream extends Readable {
  /** Exact size in bytes (the request's Content-Length). */
  readonly byteLength: number;
  /** `multipart/form-data; boundary=…` */
  readonly contentType: string;
  private readonly segments: readonly (Buffer | SpooledFile)[];
  private readonly owner: Set<FormBodyStream>;
  private index = 0;
  private fd = -1;
  private position = 0;
  private reading = false;

  constructor(segments: readonly (Buffer | SpooledFile)[], byteLength: number, contentType: string, owner: Set<FormBodyStream>) {
    super();
    this.segments = segments;
    this.byteLength = byteLength;
    this.contentType = contentType;
    this.owner = owner;
  }

  override _read(): void {
    if (this.reading) return;
    const segments = this.segments;
    while (this.index < segments.length) {
      const segment = segments[this.index]!;
      if (!Buffer.isBuffer(segment)) {
        if (segment.size === 0) {
          this.index++;
          continue;
        }
        this.reading = true;
        if (this.fd === -1) open(segment.path, 'r', this.onOpen);
        else this.readFile(segment);
        return;
      }
      this.index++;
      if (!this.push(segment)) return;
    }
    this.push(null);
  }

  private readonly onOpen = (error: NodeJS.ErrnoException | null, fd: number): void => {
    if (error !== null) {
      this.reading = false;
      this.destroy(spoolReadError(error));
      return;
    }
    if (this.destroyed) {
      this.reading = false;
      close(fd, ignore);
      return;
    }
    this.fd = fd;
    this.position = 0;
    this.readFile(this.segments[this.index] as SpooledFile);
  };

  private readFile(file: SpooledFile): void {
    const size = Math.min(READ_CHUNK, file.size - this.position);
    read(this.fd, Buffer.allocUnsafe(size), 0, size, this.position, this.onRead);
  }

  private readonly onRead = (error: NodeJS.ErrnoException | null, bytesRead: number, buffer: Buffer): void => {
    this.reading = false;
    if (this.destroyed) {
      this.closeFile();
      return;
    }
    if (error !== null) {
      this.destroy(spoolReadError(error));
      return;
    }
    const file = this.segments[this.index] as SpooledFile;
    if (bytesRead === 0) {
      this.destroy(spoolReadError(new Error(`the spooled file ended after ${this.position} of ${file.size} bytes`)));
      return;
    }
    this.position += bytesRead;
    if (this.position === file.size) {
      this.closeFile();
      this.index++;
    }
    // push() asks for more (another _read) while the consumer has room
    this.push(bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead));
  };

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.owner.delete(this);
    // a read in flight still uses the descriptor: onRead closes it when the read returns
    if (!this.reading) this.closeFile();
    callback(error);
  }

  private closeFile(): void {
    if (this.fd === -1) return;
    close(this.fd, ignore);
    this.fd = -1;
  }
}

function ignore(): void {}

/** The spooled body could not be read back: the gateway's own failure, not the provider's. */
function spoolReadError(cause: Error): GatewayError {
  const code = (cause as NodeJS.ErrnoException).code;
  return new GatewayError(ErrorCode.internal, `Could not read the uploaded file back from the gateway's temporary directory (${code ?? cause.message}).`, {
    status: 500, origin: 'gateway', errorClass: 'none', cause,
  });
}
