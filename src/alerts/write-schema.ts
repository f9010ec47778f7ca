/**
 * Writes src/alerts/alert.schema.json from the zod schema (run after changing
 * `alertSchema`): `npx tsx src/alerts/write-schema.ts`.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { alertJsonSchema } from './schema.js';

const out = fileURLToPath(new URL('./alert.schema.json', import.meta.url));
const schema = {
  ...alertJsonSchema(),
  title: 'Faultline alert',
};
writeFileSync(out, `${JSON.stringify(schema, null, 2)}\n`);
console.log(`wrote ${out}`);
