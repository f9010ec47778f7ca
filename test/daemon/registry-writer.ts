/**
 * Child process of the registry power-cut test: opens the registry in
 * argv[2] and switches machine `p` between versions argv[3] and argv[4]
 * forever, printing a line after each write, until it is killed.
 */
import { ModelRegistry } from '../../src/daemon/registry.js';

const [root, a, b] = process.argv.slice(2);
const reg = await ModelRegistry.open(root, { proveModel: async () => {} });
for (let i = 0; ; i++) {
  await reg.activate('p', i % 2 === 0 ? a : b);
  process.stdout.write(`${i}\n`);
}
