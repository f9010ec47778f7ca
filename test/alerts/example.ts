/** A valid alert for tests (not a test file itself). */
import { alertId, parseAlert } from '../../src/alerts/schema.js';
import type { Alert } from '../../src/contract/alert.js';

export const exampleAlert: Alert = {
  id: alertId('plant1', 'pump3', '7', Date.UTC(2025, 4, 2, 8, 30), 'alarm'),
  site: 'plant1',
  machine: 'pump3',
  sensor: '7',
  state: 'alarm',
  previousState: 'warning',
  faultClass: 'inner',
  confidence: 0.93,
  isoZone: 'C',
  velocityRmsMmS: 5.2,
  evidence: { defect: 'BPFI', frequencyHz: 162.2, prominence: 14.5 },
  reason: 'fault p ≥ 0.90 in 4 of last 5 windows',
  modelVersion: 'cnn-1.0.0',
  time: '2025-05-02T08:30:00.000Z',
};

/** A valid alert of site plant1 for `machine`, the i-th second from `t0` (default: of 2025). */
export function alertFor(
  machine: string,
  i: number,
  state: Alert['state'] = 'warning',
  t0 = Date.UTC(2025, 0, 1),
): Alert {
  const t = t0 + i * 1000;
  return parseAlert({
    ...exampleAlert,
    machine,
    state,
    id: alertId('plant1', machine, '7', t, state),
    time: new Date(t).toISOString(),
  });
}
