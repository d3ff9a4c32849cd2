// The dashboard's login (/ui/session): POST `{ "key": "<admin key>" }` exchanges an admin key for
// a session cookie (pipeline/ui-sessions.ts), GET says whether the cookie names a live session and
// gives the page its CSRF token, DELETE logs out. Without admin keys there is nothing to log in
// with: a caller the management API's loopback rule lets in gets a `loopback` session at once
// (its CSRF token is what lets the playground send prompts without a client key).
import { ErrorCode, GatewayError } from '../canonical/errors.ts';
import type { LocalHandler, LocalRoute } from '../pipeline/gateway.ts';
import type { RequestContext } from '../pipeline/context.ts';
import type { Runtime } from '../pipeline/runtime.ts';
import { sessionCookie, sessionIdOf, type UiSession } from '../pipeline/ui-sessions.ts';
import { answer, fail, withBody } from './management.ts';
import { UI_CSP } from './ui-assets.ts';

export const SESSION_PATH = '/ui/session';

function secure(context: RequestContext): boolean {
  return (context.request.socket as { encrypted?: boolean }).encrypted === true;
}

function sessionAnswer(context: RequestContext, runtime: Runtime, session: UiSession | undefined, setCookie?: string): void {
  const response = context.response;
  response.setHeader('content-security-policy', UI_CSP);
  if (setCookie !== undefined) response.setHeader('set-cookie', setCookie);
  answer(context, 200, session === undefined
    ? { authenticated: false, login_required: runtime.admin.keyed }
    : { authenticated: true, login_required: runtime.admin.keyed, admin: session.adminId, csrf: session.csrf, created_at: new Date(session.createdAt).toISOString() });
}

function sessionsOf(runtime: Runtime) {
  const sessions = runtime.admin.sessions;
  if (sessions === undefined) throw new GatewayError(ErrorCode.forbidden, 'The dashboard\'s sessions are not available in this gateway.', { status: 403, origin: 'downstream', errorClass: 'client-error' });
  return sessions;
}

/** Without admin keys: the loopback caller's session (the one its cookie names, or a new one). */
function loopbackSession(context: RequestContext, runtime: Runtime): void {
  runtime.admin.loopback(context.request.socket.remoteAddress ?? '');
  const existing = runtime.admin.session(context.request);
  if (existing !== undefined) {
    sessionAnswer(context, runtime, existing);
    return;
  }
  const session = sessionsOf(runtime).create('loopback');
  sessionAnswer(context, runtime, session, sessionCookie(session, secure(context)));
}

const getSession: LocalHandler = (_gateway, context, runtime) => {
  try {
    if (!runtime.admin.keyed) {
      loopbackSession(context, runtime);
      return;
    }
    sessionAnswer(context, runtime, runtime.admin.session(context.request));
  } catch (error) {
    fail(context, error);
  }
};

const login: LocalHandler = (_gateway, context, runtime) => {
  withBody(context, (body) => {
    if (!runtime.admin.keyed) {
      loopbackSession(context, runtime);
      return;
    }
    const key = (body as { key?: unknown } | null)?.key;
    if (typeof key !== 'string' || key === '') {
      throw new GatewayError(ErrorCode.invalidRequest, 'Send the admin key as { "key": "…" } (one of auth.admin_keys).', { status: 400, origin: 'downstream', errorClass: 'client-error', param: 'key' });
    }
    const adminId = runtime.admin.login(context.request, key);
    const previous = sessionIdOf(context.request.headers.cookie);
    const sessions = sessionsOf(runtime);
    if (previous !== undefined) sessions.delete(previous);
    const session = sessions.create(adminId);
    sessionAnswer(context, runtime, session, sessionCookie(session, secure(context)));
  });
};

const logout: LocalHandler = (_gateway, context, runtime) => {
  const id = sessionIdOf(context.request.headers.cookie);
  if (id !== undefined) runtime.admin.sessions?.delete(id);
  sessionAnswer(context, runtime, undefined, sessionCookie(undefined, secure(context)));
};

export function uiSessionRoutes(): LocalRoute[] {
  return [
    { path: SESSION_PATH, entry: { method: 'GET', local: getSession, public: true } },
    { path: SESSION_PATH, entry: { method: 'POST', local: login, public: true } },
    { path: SESSION_PATH, entry: { method: 'DELETE', local: logout, public: true } },
  ];
}
