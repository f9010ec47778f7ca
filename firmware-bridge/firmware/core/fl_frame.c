#include "fl_frame.h"

#include <math.h>
#include <string.h>

#include "fl_crc32c.h"

void fl_put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

void fl_put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

void fl_put_u64(uint8_t *p, uint64_t v)
{
    fl_put_u32(p, (uint32_t)v);
    fl_put_u32(p + 4, (uint32_t)(v >> 32));
}

void fl_put_f32(uint8_t *p, float v)
{
    uint32_t u;
    memcpy(&u, &v, sizeof u); /* IEEE 754 binary32 on every supported target */
    fl_put_u32(p, u);
}

uint16_t fl_get_u16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

uint32_t fl_get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}

uint64_t fl_get_u64(const uint8_t *p)
{
    return (uint64_t)fl_get_u32(p) | ((uint64_t)fl_get_u32(p + 4) << 32);
}

float fl_get_f32(const uint8_t *p)
{
    uint32_t u = fl_get_u32(p);
    float v;
    memcpy(&v, &u, sizeof v);
    return v;
}

size_t fl_format_bytes(uint8_t format)
{
    switch (format) {
    case FL_FMT_INT16:
        return 2;
    case FL_FMT_INT32:
    case FL_FMT_FLOAT32:
        return 4;
    default:
        return 0;
    }
}

const char *fl_status_name(fl_status s)
{
    switch (s) {
    case FL_OK:
        return "OK";
    case FL_ERR_FRAME_MAGIC:
        return "FL_ERR_FRAME_MAGIC";
    case FL_ERR_FRAME_VERSION:
        return "FL_ERR_FRAME_VERSION";
    case FL_ERR_FRAME_CRC:
        return "FL_ERR_FRAME_CRC";
    case FL_ERR_FRAME_LENGTH:
        return "FL_ERR_FRAME_LENGTH";
    case FL_ERR_FRAME_FIELD:
        return "FL_ERR_FRAME_FIELD";
    case FL_ERR_COBS:
        return "FL_ERR_COBS";
    case FL_ERR_BUFFER:
        return "FL_ERR_BUFFER";
    }
    return "FL_ERR_UNKNOWN";
}

/* Field checks shared by encoder and decoder (header_len already resolved). */
static fl_status check_fields(const fl_frame_header *h, uint32_t header_len)
{
    if (header_len < FL_FRAME_HEADER_V1 || header_len % 4u != 0) {
        return FL_ERR_FRAME_FIELD;
    }
    if (fl_format_bytes(h->format) == 0 || h->channels == 0 || h->sample_count == 0) {
        return FL_ERR_FRAME_FIELD;
    }
    if (!isfinite(h->sample_rate) || !(h->sample_rate > 0.0f)) {
        return FL_ERR_FRAME_FIELD;
    }
    if (!isfinite(h->scale) || !(h->scale > 0.0f)) {
        return FL_ERR_FRAME_FIELD;
    }
    if (!isfinite(h->rpm) || h->rpm < 0.0f) {
        return FL_ERR_FRAME_FIELD;
    }
    return FL_OK;
}

/* 64-bit arithmetic: sample_count * channels * 4 overflows 32 bits. */
static uint64_t frame_size64(const fl_frame_header *h, uint32_t header_len)
{
    return (uint64_t)header_len + (uint64_t)h->sample_count * h->channels * fl_format_bytes(h->format) +
           FL_FRAME_CRC_BYTES;
}

size_t fl_frame_size(const fl_frame_header *h)
{
    uint32_t hl = h->header_len ? h->header_len : FL_FRAME_HEADER_V1;
    uint64_t n;
    if (check_fields(h, hl) != FL_OK) {
        return 0;
    }
    n = frame_size64(h, hl);
    return n > FL_FRAME_MAX_BYTES ? 0 : (size_t)n;
}

