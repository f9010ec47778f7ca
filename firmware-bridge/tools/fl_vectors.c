/*
 * Writes the shared test vectors (PROTOCOL.md, "Test vectors"): for each case
 * a raw frame <name>.bin, its serial packet <name>.cobs (COBS + 0x00) and an
 * entry in vectors.json with the expected decode; plus stream.cobs, a serial
 * capture mixing good packets, garbage, a damaged packet and an empty one.
 *
 *   fl_vectors <out-dir>
 *
 * `make test` regenerates into build/vectors and compares with the committed
 * vectors/, so the C encoder and the committed bytes cannot drift apart.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fl_cobs.h"
#include "core/fl_crc32c.h"
#include "core/fl_frame.h"

#define MAX_VALUES 40000u

static const char *out_dir;
static FILE *json;
static int first_vector = 1;

static uint8_t frame[FL_FRAME_MAX_BYTES];
static uint8_t packet[FL_COBS_MAX_ENCODED(FL_FRAME_MAX_BYTES) + 1u];
static uint8_t stream[1u << 18];
static size_t stream_len;

static void die(const char *what)
{
    fprintf(stderr, "fl_vectors: %s\n", what);
    exit(1);
}

static void write_file(const char *name, const uint8_t *data, size_t n)
{
    char path[512];
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", out_dir, name);
    f = fopen(path, "wb");
    if (!f || fwrite(data, 1, n, f) != n || fclose(f) != 0) {
        die(path);
    }
}

static size_t to_packet(const uint8_t *src, size_t n)
{
    size_t enc = fl_cobs_encode(src, n, packet, sizeof packet - 1u);
    if (enc == 0) {
        die("cobs");
    }
    packet[enc++] = 0x00;
    return enc;
}

static void stream_add(const uint8_t *data, size_t n)
{
    if (stream_len + n > sizeof stream) {
        die("stream too long");
    }
    memcpy(stream + stream_len, data, n);
    stream_len += n;
}

/* Appends a frame to the stream as a whole packet: COBS bytes and delimiter. */
static void stream_frame(const uint8_t *f, size_t n)
{
    stream_add(packet, to_packet(f, n));
}

/* %.9g (round-trips a float32) in the form biome's JSON formatter keeps:
 * exponent without '+' or leading zeros ("6.1e-05" -> "6.1e-5"). */
static void fmt_float(char *out, size_t cap, double v)
{
    char tmp[64];
    char *e;
    snprintf(tmp, sizeof tmp, "%.9g", v);
    e = strchr(tmp, 'e');
    if (e) {
        char *d = e + 1;
        const char *src = e + 1;
        if (*src == '+') {
            src++;
        } else if (*src == '-') {
            *d++ = *src++;
        }
        while (*src == '0' && src[1] != '\0') {
            src++;
        }
        memmove(d, src, strlen(src) + 1);
    }
    snprintf(out, cap, "%s", tmp);
}

/* Writes `"key": [items]` at indent 6 the way biome formats it: on one line
 * when it fits in 100 columns, else items packed ("fill") at indent 8. */
static void json_list(const char *key, char items[][32], size_t n)
{
    size_t i, width = 6 + strlen(key) + 4 + 2; /* `      "key": [` + `]` */
    for (i = 0; i < n; i++) {
        width += strlen(items[i]) + (i ? 2 : 0);
    }
    if (width + 1 <= 100) { /* +1: the comma that may follow */
        fprintf(json, ",\n      \"%s\": [", key);
        for (i = 0; i < n; i++) {
            fprintf(json, "%s%s", i ? ", " : "", items[i]);
        }
        fprintf(json, "]");
        return;
    }
    fprintf(json, ",\n      \"%s\": [\n        ", key);
    width = 8;
    for (i = 0; i < n; i++) {
        size_t w = strlen(items[i]) + (i + 1 < n ? 1 : 0);
        if (i > 0) {
            if (width + 1 + w <= 100) {
                fprintf(json, " ");
                width += 1;
            } else {
                fprintf(json, "\n        ");
                width = 8;
            }
        }
        fprintf(json, "%s%s", items[i], i + 1 < n ? "," : "");
        width += w;
    }
    fprintf(json, "\n      ]");
}

