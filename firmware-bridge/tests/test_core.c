/*
 * Unit tests of the portable firmware core and the node logic, on the host.
 *
 *   test_core <vectors-dir>
 *
 * A tiny runner: CHECK records a failure with its line and goes on; the
 * exit status is the number of failures (capped), so make fails on any.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/fl_node.h"
#include "core/fl_cobs.h"
#include "core/fl_crc32c.h"
#include "core/fl_frame.h"
#include "core/fl_ring.h"
#include "hal_fake.h"

static int failures;
static int checks;
static const char *vectors_dir = "vectors";

#define CHECK(cond)                                                                   \
    do {                                                                              \
        checks++;                                                                     \
        if (!(cond)) {                                                                \
            failures++;                                                               \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                             \
    } while (0)

static uint32_t rng_state = 0x12345678u;
static uint32_t rnd(void)
{
    /* xorshift32: deterministic, good enough for test data */
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

static uint8_t buf_a[FL_FRAME_MAX_BYTES + 64];
static uint8_t buf_b[FL_COBS_MAX_ENCODED(FL_FRAME_MAX_BYTES) + 64];
static uint8_t buf_c[FL_FRAME_MAX_BYTES + 64];

/* ── CRC-32C ───────────────────────────────────────────────────────────── */

static void test_crc(void)
{
    const char *check = "123456789";
    uint32_t whole = fl_crc32c(0, check, 9);
    CHECK(whole == 0xE3069283u);
    CHECK(fl_crc32c(fl_crc32c(0, check, 4), check + 4, 5) == whole);
    CHECK(fl_crc32c(0, check, 0) == 0);
    /* 32 zero bytes: RFC 3720 (iSCSI) B.4 check value */
    memset(buf_a, 0, 32);
    CHECK(fl_crc32c(0, buf_a, 32) == 0x8A9136AAu);
    memset(buf_a, 0xFF, 32);
    CHECK(fl_crc32c(0, buf_a, 32) == 0x62A8AB43u);
}

/* ── COBS ──────────────────────────────────────────────────────────────── */

static int cobs_case(const uint8_t *in, size_t n, const uint8_t *want, size_t want_n)
{
    size_t enc = fl_cobs_encode(in, n, buf_b, sizeof buf_b);
    size_t dec = 0;
    if (enc != want_n || memcmp(buf_b, want, want_n) != 0) {
        return 0;
    }
    if (fl_cobs_decode(buf_b, enc, buf_c, sizeof buf_c, &dec) != FL_OK) {
        return 0;
    }
    return dec == n && memcmp(buf_c, in, n) == 0;
}

