/**
 * Every MQTT topic Faultline uses (src/alerts/README.md, firmware-bridge/PROTOCOL.md):
 *
 *   faultline/<site>/<machine>/<sensor>/raw    one raw frame, sensor → gateway, QoS 0/1
 *   faultline/<site>/<machine>/alert           Alert JSON, QoS 1, not retained
 *   faultline/<site>/<machine>/state           HealthStatePayload JSON, QoS 1, retained
 *   faultline/<site>/<machine>/metrics         MachineMetrics JSON every outputs.metrics.intervalS,
 *                                               QoS 0, not retained (./metrics.ts)
 *   faultline/<site>/<machine>/alert/ack       AlertAck JSON from operators, QoS 1
 *   faultline/<site>/gateway/<id>/status       GatewayStatus JSON, QoS 1, retained (+ Last Will)
 *
 * (payload schemas in ./alert.ts and ./metrics.ts). `gateway` is therefore a reserved machine
 * name. Subscriptions may use `+` for any level (`faultline/plant1/+/+/raw`)
 * and an MQTT 5 shared subscription prefix (`$share/<group>/faultline/…`) to
 * spread one site over several gateways.
 *
 * A name that cannot be a topic level throws FaultlineError
 * FL_ERR_TOPIC_LEVEL, a malformed filter FL_ERR_TOPIC_FILTER (the names
 * mostly come from flags, and the CLI answers both as usage errors; the
 * gateway's config rejects them before they get here).
 */
import { FaultlineError } from '../errors.js';

/** First topic level of every Faultline topic. */
export const TOPIC_ROOT = 'faultline';

/** Where a block came from on MQTT, parsed from its topic. */
export interface RawTopic {
  site: string;
  machine: string;
  /** The sensor level as written in the topic (normally the decimal sensor id). */
  sensor: string;
}

/** Checks that `value` can be one topic level: non-empty, no `/`, `+`, `#` or NUL. */
export function assertTopicLevel(what: string, value: string): void {
  if (value.length === 0 || /[/+#]/.test(value) || value.includes('\u0000')) {
    throw new FaultlineError(
      'FL_ERR_TOPIC_LEVEL',
      `${what} ${JSON.stringify(value)} cannot be an MQTT topic level: use a non-empty name without '/', '+', '#'`,
    );
  }
}

function level(what: string, value: string): string {
  assertTopicLevel(what, value);
  return value;
}

/** Topic a sensor's raw frames are published on. */
export function rawTopic(site: string, machine: string, sensorId: number | string): string {
  return `${TOPIC_ROOT}/${level('site', site)}/${level('machine', machine)}/${level('sensor id', String(sensorId))}/raw`;
}

export interface RawFilterOptions {
  /** Site name or `+` (default). */
  site?: string;
  /** Machine name or `+` (default). */
  machine?: string;
  /** Sensor id or `+` (default). */
  sensor?: string | number;
  /** MQTT 5 shared-subscription group: prefixes `$share/<group>/`. */
  shareGroup?: string;
}

/** Subscription filter for raw frames, e.g. `faultline/plant1/pump3/+/raw`. */
export function rawFilter(opts: RawFilterOptions = {}): string {
  const levels = [opts.site ?? '+', opts.machine ?? '+', String(opts.sensor ?? '+')];
  const names = ['site', 'machine', 'sensor'];
  levels.forEach((l, i) => {
    if (l !== '+') assertTopicLevel(names[i], l);
  });
  const filter = `${TOPIC_ROOT}/${levels.join('/')}/raw`;
  if (opts.shareGroup === undefined) return filter;
  assertTopicLevel('share group', opts.shareGroup);
  return `$share/${opts.shareGroup}/${filter}`;
}

/** Parses `faultline/<site>/<machine>/<sensor>/raw`; undefined for any other topic. */
export function parseRawTopic(topic: string): RawTopic | undefined {
  const parts = topic.split('/');
  if (parts.length !== 5 || parts[0] !== TOPIC_ROOT || parts[4] !== 'raw') return undefined;
  const [, site, machine, sensor] = parts;
  if (!site || !machine || !sensor) return undefined;
  return { site, machine, sensor };
}

/**
 * Validates a user-given subscription filter (MQTT wildcard rules: `+` fills a
 * whole level, `#` only as the last level) and returns it unchanged.
 */
export function checkFilter(filter: string): string {
  const body = filter.startsWith('$share/') ? filter.split('/').slice(2).join('/') : filter;
  const levels = body.split('/');
  const bad =
    body.length === 0 ||
    filter.includes('\u0000') ||
    levels.some(
      (l, i) =>
        (l.includes('+') && l !== '+') ||
        (l.includes('#') && (l !== '#' || i !== levels.length - 1)),
    );
  if (bad || (filter.startsWith('$share/') && filter.split('/').length < 3)) {
    throw new FaultlineError(
      'FL_ERR_TOPIC_FILTER',
      `MQTT topic filter ${JSON.stringify(filter)} is invalid: '+' must fill a whole level and '#' may only end it`,
    );
  }
  return filter;
}

export const alertTopic = (site: string, machine: string): string =>
  `${TOPIC_ROOT}/${level('site', site)}/${level('machine', machine)}/alert`;

export const stateTopic = (site: string, machine: string): string =>
  `${TOPIC_ROOT}/${level('site', site)}/${level('machine', machine)}/state`;

/** Periodic reading of a machine (./metrics.ts); the state topic changes only on transitions. */
export const metricsTopic = (site: string, machine: string): string =>
  `${TOPIC_ROOT}/${level('site', site)}/${level('machine', machine)}/metrics`;

export const ackTopic = (site: string, machine: string): string =>
  `${TOPIC_ROOT}/${level('site', site)}/${level('machine', machine)}/alert/ack`;

/** Subscription filter for every machine's acks at a site. */
export const ackFilter = (site: string): string =>
  `${TOPIC_ROOT}/${level('site', site)}/+/alert/ack`;

export const gatewayStatusTopic = (site: string, gatewayId: string): string =>
  `${TOPIC_ROOT}/${level('site', site)}/gateway/${level('gateway id', gatewayId)}/status`;

/** The machine level of an ack topic, or null when `topic` is not one for `site`. */
export function machineOfAckTopic(site: string, topic: string): string | null {
  const parts = topic.split('/');
  if (
    parts.length !== 5 ||
    parts[0] !== TOPIC_ROOT ||
    parts[1] !== site ||
    parts[3] !== 'alert' ||
    parts[4] !== 'ack'
  ) {
    return null;
  }
  return parts[2];
}
