/**
 * A multi-task model's heads (./heads.ts) in words, for people. Apart from the
 * schema so the console takes it without zod.
 */
import type { HeadReadings } from './heads.js';

/**
 * "inner race (0.91), size 0.014 in (0.88), condition load2 (0.70)": the
 * location head first and unnamed, then the others by name, each with its
 * own confidence (0–1, two decimals). Empty for none.
 */
export function headsText(heads: HeadReadings | undefined): string {
  if (!heads) return '';
  const { location, ...rest } = heads;
  const parts: string[] = [];
  if (location) parts.push(`${location.class} (${location.confidence.toFixed(2)})`);
  for (const [name, h] of Object.entries(rest))
    parts.push(`${name} ${h.class} (${h.confidence.toFixed(2)})`);
  return parts.join(', ');
}
