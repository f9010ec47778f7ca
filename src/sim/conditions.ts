/**
 * Operating conditions: everything about a machine and its sensor that is not
 * the bearing fault itself. A condition is a domain in the domain-adaptation
 * sense: a model trained on one condition and run on another meets a shifted
 * input distribution (fault lines at other frequencies, other resonances,
 * other noise and gain). A simulated machine is (condition, fault).
 */
import { checkNumber, requireSim } from './check.js';

/**
 * One structural resonance of the path from bearing to sensor, modelled as a
 * single-degree-of-freedom mode. Every impact rings each mode: the impulse
 * response is gain · e^(−ζωn·t) · sin(ωd·t) with ωd = ωn·√(1−ζ²). The modes
 * belong to the housing and the sensor mounting, so they stay fixed in Hz
 * when the speed changes; only the impact rate moves.
 */
export interface Resonance {
  /** Natural frequency fn, Hz. Modes at or above 0.45 × sample rate are left out (sensor anti-alias filter). */
  frequencyHz: number;
  /** Damping ratio ζ, in (0, 1). 0.02–0.08 is typical for a bearing housing. */
  damping: number;
  /** Peak of this mode's response to a unit impact (relative; 1 = the impact's full severity). */
  gain: number;
}

/** The parameter set of one operating condition (a domain). */
export interface OperatingCondition {
  /** Name used as the data-set domain, e.g. `source-1797rpm`. */
  name: string;
  /** Nominal shaft speed, rpm. */
  rpm: number;
  /**
   * Radial load as a fraction of rated, [0, 1] (CWRU 0–3 HP ↦ 0–1). Load widens
   * the load zone (less modulation of inner-race and ball impacts) and makes
   * impacts harder (amplitude × (1 + 0.5·load)).
   */
  load: number;
  /** Structural resonances excited by each impact; at least one when a fault is simulated. */
  resonances: readonly Resonance[];
  /** RMS of the broadband Gaussian noise (sensor + process), g. */
  noiseRms: number;
  /**
   * RMS (g) of the rolling noise: the many tiny random impacts of surface
   * roughness, present in healthy bearings too, ring the same modes as a
   * fault does. So the resonance band shows in every class, and what tells a
   * fault apart is the periodicity of its impacts, not mere band energy.
   */
  rollingNoiseRms: number;
  /** Sensor gain (sensitivity error or a different sensor), multiplies the whole signal. */
  sensorGain: number;
  /**
   * Peak amplitudes of the shaft harmonics 1×, 2×, 3×… (g): 1× mostly from
   * unbalance, 2× from misalignment, 3× and up from looseness/misalignment.
   * Harmonics at or above 0.45 × sample rate are left out.
   */
  harmonics: readonly number[];
  /** Fast speed fluctuation (motor/load torque ripple): std as a fraction of rpm, correlation time 50 ms. */
  speedJitter: number;
  /** Slow speed wander (supply, load changes): std as a fraction of rpm, correlation time 3 s. */
  speedDrift: number;
  /**
   * Rolling-element slip: std of each impact spacing as a fraction of its mean
   * (0.01–0.02 is typical). The impact train becomes a random walk around its
   * mean rate, which smears the high harmonics of the fault in the raw spectrum
   * but keeps the envelope-spectrum line: that is why envelope analysis works.
   */
  slip: number;
  /**
   * Exponent of the impact-amplitude law (rpm / 1797)^k: impacts on a spall get
   * harder as rolling speed grows. 1 (linear in speed) by default.
   */
  impactSpeedExponent: number;
}

/** Reference speed (rpm) at which a fault's `severity` is the impact peak: CWRU 0 HP. */
export const REFERENCE_RPM = 1797;

/*
 * Presets. The source is CWRU-like (drive-end bearing at 1797 rpm, 0 HP, main
 * housing resonance near 3 kHz so the CWRU 2–5 kHz envelope band holds it).
 * Targets change one or two things each, so an adaptation experiment can tell
 * which shift hurts: speed (fault lines move, resonances stay), load, sensor
 * (noise and gain), mounting (resonances move).
 */
const CWRU_HOUSING: readonly Resonance[] = [
  { frequencyHz: 3000, damping: 0.04, gain: 1 },
  { frequencyHz: 4200, damping: 0.05, gain: 0.5 },
  { frequencyHz: 1300, damping: 0.03, gain: 0.2 },
];

const BASE: Omit<OperatingCondition, 'name' | 'rpm'> = {
  load: 0,
  resonances: CWRU_HOUSING,
  noiseRms: 0.04,
  rollingNoiseRms: 0.02,
  sensorGain: 1,
  harmonics: [0.04, 0.02, 0.01],
  speedJitter: 0.001,
  speedDrift: 0.003,
  slip: 0.01,
  impactSpeedExponent: 1,
};

/** Harmonic amplitudes scaled for another speed: unbalance force grows as ω². */
function harmonicsAt(rpm: number): number[] {
  const k = (rpm / REFERENCE_RPM) ** 2;
  return BASE.harmonics.map((a) => a * k);
}

