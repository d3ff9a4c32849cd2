// How a proxied request's body is read, by the kind its surface declares (`SurfaceAdapter.body`,
// looked up in BODY_READERS: data of the route, not a branch per endpoint). JSON is read whole
// within server.body_limit, skimmed for what routing reads and parsed whole only when something
// needs all of it (a translated attempt); a multipart form is read as it streams in — text
// fields in memory, files spooled to disk (server/multipart.ts) — and never held whole. Either
// way the surface gets something to inspect, and each attempt gets its own body to send, the
// model renamed when routing says so: the client's bytes spliced, or a fresh stream of the form.
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import type { BodyKind, RequestSummary, SurfaceAdapter, SurfaceRequest } from '../canonical/adapters.ts';
import { ErrorCode, GatewayError, invalidRequest } from '../canonical/errors.ts';
import { readBody } from '../server/body.ts';
import { BrowserGuard } from '../server/browser-guard.ts';
import { readMultipart } from '../server/multipart.ts';
import type { SpooledForm } from '../server/spooled-form.ts';
import { describeJsonErrorPosition } from '../util/json-error.ts';
import { SkimmedJson } from '../util/json-skim.ts';
import type { RequestContext } from './context.ts';

/** One attempt's request body, with what its headers must say. */
export interface UpstreamBody {
  readonly body: Buffer | Readable;
  readonly length: number;
  readonly contentType: string;
}

/** A request body, read. */
export interface RequestPayload {
  /** The body as JSON bytes (kept for the splice and the size), or undefined for a form. */
  readonly bytes: Buffer | undefined;
  /** What body capture keeps of the request. */
  captured(): Buffer;
  /**
   * What the surface reads of the body (SurfaceAdapter.inspect): for a surface that names its
   * top-level members, only those, from one skim over the bytes; else the body parsed whole — or
   * a form's fields (text as strings, files as `{ filename, contentType, size }`). Throws the 400
   * for a body that cannot be read so.
   */
  inspect(surface: SurfaceAdapter, request: SurfaceRequest): RequestSummary;
  /** A top-level member's value (a form's field), decoded on its own; undefined when absent. Throws the 400 for one that is not valid JSON. */
  member(key: string): unknown;
  /** How many times a top-level member is written. */
  count(key: string): number;
  /**
   * The body parsed whole, once, when something needs it (a translated attempt, the response
   * cache), with the surface's checks on it (`inspectWhole`). Throws the 400 for a body JSON.parse
   * refuses or those checks refuse.
   */
  whole(): unknown;
  /** The body of one attempt: as received, or with the top-level model renamed to `model`. */
  forAttempt(model: string | undefined): UpstreamBody;
}

export type BodyCallback = (error: GatewayError | undefined, payload: RequestPayload | undefined) => void;

/** Reads one kind of body. */
export interface BodyReader {
  /** The refusal of a request whose body this route does not take, before a byte is read. */
  accepts(request: IncomingMessage): GatewayError | undefined;
  read(context: RequestContext, limit: number, callback: BodyCallback): void;
}

const UNPARSED: unique symbol = Symbol('unparsed');

/**
 * A JSON body, read whole within server.body_limit. A pass-through request is forwarded as these
 * bytes: it is skimmed (util/json-skim.ts: the structure checked, the top-level members located)
 * for the few members routing reads, and parsed whole only when something needs all of it.
 */
class JsonPayload implements RequestPayload {
  readonly bytes: Buffer;
  private readonly skimmed: SkimmedJson;
  private surface: SurfaceAdapter | undefined = undefined;
  private parsed: unknown = UNPARSED;
  /** The surface's checks on the whole body have passed (whole()). */
  private checked = false;

  constructor(bytes: Buffer) {
    this.bytes = bytes;
    this.skimmed = new SkimmedJson(bytes);
  }

  captured(): Buffer {
    return this.bytes;
  }

  inspect(surface: SurfaceAdapter, request: SurfaceRequest): RequestSummary {
    this.surface = surface;
    const skimmed = this.skimmed;
    const shape = surface.topLevel;
    if (!skimmed.valid) throw this.malformed();
    if (shape !== undefined && skimmed.kind === 'object') {
      try {
        return surface.inspect(skimmed.skim(shape), request);
      } catch (error) {
        throw error instanceof SyntaxError ? this.malformed() : error;
      }
    }
    // not an object (the surface refuses it, naming what it is), or a surface that reads deeper
    return surface.inspect(this.parse(), request);
  }

  member(key: string): unknown {
    if (this.parsed !== UNPARSED) return (this.parsed as Record<string, unknown>)[key];
    try {
      return this.skimmed.value(key);
    } catch {
      throw this.malformed();
    }
  }

  count(key: string): number {
    return this.skimmed.count(key);
  }

  whole(): unknown {
    if (this.checked) return this.parsed;
    const parsed = this.parse();
    // what inspect left out when it read only the top level
    if (this.surface?.topLevel !== undefined) this.surface.inspectWhole?.(parsed);
    this.checked = true;
    return parsed;
  }

  private parse(): unknown {
    if (this.parsed !== UNPARSED) return this.parsed;
    try {
      this.parsed = JSON.parse(this.bytes.toString('utf8'));
    } catch {
      throw this.malformed();
    }
    return this.parsed;
  }

  forAttempt(model: string | undefined): UpstreamBody {
    const body = model === undefined ? this.bytes : this.renamed(model);
    return { body, length: body.length, contentType: 'application/json' };
  }

  /** The bytes with the top-level model replaced: spliced where the skim found it (the bytes around it copied as they are). */
  private renamed(model: string): Buffer {
    const span = this.skimmed.span('model');
    if (span === undefined) return Buffer.from(JSON.stringify({ ...(this.whole() as Record<string, unknown>), model }), 'utf8');
    const body = this.bytes;
    return Buffer.concat([body.subarray(0, span[0]), Buffer.from(JSON.stringify(model), 'utf8'), body.subarray(span[1])]);
  }

  /** The 400 for a body that is not JSON, with JSON.parse's own account of where (an error path: the text is decoded for it). */
  private malformed(): GatewayError {
    const body = this.bytes;
    const text = body.toString('utf8');
    let reason = 'the body is empty';
    if (body.length > 0) {
      try {
        JSON.parse(text);
        reason = `invalid JSON at byte ${this.skimmed.errorAt}`;
      } catch (error) {
        reason = (error as Error).message;
        if (!/position \d+/.test(reason)) {
          const where = describeJsonErrorPosition(text);
          if (where !== undefined) reason += ` (at ${where})`;
        }
      }
    }
    return new GatewayError(ErrorCode.malformedJson, `Could not parse the request body as JSON: ${reason}.`, { status: 400, origin: 'downstream', errorClass: 'client-error' });
  }
}

/** A JSON body already read (tests and benchmarks build requests so). */
export function jsonPayload(bytes: Buffer): RequestPayload {
  return new JsonPayload(bytes);
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
  private fields: Record<string, unknown> | undefined = undefined;

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

  inspect(surface: SurfaceAdapter, request: SurfaceRequest): RequestSummary {
    return surface.inspect(this.whole(), request);
  }

  member(key: string): unknown {
    return (this.whole() as Record<string, unknown>)[key];
  }

  count(key: string): number {
    // as with JSON: the upstream might read the other copy than the gateway routed by — refused in whole()
    return Object.hasOwn(this.whole() as Record<string, unknown>, key) ? 1 : 0;
  }

  whole(): unknown {
    if (this.fields !== undefined) return this.fields;
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
    this.fields = fields;
    return fields;
  }

  forAttempt(model: string | undefined): UpstreamBody {
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
