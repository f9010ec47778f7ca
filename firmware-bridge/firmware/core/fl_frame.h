/*
 * Faultline sensor frame, protocol v1.0 (firmware-bridge/PROTOCOL.md is the
 * contract; this file must agree with it and with src/ingest/frame.ts).
 *
 *   off size field
 *    0   2   magic 'F' 'L' (0x46 0x4C)
 *    2   1   version major (1)
 *    3   1   version minor (0)
 *    4   2   header_len, bytes (40 in v1.0; multiple of 4; later minors append)
 *    6   1   format: 1 int16, 2 int32, 3 float32
 *    7   1   channels (>= 1), samples interleaved
 *    8   4   sensor_id
 *   12   4   seq (wraps at 2^32)
 *   16   8   t0_us: first sample, us since the Unix epoch (sensor clock)
 *   24   4   sample_rate, Hz per channel, float32
 *   28   4   scale, g per LSB, float32 (> 0)
 *   32   4   sample_count, samples per channel (>= 1)
 *   36   4   rpm, float32, 0 = unknown
 *   hl  ...  samples, little-endian, channels * sample_count values
 *   end  4   CRC-32C of every byte before it
 *
 * All multi-byte fields are little-endian; the code writes them byte by byte
 * so it is correct on any host.
 */
#ifndef FL_FRAME_H
#define FL_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define FL_FRAME_MAGIC0 0x46u /* 'F' */
#define FL_FRAME_MAGIC1 0x4Cu /* 'L' */
#define FL_FRAME_VERSION_MAJOR 1u
#define FL_FRAME_VERSION_MINOR 0u
#define FL_FRAME_HEADER_V1 40u   /* header bytes of v1.0 */
#define FL_FRAME_CRC_BYTES 4u
#define FL_FRAME_MIN_BYTES 12u   /* magic, version, header_len, ... and CRC */
#define FL_FRAME_MAX_BYTES 65536u /* whole frame, header to CRC */

/* Mirrors the FL_ERR_* codes of src/errors.ts (names kept equal on purpose). */
typedef enum {
    FL_OK = 0,
    FL_ERR_FRAME_MAGIC = 1,
    FL_ERR_FRAME_VERSION = 2,
    FL_ERR_FRAME_CRC = 3,
    FL_ERR_FRAME_LENGTH = 4,
    FL_ERR_FRAME_FIELD = 5,
    FL_ERR_COBS = 6,
    FL_ERR_BUFFER = 7 /* C only: the caller's output buffer is too small */
} fl_status;

typedef enum {
    FL_FMT_INT16 = 1,
    FL_FMT_INT32 = 2,
    FL_FMT_FLOAT32 = 3
} fl_format;

typedef struct {
    uint8_t version_major;  /* encode: must be FL_FRAME_VERSION_MAJOR */
    uint8_t version_minor;
    uint16_t header_len;    /* encode: 0 means FL_FRAME_HEADER_V1 */
    uint8_t format;         /* fl_format */
    uint8_t channels;
    uint32_t sensor_id;
    uint32_t seq;
    uint64_t t0_us;
    float sample_rate;      /* Hz per channel */
    float scale;            /* g per LSB */
    uint32_t sample_count;  /* per channel */
    float rpm;              /* 0 = unknown */
} fl_frame_header;

/* Bytes per sample value of a format, 0 for an unknown format. */
size_t fl_format_bytes(uint8_t format);

/* Name of a status ("FL_ERR_FRAME_CRC"), for logs and the vector file. */
const char *fl_status_name(fl_status s);

/*
 * Whole frame size for a header (header_len 0 counts as 40), or 0 when the
 * header is invalid or the frame would exceed FL_FRAME_MAX_BYTES.
 */
size_t fl_frame_size(const fl_frame_header *h);

/*
 * Encode one frame. `samples` holds channels * sample_count values of the
 * header's format in host order (int16_t, int32_t or float); `ext` holds
 * header_len - 40 extension bytes (NULL: zeros). Returns FL_OK and *out_len,
 * FL_ERR_FRAME_FIELD / FL_ERR_FRAME_VERSION / FL_ERR_FRAME_LENGTH for a bad
 * header, FL_ERR_BUFFER when out_cap is too small.
 */
fl_status fl_frame_encode(const fl_frame_header *h, const void *samples, const uint8_t *ext,
                          uint8_t *out, size_t out_cap, size_t *out_len);

/*
 * Check and parse one frame of exactly `len` bytes. On FL_OK fills *h and
 * points *samples_le at the little-endian sample bytes inside `frame`.
 * Checks, in this order: length bounds, magic, CRC, major version, header
 * fields, total length (PROTOCOL.md, "Receiver checks").
 */
fl_status fl_frame_decode(const uint8_t *frame, size_t len, fl_frame_header *h,
                          const uint8_t **samples_le);

/* Sample i (interleaved index) of a decoded frame, in g. */
float fl_frame_sample_g(const fl_frame_header *h, const uint8_t *samples_le, size_t i);

/* Little-endian helpers, shared with the vector tool and the tests. */
void fl_put_u16(uint8_t *p, uint16_t v);
void fl_put_u32(uint8_t *p, uint32_t v);
void fl_put_u64(uint8_t *p, uint64_t v);
void fl_put_f32(uint8_t *p, float v);
uint16_t fl_get_u16(const uint8_t *p);
uint32_t fl_get_u32(const uint8_t *p);
uint64_t fl_get_u64(const uint8_t *p);
float fl_get_f32(const uint8_t *p);

#endif
