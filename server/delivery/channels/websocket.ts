import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Bundle } from 'fhir/r4';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { operationOutcome, type IssueCode } from '../../fhir/outcome.js';
import type { Channel, SendOutcome } from '../../subscriptions/model.js';
import { MIN_SECRET_BYTES, verifyBindingToken } from './binding-token.js';

/**
 * The Backport IG's `websocket` channel (its "Channels" page): the client gets a binding token from
 * `$get-ws-binding-token`, connects here and sends `bind-with-token <token>`; from then on the notifications of
 * the Subscriptions the token names are sent to it as text frames (the Bundle's JSON). Several binds on one
 * connection are allowed, for several Subscriptions or to renew a token before it expires: a binding lasts until
 * its token's expiry, so that a connection cannot outlive the access it was granted by more than a token's life.
 *
 * The sockets are held by this process only. `send` to a Subscription with no socket bound here answers `retry`
 * (the delivery engine tries again later, perhaps in the process holding the socket; events missed meanwhile are
 * `$events`' business). Messages from the server other than Bundles are OperationOutcomes (a refused token, an
 * unknown message). No Origin check: nothing is reachable without a token, which only a bearer token can obtain.
 */
export const WEBSOCKET_PATH = '/fhir/$subscription-ws';

export interface WebSocketChannelOptions {
  /** The binding tokens' HMAC secret, the same in every process (at least 32 bytes). */
  secret: string | Buffer;
  /** The path `handleUpgrade` answers; WEBSOCKET_PATH when absent. */
  path?: string;
  /** Whether a Subscription a valid token names may be bound now (still active, websocket, its owner still allowed). */
  admit?: (subscriptionId: string) => Promise<boolean>;
  /** Called once a Subscription is bound to a socket, with a way to send to that socket alone (the IG's handshake). */
  onBound?: (subscriptionId: string, reply: (bundle: Bundle) => Promise<boolean>) => Promise<void> | void;
  /** A connection that has bound nothing after this long is closed (default 30). */
  bindTimeoutSeconds?: number;
  /** Pings every this often; a socket that did not answer the previous ping is dropped (default 30). */
  pingIntervalSeconds?: number;
  /** Most sockets this process holds (default 10 000); past it an upgrade is answered 503. */
  maxConnections?: number;
}

export interface WebSocketChannel extends Channel {
  readonly path: string;
  /** Takes an HTTP `upgrade` for `path` (true) or leaves it to the caller (false). */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /** Unbinds a Subscription from every socket here (its subscriber lost access, it ended); sockets left with nothing bound are closed. Returns how many sockets it was bound to. */
  close(subscriptionId: string, reason: string): number;
  /** How many sockets here a Subscription is bound to. */
  bound(subscriptionId: string): number;
  /** The Subscriptions bound to a socket here now. */
  subscriptions(): string[];
  /** Closes every socket (1001, going away) and stops the timers. */
  shutdown(): Promise<void>;
}

