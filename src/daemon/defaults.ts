/**
 * The embedded defaults: what `faultline gateway` runs with no configuration
 * file. An embedded broker on loopback, a simulated fleet of six machines
 * publishing frames over MQTT into it, the simulator-trained model, the
 * embedded SQLite store and the dashboard on http://localhost:8080.
 *
 * The fleet mixes healthy and faulty machines, and two run at operating
 * conditions unlike the model's source data (1200 rpm under load; a noisier,
 * less sensitive sensor) — the cases on-the-spot adaptation is for.
 */
import type { GatewayConfigInput } from './config.js';
import { BUILTIN_SIM } from './models.js';

const sensor = (id: number) => [{ id, sampleRate: 12_000 }];

export const DEFAULT_GATEWAY_CONFIG: GatewayConfigInput = {
  site: 'demo',
  model: BUILTIN_SIM,
  machines: [
    {
      id: 'pump-1',
      description: 'healthy pump',
      sensors: sensor(1),
      simulate: { fault: 'none', seed: 11 },
    },
    {
      id: 'pump-2',
      description: 'inner-race fault',
      sensors: sensor(2),
      simulate: { fault: 'inner', seed: 12 },
    },
    {
      id: 'fan-3',
      description: 'outer-race fault',
      sensors: sensor(3),
      simulate: { fault: 'outer', seed: 13 },
    },
    {
      id: 'motor-4',
      description: 'ball fault',
      sensors: sensor(4),
      simulate: { fault: 'ball', seed: 14 },
    },
    {
      id: 'mill-5',
      description: 'outer-race fault at 1200 rpm under load (unlike the source data)',
      sensors: sensor(5),
      simulate: { fault: 'outer', condition: 'target-1200rpm', seed: 15 },
    },
    {
      id: 'press-6',
      description: 'healthy, noisier and less sensitive sensor (unlike the source data)',
      sensors: sensor(6),
      simulate: { fault: 'none', condition: 'target-noisy-gain', seed: 16 },
    },
  ],
};
