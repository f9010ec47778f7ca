/**
 * A small table of rolling bearings whose internal geometry (number of
 * rolling elements, their diameter, the pitch diameter, the contact angle)
 * has been published, so a manifest can name a bearing (`bearing` column,
 * e.g. `6205`) instead of giving `n_balls`, `ball_d`, `pitch_d` and
 * `contact_angle_deg`.
 *
 * Every entry names its source. Catalogue values are NOMINAL: manufacturers
 * build the same boundary dimensions (a 6205 is 25 × 52 × 15 mm for every
 * maker) with different ball sets, and change them over the years. When the
 * manufacturer's data for the bearing actually fitted is at hand, it wins:
 * give the four geometry columns instead (they are checked against the
 * designation when both are given). Entries whose internal geometry could
 * not be traced to a nameable source (the general 6000/6200/6300 series
 * beyond the bearings below) are left out on purpose.
 *
 * Designations are matched leniently ({@link lookupBearing}): case, spaces and
 * hyphens do not matter, a maker's name and other words around the
 * designation are ignored, and seal/shield/clearance/cage suffixes after the
 * basic number are dropped (`6205`, `6205-2RS`, `6205ZZ`, `SKF 6205-2RS JEM`
 * all name the 6205: suffixes do not change the ball set of a deep-groove
 * bearing). A text naming two different table entries is ambiguous and
 * refused.
 */

import { CWRU_DE_BEARING } from '../contract/bearing.js';
import type { BearingGeometry } from '../contract/machine.js';

/** One bearing of the table. */
export interface BearingEntry {
  /** Canonical designation, e.g. `6205`, `ZA-2115`. */
  designation: string;
  /** Other spellings matched as a whole (compared without case, spaces or hyphens). */
  aliases: readonly string[];
  /** What the bearing is and where it is used. */
  description: string;
  /** Unit of ballDiameter and pitchDiameter. */
  unit: 'in' | 'mm';
  geometry: Readonly<BearingGeometry>;
  /** Where the numbers come from. */
  source: string;
}

const CWRU_PAGE =
  'Case Western Reserve University Bearing Data Center, "Apparatus & Procedures" page ' +
  '(engineering.case.edu/bearingdatacenter)';

/** The table. Geometry in the unit the source gives. */
export const BEARING_TABLE: readonly BearingEntry[] = Object.freeze([
  {
    designation: '6205',
    aliases: [],
    description:
      'deep-groove ball bearing, SKF 6205-2RS JEM (drive-end bearing of the CWRU test rig)',
    unit: 'in',
    geometry: CWRU_DE_BEARING,
    source:
      `${CWRU_PAGE}: ball diameter 0.3126 in, pitch diameter 1.537 in; its defect factors ` +
      'BPFI 5.4152, BPFO 3.5848 × shaft speed give 9 balls at 0°.',
  },
  {
    designation: '6203',
    aliases: [],
    description:
      'deep-groove ball bearing, SKF 6203-2RS JEM (fan-end bearing of the CWRU test rig)',
    unit: 'in',
    geometry: Object.freeze({
      balls: 8,
      ballDiameter: 0.2656,
      pitchDiameter: 1.122,
      contactAngleDeg: 0,
    }),
    source:
      `${CWRU_PAGE}: ball diameter 0.2656 in, pitch diameter 1.122 in; its defect factors ` +
      'BPFI 4.9469, BPFO 3.0530 × shaft speed give 8 balls at 0°.',
  },
  {
    designation: 'ZA-2115',
    aliases: [],
    description:
      'Rexnord ZA-2115 double-row spherical roller bearing (IMS / NASA run-to-failure data set); the roller count is per row',
    unit: 'in',
    geometry: Object.freeze({
      balls: 16,
      ballDiameter: 0.331,
      pitchDiameter: 2.815,
      contactAngleDeg: 15.17,
    }),
    source:
      'H. Qiu, J. Lee, J. Lin, G. Yu, "Wavelet filter-based weak signature detection method and its ' +
      'application on rolling element bearing prognostics", J. Sound Vib. 289 (2006) 1066–1090, and the ' +
      'IMS bearing data set readme (NASA PCoE repository): 16 rollers per row, pitch diameter 2.815 in, ' +
      'roller diameter 0.331 in, tapered contact angle 15.17°.',
  },
  {
    designation: 'UER204',
    aliases: [],
    description: 'LDK UER204 deep-groove ball bearing (XJTU-SY run-to-failure data set)',
    unit: 'mm',
    geometry: Object.freeze({
      balls: 8,
      ballDiameter: 7.92,
      pitchDiameter: 34.55,
      contactAngleDeg: 0,
    }),
    source:
      'B. Wang, Y. Lei, N. Li, N. Li, "A hybrid prognostics approach for estimating remaining useful ' +
      'life of rolling element bearings", IEEE Trans. Reliability 69(1) (2020) 401–412, XJTU-SY bearing ' +
      'parameters: 8 balls of 7.92 mm, pitch (mean) diameter 34.55 mm, contact angle 0°.',
  },
  {
    designation: 'MFPT',
    aliases: [],
    description:
      'the bearing of the MFPT (Society for Machinery Failure Prevention Technology) fault data set rig; the data set publishes its geometry, not a designation',
    unit: 'in',
    geometry: Object.freeze({
      balls: 8,
      ballDiameter: 0.235,
      pitchDiameter: 1.245,
      contactAngleDeg: 0,
    }),
    source:
      'MFPT condition-based maintenance fault database documentation (see ../shared/data/mfpt/MANIFEST.md): ' +
      'roller diameter 0.235 in, pitch diameter 1.245 in, 8 elements, contact angle 0°; it reproduces ' +
      'the files’ stored BPFI 118.875 Hz and BPFO 81.125 Hz at 25 Hz.',
  },
]);