static void test_cobs(void)
{
    size_t i, len, enc, dec;
    /* The usual published examples (Wikipedia "Consistent Overhead Byte Stuffing"). */
    {
        static const uint8_t i1[] = {0x00}, o1[] = {0x01, 0x01};
        static const uint8_t i2[] = {0x00, 0x00}, o2[] = {0x01, 0x01, 0x01};
        static const uint8_t i3[] = {0x00, 0x11, 0x00}, o3[] = {0x01, 0x02, 0x11, 0x01};
        static const uint8_t i4[] = {0x11, 0x22, 0x00, 0x33}, o4[] = {0x03, 0x11, 0x22, 0x02, 0x33};
        static const uint8_t i5[] = {0x11, 0x22, 0x33, 0x44}, o5[] = {0x05, 0x11, 0x22, 0x33, 0x44};
        static const uint8_t i6[] = {0x11, 0x00, 0x00, 0x00}, o6[] = {0x02, 0x11, 0x01, 0x01, 0x01};
        static const uint8_t o0[] = {0x01};
        CHECK(cobs_case(i1, 0, o0, 1));
        CHECK(cobs_case(i1, sizeof i1, o1, sizeof o1));
        CHECK(cobs_case(i2, sizeof i2, o2, sizeof o2));
        CHECK(cobs_case(i3, sizeof i3, o3, sizeof o3));
        CHECK(cobs_case(i4, sizeof i4, o4, sizeof o4));
        CHECK(cobs_case(i5, sizeof i5, o5, sizeof o5));
        CHECK(cobs_case(i6, sizeof i6, o6, sizeof o6));
    }
    {
        static uint8_t in[256], want[260];
        /* 01..FE (254 bytes) -> FF 01..FE */
        for (i = 0; i < 254; i++) {
            in[i] = (uint8_t)(i + 1);
        }
        want[0] = 0xFF;
        memcpy(want + 1, in, 254);
        CHECK(cobs_case(in, 254, want, 255));
        /* 00 01..FE (255 bytes) -> 01 FF 01..FE */
        in[0] = 0;
        for (i = 1; i < 255; i++) {
            in[i] = (uint8_t)i;
        }
        want[0] = 0x01;
        want[1] = 0xFF;
        memcpy(want + 2, in + 1, 254);
        CHECK(cobs_case(in, 255, want, 256));
        /* 01..FF (255 bytes) -> FF 01..FE 02 FF */
        for (i = 0; i < 255; i++) {
            in[i] = (uint8_t)(i + 1);
        }
        want[0] = 0xFF;
        memcpy(want + 1, in, 254);
        want[255] = 0x02;
        want[256] = 0xFF;
        CHECK(cobs_case(in, 255, want, 257));
        /* The paper's trailing 0x01 after a final full block decodes the same. */
        want[0] = 0xFF;
        for (i = 0; i < 254; i++) {
            want[1 + i] = (uint8_t)(i + 1);
        }
        want[255] = 0x01;
        CHECK(fl_cobs_decode(want, 256, buf_c, sizeof buf_c, &dec) == FL_OK && dec == 254 &&
              memcmp(buf_c, in, 254) == 0);
    }
    /* Random round trips, zero-rich and zero-free, every length to 1100. */
    for (len = 0; len <= 1100; len++) {
        int zero_free = (int)(len % 2);
        for (i = 0; i < len; i++) {
            uint8_t b = (uint8_t)rnd();
            buf_a[i] = zero_free ? (uint8_t)(b | 1u) : (uint8_t)(b & (rnd() % 4 ? 0xFF : 0x00));
        }
        enc = fl_cobs_encode(buf_a, len, buf_b, sizeof buf_b);
        CHECK(enc > 0 && enc <= FL_COBS_MAX_ENCODED(len));
        CHECK(memchr(buf_b, 0, enc) == NULL);
        CHECK(fl_cobs_decode(buf_b, enc, buf_c, sizeof buf_c, &dec) == FL_OK);
        CHECK(dec == len && memcmp(buf_c, buf_a, len) == 0);
        /* in place */
        CHECK(fl_cobs_decode(buf_b, enc, buf_b, enc, &dec) == FL_OK);
        CHECK(dec == len && memcmp(buf_b, buf_a, len) == 0);
    }
    /* Errors. */
    {
        static const uint8_t overrun[] = {0x05, 0x11, 0x22};
        static const uint8_t embedded0[] = {0x03, 0x11, 0x00};
        static const uint8_t ok[] = {0x05, 0x11, 0x22, 0x33, 0x44};
        CHECK(fl_cobs_decode(overrun, sizeof overrun, buf_c, sizeof buf_c, &dec) == FL_ERR_COBS);
        CHECK(fl_cobs_decode(embedded0, sizeof embedded0, buf_c, sizeof buf_c, &dec) == FL_ERR_COBS);
        CHECK(fl_cobs_decode(ok, sizeof ok, buf_c, 3, &dec) == FL_ERR_BUFFER);
        CHECK(fl_cobs_encode(ok, sizeof ok, buf_b, FL_COBS_MAX_ENCODED(sizeof ok) - 1u) == 0);
    }
}

/* ── frames ────────────────────────────────────────────────────────────── */

static fl_frame_header test_header(uint8_t format, uint8_t channels, uint32_t count)
{
    fl_frame_header h;
    memset(&h, 0, sizeof h);
    h.version_major = 1;
    h.format = format;
    h.channels = channels;
    h.sample_count = count;
    h.sensor_id = 0xA1B2C3D4u;
    h.seq = 0xFFFFFFFEu;
    h.t0_us = 0x0123456789ABCDEFull;
    h.sample_rate = 26667.0f;
    h.scale = 0.000061f;
    h.rpm = 1480.25f;
    return h;
}