fl_status fl_frame_encode(const fl_frame_header *h, const void *samples, const uint8_t *ext,
                          uint8_t *out, size_t out_cap, size_t *out_len)
{
    uint32_t hl = h->header_len ? h->header_len : FL_FRAME_HEADER_V1;
    size_t values, i, n;
    fl_status st;

    if (h->version_major != FL_FRAME_VERSION_MAJOR) {
        return FL_ERR_FRAME_VERSION;
    }
    st = check_fields(h, hl);
    if (st != FL_OK) {
        return st;
    }
    if (frame_size64(h, hl) > FL_FRAME_MAX_BYTES) {
        return FL_ERR_FRAME_LENGTH;
    }
    n = (size_t)frame_size64(h, hl);
    if (out_cap < n) {
        return FL_ERR_BUFFER;
    }

    out[0] = FL_FRAME_MAGIC0;
    out[1] = FL_FRAME_MAGIC1;
    out[2] = h->version_major;
    out[3] = h->version_minor;
    fl_put_u16(out + 4, (uint16_t)hl);
    out[6] = h->format;
    out[7] = h->channels;
    fl_put_u32(out + 8, h->sensor_id);
    fl_put_u32(out + 12, h->seq);
    fl_put_u64(out + 16, h->t0_us);
    fl_put_f32(out + 24, h->sample_rate);
    fl_put_f32(out + 28, h->scale);
    fl_put_u32(out + 32, h->sample_count);
    fl_put_f32(out + 36, h->rpm);
    if (hl > FL_FRAME_HEADER_V1) {
        if (ext) {
            memcpy(out + FL_FRAME_HEADER_V1, ext, hl - FL_FRAME_HEADER_V1);
        } else {
            memset(out + FL_FRAME_HEADER_V1, 0, hl - FL_FRAME_HEADER_V1);
        }
    }

    values = (size_t)h->sample_count * h->channels;
    switch (h->format) {
    case FL_FMT_INT16: {
        const int16_t *s = (const int16_t *)samples;
        for (i = 0; i < values; i++) {
            fl_put_u16(out + hl + 2 * i, (uint16_t)s[i]);
        }
        break;
    }
    case FL_FMT_INT32: {
        const int32_t *s = (const int32_t *)samples;
        for (i = 0; i < values; i++) {
            fl_put_u32(out + hl + 4 * i, (uint32_t)s[i]);
        }
        break;
    }
    default: {
        const float *s = (const float *)samples;
        for (i = 0; i < values; i++) {
            fl_put_f32(out + hl + 4 * i, s[i]);
        }
        break;
    }
    }
    fl_put_u32(out + n - FL_FRAME_CRC_BYTES, fl_crc32c(0, out, n - FL_FRAME_CRC_BYTES));
    *out_len = n;
    return FL_OK;
}

fl_status fl_frame_decode(const uint8_t *frame, size_t len, fl_frame_header *h,
                          const uint8_t **samples_le)
{
    fl_status st;

    if (len < FL_FRAME_MIN_BYTES || len > FL_FRAME_MAX_BYTES) {
        return FL_ERR_FRAME_LENGTH;
    }
    if (frame[0] != FL_FRAME_MAGIC0 || frame[1] != FL_FRAME_MAGIC1) {
        return FL_ERR_FRAME_MAGIC;
    }
    /* CRC before version: the trailing CRC-32C is part of every major
     * version, so a damaged frame is reported as damaged, not as "new". */
    if (fl_crc32c(0, frame, len - FL_FRAME_CRC_BYTES) != fl_get_u32(frame + len - FL_FRAME_CRC_BYTES)) {
        return FL_ERR_FRAME_CRC;
    }
    if (frame[2] != FL_FRAME_VERSION_MAJOR) {
        return FL_ERR_FRAME_VERSION;
    }
    h->version_major = frame[2];
    h->version_minor = frame[3];
    h->header_len = fl_get_u16(frame + 4);
    if ((size_t)h->header_len + FL_FRAME_CRC_BYTES > len) {
        return FL_ERR_FRAME_LENGTH;
    }
    if (h->header_len < FL_FRAME_HEADER_V1) {
        return FL_ERR_FRAME_FIELD;
    }
    h->format = frame[6];
    h->channels = frame[7];
    h->sensor_id = fl_get_u32(frame + 8);
    h->seq = fl_get_u32(frame + 12);
    h->t0_us = fl_get_u64(frame + 16);
    h->sample_rate = fl_get_f32(frame + 24);
    h->scale = fl_get_f32(frame + 28);
    h->sample_count = fl_get_u32(frame + 32);
    h->rpm = fl_get_f32(frame + 36);
    st = check_fields(h, h->header_len);
    if (st != FL_OK) {
        return st;
    }
    if (frame_size64(h, h->header_len) != len) {
        return FL_ERR_FRAME_LENGTH;
    }
    *samples_le = frame + h->header_len;
    return FL_OK;
}

float fl_frame_sample_g(const fl_frame_header *h, const uint8_t *samples_le, size_t i)
{
    switch (h->format) {
    case FL_FMT_INT16:
        return (float)(int16_t)fl_get_u16(samples_le + 2 * i) * h->scale;
    case FL_FMT_INT32:
        return (float)(int32_t)fl_get_u32(samples_le + 4 * i) * h->scale;
    default:
        return fl_get_f32(samples_le + 4 * i) * h->scale;
    }
}
