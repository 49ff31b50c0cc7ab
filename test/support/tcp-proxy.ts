import net from 'node:net';

/**
 * A TCP proxy in front of a PostgreSQL server, for outages made on purpose: `cut` drops every connection through
 * it and stops listening (new connections are refused, as by a server that is down), `restore` listens again on
 * the same port. The database server itself is never touched.
 */
export class TcpProxy {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  private listeningPort = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  /** The port the proxy listens on (127.0.0.1). */
  get port(): number {
    return this.listeningPort;
  }

  /** Starts listening, on `port` (the one used before, by `restore`) or on one the OS picks. */
  async listen(port = this.listeningPort): Promise<void> {
    const server = net.createServer((client) => this.pipe(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    this.listeningPort = typeof address === 'object' && address ? address.port : port;
    this.server = server;
  }

  /** The database goes away: every connection through the proxy is reset (at once, before the first await), and new ones are refused. */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    const closed = server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
    for (const socket of this.sockets) socket.resetAndDestroy();
    this.sockets.clear();
    await closed;
  }

  /** The database is back, on the same address. */
  restore(): Promise<void> {
    return this.listen(this.listeningPort);
  }

  stop(): Promise<void> {
    return this.cut();
  }

  private pipe(client: net.Socket): void {
    const upstream = net.connect(this.targetPort, this.targetHost);
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      // One side failing ends both: the peer must see the connection gone, not hang.
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