static void test_frame_round_trip(void)
{
    static int16_t s16[3 * 100];
    static int32_t s32[2 * 50];
    static float f32[4 * 25];
    fl_frame_header h, d;
    const uint8_t *samples = NULL;
    size_t n = 0, i;

    for (i = 0; i < 300; i++) {
        s16[i] = (int16_t)rnd();
    }
    h = test_header(FL_FMT_INT16, 3, 100);
    CHECK(fl_frame_encode(&h, s16, NULL, buf_a, sizeof buf_a, &n) == FL_OK);
    CHECK(n == 40 + 600 + 4 && n == fl_frame_size(&h));
    CHECK(buf_a[0] == 'F' && buf_a[1] == 'L' && buf_a[2] == 1 && buf_a[3] == 0);
    CHECK(fl_get_u16(buf_a + 4) == 40);
    CHECK(fl_frame_decode(buf_a, n, &d, &samples) == FL_OK);
    CHECK(d.sensor_id == h.sensor_id && d.seq == h.seq && d.t0_us == h.t0_us);
    CHECK(d.sample_rate == h.sample_rate && d.scale == h.scale && d.rpm == h.rpm);
    CHECK(d.channels == 3 && d.sample_count == 100 && d.format == FL_FMT_INT16);
    CHECK(d.header_len == 40 && d.version_minor == 0);
    CHECK(samples == buf_a + 40);
    for (i = 0; i < 300; i++) {
        if ((int16_t)fl_get_u16(samples + 2 * i) != s16[i]) {
            break;
        }
    }
    CHECK(i == 300);
    CHECK(fl_frame_sample_g(&d, samples, 7) == (float)s16[7] * 0.000061f);

    for (i = 0; i < 100; i++) {
        s32[i] = (int32_t)rnd();
    }
    h = test_header(FL_FMT_INT32, 2, 50);
    CHECK(fl_frame_encode(&h, s32, NULL, buf_a, sizeof buf_a, &n) == FL_OK);
    CHECK(fl_frame_decode(buf_a, n, &d, &samples) == FL_OK);
    CHECK((int32_t)fl_get_u32(samples + 4 * 99) == s32[99]);

    for (i = 0; i < 100; i++) {
        f32[i] = (float)((int32_t)rnd()) / 1e6f;
    }
    h = test_header(FL_FMT_FLOAT32, 4, 25);
    h.scale = 1.0f;
    CHECK(fl_frame_encode(&h, f32, NULL, buf_a, sizeof buf_a, &n) == FL_OK);
    CHECK(fl_frame_decode(buf_a, n, &d, &samples) == FL_OK);
    CHECK(fl_frame_sample_g(&d, samples, 42) == f32[42]);

    /* header extension is skipped by the reader */
    {
        static const uint8_t ext[4] = {1, 2, 3, 4};
        h = test_header(FL_FMT_INT16, 1, 10);
        h.version_minor = 3;
        h.header_len = 44;
        CHECK(fl_frame_encode(&h, s16, ext, buf_a, sizeof buf_a, &n) == FL_OK);
        CHECK(n == 44 + 20 + 4 && memcmp(buf_a + 40, ext, 4) == 0);
        CHECK(fl_frame_decode(buf_a, n, &d, &samples) == FL_OK);
        CHECK(samples == buf_a + 44 && d.version_minor == 3 && (int16_t)fl_get_u16(samples) == s16[0]);
    }
}

