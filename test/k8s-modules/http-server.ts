// A real HTTP(S) server on 127.0.0.1 for the get_url and wait_for tests: routes answer with a status and a body,
// and every request is counted (a warm get_url must not download).

import { createServer as createHttp, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttps, type ServerOptions } from 'node:https';
import type { AddressInfo } from 'node:net';

export type Route = (req: IncomingMessage) => { status: number; body?: string | Buffer };

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
    const { status, body } = route ? route(req) : { status: 404, body: 'not found\n' };
    res.writeHead(status, { 'content-type': 'application/octet-stream' });
    res.end(body ?? '');
  };
  const server: Server = tls ? createHttps(tls, handle) : createHttp(handle);
  await new Promise<void>((resolve) => server.listen(0, address, resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `${tls ? 'https' : 'http'}://${address}:${port}`,
    port,
    hits,
    routes: table,
    close: () => new Promise((resolve) => server.close(() => resolve())),
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

/** The same body for any request. */
export const serve = (body: string | Buffer, status = 200): Route => () => ({ status, body });
