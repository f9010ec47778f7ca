#include "fl_node.h"

#include <string.h>

int fl_node_init(fl_node *n, const fl_node_cfg *cfg, uint8_t *tx_storage, size_t tx_cap)
{
    fl_frame_header h;

    if (cfg->channels == 0 || cfg->samples_per_frame == 0 ||
        (uint32_t)cfg->channels * cfg->samples_per_frame > FL_NODE_MAX_VALUES) {
        return -1;
    }
    memset(n, 0, sizeof *n);
    n->cfg = *cfg;
    if (fl_ring_init(&n->tx, tx_storage, tx_cap) != 0) {
        return -1;
    }
    /* Validate the header fields once, so a bad config fails at boot rather
     * than silently dropping every frame later. */
    memset(&h, 0, sizeof h);
    h.version_major = FL_FRAME_VERSION_MAJOR;
    h.format = FL_FMT_INT16;
    h.channels = cfg->channels;
    h.sample_rate = cfg->sample_rate_hz;
    h.scale = cfg->scale_g_per_lsb;
    h.sample_count = cfg->samples_per_frame;
    return fl_frame_size(&h) == 0 ? -1 : 0;
}

void fl_node_half_done(void *ctx, unsigned half, uint64_t t_last_us)
{
    fl_node *n = (fl_node *)ctx;
    uint32_t bit = 1u << (half & 1u);
    n->t_last[half & 1u] = t_last_us;
    if (__atomic_fetch_or(&n->ready, bit, __ATOMIC_ACQ_REL) & bit) {
        __atomic_fetch_add(&n->lost, 1u, __ATOMIC_RELAXED);
    }
}

static void send_half(fl_node *n, const int16_t *samples, uint64_t t_last_us)
{
    fl_frame_header h;
    size_t frame_len = 0, enc;
    uint32_t lost = __atomic_exchange_n(&n->lost, 0u, __ATOMIC_ACQ_REL);
    uint64_t span_us;

    /* Lost halves consume sequence numbers: the gateway sees the gap. */
    n->counters.overruns += lost;
    n->seq += lost;

    memset(&h, 0, sizeof h);
    h.version_major = FL_FRAME_VERSION_MAJOR;
    h.version_minor = FL_FRAME_VERSION_MINOR;
    h.format = FL_FMT_INT16;
    h.channels = n->cfg.channels;
    h.sensor_id = n->cfg.sensor_id;
    h.seq = n->seq++;
    /* The watermark interrupt stamps the last sample; the frame carries the
     * first, (count - 1) sample periods earlier. */
    span_us = (uint64_t)((float)(n->cfg.samples_per_frame - 1u) * 1e6f / n->cfg.sample_rate_hz);
    h.t0_us = t_last_us > span_us ? t_last_us - span_us : 0;
    h.sample_rate = n->cfg.sample_rate_hz;
    h.scale = n->cfg.scale_g_per_lsb;
    h.sample_count = n->cfg.samples_per_frame;
    h.rpm = hal_tach_rpm();
    if (!(h.rpm >= 0.0f) || h.rpm > 1e6f) {
        h.rpm = 0.0f; /* a glitching tach input must not make the frame invalid */
    }
    if (fl_frame_encode(&h, samples, NULL, n->frame, sizeof n->frame, &frame_len) != FL_OK) {
        return; /* unreachable after fl_node_init's check; the seq gap shows it anyway */
    }
    n->counters.frames_built++;

    if (n->cfg.mqtt_topic && hal_mqtt_publish(n->cfg.mqtt_topic, n->frame, frame_len) != 0) {
        n->counters.mqtt_failed++;
    }
    if (n->cfg.uart_enabled) {
        enc = fl_cobs_encode(n->frame, frame_len, n->packet, sizeof n->packet - 1u);
        n->packet[enc++] = 0x00; /* delimiter */
        if (!fl_ring_write(&n->tx, n->packet, enc)) {
            n->counters.uart_dropped++;
        }
    }
}

static void pump_uart(fl_node *n)
{
    for (;;) {
        const uint8_t *p;
        size_t run = fl_ring_peek(&n->tx, &p);
        size_t sent;
        if (run == 0) {
            return;
        }
        sent = hal_uart_write(p, run);
        fl_ring_consume(&n->tx, sent);
        if (sent < run) {
            return; /* UART queue full: try again next poll */
        }
    }
}

unsigned fl_node_poll(fl_node *n, int16_t *const halves[2])
{
    unsigned built = 0;
    uint32_t ready = __atomic_load_n(&n->ready, __ATOMIC_ACQUIRE);
    unsigned first = 0, k;

    /* With both halves ready, the one the DMA is not about to overwrite next
     * is the older: the DMA writes them alternately, so when half h is the
     * most recent, h^1 came first. t_last tells which. */
    if (ready == 3u && n->t_last[1] < n->t_last[0]) {
        first = 1;
    }
    for (k = 0; k < 2; k++) {
        unsigned h = first ^ k;
        uint32_t bit = 1u << h;
        if (ready & bit) {
            send_half(n, halves[h], n->t_last[h]);
            __atomic_fetch_and(&n->ready, ~bit, __ATOMIC_ACQ_REL);
            built++;
        }
    }
    pump_uart(n);
    return built;
}

size_t fl_node_tx_pending(const fl_node *n)
{
    return fl_ring_used(&n->tx);
}
