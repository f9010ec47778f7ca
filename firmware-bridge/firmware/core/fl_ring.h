/*
 * Single-producer single-consumer byte ring. The app loop produces whole
 * COBS packets; the UART (TX-complete interrupt, DMA or a polling loop)
 * consumes them. Head and tail are published with release/acquire atomics so
 * the producer and the consumer may run on different cores (ESP32-S3).
 *
 * Capacity is a power of two; indices run free and wrap at 2^32 (size_t on
 * the targets), so used = head - tail needs no "full" flag.
 */
#ifndef FL_RING_H
#define FL_RING_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint8_t *buf;
    size_t cap;   /* power of two */
    size_t head;  /* written by the producer only */
    size_t tail;  /* written by the consumer only */
} fl_ring;

/* Returns 0, or -1 when cap is not a power of two >= 2. */
int fl_ring_init(fl_ring *r, uint8_t *storage, size_t cap);
size_t fl_ring_used(const fl_ring *r);
size_t fl_ring_free(const fl_ring *r);

/*
 * Producer: append all n bytes, or nothing when they do not fit (returns 0):
 * a half-written packet would cost the receiver two frames instead of one.
 */
int fl_ring_write(fl_ring *r, const uint8_t *data, size_t n);

/* Consumer: copy up to n bytes out, returns the count. */
size_t fl_ring_read(fl_ring *r, uint8_t *out, size_t n);

/*
 * Consumer, zero-copy (for UART DMA): *p points at the longest contiguous
 * run of queued bytes, whose length is returned; release them with
 * fl_ring_consume once sent.
 */
size_t fl_ring_peek(const fl_ring *r, const uint8_t **p);
void fl_ring_consume(fl_ring *r, size_t n);

#endif
