// A real HTTP(S) server on 127.0.0.1 for the get_url and wait_for tests: routes answer with a status and a body,
// and every request is counted (a warm get_url must not download).

import { createServer as createHttp, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttps, type ServerOptions } from 'node:https';
import type { AddressInfo } from 'node:net';

/** `drip`: send the body in 20 pieces this many ms apart (a slow download for the live view, or a stall). */
export type Route = (req: IncomingMessage) => { status: number; body?: string | Buffer; headers?: Record<string, string>; drip?: number };

export interface TestServer {
  url: string;
  port: number;
  /** Requests seen, by path. */
  hits: Map<string, number>;
  routes: Map<string, Route>;
  close(): Promise<void>;
}

/** Listens on `address` (loopback unless a lab host must reach it) on a free port. */
export async function startServer(routes: Record<string, Route> = {}, tls?: ServerOptions, address = '127.0.0.1'): Promise<TestServer> {
  const table = new Map(Object.entries(routes));
  const hits = new Map<string, number>();
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const route = table.get(path);
    const { status, body, headers, drip } = route ? route(req) : { status: 404, body: 'not found\n' };
    const bytes = Buffer.from(body ?? '');
    res.writeHead(status, { 'content-type': 'application/octet-stream', 'content-length': String(bytes.length), ...headers });
    if (drip === undefined) return void res.end(bytes);
    const piece = Math.ceil(bytes.length / 20);
    const send = (offset: number): void => {
      if (res.destroyed) return;
      if (offset >= bytes.length) return void res.end();
      res.write(bytes.subarray(offset, offset + piece));
      setTimeout(() => send(offset + piece), drip).unref();
    };
    send(0);
  };
  const server: Server = tls ? createHttps(tls, handle) : createHttp(handle);
  await new Promise<void>((resolve) => server.listen(0, address, resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `${tls ? 'https' : 'http'}://${address}:${port}`,
    port,
    hits,
    routes: table,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections(); // a stalled download must not hold the test open
      }),
  };
}

/** A port nothing listens on (bound then released). */
export async function freePort(): Promise<number> {
  const server = createHttp();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A body last modified at `modified`: a request If-Modified-Since that time or later gets a 304, as a real server's. */
export const serveSince =
  (body: string | Buffer, modified: Date): Route =>
  (req) => {
    const since = req.headers['if-modified-since'];
    if (since !== undefined && Date.parse(since) >= Math.floor(modified.getTime() / 1000) * 1000) return { status: 304 };
    return { status: 200, body, headers: { 'last-modified': modified.toUTCString() } };
  };

/** The same body for any request. */
export const serve = (body: string | Buffer, status = 200): Route => () => ({ status, body });