static void test_frame_errors(void)
{
    static int16_t s16[64];
    fl_frame_header h, d;
    const uint8_t *samples;
    size_t n = 0, i, bit;

    h = test_header(FL_FMT_INT16, 1, 64);
    CHECK(fl_frame_encode(&h, s16, NULL, buf_a, sizeof buf_a, &n) == FL_OK);
    CHECK(fl_frame_decode(buf_a, n, &d, &samples) == FL_OK);
    CHECK(fl_frame_decode(buf_a, 11, &d, &samples) == FL_ERR_FRAME_LENGTH);
    CHECK(fl_frame_decode(buf_a, FL_FRAME_MAX_BYTES + 1u, &d, &samples) == FL_ERR_FRAME_LENGTH);
    /* every single-bit flip is caught (CRC-32C: all 1-bit errors) */
    for (i = 0; i < n; i++) {
        for (bit = 0; bit < 8; bit++) {
            buf_a[i] ^= (uint8_t)(1u << bit);
            if (fl_frame_decode(buf_a, n, &d, &samples) == FL_OK) {
                CHECK(!"a bit flip was not detected");
            }
            buf_a[i] ^= (uint8_t)(1u << bit);
        }
    }
    /* truncation: CRC no longer matches */
    CHECK(fl_frame_decode(buf_a, n - 1, &d, &samples) == FL_ERR_FRAME_CRC);

#define RECRC() fl_put_u32(buf_a + n - 4, fl_crc32c(0, buf_a, n - 4))
    buf_a[0] = 'f';
    CHECK(fl_frame_decode(buf_a, n, &d, &samples) == FL_ERR_FRAME_MAGIC);
    buf_a[0] = 'F';
    buf_a[2] = 2;
    RECRC();
    CHECK(fl_frame_decode(buf_a, n, &d, &samples) == FL_ERR_FRAME_VERSION);
    buf_a[2] = 0;
    RECRC();
    CHECK(fl_frame_decode(buf_a, n, &d, &samples) == FL_ERR_FRAME_VERSION);
    buf_a[2] = 1;
    fl_put_u16(buf_a + 4, 36);
    RECRC();
    CHECK(fl_frame_decode(buf_a, n, &d, &samples) == FL_ERR_FRAME_FIELD);
    fl_put_u16(buf_a + 4, 42);
    RECRC();
    CHECK(fl_frame_decode(buf_a, n, &d, &samples) == FL_ERR_FRAME_FIELD);
    fl_put_u16(buf_a + 4, 0xFFFC);
    RECRC();
    CHECK(fl_frame_decode(buf_a, n, &d, &samples) == FL_ERR_FRAME_LENGTH);
    fl_put_u16(buf_a + 4, 44); /* shifts samples: total length no longer adds up */
    RECRC();
    CHECK(fl_frame_decode(buf_a, n, &d, &samples) == FL_ERR_FRAME_LENGTH);
    fl_put_u16(buf_a + 4, 40);
    buf_a[6] = 0;
    RECRC();
    CHECK(fl_frame_decode(buf_a, n, &d, &samples) == FL_ERR_FRAME_FIELD);
    buf_a[6] = FL_FMT_INT32; /* 64 int32 would need 256 bytes */
    RECRC();
    CHECK(fl_frame_decode(buf_a, n, &d, &samples) == FL_ERR_FRAME_LENGTH);
    buf_a[6] = FL_FMT_INT16;
    buf_a[7] = 0;
    RECRC();
    CHECK(fl_frame_decode(buf_a, n, &d, &samples) == FL_ERR_FRAME_FIELD);
    buf_a[7] = 1;
    fl_put_f32(buf_a + 24, -1.0f);
    RECRC();
    CHECK(fl_frame_decode(buf_a, n, &d, &samples) == FL_ERR_FRAME_FIELD);
    fl_put_u32(buf_a + 24, 0x7FC00000u); /* NaN */
    RECRC();
    CHECK(fl_frame_decode(buf_a, n, &d, &samples) == FL_ERR_FRAME_FIELD);
    fl_put_f32(buf_a + 24, 26667.0f);
    fl_put_f32(buf_a + 28, 0.0f);
    RECRC();
    CHECK(fl_frame_decode(buf_a, n, &d, &samples) == FL_ERR_FRAME_FIELD);
    fl_put_f32(buf_a + 28, 0.000061f);
    fl_put_f32(buf_a + 36, -5.0f);
    RECRC();
    CHECK(fl_frame_decode(buf_a, n, &d, &samples) == FL_ERR_FRAME_FIELD);
    fl_put_u32(buf_a + 36, 0x7F800000u); /* +inf */
    RECRC();
    CHECK(fl_frame_decode(buf_a, n, &d, &samples) == FL_ERR_FRAME_FIELD);
    fl_put_f32(buf_a + 36, 0.0f);
    fl_put_u32(buf_a + 32, 0);
    RECRC();
    CHECK(fl_frame_decode(buf_a, n, &d, &samples) == FL_ERR_FRAME_FIELD);
    fl_put_u32(buf_a + 32, 0x80000000u); /* overflow must not wrap into "fits" */
    RECRC();
    CHECK(fl_frame_decode(buf_a, n, &d, &samples) == FL_ERR_FRAME_LENGTH);
    fl_put_u32(buf_a + 32, 64);
    RECRC();
    CHECK(fl_frame_decode(buf_a, n, &d, &samples) == FL_OK);
#undef RECRC

    /* encoder refuses what the decoder would refuse */
    h = test_header(FL_FMT_INT16, 1, 64);
    h.version_major = 2;
    CHECK(fl_frame_encode(&h, s16, NULL, buf_a, sizeof buf_a, &n) == FL_ERR_FRAME_VERSION);
    h = test_header(FL_FMT_INT16, 1, 64);
    h.scale = 0.0f;
    CHECK(fl_frame_encode(&h, s16, NULL, buf_a, sizeof buf_a, &n) == FL_ERR_FRAME_FIELD);
    h = test_header(7, 1, 64);
    CHECK(fl_frame_encode(&h, s16, NULL, buf_a, sizeof buf_a, &n) == FL_ERR_FRAME_FIELD);
    h = test_header(FL_FMT_INT16, 1, 64);
    CHECK(fl_frame_encode(&h, s16, NULL, buf_a, 100, &n) == FL_ERR_BUFFER);
    h = test_header(FL_FMT_INT16, 1, 32747); /* 65538 bytes */
    CHECK(fl_frame_size(&h) == 0);
    CHECK(fl_frame_encode(&h, s16, NULL, buf_a, sizeof buf_a, &n) == FL_ERR_FRAME_LENGTH);
    h.sample_count = 32746;
    CHECK(fl_frame_size(&h) == FL_FRAME_MAX_BYTES);
}

