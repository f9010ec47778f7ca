/**
 * Defect-frequency markers of a machine's bearing at its current speed, from
 * the same kinematics the gateway uses (src/dsp/bearing.ts), and the ISO
 * 20816-3 zone boundaries of its machine group (src/contract/iso-zones.ts).
 */

import { bearingFrequencies, CWRU_DE_BEARING } from '../../../src/contract/bearing.js';
import { ISO_20816_3_BOUNDARIES } from '../../../src/contract/iso-zones.js';
import type { BearingGeometry } from '../../../src/contract/machine.js';
import type { DefectMarker } from './charts/plots.js';
import type { MachineInfo } from './types.js';

/** The machine's bearing, or the CWRU drive-end 6205 the gateway also defaults to; `assumed` says which. */
export function bearingOf(info: MachineInfo): { geometry: BearingGeometry; assumed: boolean } {
  const b = info.bearing;
  if (b && b.balls > 0 && b.pitchDiameter > b.ballDiameter && b.ballDiameter > 0) {
    // A gateway that fell back to its default bearing says so: still an assumption.
    return { geometry: { contactAngleDeg: 0, ...b }, assumed: info.bearingSource === 'default' };
  }
  return { geometry: CWRU_DE_BEARING, assumed: true };
}

/** BPFO, BPFI, BSF, FTF markers (Hz) at `rpm`; [] when the speed is unknown or not positive. */
export function defectMarkers(geometry: BearingGeometry, rpm: number | undefined): DefectMarker[] {
  if (rpm === undefined || !Number.isFinite(rpm) || rpm <= 0) return [];
  const f = bearingFrequencies(geometry, rpm / 60);
  return [
    { name: 'FTF', hz: f.FTF },
    { name: 'BSF', hz: f.BSF },
    { name: 'BPFO', hz: f.BPFO },
    { name: 'BPFI', hz: f.BPFI },
  ];
}

/** [A/B, B/C, C/D] mm/s for the machine (gateway-given boundaries first, else group/foundation, else group 2 rigid). */
export function isoBoundaries(info: MachineInfo): { values: readonly number[]; label: string } {
  const given = info.iso?.boundaries;
  if (given && given.length === 3 && given.every((v) => Number.isFinite(v) && v > 0)) {
    return { values: given, label: 'gateway-configured boundaries' };
  }
  const group = info.iso?.group === 1 ? 1 : 2;
  const foundation = info.iso?.foundation === 'flexible' ? 'flexible' : 'rigid';
  return {
    values: ISO_20816_3_BOUNDARIES[group][foundation],
    label: `ISO 20816-3 group ${group}, ${foundation} foundation${info.iso ? '' : ' (assumed)'}`,
  };
}
