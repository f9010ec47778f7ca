/**
 * The Sparkplug B (v1.0 namespace, spec 3.0) names of the gateway's edge node
 * (docs/sparkplug.md): topics and metric names. The gateway is one edge node
 * (`outputs.sparkplug.edgeNodeId`, default the gateway id); each machine it
 * diagnoses is a device named by the machine id. Payloads are the Sparkplug
 * protobuf (src/plant/sparkplug-node.ts encodes them with sparkplug-payload).
 *
 *   spBv1.0/<group>/NBIRTH/<node>            node birth: bdSeq, Node Control/Rebirth, properties
 *   spBv1.0/<group>/NDEATH/<node>            node death: bdSeq (the MQTT will; also sent on a clean stop)
 *   spBv1.0/<group>/DBIRTH/<node>/<machine>  every machine metric, on each (re)birth
 *   spBv1.0/<group>/DDATA/<node>/<machine>   the metrics that changed (report by exception)
 *   spBv1.0/<group>/DDEATH/<node>/<machine>  the machine is no longer reported (silent, moved away, stop)
 *   spBv1.0/<group>/NCMD/<node>              host commands; `Node Control/Rebirth` = true → births again
 */
import { assertTopicLevel } from './topics.js';

/** First topic level of Sparkplug B. */
export const SPARKPLUG_NAMESPACE = 'spBv1.0';

export type SparkplugNodeMessage = 'NBIRTH' | 'NDEATH' | 'NCMD';
export type SparkplugDeviceMessage = 'DBIRTH' | 'DDATA' | 'DDEATH';

/** Topic of a node-level message. */
export function sparkplugNodeTopic(
  group: string,
  type: SparkplugNodeMessage,
  node: string,
): string {
  assertTopicLevel('Sparkplug group id', group);
  assertTopicLevel('Sparkplug edge node id', node);
  return `${SPARKPLUG_NAMESPACE}/${group}/${type}/${node}`;
}

/** Topic of a device-level (machine) message. */
export function sparkplugDeviceTopic(
  group: string,
  type: SparkplugDeviceMessage,
  node: string,
  device: string,
): string {
  assertTopicLevel('Sparkplug group id', group);
  assertTopicLevel('Sparkplug edge node id', node);
  assertTopicLevel('Sparkplug device id', device);
  return `${SPARKPLUG_NAMESPACE}/${group}/${type}/${node}/${device}`;
}

/** Node metric names. */
export const NODE_METRICS = {
  bdSeq: 'bdSeq',
  rebirth: 'Node Control/Rebirth',
  site: 'Properties/Site',
  gateway: 'Properties/Gateway',
} as const;

/**
 * Device (machine) metric names, with their Sparkplug data types. Values as
 * in src/contract/metrics.ts; a value not known yet is sent as null
 * (`is_null`). `State Code` and `Alarm Bits` are the Modbus map's words
 * (./modbus-map.ts), so a PLC and a SCADA host compare like with like.
 */
export const DEVICE_METRICS = {
  state: { name: 'State', type: 'String' },
  stateCode: { name: 'State Code', type: 'UInt16' },
  faultClass: { name: 'Fault Class', type: 'String' },
  confidence: { name: 'Confidence', type: 'Double' },
  velocityRms: { name: 'Velocity RMS', type: 'Double', unit: 'mm/s' },
  isoZone: { name: 'ISO Zone', type: 'String' },
  alarmBits: { name: 'Alarm Bits', type: 'UInt16' },
  modelVersion: { name: 'Model Version', type: 'String' },
  lastWindow: { name: 'Last Window', type: 'DateTime' },
} as const;
