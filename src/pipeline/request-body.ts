// How a proxied request's body is read, by the kind its surface declares (`SurfaceAdapter.body`,
// looked up in BODY_READERS: data of the route, not a branch per endpoint). JSON is read whole
// within server.body_limit and parsed once; a multipart form is read as it streams in — text
// fields in memory, files spooled to disk (server/multipart.ts) — and never held whole. Either
// way the surface gets something to inspect, and each attempt gets its own body to send, the
// model renamed when routing says so: the client's bytes spliced, or a fresh stream of the form.
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import type { BodyKind } from '../canonical/adapters.ts';
import { ErrorCode, GatewayError, invalidRequest } from '../canonical/errors.ts';
import { readBody } from '../server/body.ts';
import { BrowserGuard } from '../server/browser-guard.ts';
import { readMultipart } from '../server/multipart.ts';
import type { SpooledForm } from '../server/spooled-form.ts';
import { describeJsonErrorPosition } from '../util/json-error.ts';
import { replaceTopLevelString } from '../util/json-splice.ts';
import type { RequestContext } from './context.ts';

/** One attempt's request body, with what its headers must say. */
export interface UpstreamBody {
  readonly body: Buffer | Readable;
  readonly length: number;
  readonly contentType: string;
}

/** A request body, read. */
export interface RequestPayload {
  /** The body as JSON bytes (kept for decode's checks and the splice), or undefined for a form. */
  readonly bytes: Buffer | undefined;
  /** What body capture keeps of the request. */
  captured(): Buffer;
  /**
   * What the surface inspects: the parsed JSON, or a form's fields (text as strings, files as
   * `{ filename, contentType, size }`). Throws the 400 for a body that cannot be read so.
   */
  parse(): { text: string; parsed: unknown };
  /** The body of one attempt: as received, or with the top-level model renamed to `model`. */
  forAttempt(context: RequestContext, model: string | undefined): UpstreamBody;
}

export type BodyCallback = (error: GatewayError | undefined, payload: RequestPayload | undefined) => void;

/** Reads one kind of body. */
export interface BodyReader {
  /** The refusal of a request whose body this route does not take, before a byte is read. */
  accepts(request: IncomingMessage): GatewayError | undefined;
  read(context: RequestContext, limit: number, callback: BodyCallback): void;
}

class JsonPayload implements RequestPayload {
  readonly bytes: Buffer;

  constructor(bytes: Buffer) {
    this.bytes = bytes;
  }

  captured(): Buffer {
    return this.bytes;
  }

  parse(): { text: string; parsed: unknown } {
    const body = this.bytes;
    const text = body.toString('utf8');
    try {
      return { text, parsed: JSON.parse(text) };
    } catch (error) {
      let reason = body.length === 0 ? 'the body is empty' : (error as Error).message;
      if (body.length > 0 && !/position \d+/.test(reason)) {
        const where = describeJsonErrorPosition(text);
        if (where !== undefined) reason += ` (at ${where})`;
      }
      throw new GatewayError(ErrorCode.malformedJson, `Could not parse the request body as JSON: ${reason}.`, { status: 400, origin: 'downstream', errorClass: 'client-error' });
    }
  }

  forAttempt(context: RequestContext, model: string | undefined): UpstreamBody {
    // a rename is spliced into the bytes where decode found the member (json-splice.ts)
    const body = model === undefined ? this.bytes : replaceTopLevelString(this.bytes, context.modelMember, context.parsed as Record<string, unknown>, 'model', model);
    return { body, length: body.length, contentType: 'application/json' };
  }
}

const JSON_BODY: BodyReader = {
  accepts: (request) => BrowserGuard.requireJson(request),
  read(context, limit, callback) {
    readBody(context.request, limit, (error, body) => callback(error, error === undefined ? new JsonPayload(body!) : undefined));
  },
};

class FormPayload implements RequestPayload {
  readonly bytes = undefined;
  private readonly form: SpooledForm;

  constructor(form: SpooledForm) {
    this.form = form;
  }

  /** The text fields and a line per file: what was asked, never the uploaded bytes. */
  captured(): Buffer {
    const lines: string[] = [];
    for (const part of this.form.parts) {
      if (part.kind === 'field') lines.push(`${part.field.name}=${part.field.value}`);
      else lines.push(`${part.file.name}: ${part.file.filename} (${part.file.contentType}, ${part.file.size} bytes)`);
    }
    return Buffer.from(lines.join('\n'));
  }

  parse(): { text: string; parsed: unknown } {
    const fields: Record<string, unknown> = {};
    for (const field of this.form.fields) {
      if (Object.hasOwn(fields, field.name)) {
        // as with JSON: the upstream might read the other copy than the gateway routed by
        if (field.name === 'model') throw invalidRequest("Invalid form: the field 'model' appears more than once. Send it once.", 'model');
        continue;
      }
      fields[field.name] = field.value;
    }
    for (const file of this.form.files) {
      if (!Object.hasOwn(fields, file.name)) fields[file.name] = { filename: file.filename, contentType: file.contentType, size: file.size };
    }
    return { text: '', parsed: fields };
  }

  forAttempt(_context: RequestContext, model: string | undefined): UpstreamBody {
    const stream = this.form.body(model === undefined ? undefined : { model });
    return { body: stream, length: stream.byteLength, contentType: stream.contentType };
  }
}

const FORM_BODY: BodyReader = {
  accepts: (request) => BrowserGuard.requireUpload(request),
  read(context, limit, callback) {
    // the form's files are removed when the response closes, whatever closes it
    readMultipart(context.request, { limit, response: context.response }).then(
      (form) => callback(undefined, new FormPayload(form)),
      (error: unknown) => callback(error instanceof GatewayError ? error : asInternal(error), undefined),
    );
  },
};

function asInternal(error: unknown): GatewayError {
  return new GatewayError(ErrorCode.internal, 'Internal gateway error while reading the form.', { status: 500, origin: 'gateway', cause: error });
}

export const BODY_READERS: Readonly<Record<BodyKind, BodyReader>> = Object.freeze({ json: JSON_BODY, multipart: FORM_BODY });
