#include "fl_ring.h"

#include <string.h>

/* GCC/Clang builtins: available on xtensa-esp32s3-elf-gcc, arm-none-eabi-gcc
 * and the host compiler, and valid under -std=c99 (unlike <stdatomic.h>). */
#define LOAD_ACQ(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define STORE_REL(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)

int fl_ring_init(fl_ring *r, uint8_t *storage, size_t cap)
{
    if (cap < 2 || (cap & (cap - 1)) != 0) {
        return -1;
    }
    r->buf = storage;
    r->cap = cap;
    r->head = 0;
    r->tail = 0;
    return 0;
}

size_t fl_ring_used(const fl_ring *r)
{
    return LOAD_ACQ(&r->head) - LOAD_ACQ(&r->tail);
}

size_t fl_ring_free(const fl_ring *r)
{
    return r->cap - fl_ring_used(r);
}

int fl_ring_write(fl_ring *r, const uint8_t *data, size_t n)
{
    size_t head = r->head; /* only we write it */
    size_t tail = LOAD_ACQ(&r->tail);
    size_t at, first;

    if (n > r->cap - (head - tail)) {
        return 0;
    }
    at = head & (r->cap - 1);
    first = r->cap - at < n ? r->cap - at : n;
    memcpy(r->buf + at, data, first);
    memcpy(r->buf, data + first, n - first);
    STORE_REL(&r->head, head + n);
    return 1;
}

size_t fl_ring_read(fl_ring *r, uint8_t *out, size_t n)
{
    size_t done = 0;
    while (done < n) {
        const uint8_t *p;
        size_t run = fl_ring_peek(r, &p);
        if (run == 0) {
            break;
        }
        if (run > n - done) {
            run = n - done;
        }
        memcpy(out + done, p, run);
        fl_ring_consume(r, run);
        done += run;
    }
    return done;
}

size_t fl_ring_peek(const fl_ring *r, const uint8_t **p)
{
    size_t tail = r->tail; /* only the consumer writes it */
    size_t used = LOAD_ACQ(&r->head) - tail;
    size_t at = tail & (r->cap - 1);
    size_t run = r->cap - at;
    *p = r->buf + at;
    return used < run ? used : run;
}

void fl_ring_consume(fl_ring *r, size_t n)
{
    STORE_REL(&r->tail, r->tail + n);
}
