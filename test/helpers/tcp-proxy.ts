/**
 * A TCP proxy in front of a real service, for tests that need the service to go away
 * mid-conversation (`destroy()`) or to answer slowly (`delayMs`).
 */
import net from 'node:net';

export interface TcpProxy {
  /** The loopback port clients connect to. */
  port: number;
  /** Stops listening and cuts every open connection, both ways. */
  destroy(): Promise<void>;
}

export interface TcpProxyOptions {
  /** Holds every chunk from the service this long before passing it on. @defaultValue 0 */
  delayMs?: number;
  /** Listen on this port (to bring a source back where its config points). @defaultValue a free port */
  port?: number;
}

export async function startTcpProxy(targetHost: string, targetPort: number, options: TcpProxyOptions = {}): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, targetHost);
    sockets.add(client).add(upstream);
    client.pipe(upstream);
    if (options.delayMs) {
      upstream.on('data', (chunk: Buffer) => {
        const timer = setTimeout(() => {
          timers.delete(timer);
          if (!client.destroyed) client.write(chunk);
        }, options.delayMs);
        timers.add(timer);
      });
    } else {
      upstream.pipe(client);
    }
    const cut = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', cut).on('close', cut);
    upstream.on('error', cut).on('close', cut);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    destroy: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        for (const socket of sockets) socket.destroy();
        sockets.clear();
        server.close(() => resolve());
      }),
  };
}