static const char *format_name(uint8_t f)
{
    return f == FL_FMT_INT16 ? "int16" : f == FL_FMT_INT32 ? "int32" : "float32";
}

/* Writes <name>.bin and <name>.cobs and the JSON entry. `h`/`samples` may be
 * NULL for error vectors, whose bytes are described by `note`. */
static void emit(const char *name, const char *expect, const uint8_t *bytes, size_t n,
                 const fl_frame_header *h, const void *samples, const uint8_t *ext,
                 int list_samples, const char *note)
{
    char file[256];
    size_t i, values, pn;
    char num[64];

    snprintf(file, sizeof file, "%s.bin", name);
    write_file(file, bytes, n);
    pn = to_packet(bytes, n);
    snprintf(file, sizeof file, "%s.cobs", name);
    write_file(file, packet, pn);

    fprintf(json, "%s    {\n", first_vector ? "" : ",\n");
    first_vector = 0;
    fprintf(json, "      \"name\": \"%s\",\n", name);
    fprintf(json, "      \"raw\": \"%s.bin\",\n      \"cobs\": \"%s.cobs\",\n", name, name);
    fprintf(json, "      \"bytes\": %lu,\n      \"cobs_bytes\": %lu,\n", (unsigned long)n,
            (unsigned long)pn);
    fprintf(json, "      \"expect\": \"%s\"", expect);
    if (note) {
        fprintf(json, ",\n      \"note\": \"%s\"", note);
    }
    if (h) {
        unsigned hl = h->header_len ? h->header_len : FL_FRAME_HEADER_V1;
        values = (size_t)h->sample_count * h->channels;
        fprintf(json, ",\n      \"header\": {\n");
        fprintf(json, "        \"version_major\": %u,\n        \"version_minor\": %u,\n",
                h->version_major, h->version_minor);
        fprintf(json, "        \"header_len\": %u,\n", hl);
        fprintf(json, "        \"sensor_id\": %lu,\n        \"seq\": %lu,\n",
                (unsigned long)h->sensor_id, (unsigned long)h->seq);
        /* uint64 as a string: JSON numbers lose precision above 2^53. */
        fprintf(json, "        \"t0_us\": \"%llu\",\n", (unsigned long long)h->t0_us);
        fmt_float(num, sizeof num, (double)h->sample_rate);
        fprintf(json, "        \"sample_rate\": %s,\n", num);
        fprintf(json, "        \"channels\": %u,\n", h->channels);
        fprintf(json, "        \"format\": \"%s\",\n", format_name(h->format));
        fmt_float(num, sizeof num, (double)h->scale);
        fprintf(json, "        \"scale\": %s,\n", num);
        fprintf(json, "        \"sample_count\": %lu,\n", (unsigned long)h->sample_count);
        fmt_float(num, sizeof num, (double)h->rpm);
        fprintf(json, "        \"rpm\": %s\n      }", num);
        fprintf(json, ",\n      \"extension_hex\": \"");
        for (i = 0; ext && i < hl - FL_FRAME_HEADER_V1; i++) {
            fprintf(json, "%02x", ext[i]);
        }
        fprintf(json, "\"");
        fprintf(json, ",\n      \"samples_crc32c\": %lu",
                (unsigned long)fl_crc32c(0, bytes + hl, values * fl_format_bytes(h->format)));
        if (list_samples) {
            static char items[MAX_VALUES][32];
            for (i = 0; i < values; i++) {
                if (h->format == FL_FMT_INT16) {
                    snprintf(items[i], sizeof items[i], "%d", ((const int16_t *)samples)[i]);
                } else if (h->format == FL_FMT_INT32) {
                    snprintf(items[i], sizeof items[i], "%ld", (long)((const int32_t *)samples)[i]);
                } else {
                    fmt_float(items[i], sizeof items[i], (double)((const float *)samples)[i]);
                }
            }
            json_list("samples", items, values);
        }
    }
    fprintf(json, "\n    }");
}

