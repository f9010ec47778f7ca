/**
 * ISO 20816-3 evaluation zones for broadband vibration velocity.
 *
 * Zone boundaries are r.m.s. velocity in mm/s measured on the bearing housing
 * over 10–1000 Hz (2–1000 Hz for machines below 600 r/min), from
 * ISO 20816-3:2022, Annex A, Table A.1 (group 1: large machines, 300 kW–50 MW)
 * and Table A.2 (group 2: medium machines, 15–300 kW), the same values as
 * ISO 10816-3:2009 Tables A.1/A.2:
 *
 *   group | foundation | A/B | B/C | C/D
 *   1     | rigid      | 2.3 | 4.5 | 7.1
 *   1     | flexible   | 3.5 | 7.1 | 11.0
 *   2     | rigid      | 1.4 | 2.8 | 4.5
 *   2     | flexible   | 2.3 | 4.5 | 7.1
 *
 * Zone A: newly commissioned; B: unrestricted long-term operation; C: not
 * for long-term operation; D: damage likely. A reading equal to a boundary
 * is given the lower (better) zone. The boundaries and the zone names are part
 * of the contract (src/contract/health.ts): the console draws the same ones.
 */
import type { IsoZone } from '../contract/health.js';
import {
  type Foundation,
  ISO_20816_3_BOUNDARIES,
  type MachineGroup,
} from '../contract/iso-zones.js';
import { requireParam } from './signal.js';

/**
 * ISO 20816-3 zone of an r.m.s. velocity.
 * @param velocityRmsMmS broadband velocity r.m.s., mm/s
 * @param group machine group (1: 300 kW–50 MW, 2: 15–300 kW); default 2
 * @param foundation 'rigid' or 'flexible'; default 'rigid'
 */
export function isoZone(
  velocityRmsMmS: number,
  group: MachineGroup = 2,
  foundation: Foundation = 'rigid',
): IsoZone {
  requireParam(
    Number.isFinite(velocityRmsMmS) && velocityRmsMmS >= 0,
    `velocity r.m.s. must be a finite value ≥ 0 mm/s, got ${velocityRmsMmS}`,
  );
  const byGroup = ISO_20816_3_BOUNDARIES[group];
  requireParam(byGroup !== undefined, `machine group must be 1 or 2, got ${group}`);
  const b = byGroup[foundation];
  requireParam(b !== undefined, `foundation must be "rigid" or "flexible", got ${foundation}`);
  if (velocityRmsMmS <= b[0]) return 'A';
  if (velocityRmsMmS <= b[1]) return 'B';
  if (velocityRmsMmS <= b[2]) return 'C';
  return 'D';
}