/* ── ring ──────────────────────────────────────────────────────────────── */

static void test_ring(void)
{
    static uint8_t storage[16];
    fl_ring r;
    uint8_t out[32];
    const uint8_t *p;
    size_t i, k, total_in = 0, total_out = 0;

    CHECK(fl_ring_init(&r, storage, 12) == -1);
    CHECK(fl_ring_init(&r, storage, 16) == 0);
    CHECK(fl_ring_write(&r, (const uint8_t *)"abcdefghij", 10) == 1);
    CHECK(fl_ring_write(&r, (const uint8_t *)"0123456789", 10) == 0); /* all or nothing */
    CHECK(fl_ring_used(&r) == 10 && fl_ring_free(&r) == 6);
    CHECK(fl_ring_read(&r, out, 8) == 8 && memcmp(out, "abcdefgh", 8) == 0);
    CHECK(fl_ring_write(&r, (const uint8_t *)"0123456789", 10) == 1); /* wraps */
    CHECK(fl_ring_peek(&r, &p) == 8 && memcmp(p, "ij012345", 8) == 0);
    fl_ring_consume(&r, 8);
    CHECK(fl_ring_peek(&r, &p) == 4 && memcmp(p, "6789", 4) == 0);
    CHECK(fl_ring_read(&r, out, 32) == 4 && fl_ring_used(&r) == 0);
    /* byte stream integrity over many wraps */
    for (k = 0; k < 2000; k++) {
        uint8_t chunk[7];
        size_t m = rnd() % 8;
        for (i = 0; i < m && i < sizeof chunk; i++) {
            chunk[i] = (uint8_t)(total_in + i);
        }
        if (m <= sizeof chunk && fl_ring_write(&r, chunk, m)) {
            total_in += m;
        }
        m = fl_ring_read(&r, out, rnd() % 9);
        for (i = 0; i < m; i++) {
            if (out[i] != (uint8_t)(total_out + i)) {
                CHECK(!"ring reordered bytes");
                return;
            }
        }
        total_out += m;
    }
    CHECK(total_in - total_out == fl_ring_used(&r));
}

/* ── node logic over the fake HAL ──────────────────────────────────────── */

/* Splits fake_uart into packets, decodes them; returns the frame count and
 * writes the seqs. Returns -1 on any bad packet. */
static int decode_uart(uint32_t *seqs, size_t max, fl_frame_header *last)
{
    size_t start = 0, i, count = 0;
    for (i = 0; i < fake_uart_len; i++) {
        if (fake_uart[i] == 0) {
            size_t dec = 0;
            const uint8_t *s;
            if (fl_cobs_decode(fake_uart + start, i - start, buf_c, sizeof buf_c, &dec) != FL_OK ||
                fl_frame_decode(buf_c, dec, last, &s) != FL_OK) {
                return -1;
            }
            if (count < max) {
                seqs[count] = last->seq;
            }
            count++;
            start = i + 1;
        }
    }
    return start == fake_uart_len ? (int)count : -1;
}