static size_t encode(const fl_frame_header *h, const void *samples, const uint8_t *ext)
{
    size_t n = 0;
    fl_status st = fl_frame_encode(h, samples, ext, frame, sizeof frame, &n);
    if (st != FL_OK) {
        fprintf(stderr, "fl_vectors: encode failed: %s\n", fl_status_name(st));
        exit(1);
    }
    return n;
}

static void recrc(uint8_t *f, size_t n)
{
    fl_put_u32(f + n - 4, fl_crc32c(0, f, n - 4));
}

static fl_frame_header base(uint8_t format, uint8_t channels, uint32_t count)
{
    fl_frame_header h;
    memset(&h, 0, sizeof h);
    h.version_major = FL_FRAME_VERSION_MAJOR;
    h.version_minor = FL_FRAME_VERSION_MINOR;
    h.format = format;
    h.channels = channels;
    h.sample_count = count;
    return h;
}

int main(int argc, char **argv)
{
    static int16_t s16[MAX_VALUES];
    static int32_t s32[64];
    static float f32[64];
    static uint8_t copy[FL_FRAME_MAX_BYTES];
    static const uint8_t zero = 0;
    static const char garbage[] = "GARBAGE!";
    fl_frame_header h;
    size_t n, i, pn;
    uint32_t x;
    char path[512];

    if (argc != 2) {
        fprintf(stderr, "usage: fl_vectors <out-dir>\n");
        return 2;
    }
    out_dir = argv[1];
    snprintf(path, sizeof path, "%s/vectors.json", out_dir);
    json = fopen(path, "w");
    if (!json) {
        die(path);
    }
    fprintf(json, "{\n  \"protocol\": \"%u.%u\",\n", FL_FRAME_VERSION_MAJOR, FL_FRAME_VERSION_MINOR);
    fprintf(json, "  \"generator\": \"firmware-bridge/tools/fl_vectors.c\",\n");
    fprintf(json, "  \"vectors\": [\n");
    stream_add(&zero, 1); /* a sender starts with a delimiter to flush line noise */

    /* 1. int16, one channel, the extremes of the type. */
    {
        static const int16_t v[8] = {0, 1, -1, 32767, -32768, 256, -256, 1000};
        h = base(FL_FMT_INT16, 1, 8);
        h.sensor_id = 1;
        h.seq = 0;
        h.t0_us = 1700000000000000ull;
        h.sample_rate = 12800.0f;
        h.scale = 0.000061f; /* IIS3DWB +-2 g: 0.061 mg/LSB */
        n = encode(&h, v, NULL);
        emit("int16_1ch_ramp", "OK", frame, n, &h, v, NULL, 1, NULL);
        memcpy(copy, frame, n);
        stream_frame(frame, n);
        stream_add((const uint8_t *)garbage, sizeof garbage - 1u);
        stream_add(&zero, 1);

        /* Damaged copies of it. */
        copy[FL_FRAME_HEADER_V1 + 3] ^= 0x10;
        emit("bad_crc", "FL_ERR_FRAME_CRC", copy, n, NULL, NULL, NULL, 0,
             "int16_1ch_ramp with bit 4 of byte 43 flipped, CRC not updated");
        stream_frame(copy, n);
        copy[FL_FRAME_HEADER_V1 + 3] ^= 0x10;

        copy[1] = 'X';
        recrc(copy, n);
        emit("bad_magic", "FL_ERR_FRAME_MAGIC", copy, n, NULL, NULL, NULL, 0,
             "int16_1ch_ramp with magic 'FX', CRC updated");
        copy[1] = FL_FRAME_MAGIC1;

        memmove(copy + n - 6, copy + n - 4, 4);
        recrc(copy, n - 2);
        emit("bad_length", "FL_ERR_FRAME_LENGTH", copy, n - 2, NULL, NULL, NULL, 0,
             "int16_1ch_ramp with its last sample removed, CRC updated");
        memcpy(copy, frame, n);

        copy[6] = 9;
        recrc(copy, n);
        emit("bad_field_format", "FL_ERR_FRAME_FIELD", copy, n, NULL, NULL, NULL, 0,
             "int16_1ch_ramp with format code 9, CRC updated");
        memcpy(copy, frame, n);

        copy[2] = 2;
        recrc(copy, n);
        emit("v2_frame", "FL_ERR_FRAME_VERSION", copy, n, NULL, NULL, NULL, 0,
             "int16_1ch_ramp marked major version 2, CRC updated: a v1 gateway drops it");
        stream_frame(copy, n);
    }

    /* 2. Three axes of an IIS3DWB at its native rate, with a tach reading. */
    h = base(FL_FMT_INT16, 3, 16);
    h.sensor_id = 42;
    h.seq = 123456;
    h.t0_us = 1718000000123456ull;
    h.sample_rate = 26667.0f;
    h.scale = 0.000061f;
    h.rpm = 1797.5f;
    for (i = 0, x = 12345; i < 48; i++) {
        x = x * 1103515245u + 12345u;
        s16[i] = (int16_t)(x >> 16);
    }
    n = encode(&h, s16, NULL);
    emit("int16_3ch_iis3dwb", "OK", frame, n, &h, s16, NULL, 1, NULL);
    stream_frame(frame, n);
    stream_add(&zero, 1); /* an empty packet: ignored, not an error */

    /* 3. ADXL355-style 20-bit values in int32; seq at the wrap point; t0 > 2^63. */
    {
        static const int32_t v[10] = {0, 1, -1, 524287, -524288, 2147483647, (-2147483647 - 1),
                                      100000, -100000, 12345};
        memcpy(s32, v, sizeof v);
        h = base(FL_FMT_INT32, 1, 10);
        h.sensor_id = 7;
        h.seq = 0xFFFFFFFFu;
        h.t0_us = 9223372036854775813ull;
        h.sample_rate = 4000.0f;
        h.scale = 3.9e-6f; /* ADXL355 +-2 g: 3.9 ug/LSB */
        n = encode(&h, s32, NULL);
        emit("int32_1ch_adxl355", "OK", frame, n, &h, s32, NULL, 1, NULL);
        stream_frame(frame, n);
    }

    /* 4. float32, two channels, special values (no NaN/inf: the frame layer
     * does not judge sample values, dsp does). */
    {
        static const float v[10] = {0.0f, -0.0f, 1.5f, -2.25f, 1e-3f, 3.4e38f, 1e-45f, 0.1f, -7.0f,
                                    123.456f};
        memcpy(f32, v, sizeof v);
        h = base(FL_FMT_FLOAT32, 2, 5);
        h.sensor_id = 0xFFFFFFFFu;
        h.seq = 1;
        h.t0_us = 1;
        h.sample_rate = 1000.5f;
        h.scale = 1.0f;
        h.rpm = 60.0f;
        n = encode(&h, f32, NULL);
        emit("float32_2ch", "OK", frame, n, &h, f32, NULL, 1, NULL);
        stream_frame(frame, n);
    }

    /* 5. 400 samples of 0x0101: 800 non-zero bytes, COBS blocks of code 0xFF. */
    for (i = 0; i < 400; i++) {
        s16[i] = 0x0101;
    }
    h = base(FL_FMT_INT16, 1, 400);
    h.sensor_id = 0x01010101u;
    h.seq = 0x01010101u;
    h.t0_us = 0x0101010101010101ull;
    h.sample_rate = 12800.0f;
    h.scale = 0.001f;
    h.rpm = 1500.0f;
    n = encode(&h, s16, NULL);
    emit("int16_1ch_long_runs", "OK", frame, n, &h, s16, NULL, 1, NULL);
    stream_frame(frame, n);

    /* 6. All-zero samples: one COBS block per byte. */
    for (i = 0; i < 64; i++) {
        s16[i] = 0;
    }
    h = base(FL_FMT_INT16, 1, 64);
    h.sensor_id = 2;
    h.seq = 2;
    h.t0_us = 1700000000500000ull;
    h.sample_rate = 12800.0f;
    h.scale = 0.000061f;
    n = encode(&h, s16, NULL);
    emit("int16_1ch_zeros", "OK", frame, n, &h, s16, NULL, 1, NULL);
    stream_frame(frame, n);

    /* 7. A v1.1 frame with 8 bytes of header extension a v1.0 reader skips. */
    {
        static const uint8_t ext[8] = {0xA5, 0x5A, 0x01, 0x00, 0xFF, 0x00, 0x10, 0x20};
        static const int16_t v[4] = {-3, 5, -7, 9};
        h = base(FL_FMT_INT16, 1, 4);
        h.version_minor = 1;
        h.header_len = 48;
        h.sensor_id = 3;
        h.seq = 77;
        h.t0_us = 1700000001000000ull;
        h.sample_rate = 25600.0f;
        h.scale = 0.000122f;
        h.rpm = 3000.0f;
        n = encode(&h, v, ext);
        emit("v1_1_extended_header", "OK", frame, n, &h, v, ext, 1, NULL);
        stream_frame(frame, n);
    }

    /* 8. The largest frame allowed: exactly FL_FRAME_MAX_BYTES. */
    h = base(FL_FMT_INT16, 1, (FL_FRAME_MAX_BYTES - FL_FRAME_HEADER_V1 - 4u) / 2u);
    for (i = 0, x = 99; i < h.sample_count; i++) {
        x = x * 1664525u + 1013904223u;
        s16[i] = (int16_t)(x >> 16);
    }
    h.sensor_id = 9;
    h.seq = 1000;
    h.t0_us = 1700000002000000ull;
    h.sample_rate = 26667.0f;
    h.scale = 0.000488f;
    n = encode(&h, s16, NULL);
    if (n != FL_FRAME_MAX_BYTES) {
        die("max frame size");
    }
    emit("int16_1ch_max_size", "OK", frame, n, &h, s16, NULL, 0,
         "samples: x = x*1664525 + 1013904223 (uint32, x0 = 99), sample = int16(x >> 16)");
    stream_frame(frame, n);

    /* A packet cut short: its end never arrives before the stream ends. */
    {
        h = base(FL_FMT_INT16, 1, 8);
        h.sensor_id = 1;
        h.seq = 1;
        h.t0_us = 1700000000000625ull;
        h.sample_rate = 12800.0f;
        h.scale = 0.000061f;
        for (i = 0; i < 8; i++) {
            s16[i] = (int16_t)(i + 1);
        }
        n = encode(&h, s16, NULL);
        pn = to_packet(frame, n);
        stream_add(packet, pn / 2);
    }

    fprintf(json, "\n  ],\n");
    fprintf(json, "  \"stream\": {\n");
    fprintf(json, "    \"file\": \"stream.cobs\",\n    \"bytes\": %lu,\n", (unsigned long)stream_len);
    fprintf(json, "    \"note\": \"0x00, ramp, GARBAGE! 0x00, bad_crc, v2_frame, iis3dwb, 0x00 (empty), "
                  "adxl355, float32, long_runs, zeros, v1_1, max_size, then half a packet with no "
                  "delimiter\",\n");
    fprintf(json, "    \"blocks\": [\n      \"int16_1ch_ramp\",\n      \"int16_3ch_iis3dwb\",\n"
                  "      \"int32_1ch_adxl355\",\n      \"float32_2ch\",\n      \"int16_1ch_long_runs\",\n"
                  "      \"int16_1ch_zeros\",\n      \"v1_1_extended_header\",\n"
                  "      \"int16_1ch_max_size\"\n    ],\n");
    fprintf(json, "    \"bad\": {\n      \"FL_ERR_COBS\": 1,\n      \"FL_ERR_FRAME_CRC\": 1,\n"
                  "      \"FL_ERR_FRAME_VERSION\": 1,\n      \"FL_ERR_FRAME_LENGTH\": 1\n    }\n");
    fprintf(json, "  }\n}\n");
    if (fclose(json) != 0) {
        die("vectors.json");
    }
    write_file("stream.cobs", stream, stream_len);
    return 0;
}
