/**
 * The machines' alarms as OPC UA Alarms & Conditions (Part 9): one
 * AlarmConditionType instance per machine (`<machine>/fault`), its source the
 * machine object, so its events reach a subscription on the Server object.
 *
 * - A gateway alert entering `warning` or `alarm` activates the condition
 *   (unacknowledged, retained: it stays retained while active or
 *   unacknowledged, see keepActiveRetained) with the alert's severity and a message
 *   naming the fault and the alert id; `ok` or `watch` deactivates it. Other
 *   states (no data, starting) leave it as it is: a silent sensor does not
 *   clear a fault.
 * - An Acknowledge from a client is recorded as the gateway's ack of the
 *   alert that activated the condition (store, MQTT), by the session's user.
 * - An ack made elsewhere (API, MQTT) acknowledges the condition here.
 */
import type * as UA from 'node-opcua';
import type { Alert } from '../contract/alert.js';

type Ua = typeof UA;

/** Records an OPC UA acknowledgement as the gateway's ack of alert `id`. */
export type AlarmAck = (id: string, by: string, comment?: string) => Promise<void>;

/** OPC UA severity (1–1000) of each alert state that activates the condition. */
export const OPCUA_SEVERITY = { warning: 500, alarm: 800 } as const;

/** Who acknowledges when the session has no user (anonymous). */
export const ANONYMOUS_ACK_BY = 'opcua';

interface MachineAlarm {
  condition: UA.UAAlarmConditionEx;
  /** The alert that activated the condition last (the one an Acknowledge acks). */
  alertId?: string;
}

/**
 * Part 9 keeps a condition retained while it is of interest: active or
 * unacknowledged. node-opcua clears Retain on every Acknowledge (it assumes
 * an acknowledged alarm is done with), so an acknowledged but still active
 * alarm would vanish from a later client's ConditionRefresh. Every event of
 * the current branch goes through `raiseConditionEvent`: there an active
 * branch is marked retained again before the event is sent. (Inactive and
 * unacknowledged is retained by `onAlert`; inactive and acknowledged is not.)
 */
function keepActiveRetained(condition: UA.UAAlarmConditionEx): void {
  type Branch = { getActiveState(): boolean; setRetain(retain: boolean): void };
  const c = condition as unknown as {
    raiseConditionEvent(branch: Branch, renewEventId: boolean): void;
  };
  const raise = c.raiseConditionEvent.bind(condition);
  c.raiseConditionEvent = (branch, renewEventId) => {
    if (branch.getActiveState()) branch.setRetain(true);
    raise(branch, renewEventId);
  };
}

export class OpcuaAlarms {
  private readonly byMachine = new Map<string, MachineAlarm>();
  /** Set while the gateway acknowledges a condition: its `acknowledged` event is not an operator's. */
  private fromGateway = false;
  /** The user of the session whose Acknowledge call is running (methods run one at a time). */
  private caller: string | undefined;
  private acks = 0;

  constructor(
    private readonly ua: Ua,
    private readonly ns: UA.Namespace,
    private readonly o: { onAck: AlarmAck; warn: (m: string) => void },
  ) {
    // binds ConditionRefresh, Acknowledge, Enable… on the standard types (not done by default)
    ns.addressSpace.installAlarmsAndConditionsService();
    // The type's Acknowledge method is what standard clients call (methodId i=9111 on the
    // condition); wrapping it is the only place the calling session's user is known
    const type = ns.addressSpace.findEventType('AcknowledgeableConditionType');
    const method = type?.getMethodByName('Acknowledge');
    if (method) this.wrapAcknowledge(method);
  }

