/**
 * Operator acknowledgements, from the API and from MQTT
 * (`faultline/<site>/<machine>/alert/ack`), checked before they are stored:
 *
 * - an ack must name an existing alert, and over MQTT an alert of the
 *   machine in its topic (a console allowed to ack one machine cannot ack
 *   another's alerts by naming their ids); anything else is counted as
 *   forged and dropped;
 * - the first ack stands: later ones are appended to the store's ack
 *   history, never overwrite it, and are not announced as the alert's ack;
 * - a store failure is the caller's error (the API answers 5xx), never a
 *   silent success;
 * - a verdict (issue #16) must name a class of the machine's model; it is
 *   stored with the ack first, and only then, for the ack that stands, are
 *   the windows around the alert labelled (./verdicts.ts): a verdict the
 *   gateway answered for is never lost, whatever happens to the windows.
 */
import type { Alert, Verdict } from '../contract/alert.js';
import { FaultlineError } from '../errors.js';
import type { AlertQuery, HistoryStore } from '../store/types.js';
import type { GatewayEvents } from './views.js';

/** Where an ack came from. */
export type AckVia = GatewayEvents['ack'][0]['via'];

export interface AckRecorderOptions {
  /** The store (undefined while the gateway starts or stops: acks then fail). */
  store: () => HistoryStore | undefined;
  /** The site's alerts (the gateway's own query). */
  alerts: (q: AlertQuery) => Promise<Alert[]>;
  /** Announces the ack that stands (the first). */
  announce: (ack: GatewayEvents['ack'][0]) => void;
  /** Throws FL_ERR_API_REQUEST when the verdict does not fit the alert's machine (its model's classes). */
  checkVerdict?: (machine: string, verdict: Verdict) => void;
  /** Labels the windows around the alert with the verdict of the ack that stands; never rejects. */
  keepVerdict?: (alert: Alert, ack: { by: string; verdict: Verdict }) => Promise<void>;
}

/** Counters for /api/gateway and the tests. */
export interface AckStats {
  /** First acks, stored and announced. */
  recorded: number;
  /** Later acks of an acknowledged alert, appended. */
  appended: number;
  /** Acks naming no alert, or an alert of another machine than their topic. */
  forged: number;
}

/** How many alerts a lookup scans (the store's most recent first). */
const LOOKUP_LIMIT = 100_000;

export class AckRecorder {
  readonly stats: AckStats = { recorded: 0, appended: 0, forged: 0 };

  constructor(private readonly o: AckRecorderOptions) {}

  /**
   * Checks and stores one ack.
   * @param machine the machine of the MQTT topic, or undefined for the API (any machine)
   * @returns the alert as stored (its `acknowledged` is the first ack) and whether this ack was first
   * @throws FaultlineError FL_ERR_API_NOT_FOUND for an unknown alert or a machine mismatch;
   *   FL_ERR_API_REQUEST for a verdict naming a class the machine's model does not have;
   *   whatever the store throws when it cannot record the ack
   */
  async record(
    a: { id: string; machine?: string; by: string; comment?: string; verdict?: Verdict },
    via: AckVia,
  ): Promise<{ alert: Alert; first: boolean }> {
    const found = (
      await this.o.alerts({ ...(a.machine ? { machine: a.machine } : {}), limit: LOOKUP_LIMIT })
    ).find((x) => x.id === a.id);
    if (!found) {
      this.stats.forged++;
      throw new FaultlineError(
        'FL_ERR_API_NOT_FOUND',
        a.machine
          ? `no alert with id ${JSON.stringify(a.id)} for machine ${a.machine}; an ack names an alert of the machine in its topic`
          : `no alert with id ${JSON.stringify(a.id)}`,
      );
    }
    if (a.verdict) this.o.checkVerdict?.(found.machine, a.verdict);
    const store = this.o.store();
    if (!store) throw new Error('the history store is not open; the ack was not recorded');
    const first = found.acknowledged === undefined;
    await store.ack(a.id, a.by, a.comment, a.verdict);
    if (!first) {
      this.stats.appended++;
      return { alert: found, first };
    }
    this.stats.recorded++;
    this.o.announce({
      id: a.id,
      machine: found.machine,
      by: a.by,
      ...(a.comment ? { comment: a.comment } : {}),
      ...(a.verdict ? { verdict: a.verdict } : {}),
      via,
    });
    if (a.verdict) await this.o.keepVerdict?.(found, { by: a.by, verdict: a.verdict });
    const stored = (await this.o.alerts({ machine: found.machine, limit: LOOKUP_LIMIT })).find(
      (x) => x.id === a.id,
    );
    return { alert: stored ?? found, first };
  }
}
