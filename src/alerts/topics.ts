/**
 * MQTT topics of alerts, health state and gateway presence (src/alerts/README.md):
 *
 *   faultline/<site>/<machine>/alert          Alert JSON, QoS 1, not retained
 *   faultline/<site>/<machine>/state          HealthStatePayload JSON, QoS 1, retained
 *   faultline/<site>/<machine>/alert/ack      AlertAck JSON from operators, QoS 1
 *   faultline/<site>/gateway/<id>/status      GatewayStatus JSON, QoS 1, retained (+ Last Will)
 *
 * beside the raw frames on `faultline/<site>/<machine>/<sensor>/raw`
 * (firmware-bridge/PROTOCOL.md). `gateway` is therefore a reserved machine name.
 */
import { topicLevel } from '../contract/alert.js';

const ROOT = 'faultline';

function level(what: string, v: string): string {
  if (!topicLevel.safeParse(v).success) {
    throw new TypeError(
      `${what} ${JSON.stringify(v)} cannot be an MQTT topic level: use 1–128 characters without / + #`,
    );
  }
  return v;
}

export const alertTopic = (site: string, machine: string): string =>
  `${ROOT}/${level('site', site)}/${level('machine', machine)}/alert`;

export const stateTopic = (site: string, machine: string): string =>
  `${ROOT}/${level('site', site)}/${level('machine', machine)}/state`;

export const ackTopic = (site: string, machine: string): string =>
  `${ROOT}/${level('site', site)}/${level('machine', machine)}/alert/ack`;

/** Subscription filter for every machine's acks at a site. */
export const ackFilter = (site: string): string => `${ROOT}/${level('site', site)}/+/alert/ack`;

export const gatewayStatusTopic = (site: string, gatewayId: string): string =>
  `${ROOT}/${level('site', site)}/gateway/${level('gateway id', gatewayId)}/status`;

/** The machine level of an ack topic, or null when `topic` is not one for `site`. */
export function machineOfAckTopic(site: string, topic: string): string | null {
  const parts = topic.split('/');
  if (
    parts.length !== 5 ||
    parts[0] !== ROOT ||
    parts[1] !== site ||
    parts[3] !== 'alert' ||
    parts[4] !== 'ack'
  ) {
    return null;
  }
  return parts[2];
}
