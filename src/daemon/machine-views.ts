/**
 * The API's views of the running gateway: each machine as `GET /api/machines`
 * shows it, and the gateway's health for `GET /api/gateway`. Read-only: they
 * assemble the shapes of ./views.ts from the machine table and the parts.
 */

import { idlePublisherStats } from '../alerts/publisher.js';
import { CWRU_DE_BEARING } from '../contract/bearing.js';
import type { MachineDiagnosis, MachineView } from '../contract/machine.js';
import type { MachineStatus } from '../diagnose/pipeline-status.js';
import type { ClusterOwnership } from './cluster-ownership.js';
import type { GatewayContext } from './gateway-context.js';
import { redactUrl } from './secrets.js';
import type { GatewayHealth } from './views.js';

/** What the views read besides the context; absent parts read as not started. */
export interface ViewSources {
  ownership?: ClusterOwnership;
  /** ms since the epoch. */
  startedAt: number;
  brokerUrl: string;
  /** Points waiting for the store. */
  pendingPoints: number;
  /** Blocks that matched no sensor or came before the pipeline. */
  unroutedBlocks: number;
  /** Blocks of machines another gateway owns. */
  notOwnedBlocks: number;
  reload: GatewayHealth['reload'];
  /** Alarm-rate figures (./alarm-rates.ts). */
  alarmRate?: GatewayHealth['alarmRate'];
  /** Counters of the plant protocols that are on. */
  outputs?: GatewayHealth['outputs'];
  /** Counters of the `/api/stream` WebSocket, once the API listens. */
  stream?: GatewayHealth['stream'];
}

/** Every machine's state, diagnosis and evidence, in config order. */
export function machineViews(ctx: GatewayContext, v: ViewSources): MachineView[] {
  const status = new Map((ctx.parts.pipeline?.snapshot() ?? []).map((s) => [s.machine, s]));
  return ctx.machines
    .ids()
    .map((id) => machineView(ctx, v.ownership, id, status.get(id) ?? null) as MachineView);
}

/**
 * One machine, or undefined for an unknown id.
 * @param status the pipeline's status of the machine (looked up when not given)
 */
export function machineView(
  ctx: GatewayContext,
  ownership: ClusterOwnership | undefined,
  id: string,
  status?: MachineStatus | null,
): MachineView | undefined {
  const rt = ctx.machines.get(id);
  if (!rt) return undefined;
  const site = ctx.config.site;
  const m = rt.config;
  const st =
    status === undefined
      ? ctx.parts.pipeline?.machineStatus(`${site}/${id}`)
      : (status ?? undefined);
  const sensorStatus = new Map((st?.sensors ?? []).map((s) => [s.id, s]));
  const cluster = ctx.config.cluster.enabled;
  // another gateway's machine: our last diagnosis of it is stale, its owner's retained state is not
  const remote = cluster && !rt.owned ? (ownership?.remoteState(id) ?? null) : undefined;
  const d = remote === undefined ? rt.last : undefined;
  const { spectrogram: _s, envelope: _e, ...diag } = d ?? ({} as MachineDiagnosis);
  const sim = m.simulate ? ctx.parts.fleet?.machines.find((f) => f.machine === id) : undefined;
  const job = ctx.parts.adaptation?.jobs(id)[0];
  return {
    id,
    site,
    ...(m.description ? { description: m.description } : {}),
    ...(m.line ? { line: m.line } : {}),
    bearing: { ...(m.bearing ?? CWRU_DE_BEARING) },
    bearingSource: m.bearing ? 'config' : 'default',
    iso: { group: m.iso.group, foundation: m.iso.foundation },
    ...(m.nominalRpm !== undefined ? { nominalRpm: m.nominalRpm } : {}),
    sensors: m.sensors.map((s) => {
      const ss = remote === undefined ? sensorStatus.get(String(s.id)) : undefined;
      return {
        id: s.id,
        sampleRate: s.sampleRate,
        link: s.serial
          ? `serial:${s.serial}`
          : `mqtt:${s.topic ?? `faultline/${site}/${id}/${s.id}/raw`}`,
        ...(ss?.streamRate != null ? { streamRate: ss.streamRate } : {}),
        ...(ss?.resampling ? { resampling: ss.resampling } : {}),
        ...(ss && Object.keys(ss.droppedBlocks).length > 0
          ? { droppedBlocks: { ...ss.droppedBlocks } as Record<string, number> }
          : {}),
        ...(ss?.misfit
          ? {
              misfit: {
                since: new Date(ss.misfit.since).toISOString(),
                blocks: ss.misfit.blocks,
                reason: ss.misfit.reason,
              },
            }
          : {}),
      };
    }),
    ...(remote !== undefined
      ? {
          state: remote?.state ?? 'starting',
          ...(remote
            ? {
                stateSince: remote.since,
                faultClass: remote.faultClass,
                confidence: remote.confidence,
                ...(remote.reason ? { stateReason: remote.reason } : {}),
              }
            : {}),
        }
      : {
          state: rt.state,
          ...(rt.stateSince !== undefined
            ? { stateSince: new Date(rt.stateSince).toISOString() }
            : {}),
          ...(st?.health.reason && rt.state !== 'starting'
            ? { stateReason: st.health.reason }
            : {}),
          faultClass: rt.faultClass ?? d?.faultClass,
          confidence: rt.confidence ?? (d ? 1 - (d.probs.normal ?? 0) : undefined),
        }),
    ...(d
      ? {
          diagnosis: diag as Omit<MachineDiagnosis, 'spectrogram' | 'envelope'>,
          evidence: d.evidence,
        }
      : {}),
    ...(ctx.parts.verdicts
      ? {
          verdicts: ctx.parts.verdicts.counts(id),
          verdictsMinPerClass: ctx.config.verdicts.minPerClass,
        }
      : {}),
    ...(rt.version
      ? {
          model: {
            version: rt.version.id,
            contentHash: rt.version.contentHash,
            origin: rt.version.origin,
            classes: rt.version.classes,
          },
        }
      : {}),
    ingest: { ...rt.ingest },
    ...(sim ? { simulated: { fault: sim.fault, condition: sim.condition, rpm: sim.rpm } } : {}),
    ...(job ? { adaptation: job } : {}),
    shelved: ctx.parts.shelving?.get(id) ?? null,
    ...(cluster ? { cluster: { owned: rt.owned, owner: rt.owner } } : {}),
  };
}

