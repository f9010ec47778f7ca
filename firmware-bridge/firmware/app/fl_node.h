/*
 * Sensor-node logic, portable: turns double-buffered accelerometer blocks
 * into Faultline frames (PROTOCOL.md), COBS-frames them onto the UART through
 * a TX ring and, when configured, publishes the raw frame over MQTT.
 *
 * Data loss is never hidden: an acquisition overrun (a half refilled before
 * it was sent) or a TX ring too full for a whole packet skips a sequence
 * number, so the gateway counts the gap.
 */
#ifndef FL_NODE_H
#define FL_NODE_H

#include <stddef.h>
#include <stdint.h>

#include "../core/fl_cobs.h"
#include "../core/fl_frame.h"
#include "../core/fl_ring.h"
#include "../hal.h"

/* Largest frame the node builds: 3 axes x 1024 int16 samples + header + CRC. */
#define FL_NODE_MAX_VALUES (3u * 1024u)
#define FL_NODE_MAX_FRAME (FL_FRAME_HEADER_V1 + 2u * FL_NODE_MAX_VALUES + FL_FRAME_CRC_BYTES)

typedef struct {
    uint32_t sensor_id;
    uint8_t channels;
    float sample_rate_hz;
    float scale_g_per_lsb;
    uint32_t samples_per_frame;  /* per channel; channels * this <= FL_NODE_MAX_VALUES */
    int uart_enabled;
    const char *mqtt_topic;      /* faultline/<site>/<machine>/<sensor>/raw, or NULL */
} fl_node_cfg;

typedef struct {
    uint32_t frames_built;
    uint32_t uart_dropped;   /* packets not queued: TX ring full */
    uint32_t mqtt_failed;    /* publishes refused (not connected) */
    uint32_t overruns;       /* halves lost: refilled before they were sent */
} fl_node_counters;

typedef struct {
    fl_node_cfg cfg;
    uint32_t seq;                 /* next sequence number */
    fl_ring tx;
    volatile uint32_t ready;      /* bit h: half h is full (set in ISR) */
    volatile uint32_t lost;       /* halves overwritten before sending */
    volatile uint64_t t_last[2];  /* t_last_us of each half */
    fl_node_counters counters;
    uint8_t frame[FL_NODE_MAX_FRAME];
    uint8_t packet[FL_COBS_MAX_ENCODED(FL_NODE_MAX_FRAME) + 1u];
} fl_node;

/* Returns 0, or -1 for an invalid config or tx_cap (power of two needed). */
int fl_node_init(fl_node *n, const fl_node_cfg *cfg, uint8_t *tx_storage, size_t tx_cap);

/* hal_half_done_fn for hal_spi_dma_start (ctx = the fl_node). ISR-safe. */
void fl_node_half_done(void *ctx, unsigned half, uint64_t t_last_us);

/*
 * Main-loop step: frames every ready half of `halves`, queues/publishes it,
 * then pushes queued bytes to the UART. Returns the frames built.
 */
unsigned fl_node_poll(fl_node *n, int16_t *const halves[2]);

/* Bytes still waiting in the TX ring. */
size_t fl_node_tx_pending(const fl_node *n);

#endif
