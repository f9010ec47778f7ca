/**
 * Child process of the broker EMFILE test: starts the embedded broker on a
 * free loopback port, prints `port <n>` and then every broker warning, one
 * per line, and runs until it is killed. The test starts it under a low
 * open-file limit (`ulimit -n`) so accept() runs out of descriptors.
 */
import { readdirSync } from 'node:fs';
import { EmbeddedBroker } from '../../src/daemon/broker.js';

const broker = await EmbeddedBroker.start({
  port: 0,
  maxConnections: 100_000,
  log: (m) => process.stdout.write(`log ${m}\n`),
});
process.stdout.write(`fds ${readdirSync('/proc/self/fd').length}\n`);
process.stdout.write(`port ${broker.port}\n`);
