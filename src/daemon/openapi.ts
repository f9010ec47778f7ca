/**
 * The OpenAPI 3.1 document of the dashboard API, served at
 * `/api/openapi.json`. Hand-written (the routes validate with zod); the Alert
 * schema is the one the MQTT alerts use (src/alerts/schema.ts).
 */
import { alertJsonSchema } from '../alerts/schema.js';

const json = (schema: object, description = 'OK') => ({
  description,
  content: { 'application/json': { schema } },
});
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const error = (description: string) => json(ref('Error'), description);
const machineParam = {
  name: 'id',
  in: 'path',
  required: true,
  schema: { type: 'string' },
  description: 'Machine id',
};

/** The document (a fresh object each call). */
export function openApiDocument(): Record<string, unknown> {
  const { $schema: _s, ...alert } = alertJsonSchema();
  return {
    openapi: '3.1.0',
    info: {
      title: 'Faultline gateway API',
      version: '1',
      description:
        'Live bearing-fault diagnosis of the machines of one site. Everything under /api needs the gateway token (Authorization: Bearer <token>, or ?token=<token>); GET /healthz and the static console are open.',
    },
    security: [{ bearer: [] }, { queryToken: [] }],
    paths: {
      '/healthz': {
        get: {
          summary: 'Liveness (no token)',
          security: [],
          responses: { 200: json({ type: 'object', properties: { ok: { type: 'boolean' } } }) },
        },
      },
      '/api/machines': {
        get: {
          summary: "Every machine's state, diagnosis and evidence",
          responses: {
            200: json({ type: 'array', items: ref('Machine') }),
            401: error('No or wrong token'),
          },
        },
      },
      '/api/machines/{id}': {
        get: {
          summary: 'One machine',
          parameters: [machineParam],
          responses: { 200: json(ref('Machine')), 404: error('Unknown machine') },
        },
      },
      '/api/machines/{id}/adapt': {
        post: {
          summary:
            'Adapt the machine’s model to its live signal (unlabelled); runs in the background',
          parameters: [machineParam],
          requestBody: {
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  additionalProperties: false,
                  properties: {
                    seconds: {
                      type: 'number',
                      minimum: 1,
                      maximum: 3600,
                      description: 'Live signal to collect, s (default adaptation.seconds)',
                    },
                    strategy: {
                      enum: ['dann', 'mmd'],
                      description: 'Alignment strategy (default adaptation.strategy)',
                    },
                  },
                },
              },
            },
          },
          responses: {
            202: json(ref('AdaptJob'), 'Started'),
            404: error('Unknown machine'),
            409: error('An adaptation of this machine is running'),
          },
        },
        get: {
          summary: "The machine's adaptation jobs, most recent first",
          parameters: [machineParam],
          responses: { 200: json({ type: 'array', items: ref('AdaptJob') }) },
        },
      },
      '/api/adaptations/{job}': {
        get: {
          summary: 'One adaptation job',
          parameters: [{ name: 'job', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { 200: json(ref('AdaptJob')), 404: error('Unknown job') },
        },
      },
      '/api/machines/{id}/promote': {
        post: {
          summary:
            'Activate a registered model version for the machine by hand. A candidate that failed a promotion guard needs force: true and a reason; every promotion is recorded in the registry audit trail (GET /api/models → audit)',
          parameters: [machineParam],
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  additionalProperties: false,
                  required: ['version', 'by'],
                  properties: {
                    version: {
                      type: 'string',
                      description: 'Registry version id, e.g. v3-1a2b3c4d',
                    },
                    force: {
                      type: 'boolean',
                      description: 'Activate although a promotion guard failed (needs reason)',
                    },
                    by: {
                      type: 'string',
                      minLength: 1,
                      maxLength: 200,
                      description: 'Who promotes',
                    },
                    reason: {
                      type: 'string',
                      minLength: 1,
                      maxLength: 1000,
                      description: 'Why (recorded; required with force)',
                    },
                  },
                },
              },
            },
          },
          responses: {
            200: json({
              type: 'object',
              properties: {
                machine: { type: 'string' },
                from: { type: 'string' },
                to: { type: 'string' },
                forced: { type: 'boolean', description: 'A failed guard was overridden' },
                audit: ref('Promotion'),
              },
            }),
            400: error('Bad body, or a model the machine cannot run'),
            404: error('Unknown machine or version'),
            409: error('The version failed a guard and force/reason were not given'),
          },
        },
      },
      '/api/machines/{id}/rollback': {
        post: {
          summary: 'Re-activate the previous model version of the machine',
          parameters: [machineParam],
          responses: {
            200: json({
              type: 'object',
              properties: {
                machine: { type: 'string' },
                from: { type: 'string' },
                to: { type: 'string' },
              },
            }),
            400: error('Nothing to roll back to'),
          },
        },
      },
      '/api/alerts': {
        get: {
          summary: 'Alerts, most recent first',
          parameters: [
            { name: 'machine', in: 'query', schema: { type: 'string' } },
            {
              name: 'since',
              in: 'query',
              schema: { type: 'string' },
              description: 'ISO 8601 time or ms since the epoch',
            },
            { name: 'until', in: 'query', schema: { type: 'string' } },
            { name: 'unacknowledged', in: 'query', schema: { enum: ['true', 'false'] } },
            {
              name: 'limit',
              in: 'query',
              schema: { type: 'integer', minimum: 1, maximum: 10000, default: 100 },
            },
          ],
          responses: { 200: json({ type: 'array', items: ref('Alert') }), 400: error('Bad query') },
        },
      },
      '/api/alerts/{id}/ack': {
        post: {
          summary: 'Acknowledge an alert (recorded in the store and published on the ack topic)',
          parameters: [
            { name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } },
          ],
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  additionalProperties: false,
                  required: ['by'],
                  properties: {
                    by: { type: 'string', minLength: 1, maxLength: 200 },
                    comment: { type: 'string', maxLength: 1000 },
                  },
                },
              },
            },
          },
          responses: {
            200: json(ref('Alert')),
            400: error('Bad body'),
            404: error('Unknown alert'),
          },
        },
      },
      '/api/gateway': {
        get: {
          summary:
            'Gateway health: ingest rate per sensor, frame errors and gaps, broker and database state, inference latency, queue depths, backend',
          responses: { 200: json({ type: 'object' }) },
        },
      },
      '/api/models': {
        get: {
          summary: 'Model registry: versions and the active version per machine',
          responses: { 200: json({ type: 'object' }) },
        },
      },
      '/api/stream': {
        get: {
          summary:
            'WebSocket of live events: {type, data} with type diagnosis | health | alert | ack | ingest | adaptation | hello | viewing. The client may send {"type":"view","machines":["<id>",…]}: while a machine is viewed, its diagnoses carry spectrogram (coarse, [freq, time], newFrames new at the end) and envelope ({freqHz, amplitude, df, binHz}, g)',
          responses: { 101: { description: 'Switching protocols' } },
        },
      },
    },
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer' },
        queryToken: { type: 'apiKey', in: 'query', name: 'token' },
      },
      schemas: {
        Error: {
          type: 'object',
          required: ['error', 'message'],
          properties: {
            error: { type: 'string', description: 'FL_ERR_… code' },
            message: { type: 'string' },
          },
        },
        Alert: alert,
        Machine: {
          type: 'object',
          required: ['id', 'site', 'sensors', 'state', 'ingest'],
          properties: {
            id: { type: 'string' },
            site: { type: 'string' },
            description: { type: 'string' },
            line: { type: 'string', description: 'Production line (config)' },
            bearing: {
              type: 'object',
              description: 'Bearing geometry used for the defect frequencies',
              properties: {
                balls: { type: 'integer' },
                ballDiameter: { type: 'number' },
                pitchDiameter: { type: 'number' },
                contactAngleDeg: { type: 'number' },
              },
            },
            bearingSource: { enum: ['config', 'default'] },
            iso: {
              type: 'object',
              properties: {
                group: { enum: [1, 2] },
                foundation: { enum: ['rigid', 'flexible'] },
              },
            },
            nominalRpm: { type: 'number', description: 'Configured nominal speed, rpm' },
            sensors: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  id: { type: 'integer' },
                  sampleRate: { type: 'number', description: 'Configured rate, Hz' },
                  link: { type: 'string' },
                  streamRate: {
                    type: 'number',
                    description: 'Rate of the latest block diagnosed, Hz',
                  },
                  resampling: {
                    type: 'string',
                    description:
                      "The resampler bringing the stream to the model's rate; absent when the stream is within ±1 % of it",
                  },
                  droppedBlocks: {
                    type: 'object',
                    additionalProperties: { type: 'integer' },
                    description:
                      'Whole blocks dropped, by reason (bad-rate, rate-changed, bad-block, refused…)',
                  },
                  misfit: {
                    type: 'object',
                    description: 'While the latest blocks do not fit: since when, how many, why',
                    properties: {
                      since: { type: 'string', format: 'date-time' },
                      blocks: { type: 'integer' },
                      reason: { type: 'string' },
                    },
                  },
                },
              },
            },
            state: {
              enum: [
                'starting',
                'ok',
                'watch',
                'warning',
                'alarm',
                'silent',
                'stream-errors',
                'saturated',
                'stream-mismatch',
              ],
            },
            stateSince: { type: 'string', format: 'date-time' },
            stateReason: {
              type: 'string',
              description:
                'Why the machine is in its state; for stream-mismatch, which sensor does not fit and why',
            },
            faultClass: { type: 'string' },
            confidence: { type: 'number', minimum: 0, maximum: 1 },
            diagnosis: {
              type: 'object',
              description:
                'Latest window: probs, rpm, rmsG, velocityRmsMmS, isoZone, crestFactor, kurtosis, modelVersion, latencyMs…',
            },
            evidence: {
              type: 'object',
              properties: {
                defect: { type: 'string' },
                frequencyHz: { type: 'number' },
                score: { type: 'number' },
              },
            },
            model: {
              type: 'object',
              properties: {
                version: { type: 'string' },
                contentHash: { type: 'string' },
                origin: { type: 'string' },
                classes: { type: 'array', items: { type: 'string' } },
              },
            },
            ingest: {
              type: 'object',
              properties: {
                frames: { type: 'integer' },
                badFrames: { type: 'integer' },
                gaps: { type: 'integer' },
                framesPerS: { type: 'number' },
                dropped: { type: 'integer' },
              },
            },
            simulated: { type: 'object', description: 'Ground truth of a simulated machine' },
            adaptation: ref('AdaptJob'),
            cluster: {
              type: 'object',
              description:
                'With cluster.enabled: whether this gateway owns (diagnoses) the machine, and the owning gateway id (null: none live). For a machine another gateway owns, state/stateSince/faultClass/confidence come from its retained state topic and diagnosis/evidence are absent',
              properties: { owned: { type: 'boolean' }, owner: { type: ['string', 'null'] } },
            },
          },
        },
        AdaptJob: {
          type: 'object',
          properties: {
            id: { type: 'string' },
            machine: { type: 'string' },
            strategy: { enum: ['dann', 'mmd'] },
            seconds: { type: 'number' },
            state: { enum: ['collecting', 'adapting', 'done', 'rejected', 'failed', 'cancelled'] },
            collectedS: { type: 'number' },
            step: { type: 'integer' },
            steps: { type: 'integer' },
            fromVersion: { type: 'string' },
            version: { type: 'string' },
            promoted: { type: 'boolean' },
            guards: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  name: { type: 'string' },
                  passed: { type: 'boolean' },
                  detail: { type: 'string' },
                },
              },
            },
            error: { type: 'string' },
            loss: { type: 'number', description: 'Latest mean total loss' },
            classLoss: { type: 'number' },
            domainLoss: { type: 'number' },
            losses: {
              type: 'array',
              description: 'Loss curve, one point per progress event (≤ 400)',
              items: {
                type: 'object',
                properties: {
                  step: { type: 'integer' },
                  loss: { type: 'number' },
                  classLoss: { type: 'number' },
                  domainLoss: { type: 'number' },
                },
              },
            },
            discriminatorAccuracy: {
              type: 'number',
              description: 'Latest domain-discriminator accuracy (DANN), 0.5 = domains confused',
            },
            checkpoints: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  step: { type: 'integer' },
                  sourceValAccuracy: { type: 'number' },
                  im: { type: 'number', description: 'Label-free criterion on the target' },
                  meanEntropy: { type: 'number' },
                  marginalEntropy: { type: 'number' },
                  discriminatorAccuracy: { type: 'number' },
                },
              },
            },
          },
        },
        Promotion: {
          type: 'object',
          properties: {
            at: { type: 'string', format: 'date-time' },
            action: { const: 'promote' },
            version: { type: 'string' },
            from: { type: 'string' },
            by: { type: 'string' },
            reason: { type: 'string' },
            forced: { type: 'boolean' },
            failedGuards: { type: 'array', items: { type: 'string' } },
          },
        },
      },
    },
  };
}