static void test_node(void)
{
    static fl_node node;
    static uint8_t tx[8192];
    static int16_t half0[3 * 256], half1[3 * 256];
    int16_t *const halves[2] = {half0, half1};
    fl_node_cfg cfg;
    hal_accel_info info;
    fl_frame_header last;
    uint32_t seqs[16];
    size_t i;
    int got;

    CHECK(hal_accel_init(&info) == 0);
    memset(&cfg, 0, sizeof cfg);
    cfg.sensor_id = 5;
    cfg.channels = info.channels;
    cfg.sample_rate_hz = info.sample_rate_hz;
    cfg.scale_g_per_lsb = info.scale_g_per_lsb;
    cfg.samples_per_frame = 256;
    cfg.uart_enabled = 1;
    cfg.mqtt_topic = "faultline/site1/pump3/5/raw";

    CHECK(fl_node_init(&node, &cfg, tx, 1000) == -1); /* not a power of two */
    cfg.samples_per_frame = 2000;
    CHECK(fl_node_init(&node, &cfg, tx, sizeof tx) == -1); /* 6000 values > max */
    cfg.samples_per_frame = 256;
    CHECK(fl_node_init(&node, &cfg, tx, sizeof tx) == 0);
    CHECK(hal_spi_dma_start(half0, half1, 3 * 256, fl_node_half_done, &node) == 0);

    for (i = 0; i < 3 * 256; i++) {
        half0[i] = (int16_t)(i * 3);
        half1[i] = (int16_t)-(int)(i * 5);
    }
    fake_uart_len = 0;
    fake_uart_budget = 100; /* a slow UART: many partial writes */
    fake_rpm = 1500.0f;
    fake_mqtt_connected = 1;

    /* two halves in order */
    fake_cb(fake_cb_ctx, 0, 1000000);
    CHECK(fl_node_poll(&node, halves) == 1);
    fake_cb(fake_cb_ctx, 1, 1009600);
    CHECK(fl_node_poll(&node, halves) == 1);
    CHECK(fake_mqtt_count == 2);
    while (fl_node_tx_pending(&node) > 0) {
        fl_node_poll(&node, halves);
    }
    got = decode_uart(seqs, 16, &last);
    CHECK(got == 2 && seqs[0] == 0 && seqs[1] == 1);
    CHECK(last.sensor_id == 5 && last.channels == 3 && last.sample_count == 256);
    CHECK(last.rpm == 1500.0f && last.sample_rate == 26667.0f);
    /* t0 = t_last - 255 / 26667 s = 1009600 - 9562 us */
    CHECK(last.t0_us == 1009600u - 9562u);
    /* the MQTT payload is the raw frame of the last block */
    {
        const uint8_t *s;
        fl_frame_header m;
        CHECK(fl_frame_decode(fake_mqtt_last, fake_mqtt_last_len, &m, &s) == FL_OK);
        CHECK(m.seq == 1 && (int16_t)fl_get_u16(s + 2 * 10) == half1[10]);
    }

    /* overrun: half 0 completes twice before a poll -> one seq skipped */
    fake_uart_len = 0;
    fake_uart_budget = (size_t)-1;
    fake_cb(fake_cb_ctx, 0, 2000000);
    fake_cb(fake_cb_ctx, 1, 2009600);
    fake_cb(fake_cb_ctx, 0, 2019200);
    CHECK(fl_node_poll(&node, halves) == 2);
    CHECK(node.counters.overruns == 1);
    got = decode_uart(seqs, 16, &last);
    /* half 1 is older than the refilled half 0 */
    CHECK(got == 2 && seqs[0] == 3 && seqs[1] == 4);

    /* a full TX ring drops whole packets, never part of one; seq still moves */
    fake_uart_len = 0;
    fake_uart_budget = 0; /* UART stalled */
    fake_rpm = -3.0f;     /* glitching tach */
    fake_mqtt_connected = 0;
    for (i = 0; i < 6; i++) {
        fake_cb(fake_cb_ctx, (unsigned)(i % 2), 3000000 + i * 9600);
        fl_node_poll(&node, halves);
    }
    CHECK(node.counters.uart_dropped > 0);
    CHECK(node.counters.mqtt_failed == 6);
    fake_uart_budget = (size_t)-1;
    fl_node_poll(&node, halves);
    got = decode_uart(seqs, 16, &last);
    CHECK(got == (int)(6 - node.counters.uart_dropped));
    CHECK(got >= 1 && seqs[0] == 5 && last.rpm == 0.0f);
}

/* ── committed vectors ─────────────────────────────────────────────────── */

static size_t read_file(const char *name, uint8_t *out, size_t cap)
{
    char path[512];
    FILE *f;
    size_t n;
    snprintf(path, sizeof path, "%s/%s", vectors_dir, name);
    f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        return 0;
    }
    n = fread(out, 1, cap, f);
    fclose(f);
    return n;
}

