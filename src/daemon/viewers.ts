/**
 * Who looks at which machine in detail (WebSocket `view` messages). While
 * any client does, the machine's diagnoses carry the coarse spectrogram and
 * envelope spectrum; they are computed on demand because they cost a
 * transform per window that no one needs otherwise.
 */
import type { GatewayContext } from './gateway-context.js';
import type { MachineRuntime } from './machine-table.js';

export class Viewers {
  private readonly ctx: GatewayContext;
  private readonly counts = new Map<string, number>();

  constructor(ctx: GatewayContext) {
    this.ctx = ctx;
  }

  /**
   * One more client looks at `machine`. Returns the release function
   * (idempotent); unknown machines are ignored.
   */
  view(machine: string): () => void {
    const rt = this.ctx.machines.get(machine);
    if (!rt) return () => {};
    const n = (this.counts.get(machine) ?? 0) + 1;
    this.counts.set(machine, n);
    if (n === 1) this.setDisplay(rt, true);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.counts.get(machine) ?? 1) - 1;
      if (left > 0) this.counts.set(machine, left);
      else {
        this.counts.delete(machine);
        this.setDisplay(rt, false);
      }
    };
  }

  /** Clients currently looking at `machine`. */
  count(machine: string): number {
    return this.counts.get(machine) ?? 0;
  }

  private setDisplay(rt: MachineRuntime, on: boolean): void {
    const { pipeline } = this.ctx.parts;
    for (const s of rt.config.sensors) {
      const key = { site: this.ctx.config.site, machine: rt.config.id, sensor: String(s.id) };
      pipeline?.requestSpectrogram(key, on);
      pipeline?.requestEnvelope(key, on);
    }
  }
}
