/* CRC-32 (IEEE 802.3, reflected: ZIP, gzip, PNG), 8 bytes per step through four 16-bit tables.
 *
 * In an interpreter the cost is the number of instructions executed, so the usual slicing-by-8
 * (eight byte lookups per 8 bytes) is folded into four lookups of 16-bit tables:
 * wide[k][b0 | b1 << 8] = T[2k+1][b0] ^ T[2k][b1]. The tables are static, so their addresses
 * are constants folded into the loads (a Swift heap pointer costs an add per lookup); 1 MiB,
 * built on first use, in modules that call it only. */
#include "wadup_runtime.h"

static uint32_t wide[4][65536];
static uint32_t bytewise[256];
static int ready;

static void build(void) {
    static uint32_t t[8][256];
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        t[0][i] = c;
    }
    for (int k = 1; k < 8; k++)
        for (int i = 0; i < 256; i++) t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xFF];
    for (int k = 0; k < 4; k++)
        for (uint32_t x = 0; x < 65536; x++) wide[k][x] = t[2 * k + 1][x & 0xFF] ^ t[2 * k][x >> 8];
    for (int i = 0; i < 256; i++) bytewise[i] = t[0][i];
    ready = 1;
}

uint32_t wadup_crc32(uint32_t crc, const void *data, size_t count) {
    if (!ready) build();
    const unsigned char *p = data;
    uint32_t c = ~crc;
    while (count >= 8) {
        /* Two 32-bit loads: cheaper here than splitting one 64-bit load. */
        uint32_t lo, hi;
        __builtin_memcpy(&lo, p, 4);
        __builtin_memcpy(&hi, p + 4, 4);
        lo ^= c;
        c = wide[3][lo & 0xFFFF] ^ wide[2][lo >> 16] ^ wide[1][hi & 0xFFFF] ^ wide[0][hi >> 16];
        p += 8;
        count -= 8;
    }
    while (count--) c = bytewise[(c ^ *p++) & 0xFF] ^ (c >> 8);
    return ~c;
}
