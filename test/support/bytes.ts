/** Byte helpers shared by the test folders. */

/**
 * The parts one after the other, as a plain Uint8Array (not a Buffer:
 * strict deepEqual tells the two apart).
 */
export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
