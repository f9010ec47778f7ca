/*
 * CRC-32C (Castagnoli): poly 0x1EDC6F41 (reflected 0x82F63B78), init and
 * xor-out 0xFFFFFFFF, reflected in and out. Check value for "123456789" is
 * 0xE3069283. Chosen over CRC-32/IEEE and CRC-16/CCITT for frames of up to
 * 64 KiB: it keeps Hamming distance 4 over the whole range (IEEE falls to 3
 * above ~11 kB, CRC-16 to 2 above 4 kB) and lets through 1 in 2^32 random
 * packets rather than 1 in 2^16. See PROTOCOL.md, "Integrity".
 */
#ifndef FL_CRC32C_H
#define FL_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/*
 * Continue a CRC-32C over `len` bytes. Start with crc = 0; the running value
 * is the finished CRC after every call (zlib style), so
 * fl_crc32c(fl_crc32c(0, a, n), b, m) == fl_crc32c(0, a||b, n+m).
 */
uint32_t fl_crc32c(uint32_t crc, const void *data, size_t len);

#endif
