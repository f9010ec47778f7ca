/**
 * Options of the per-machine health state machine (./health.ts, whose module
 * comment states the policy these numbers tune): one zod schema with the
 * defaults, validated once and frozen.
 */
import { z } from 'zod';
import { SEVERITIES } from '../contract/health.js';
import { FaultlineError } from '../errors.js';

const prob = z.number().min(0).max(1);
const severity = z.enum(SEVERITIES);

/** One escalation level's thresholds, with its own defaults. */
function levelSchema(enter: number, k: number, exit: number) {
  return z
    .object({
      /** Fault probability at or above which a window counts toward this level. Default per level. */
      enter: prob.default(enter),
      /** Windows (of the last n) that must count before the level is entered. */
      k: z.int().min(1).default(k),
      /** Fault probability below which a window counts toward leaving the level. */
      exit: prob.default(exit),
    })
    .prefault({});
}

/** Health state machine options; every field has a default. */
export const healthConfigSchema = z
  .object({
    /** Class name meaning "no fault". Default `normal`. */
    normalClass: z.string().min(1).default('normal'),
    /** Debounce window n: how many recent windows the k-of-n rules look at. Default 5. */
    windows: z.int().min(1).max(1000).default(5),
    /** Hysteresis m: consecutive quiet windows needed to step a level down. Default 5. */
    clearWindows: z.int().min(1).max(1000).default(5),
    levels: z
      .object({
        watch: levelSchema(0.5, 3, 0.3),
        warning: levelSchema(0.7, 3, 0.5),
        alarm: levelSchema(0.9, 4, 0.7),
      })
      .prefault({}),
    zone: z
      .object({
        /** Windows (of the last n) in the zone needed before its floor applies. Default 3. */
        k: z.int().min(1).default(3),
        /** Lowest level while zone C holds. Default warning. */
        C: severity.default('warning'),
        /** Lowest level while zone D holds. Default alarm. */
        D: severity.default('alarm'),
      })
      .prefault({}),
    /** No window or frame for this long (ms) → `silent`. Default 10 000 ms. */
    silentAfterMs: z.number().positive().default(10_000),
    /**
     * Frames still arrive but no window has been diagnosed for this long (ms),
     * after the first one → `silent` (a hung inference worker, a stuck
     * pipeline: the machine is not being watched). Default 30 000 ms.
     */
    stalledAfterMs: z.number().positive().default(30_000),
    /** Only blocks that do not fit from a sensor for this long (ms) → `stream-mismatch`. Default 5 000 ms. */
    mismatchAfterMs: z.number().positive().default(5_000),
    stream: z
      .object({
        /** Sliding interval over which link errors are summed, ms. Default 30 000. */
        windowMs: z.number().positive().default(30_000),
        /** Error rate (0–1) at or above which `stream-errors` is entered. Default 0.05. */
        enterRate: prob.default(0.05),
        /** Error rate below which `stream-errors` is left. Default 0.01. */
        exitRate: prob.default(0.01),
        /** Frames (good + bad) needed in the interval before a rate is judged. Default 20. */
        minFrames: z.int().min(1).default(20),
      })
      .prefault({}),
    saturation: z
      .object({
        /** Clipped-sample fraction (0–1) at which a window counts as clipped. Default 0.001. */
        fraction: prob.default(0.001),
        /** Clipped windows (of the last n) that enter `saturated`. Default 3. */
        k: z.int().min(1).default(3),
        /** Consecutive clean windows that leave `saturated`. Default 5. */
        clearWindows: z.int().min(1).default(5),
      })
      .prefault({}),
    /** Stream states hide fault levels below this one. Default warning. */
    maskBelow: severity.default('warning'),
  })
  .superRefine((c, ctx) => {
    const order = ['watch', 'warning', 'alarm'] as const;
    let prev = 0;
    for (const name of order) {
      const l = c.levels[name];
      if (l.exit >= l.enter) {
        ctx.addIssue({
          code: 'custom',
          path: ['levels', name, 'exit'],
          message: `exit ${l.exit} must be below enter ${l.enter}, or the level would flap`,
        });
      }
      if (l.enter < prev) {
        ctx.addIssue({
          code: 'custom',
          path: ['levels', name, 'enter'],
          message: `enter ${l.enter} must not be below the lower level's ${prev}`,
        });
      }
      if (l.k > c.windows) {
        ctx.addIssue({
          code: 'custom',
          path: ['levels', name, 'k'],
          message: `k ${l.k} exceeds windows ${c.windows}; the level could never be entered`,
        });
      }
      prev = l.enter;
    }
    if (c.zone.k > c.windows) {
      ctx.addIssue({ code: 'custom', path: ['zone', 'k'], message: 'zone.k exceeds windows' });
    }
    if (c.saturation.k > c.windows) {
      ctx.addIssue({ code: 'custom', path: ['saturation', 'k'], message: 'k exceeds windows' });
    }
    if (c.stream.exitRate > c.stream.enterRate) {
      ctx.addIssue({ code: 'custom', path: ['stream', 'exitRate'], message: 'above enterRate' });
    }
  });

export type HealthConfigInput = z.input<typeof healthConfigSchema>;
export type HealthConfig = z.output<typeof healthConfigSchema>;

/**
 * Validates and freezes health options (defaults filled in).
 * @throws FaultlineError FL_ERR_CONFIG naming the bad field.
 */
export function parseHealthConfig(input: HealthConfigInput = {}): HealthConfig {
  const r = healthConfigSchema.safeParse(input);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new FaultlineError(
      'FL_ERR_CONFIG',
      `health option ${i.path.join('.') || '(root)'}: ${i.message}; fix the health config`,
    );
  }
  return Object.freeze(r.data);
}