  /** Creates the alarm of machine `id` under its object; `input` is its state variable. */
  add(id: string, machine: UA.UAObject, input: UA.UAVariable): void {
    const condition = this.ns.instantiateAlarmCondition('AlarmConditionType', {
      browseName: 'fault',
      componentOf: machine,
      conditionSource: machine,
      conditionName: `${id} fault`,
      inputNode: input,
    });
    // node-opcua names the source by its qualified browse name ("1:<machine>"); clients show the id
    condition.setSourceName(id);
    condition.setEnabledState(true);
    keepActiveRetained(condition);
    this.wrapAcknowledge(condition.acknowledge);
    condition.on('acknowledged', (_eventId, comment) => {
      if (this.fromGateway) return;
      const a = this.byMachine.get(id);
      if (!a?.alertId) return;
      this.acks++;
      const by = this.caller ?? ANONYMOUS_ACK_BY;
      const text = comment?.text ?? undefined;
      this.o
        .onAck(a.alertId, by, text || undefined)
        .catch((e: Error) =>
          this.o.warn(`faultline gateway: OPC UA ack of ${id}'s alarm not recorded: ${e.message}`),
        );
    });
    this.byMachine.set(id, { condition });
  }

  /** Whether the alarm of `machine` is active (tests, stats). */
  isActive(machine: string): boolean {
    return this.byMachine.get(machine)?.condition.activeState.getValue() === true;
  }

  /** A gateway alert: activates or deactivates the machine's condition (see the module doc). */
  onAlert(alert: Alert): void {
    const a = this.byMachine.get(alert.machine);
    if (!a) return;
    const { condition } = a;
    if (alert.state === 'warning' || alert.state === 'alarm') {
      a.alertId = alert.id;
      condition.activateAlarm();
      condition.raiseNewCondition({
        message: `${alert.machine}: ${alert.state}, ${alert.faultClass} fault (confidence ${Math.round(alert.confidence * 100)} %, ${alert.velocityRmsMmS.toFixed(2)} mm/s); alert ${alert.id}`,
        severity: OPCUA_SEVERITY[alert.state],
        quality: this.ua.StatusCodes.Good,
        retain: true,
        time: new Date(alert.time),
      });
    } else if (alert.state === 'ok' || alert.state === 'watch') {
      if (!condition.activeState.getValue()) return;
      // an unacknowledged alarm stays retained until someone acknowledges it
      const acked = condition.ackedState.getValue() === true;
      condition.deactivateAlarm(!acked);
      condition.raiseNewCondition({
        message: `${alert.machine}: back to ${alert.state}`,
        severity: 100,
        quality: this.ua.StatusCodes.Good,
        retain: !acked,
        time: new Date(alert.time),
      });
    }
  }

  /** An ack the gateway recorded (API, MQTT, or this server): acknowledges the condition. */
  onGatewayAck(ack: { id: string; machine: string; by: string }): void {
    const a = this.byMachine.get(ack.machine);
    if (!a || a.alertId !== ack.id) return;
    const { condition } = a;
    if (condition.ackedState.getValue() === true) return;
    const branch = condition.currentBranch();
    if (!branch) return;
    this.fromGateway = true;
    try {
      condition.acknowledgeAndAutoConfirmBranch(branch, `acknowledged by ${ack.by}`);
    } finally {
      this.fromGateway = false;
    }
  }

  /** Counters for `GET /api/gateway`. */
  stats(): { alarmsActive: number; acks: number } {
    let alarmsActive = 0;
    for (const id of this.byMachine.keys()) if (this.isActive(id)) alarmsActive++;
    return { alarmsActive, acks: this.acks };
  }

  /**
   * Runs node-opcua's own Acknowledge handler with the calling session's user
   * noted, for the `acknowledged` listener (the event carries no session).
   */
  private wrapAcknowledge(method: UA.UAMethod): void {
    const impl = method as UA.UAMethod & { _asyncExecutionFunction?: UA.MethodFunctor };
    const original = impl._asyncExecutionFunction;
    if (!original || original.length < 3) return;
    const callbackStyle = original as (
      args: UA.Variant[],
      context: UA.ISessionContext,
      callback: (err: Error | null, result?: UA.CallMethodResultOptions) => void,
    ) => void;
    method.bindMethod((args, context, callback) => {
      const user = context.getUserName?.();
      this.caller = user && user !== 'anonymous' ? user : undefined;
      try {
        callbackStyle(args, context, callback);
      } finally {
        this.caller = undefined;
      }
    });
  }
}