/** Gateway health for `GET /api/gateway`. */
export function gatewayHealth(ctx: GatewayContext, v: ViewSources): GatewayHealth {
  const { parts } = ctx;
  const perSensor: GatewayHealth['ingest']['perSensor'] = {};
  for (const rt of ctx.machines.all()) {
    for (const s of rt.config.sensors) {
      perSensor[`${rt.config.id}/${s.id}`] = {
        framesPerS: rt.ingest.framesPerS / rt.config.sensors.length,
        frames: rt.ingest.frames,
        gaps: rt.ingest.gaps,
        badFrames: rt.ingest.badFrames,
      };
    }
  }
  const store = parts.store?.stats() ?? {
    queued: 0,
    queuedBytes: 0,
    queuedAlerts: 0,
    written: 0,
    flushed: 0,
    dropped: 0,
    rejected: 0,
    lastError: null,
    connected: false,
  };
  return {
    site: ctx.config.site,
    gatewayId: ctx.gatewayId,
    startedAt: new Date(v.startedAt).toISOString(),
    uptimeS: Math.round((Date.now() - v.startedAt) / 1000),
    broker: {
      url: redactUrl(v.brokerUrl),
      embedded: ctx.config.broker.embedded,
      connected: parts.alertClient?.connected ?? false,
      ...(parts.broker
        ? { clients: parts.broker.stats().clients, access: parts.broker.stats().access }
        : {}),
    },
    ingest: { sources: parts.sources.map((s) => s.stats()), perSensor },
    store: { kind: parts.storeKind, ...store, ...{ pendingPoints: v.pendingPoints } },
    alerts: parts.publisher?.stats() ?? idlePublisherStats(),
    ...(parts.notifiers?.length ? { notify: parts.notifiers.map((n) => n.stats()) } : {}),
    pipeline: parts.pipeline
      ? { ...(parts.pipeline.stats() as object), unroutedBlocks: v.unroutedBlocks }
      : null,
    ...(v.alarmRate ? { alarmRate: v.alarmRate } : {}),
    ...(parts.fleet ? { fleet: { machines: parts.fleet.machines.length } } : {}),
    reload: { ...v.reload },
    ...(v.stream ? { stream: v.stream } : {}),
    ...(v.outputs ? { outputs: v.outputs } : {}),
    ...(v.ownership ? { cluster: v.ownership.health(v.notOwnedBlocks) } : {}),
  };
}
