/**
 * Alarm handling after ISA-18.2, as it crosses the API: shelving a machine
 * (bodies and answer of `POST /api/machines/:id/shelve` and `/unshelve`; the
 * shelf itself is `shelfSchema` in ./alert.ts, shown on the machine view and
 * the state topic) and the alarm-rate figures of `GET /api/gateway`.
 */
import { z } from 'zod';
import { shelfReasonFields, shelfSchema, utcTime } from './alert.js';

/** Longest a machine may be shelved in one go, s (30 days): a forgotten shelf must end. */
export const MAX_SHELVE_S = 30 * 86_400;

/**
 * Body of `POST /api/machines/:id/shelve`: who, why, and for how long —
 * `durationS` from now, or `until` (ISO 8601 UTC); exactly one of them.
 */
export const shelveBodySchema = z
  .strictObject({
    ...shelfReasonFields,
    durationS: z
      .number()
      .positive()
      .max(MAX_SHELVE_S)
      .optional()
      .describe('For this long, s (at most 30 days)'),
    until: utcTime.optional().describe('Until this time, ISO 8601 UTC (at most 30 days ahead)'),
  })
  .refine((b) => (b.durationS === undefined) !== (b.until === undefined), {
    error: 'give exactly one of durationS and until',
    path: ['durationS'],
  });
export type ShelveBody = z.infer<typeof shelveBodySchema>;

/** Body of `POST /api/machines/:id/unshelve`. */
export const unshelveBodySchema = z.strictObject({
  by: z.string().min(1).max(200).describe('Who unshelves the machine'),
});

/** Answer of shelve and unshelve: the machine's shelf now (null: not shelved). */
export const shelveResultSchema = z.object({
  machine: z.string(),
  shelved: shelfSchema.nullable(),
});
export type ShelveResult = z.infer<typeof shelveResultSchema>;

/** Alarm figures of one machine or of the site. */
export const alarmFiguresSchema = z.object({
  last24h: z.number().int().min(0).describe('Alarms raised in the last 24 h'),
  perDay7d: z.number().min(0).describe('Mean alarms per day over the last 7 days'),
  standing: z
    .number()
    .int()
    .min(0)
    .describe('Alarms still active (the machine is still in that state) and not acknowledged'),
});
export type AlarmFigures = z.infer<typeof alarmFiguresSchema>;

/**
 * `GET /api/gateway` → `alarmRate`. An alarm is an alert entering `warning`
 * or `alarm` (what reaches an operator; `watch` and stream states do not
 * count); shelved machines raise none.
 */
export const alarmRateSchema = z
  .object({
    site: alarmFiguresSchema,
    machines: z.record(z.string(), alarmFiguresSchema),
  })
  .describe(
    'Alarm rate after ISA-18.2: alerts entering warning or alarm in the last 24 h, their mean per day over 7 days, and standing alarms (active, unacknowledged), per machine and for the site',
  );
export type AlarmRate = z.infer<typeof alarmRateSchema>;
