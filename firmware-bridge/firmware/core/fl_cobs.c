#include "fl_cobs.h"

size_t fl_cobs_encode(const uint8_t *src, size_t n, uint8_t *dst, size_t dst_cap)
{
    size_t out = 1;      /* next free byte in dst */
    size_t code_at = 0;  /* where the current block's code byte goes */
    uint8_t code = 1;    /* 1 + bytes in the current block */
    size_t i;

    /* Ask for the worst case up front: the loop then needs no bounds checks. */
    if (dst_cap < FL_COBS_MAX_ENCODED(n)) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        if (src[i] == 0) {
            dst[code_at] = code;
            code_at = out++;
            code = 1;
            continue;
        }
        dst[out++] = src[i];
        if (++code == 0xFF) {
            dst[code_at] = code;
            if (i + 1 == n) {
                return out; /* a full block ends the data: no trailing code */
            }
            code_at = out++;
            code = 1;
        }
    }
    dst[code_at] = code;
    return out;
}

fl_status fl_cobs_decode(const uint8_t *src, size_t n, uint8_t *dst, size_t dst_cap,
                         size_t *out_len)
{
    size_t in = 0;
    size_t out = 0;

    while (in < n) {
        uint8_t code = src[in++];
        size_t run;
        if (code == 0) {
            return FL_ERR_COBS;
        }
        run = (size_t)code - 1u;
        if (run > n - in) {
            return FL_ERR_COBS;
        }
        if (run > dst_cap - out) {
            return FL_ERR_BUFFER;
        }
        while (run--) {
            uint8_t b = src[in++];
            if (b == 0) {
                return FL_ERR_COBS;
            }
            dst[out++] = b;
        }
        /* A block shorter than 254 bytes stood for "data, then a zero",
         * except the last block, whose zero is the packet's end. */
        if (code != 0xFF && in < n) {
            if (out >= dst_cap) {
                return FL_ERR_BUFFER;
            }
            dst[out++] = 0;
        }
    }
    *out_len = out;
    return FL_OK;
}
