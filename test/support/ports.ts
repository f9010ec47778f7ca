/**
 * Free loopback TCP ports for services started by tests (mosquitto…).
 *
 * The kernel picks an unused port for a listener bound to port 0; we close it
 * and hand the number on. A tiny race remains (another process could take the
 * port in between), which is acceptable on a test machine and far better than
 * fixed port numbers that collide when test files run in parallel.
 */
import net from 'node:net';

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      if (addr === null || typeof addr === 'string') {
        srv.close();
        reject(new Error('freePort: listener has no TCP address'));
        return;
      }
      srv.close(() => resolve(addr.port));
    });
  });
}

/** True when a TCP connection to `host:port` succeeds now. */
export function canConnect(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const sock = net.connect({ port, host });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

/**
 * Resolves once a TCP connection to `host:port` succeeds; rejects after
 * `timeoutMs` (default 30 s: services start in tens of milliseconds on a
 * quiet machine, seconds on a busy one). Polls every 25 ms.
 */
export async function waitForPort(
  port: number,
  host = '127.0.0.1',
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await canConnect(port, host))) {
    if (Date.now() > deadline)
      throw new Error(`nothing accepts connections on ${host}:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