/** Client messages are a command and a token: anything larger is not one. */
const MAX_MESSAGE_BYTES = 16 * 1024;
/** A client that stops reading is dropped rather than its notifications piling up in this process. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

export function createWebSocketChannel(options: WebSocketChannelOptions): WebSocketChannel {
  const secretBytes = typeof options.secret === 'string' ? Buffer.from(options.secret, 'utf8') : options.secret;
  if (secretBytes.length < MIN_SECRET_BYTES) {
    throw new Error(`the websocket binding secret must be at least ${MIN_SECRET_BYTES} bytes`);
  }
  const path = options.path ?? WEBSOCKET_PATH;
  const maxConnections = options.maxConnections ?? 10_000;
  const server = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  /** Subscription id → its sockets → when each binding's token expires (ms). */
  const bindings = new Map<string, Map<WebSocket, number>>();
  /** Socket → the Subscriptions bound to it. */
  const bySocket = new Map<WebSocket, Set<string>>();
  const answeredPing = new Set<WebSocket>();

  const pinger = setInterval(sweep, (options.pingIntervalSeconds ?? 30) * 1000);
  pinger.unref();

  function sweep(): void {
    for (const ws of bySocket.keys()) {
      if (!answeredPing.delete(ws)) {
        ws.terminate();
        continue;
      }
      ws.ping();
    }
    const now = Date.now();
    for (const [id, sockets] of bindings) {
      for (const [ws, expiresAt] of sockets) if (expiresAt <= now) unbind(ws, id, 'the binding token expired');
    }
  }

  function onConnection(ws: WebSocket): void {
    bySocket.set(ws, new Set());
    answeredPing.add(ws);
    ws.on('pong', () => answeredPing.add(ws));
    const bindTimer = setTimeout(() => {
      if (bySocket.get(ws)?.size === 0) refuse(ws, 'security', 'no bind-with-token in time');
    }, (options.bindTimeoutSeconds ?? 30) * 1000);
    bindTimer.unref();
    ws.on('message', (data, isBinary) => {
      void onMessage(ws, data, isBinary);
    });
    ws.on('error', () => undefined);
    ws.on('close', () => {
      clearTimeout(bindTimer);
      answeredPing.delete(ws);
      for (const id of bySocket.get(ws) ?? []) forget(ws, id);
      bySocket.delete(ws);
    });
  }

  async function onMessage(ws: WebSocket, data: RawData, isBinary: boolean): Promise<void> {
    const token = isBinary ? undefined : bindingToken(text(data));
    if (token === undefined) {
      tell(ws, 'not-supported', 'expected "bind-with-token <token>"');
      return;
    }
    const verified = verifyBindingToken(secretBytes, token);
    if (!verified.ok) {
      if (verified.reason === 'expired') refuse(ws, 'expired', 'the binding token has expired');
      else refuse(ws, 'security', 'the binding token is not valid');
      return;
    }
    for (const id of verified.subscriptions) {
      let admitted: boolean;
      try {
        admitted = options.admit ? await options.admit(id) : true;
      } catch {
        tell(ws, 'transient', `Subscription/${id} could not be bound now; bind again later`);
        continue;
      }
      if (ws.readyState !== WebSocket.OPEN) return;
      if (!admitted) {
        tell(ws, 'forbidden', `Subscription/${id} cannot be bound`);
        continue;
      }
      bind(ws, id, verified.expiresAt);
      try {
        await options.onBound?.(id, (bundle) => write(ws, JSON.stringify(bundle)));
      } catch {
        // The caller's handshake failing leaves the binding in place: the next notification is tried all the same.
      }
    }
    if (bySocket.get(ws)?.size === 0) refuse(ws, 'forbidden', 'no Subscription could be bound');
  }

  function bind(ws: WebSocket, id: string, expiresAt: number): void {
    const sockets = bindings.get(id) ?? new Map<WebSocket, number>();
    bindings.set(id, sockets);
    // A renewed token extends the binding; an older one presented later does not shorten it.
    sockets.set(ws, Math.max(expiresAt, sockets.get(ws) ?? 0));
    bySocket.get(ws)?.add(id);
  }

  function forget(ws: WebSocket, id: string): void {
    const sockets = bindings.get(id);
    sockets?.delete(ws);
    if (sockets?.size === 0) bindings.delete(id);
    bySocket.get(ws)?.delete(id);
  }

  function unbind(ws: WebSocket, id: string, reason: string): void {
    forget(ws, id);
    tell(ws, 'informational', `Subscription/${id} is no longer bound: ${reason}`);
    if (bySocket.get(ws)?.size === 0) ws.close(1000, closeReason(reason));
  }

  function live(id: string): WebSocket[] {
    const now = Date.now();
    const sockets: WebSocket[] = [];
    for (const [ws, expiresAt] of bindings.get(id) ?? []) {
      if (expiresAt <= now) unbind(ws, id, 'the binding token expired');
      else if (ws.readyState === WebSocket.OPEN) sockets.push(ws);
    }
    return sockets;
  }

  return {
    type: 'websocket',
    path,
    async send(subscription, bundle): Promise<SendOutcome> {
      const sockets = live(subscription.id);
      if (sockets.length === 0) {
        return { ok: false, retry: true, reason: 'no websocket client is bound to this subscription in this process' };
      }
      const frame = JSON.stringify(bundle);
      const written = await Promise.all(sockets.map((ws) => write(ws, frame)));
      return written.some(Boolean)
        ? { ok: true }
        : { ok: false, retry: true, reason: 'the websocket clients bound here could not be written to' };
    },
    handleUpgrade(request, socket, head): boolean {
      if (pathOf(request.url) !== path) return false;
      if (bySocket.size >= maxConnections) {
        socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return true;
      }
      server.handleUpgrade(request, socket, head, onConnection);
      return true;
    },
    close(subscriptionId, reason): number {
      const sockets = [...(bindings.get(subscriptionId)?.keys() ?? [])];
      for (const ws of sockets) unbind(ws, subscriptionId, reason);
      return sockets.length;
    },
    bound(subscriptionId): number {
      return bindings.get(subscriptionId)?.size ?? 0;
    },
    subscriptions(): string[] {
      return [...bindings.keys()];
    },
    async shutdown(): Promise<void> {
      clearInterval(pinger);
      for (const ws of bySocket.keys()) ws.close(1001, 'server shutting down');
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** `bind-with-token <token>`, or the JSON form some clients send (`{"type":"bind-with-token","payload":{"token":…}}`). */
function bindingToken(message: string): string | undefined {
  const trimmed = message.trim();
  const plain = /^bind-with-token\s+(\S+)$/.exec(trimmed);
  if (plain) return plain[1];
  if (!trimmed.startsWith('{')) return undefined;
  try {
    const parsed = JSON.parse(trimmed) as { type?: unknown; payload?: { token?: unknown } };
    return parsed.type === 'bind-with-token' && typeof parsed.payload?.token === 'string' ? parsed.payload.token : undefined;
  } catch {
    return undefined;
  }
}

function write(ws: WebSocket, frame: string): Promise<boolean> {
  if (ws.readyState !== WebSocket.OPEN) return Promise.resolve(false);
  if (ws.bufferedAmount > MAX_BUFFERED_BYTES) {
    ws.terminate();
    return Promise.resolve(false);
  }
  return new Promise((resolve) => ws.send(frame, (error) => resolve(!error)));
}

function tell(ws: WebSocket, code: IssueCode, diagnostics: string): void {
  if (ws.readyState !== WebSocket.OPEN) return;
  const severity = code === 'informational' ? 'information' : 'error';
  ws.send(JSON.stringify(operationOutcome([{ severity, code, diagnostics }])));
}

/** Tells the client why, then closes with 1008 (policy violation). */
function refuse(ws: WebSocket, code: IssueCode, reason: string): void {
  tell(ws, code, reason);
  ws.close(1008, closeReason(reason));
}

/** A close frame's reason is at most 123 bytes of UTF-8. */
function closeReason(reason: string): string {
  let cut = reason;
  while (Buffer.byteLength(cut, 'utf8') > 123) cut = cut.slice(0, -1);
  return cut;
}

function text(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

function pathOf(url: string | undefined): string | undefined {
  try {
    return decodeURIComponent(new URL(url ?? '', 'http://localhost').pathname);
  } catch {
    return undefined;
  }
}
