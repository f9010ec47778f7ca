/**
 * Types for `mat-for-js` 1.1.0, which ships none. Only the one entry point
 * src/data/mat.ts uses is declared; its output is left `unknown` on purpose so
 * mat.ts has to check every shape it relies on.
 */
declare module 'mat-for-js' {
  /** Parses a whole MAT-file (header included); throws plain Errors on bad input. */
  export function read(data: ArrayBuffer): { header: string; data: Record<string, unknown> };
}
