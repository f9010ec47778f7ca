/**
 * ISO 20816-3 zone boundaries, shared by the gateway (src/dsp/iso20816.ts
 * applies them) and the console (which draws them). Plain data, no zod, so
 * the console's bundle takes only these numbers.
 */

/** ISO 20816-3 machine group: 1 large (300 kW–50 MW), 2 medium (15–300 kW). */
export type MachineGroup = 1 | 2;
export type Foundation = 'rigid' | 'flexible';

/**
 * [A/B, B/C, C/D] zone boundaries, mm/s r.m.s. (ISO 20816-3:2022 Tables A.1/A.2).
 * A reading equal to a boundary is given the lower (better) zone.
 */
export const ISO_20816_3_BOUNDARIES: Readonly<
  Record<MachineGroup, Readonly<Record<Foundation, readonly [number, number, number]>>>
> = Object.freeze({
  1: Object.freeze({ rigid: [2.3, 4.5, 7.1] as const, flexible: [3.5, 7.1, 11.0] as const }),
  2: Object.freeze({ rigid: [1.4, 2.8, 4.5] as const, flexible: [2.3, 4.5, 7.1] as const }),
});
