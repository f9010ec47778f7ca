/**
 * What a multi-task model's auxiliary heads say about a window (issue 16:
 * "one trunk, several heads"): per head, its most likely class and that
 * class's probability. The primary head stays in the fields that always
 * carried it (`faultClass`, `modelClass`, `confidence`, `probs`); this is an
 * addition beside them on the diagnosis, the alert and the retained state, so
 * a receiver that does not know it loses nothing.
 */
import { z } from 'zod';

/** One head's reading of a window. */
export const headReadingSchema = z
  .object({
    class: z
      .string()
      .min(1)
      .describe("The head's most likely class, e.g. 'inner race', '0.014 in'"),
    confidence: z.number().min(0).max(1).describe('Probability of that class, 0–1'),
  })
  .describe("One auxiliary head's reading");
export type HeadReading = z.infer<typeof headReadingSchema>;

/**
 * Every auxiliary head of the model, keyed by head name (`location`, `size`,
 * `condition`); absent for a single-head model.
 */
export const headReadingsSchema = z
  .record(z.string().min(1), headReadingSchema)
  .describe(
    "Auxiliary heads of a multi-task model, by name (location, size, condition): each head's class and confidence; absent for a single-head model",
  );
export type HeadReadings = z.infer<typeof headReadingsSchema>;
