/**
 * Who may do what on the embedded broker.
 *
 *   role      connects with                 publishes                         subscribes
 *   gateway   broker.username/password      anything                          anything
 *   sensor    a broker.users entry          the raw topics of its sensors     nothing
 *   console   a broker.users entry          ack topics of configured machines anything
 *
 * With no account configured at all (the loopback-only default, the demo),
 * every client is the gateway; the configuration refuses a non-loopback
 * listen address in that case. Once accounts exist, a client without a
 * valid user name and password is refused at CONNECT (return code 4).
 * Passwords are compared in constant time over SHA-256 digests (equal
 * lengths), and an unknown user name costs the same compare.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { ackTopic, rawTopic } from '../contract/topics.js';
import type { GatewayConfig } from './config.js';

export type BrokerRole = 'gateway' | 'sensor' | 'console';

/** One account of the embedded broker. */
export interface BrokerAccount {
  username: string;
  password: string;
  role: BrokerRole;
  /** Topic filters (MQTT wildcards allowed) this account may publish on; ignored for the gateway. */
  publish?: readonly string[];
}

/** Counters of refused clients and operations. */
export interface BrokerAccessStats {
  refusedConnects: number;
  deniedPublishes: number;
  deniedSubscribes: number;
}

const digest = (s: string | Buffer) => createHash('sha256').update(s).digest();
const DUMMY = digest('faultline: no such user');

/** True when `topic` matches subscription `filter` (`+` one level, `#` the rest). */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true; // here i <= t.length: `a/#` matches `a` too
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

/** The access rules, checked by the broker hooks ({@link EmbeddedBroker}). */
export class BrokerAccess {
  private readonly accounts = new Map<string, BrokerAccount & { hash: Buffer }>();
  readonly stats: BrokerAccessStats = {
    refusedConnects: 0,
    deniedPublishes: 0,
    deniedSubscribes: 0,
  };

  constructor(accounts: readonly BrokerAccount[]) {
    for (const a of accounts) this.accounts.set(a.username, { ...a, hash: digest(a.password) });
  }

  /** Anonymous clients are the gateway while no account exists. */
  get open(): boolean {
    return this.accounts.size === 0;
  }

  /** The account a CONNECT's credentials belong to, or undefined (refuse). */
  authenticate(
    username: string | undefined,
    password: Buffer | undefined,
  ): BrokerAccount | undefined {
    if (this.open) return { username: username ?? '', password: '', role: 'gateway' };
    const a = username === undefined ? undefined : this.accounts.get(username);
    const given = digest(password ?? Buffer.alloc(0));
    const ok = timingSafeEqual(given, a?.hash ?? DUMMY) && a !== undefined;
    if (!ok) {
      this.stats.refusedConnects++;
      return undefined;
    }
    return a;
  }

  /** Whether `who` may publish on `topic`. */
  mayPublish(who: BrokerAccount | undefined, topic: string): boolean {
    const ok =
      who !== undefined &&
      (who.role === 'gateway' || (who.publish ?? []).some((f) => topicMatches(f, topic)));
    if (!ok) this.stats.deniedPublishes++;
    return ok;
  }

  /** Whether `who` may subscribe to `filter`. */
  maySubscribe(who: BrokerAccount | undefined, _filter: string): boolean {
    const ok = who !== undefined && (who.role === 'gateway' || who.role === 'console');
    if (!ok) this.stats.deniedSubscribes++;
    return ok;
  }
}

/**
 * The embedded broker's accounts from the configuration: the gateway's own
 * (broker.username) and broker.users, each sensor account given the raw
 * topics that route to its sensors, each console the ack topics of the
 * configured machines.
 */
export function brokerAccounts(
  c: Pick<GatewayConfig, 'site' | 'machines' | 'broker'>,
): BrokerAccount[] {
  if (c.broker.username === undefined) return [];
  const sensorTopics = new Map<number, string>();
  for (const m of c.machines)
    for (const s of m.sensors)
      if (!s.serial) sensorTopics.set(s.id, s.topic ?? rawTopic(c.site, m.id, s.id));
  const acks = c.machines.map((m) => ackTopic(c.site, m.id));
  return [
    { username: c.broker.username, password: c.broker.password ?? '', role: 'gateway' },
    ...c.broker.users.map((u) => ({
      username: u.username,
      password: u.password ?? '',
      role: u.role,
      publish:
        u.role === 'console'
          ? acks
          : u.sensors.flatMap((id) => {
              const t = sensorTopics.get(id);
              return t === undefined ? [] : [t];
            }),
    })),
  ];
}