static void test_vectors(void)
{
    static const struct {
        const char *name;
        fl_status expect;
    } cases[] = {
        {"int16_1ch_ramp", FL_OK},
        {"int16_3ch_iis3dwb", FL_OK},
        {"int32_1ch_adxl355", FL_OK},
        {"float32_2ch", FL_OK},
        {"int16_1ch_long_runs", FL_OK},
        {"int16_1ch_zeros", FL_OK},
        {"v1_1_extended_header", FL_OK},
        {"int16_1ch_max_size", FL_OK},
        {"bad_crc", FL_ERR_FRAME_CRC},
        {"bad_magic", FL_ERR_FRAME_MAGIC},
        {"bad_length", FL_ERR_FRAME_LENGTH},
        {"bad_field_format", FL_ERR_FRAME_FIELD},
        {"v2_frame", FL_ERR_FRAME_VERSION},
    };
    size_t k, n, pn, dec;
    char name[128];
    fl_frame_header h;
    const uint8_t *s;

    for (k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        snprintf(name, sizeof name, "%s.bin", cases[k].name);
        n = read_file(name, buf_a, sizeof buf_a);
        CHECK(n > 0);
        CHECK(fl_frame_decode(buf_a, n, &h, &s) == cases[k].expect);
        snprintf(name, sizeof name, "%s.cobs", cases[k].name);
        pn = read_file(name, buf_b, sizeof buf_b);
        CHECK(pn > 1 && buf_b[pn - 1] == 0 && memchr(buf_b, 0, pn - 1) == NULL);
        CHECK(fl_cobs_decode(buf_b, pn - 1, buf_c, sizeof buf_c, &dec) == FL_OK);
        CHECK(dec == n && memcmp(buf_c, buf_a, n) == 0);
    }

    /* The TypeScript encoder's frame (test/ingest/vectors.test.ts writes it;
     * PROTOCOL.md lists its inputs). */
    {
        static const int32_t want[12] = {(-2147483647 - 1), 2147483647, 0, -1, 1, 524287,
                                         -524288, 100000, -100000, 42, -42, 7};
        size_t i;
        n = read_file("ts_int32_2ch.bin", buf_a, sizeof buf_a);
        CHECK(n == 40 + 48 + 4);
        if (fl_frame_decode(buf_a, n, &h, &s) != FL_OK) {
            CHECK(!"ts_int32_2ch.bin does not decode");
            return;
        }
        CHECK(h.sensor_id == 99 && h.seq == 0x80000000u && h.t0_us == 1234567890123456ull);
        CHECK(h.sample_rate == 25600.0f && h.channels == 2 && h.format == FL_FMT_INT32);
        CHECK(h.scale == 1.0f / 1048576.0f && h.sample_count == 6 && h.rpm == 2950.25f);
        CHECK(h.version_major == 1 && h.version_minor == 0 && h.header_len == 40);
        for (i = 0; i < 12; i++) {
            CHECK((int32_t)fl_get_u32(s + 4 * i) == want[i]);
        }
        CHECK(fl_frame_sample_g(&h, s, 5) == 0.5f - 1.0f / 1048576.0f);
        pn = read_file("ts_int32_2ch.cobs", buf_b, sizeof buf_b);
        CHECK(pn > 1 && buf_b[pn - 1] == 0);
        CHECK(fl_cobs_decode(buf_b, pn - 1, buf_c, sizeof buf_c, &dec) == FL_OK);
        CHECK(dec == n && memcmp(buf_c, buf_a, n) == 0);
        /* and the C encoder makes the same bytes from the same inputs */
        {
            fl_frame_header e = h;
            size_t en = 0;
            CHECK(fl_frame_encode(&e, want, NULL, buf_c, sizeof buf_c, &en) == FL_OK);
            CHECK(en == n && memcmp(buf_c, buf_a, n) == 0);
        }
    }
}

int main(int argc, char **argv)
{
    if (argc > 1) {
        vectors_dir = argv[1];
    }
    test_crc();
    test_cobs();
    test_frame_round_trip();
    test_frame_errors();
    test_ring();
    test_node();
    test_vectors();
    printf("firmware core: %d checks, %d failed\n", checks, failures);
    return failures > 100 ? 100 : failures;
}
