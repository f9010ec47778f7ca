/*
 * Consistent Overhead Byte Stuffing (Cheshire & Baker, 1999) for the serial
 * link: an encoded packet holds no 0x00, so 0x00 can delimit packets and a
 * receiver resynchronises at the next 0x00 after any garbage.
 *
 * A run of 254 non-zero bytes closes a block with code 0xFF; when the data
 * ends right after such a block no further code byte is written (as in the
 * Wikipedia examples and most libraries; the 1999 paper's code appends 0x01).
 * The decoder accepts both.
 */
#ifndef FL_COBS_H
#define FL_COBS_H

#include <stddef.h>
#include <stdint.h>

#include "fl_frame.h"

/* Worst-case encoded size of n bytes (without the 0x00 delimiter). */
#define FL_COBS_MAX_ENCODED(n) ((n) + (n) / 254u + 1u)

/*
 * Encode n bytes of src into dst (no delimiter). Returns the encoded length,
 * or 0 when dst_cap < FL_COBS_MAX_ENCODED(n) (an encoding is never empty).
 * src and dst must not overlap.
 */
size_t fl_cobs_encode(const uint8_t *src, size_t n, uint8_t *dst, size_t dst_cap);

/*
 * Decode one packet (delimiter already removed) into dst. Returns FL_OK and
 * *out_len, FL_ERR_COBS when the packet holds a 0x00 or a block runs past its
 * end, FL_ERR_BUFFER when dst_cap is too small. dst may equal src (in place:
 * the output never overtakes the input).
 */
fl_status fl_cobs_decode(const uint8_t *src, size_t n, uint8_t *dst, size_t dst_cap,
                         size_t *out_len);

#endif