const PRESET_LIST: OperatingCondition[] = [
  { ...BASE, name: 'source-1797rpm', rpm: 1797 },
  // CWRU 3 HP: the motor slows under load; heavier impacts, wider load zone.
  { ...BASE, name: 'target-1730rpm-load3', rpm: 1730, load: 1 },
  {
    ...BASE,
    name: 'target-1200rpm',
    rpm: 1200,
    load: 0.5,
    harmonics: harmonicsAt(1200),
    slip: 0.015,
  },
  { ...BASE, name: 'target-600rpm', rpm: 600, load: 0.5, harmonics: harmonicsAt(600), slip: 0.02 },
  // Another sensor on the same machine: noisier, 0.6× sensitivity.
  { ...BASE, name: 'target-noisy-gain', rpm: 1797, noiseRms: 0.12, sensorGain: 0.6 },
  // Same machine, sensor moved to another spot: the path resonances change.
  {
    ...BASE,
    name: 'target-other-mount',
    rpm: 1797,
    resonances: [
      { frequencyHz: 2200, damping: 0.05, gain: 1 },
      { frequencyHz: 5000, damping: 0.04, gain: 0.4 },
    ],
  },
];

/** Names of the built-in operating conditions. */
export const CONDITION_PRESET_NAMES = [
  'source-1797rpm',
  'target-1730rpm-load3',
  'target-1200rpm',
  'target-600rpm',
  'target-noisy-gain',
  'target-other-mount',
] as const;
export type ConditionPresetName = (typeof CONDITION_PRESET_NAMES)[number];

function freezeCondition(c: OperatingCondition): Readonly<OperatingCondition> {
  return Object.freeze({
    ...c,
    resonances: Object.freeze(c.resonances.map((r) => Object.freeze({ ...r }))),
    harmonics: Object.freeze([...c.harmonics]),
  });
}

/** The built-in conditions by name (frozen). */
export const CONDITION_PRESETS: Readonly<
  Record<ConditionPresetName, Readonly<OperatingCondition>>
> = Object.freeze(
  Object.fromEntries(PRESET_LIST.map((c) => [c.name, freezeCondition(c)])) as Record<
    ConditionPresetName,
    Readonly<OperatingCondition>
  >,
);

/** True when `name` is a built-in condition. */
export function isConditionPresetName(name: string): name is ConditionPresetName {
  return (CONDITION_PRESET_NAMES as readonly string[]).includes(name);
}

/** The built-in condition `name`; FL_ERR_SIM_PARAMS listing the names when unknown. */
export function conditionPreset(name: string): Readonly<OperatingCondition> {
  requireSim(
    isConditionPresetName(name),
    `unknown operating condition "${name}"; use one of ${CONDITION_PRESET_NAMES.join(', ')}`,
  );
  return CONDITION_PRESETS[name];
}

/**
 * Checks every field of a condition; throws FL_ERR_SIM_PARAMS naming the first
 * bad one (`condition.resonances[1].damping must be …`).
 */
export function validateCondition(c: OperatingCondition): void {
  requireSim(typeof c === 'object' && c !== null, `condition must be an object, got ${String(c)}`);
  requireSim(
    typeof c.name === 'string' && c.name.length > 0,
    'condition.name must be a non-empty string',
  );
  checkNumber('condition.rpm', c.rpm, 0, 100_000, { minExclusive: true });
  checkNumber('condition.load', c.load, 0, 1);
  requireSim(
    Array.isArray(c.resonances),
    'condition.resonances must be an array of {frequencyHz, damping, gain}',
  );
  c.resonances.forEach((r, i) => {
    checkNumber(`condition.resonances[${i}].frequencyHz`, r?.frequencyHz, 0, 1e6, {
      minExclusive: true,
    });
    checkNumber(`condition.resonances[${i}].damping`, r.damping, 0, 0.99, { minExclusive: true });
    checkNumber(`condition.resonances[${i}].gain`, r.gain, 0, 1e3);
  });
  checkNumber('condition.noiseRms', c.noiseRms, 0, 1e3);
  checkNumber('condition.rollingNoiseRms', c.rollingNoiseRms, 0, 1e3);
  checkNumber('condition.sensorGain', c.sensorGain, 0, 1e3);
  requireSim(
    Array.isArray(c.harmonics),
    'condition.harmonics must be an array of amplitudes in g (1×, 2×, …)',
  );
  requireSim(
    c.harmonics.length <= 32,
    `condition.harmonics has ${c.harmonics.length} entries; at most 32`,
  );
  c.harmonics.forEach((a, i) => {
    checkNumber(`condition.harmonics[${i}]`, a, 0, 1e3);
  });
  checkNumber('condition.speedJitter', c.speedJitter, 0, 0.05);
  checkNumber('condition.speedDrift', c.speedDrift, 0, 0.1);
  checkNumber('condition.slip', c.slip, 0, 0.1);
  checkNumber('condition.impactSpeedExponent', c.impactSpeedExponent, 0, 4);
}

/**
 * A new condition: `base` (a preset name or a condition) with `changes`
 * applied, validated and frozen. `name` defaults to `<base>+custom` so a
 * derived domain never silently shares its base's name.
 *
 * @example defineCondition('source-1797rpm', { name: 'pump-a', rpm: 1480, noiseRms: 0.08 })
 */
export function defineCondition(
  base: ConditionPresetName | OperatingCondition,
  changes: Partial<OperatingCondition> = {},
): Readonly<OperatingCondition> {
  const from = typeof base === 'string' ? conditionPreset(base) : base;
  const merged: OperatingCondition = {
    ...from,
    name: `${from.name}+custom`,
    ...changes,
  };
  validateCondition(merged);
  return freezeCondition(merged);
}

/** A preset name or a condition, validated and frozen. */
export function resolveCondition(
  c: ConditionPresetName | OperatingCondition | string,
): Readonly<OperatingCondition> {
  if (typeof c === 'string') return conditionPreset(c);
  validateCondition(c);
  return Object.isFrozen(c) ? c : freezeCondition(c);
}
