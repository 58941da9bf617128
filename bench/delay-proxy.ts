// A TCP proxy on loopback that adds round-trip time to one host (the kernel here has no netem): every chunk is held
// D/2 in each direction, order kept, and the upstream connect waits D/2 as a TCP handshake would. It also counts
// "turns" (lab-facts §5): times the client sends after the server has sent, i.e. round trips the client waited for.

import { createServer, connect, type Server, type Socket } from 'node:net';

export interface DelayProxy {
  /** The port on 127.0.0.1 to connect to instead of the host. */
  port: number;
  /** Added round-trip time in ms. */
  rttMs: number;
  /** Turns counted over every connection since the last reset. */
  turns(): number;
  resetTurns(): void;
  close(): Promise<void>;
}

/** Delivers chunks to `to` `delayMs` after they arrived, in arrival order. */
function delayedPipe(delayMs: number, to: () => Socket | undefined): { push(chunk: Buffer): void; end(): void } {
  const queue: Array<{ at: number; chunk: Buffer | null }> = [];
  let timer: NodeJS.Timeout | undefined;
  const pump = () => {
    timer = undefined;
    const target = to();
    if (!target) return; // not connected yet: pumped again once it is
    const now = Date.now();
    while (queue.length > 0 && queue[0].at <= now) {
      const { chunk } = queue.shift()!;
      if (chunk === null) target.end();
      else target.write(chunk);
    }
    if (queue.length > 0) timer = setTimeout(pump, queue[0].at - now);
  };
  const schedule = () => {
    if (timer === undefined) timer = setTimeout(pump, Math.max(0, queue[0].at - Date.now()));
  };
  return {
    push(chunk) {
      queue.push({ at: Date.now() + delayMs, chunk });
      schedule();
    },
    end() {
      queue.push({ at: Date.now() + delayMs, chunk: null });
      schedule();
    },
  };
}

export async function startDelayProxy(target: { host: string; port: number }, rttMs: number): Promise<DelayProxy> {
  const half = rttMs / 2;
  let turns = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    client.setNoDelay(true);
    sockets.add(client);
    let upstream: Socket | undefined;
    let last: 'client' | 'server' | undefined;
    const toServer = delayedPipe(half, () => upstream);
    const toClient = delayedPipe(half, () => (client.destroyed ? undefined : client));
    client.on('data', (chunk: Buffer) => {
      if (process.env.KPLAY_PROXY_TRACE) process.stderr.write(`> ${chunk.length}\n`);
      if (last === 'server') turns++;
      last = 'client';
      toServer.push(chunk);
    });
    client.on('end', () => toServer.end());
    client.on('error', () => upstream?.destroy());
    client.on('close', () => {
      sockets.delete(client);
      setTimeout(() => upstream?.destroy(), half);
    });
    setTimeout(() => {
      if (client.destroyed) return;
      const socket = connect(target.port, target.host, () => {
        upstream = socket;
        toServer.push(Buffer.alloc(0)); // pump what the client sent meanwhile
      });
      socket.setNoDelay(true);
      sockets.add(socket);
      socket.on('data', (chunk: Buffer) => {
        if (process.env.KPLAY_PROXY_TRACE) process.stderr.write(`< ${chunk.length}\n`);
        last = 'server';
        toClient.push(chunk);
      });
      socket.on('end', () => toClient.end());
      socket.on('error', () => client.destroy());
      socket.on('close', () => {
        sockets.delete(socket);
        setTimeout(() => client.destroy(), half);
      });
    }, half);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('delay proxy: no port');
  return {
    port: address.port,
    rttMs,
    turns: () => turns,
    resetTurns: () => (turns = 0),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