/** Outcome of a look-up: the entry, or why there is none. */
export type BearingLookup =
  | { ok: true; entry: BearingEntry }
  | { ok: false; reason: 'unknown' | 'ambiguous'; message: string };

const compact = (s: string): string => s.toUpperCase().replace(/[^A-Z0-9]/g, '');

/**
 * Finds `text` in the table. Rule, in order:
 * 1. the whole text, without case, spaces or punctuation, equals an entry's
 *    designation or alias (`za 2115` → ZA-2115);
 * 2. otherwise each whitespace/comma-separated word is tried: the word as a
 *    whole (as in 1), then its basic number — the word cut at the first `-`,
 *    `/` or `.`, with trailing letters removed (`6205-2RSH/C3` → `6205`,
 *    `6205ZZ` → `6205`). Words that match nothing (`SKF`, `JEM`) are ignored.
 * Exactly one entry found: that one. None: `unknown`. Several: `ambiguous`.
 */
export function lookupBearing(text: string): BearingLookup {
  const whole = compact(text);
  const byKey = (key: string): BearingEntry | undefined =>
    key === ''
      ? undefined
      : BEARING_TABLE.find(
          (e) => compact(e.designation) === key || e.aliases.some((a) => compact(a) === key),
        );
  const direct = byKey(whole);
  if (direct) return { ok: true, entry: direct };
  const found = new Set<BearingEntry>();
  for (const word of text.toUpperCase().split(/[\s,;]+/)) {
    const exact = byKey(compact(word));
    if (exact) {
      found.add(exact);
      continue;
    }
    const basic = /^(\d+)[A-Z]*$/.exec(word.split(/[-/.]/)[0]);
    const e = basic ? byKey(basic[1]) : undefined;
    if (e) found.add(e);
  }
  if (found.size === 1) return { ok: true, entry: [...found][0] };
  if (found.size > 1) {
    return {
      ok: false,
      reason: 'ambiguous',
      message: `bearing '${text}' names ${[...found].map((e) => e.designation).join(' and ')}; give one designation`,
    };
  }
  return {
    ok: false,
    reason: 'unknown',
    message:
      `bearing '${text}' is not in the table (known: ${knownBearings().join(', ')}); ` +
      'give n_balls, ball_d, pitch_d and contact_angle_deg instead',
  };
}

/** Designations of the table, sorted. */
export function knownBearings(): string[] {
  return BEARING_TABLE.map((e) => e.designation).sort();
}

/**
 * What is wrong with a geometry, or an empty list: balls an integer ≥ 3,
 * 0 < ballDiameter < pitchDiameter (finite), 0 ≤ contactAngleDeg < 90.
 */
export function geometryProblems(g: BearingGeometry): string[] {
  const out: string[] = [];
  if (!Number.isInteger(g.balls) || g.balls < 3)
    out.push(`n_balls ${g.balls} must be an integer ≥ 3`);
  if (!(Number.isFinite(g.ballDiameter) && g.ballDiameter > 0))
    out.push(`ball_d ${g.ballDiameter} must be a positive number`);
  if (!(Number.isFinite(g.pitchDiameter) && g.pitchDiameter > 0))
    out.push(`pitch_d ${g.pitchDiameter} must be a positive number`);
  else if (g.ballDiameter > 0 && g.ballDiameter >= g.pitchDiameter)
    out.push(
      `ball_d ${g.ballDiameter} must be smaller than pitch_d ${g.pitchDiameter} (same unit)`,
    );
  if (!(Number.isFinite(g.contactAngleDeg) && g.contactAngleDeg >= 0 && g.contactAngleDeg < 90))
    out.push(`contact_angle_deg ${g.contactAngleDeg} must be in [0, 90)`);
  return out;
}

/**
 * Whether two geometries describe the same bearing kinematically, whatever
 * their length units: same number of elements, ball/pitch ratio within
 * 0.5 % and contact angle within 0.5°. (The defect frequencies depend on the
 * ratio only, so inches against millimetres is fine.)
 */
export function sameBearing(a: BearingGeometry, b: BearingGeometry): boolean {
  const ra = a.ballDiameter / a.pitchDiameter;
  const rb = b.ballDiameter / b.pitchDiameter;
  return (
    a.balls === b.balls &&
    Math.abs(ra - rb) <= 0.005 * rb &&
    Math.abs(a.contactAngleDeg - b.contactAngleDeg) <= 0.5
  );
}

/** Designation of the table entry with exactly this geometry (same numbers, same unit), if any. */
export function tableDesignationOf(g: BearingGeometry): string | undefined {
  return BEARING_TABLE.find(
    (e) =>
      e.geometry.balls === g.balls &&
      e.geometry.ballDiameter === g.ballDiameter &&
      e.geometry.pitchDiameter === g.pitchDiameter &&
      e.geometry.contactAngleDeg === g.contactAngleDeg,
  )?.designation;
}

/** Short text of a geometry: `9 × 0.3126 / 1.537, 0°`. */
export function formatGeometry(g: BearingGeometry): string {
  return `${g.balls} × ${g.ballDiameter} / ${g.pitchDiameter}, ${g.contactAngleDeg}°`;
}
