/* CRC-32 (IEEE 802.3, reflected: ZIP, gzip, PNG): slicing-by-16, sixteen lookups of 1 KiB tables
 * per 16 bytes.
 *
 * Tables of 16 KiB stay in the L1 cache of the core that runs the module (wasmtime compiles the
 * loop to native loads); four 256 KiB tables of 16-bit indices, fewer instructions but a cache
 * miss on most lookups, were a quarter slower there. Built on first use, in modules that call it only. */
#include "wadup_runtime.h"

static uint32_t t[16][256];
static int ready;

static void build(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        t[0][i] = c;
    }
    for (int k = 1; k < 16; k++)
        for (int i = 0; i < 256; i++) t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xFF];
    ready = 1;
}

uint32_t wadup_crc32(uint32_t crc, const void *data, size_t count) {
    if (!ready) build();
    const unsigned char *p = data;
    uint32_t c = ~crc;
    while (count >= 16) {
        uint32_t a, b, d, e;
        __builtin_memcpy(&a, p, 4);
        __builtin_memcpy(&b, p + 4, 4);
        __builtin_memcpy(&d, p + 8, 4);
        __builtin_memcpy(&e, p + 12, 4);
        a ^= c;
        c = t[15][a & 0xFF] ^ t[14][(a >> 8) & 0xFF] ^ t[13][(a >> 16) & 0xFF] ^ t[12][a >> 24]
          ^ t[11][b & 0xFF] ^ t[10][(b >> 8) & 0xFF] ^ t[9][(b >> 16) & 0xFF] ^ t[8][b >> 24]
          ^ t[7][d & 0xFF] ^ t[6][(d >> 8) & 0xFF] ^ t[5][(d >> 16) & 0xFF] ^ t[4][d >> 24]
          ^ t[3][e & 0xFF] ^ t[2][(e >> 8) & 0xFF] ^ t[1][(e >> 16) & 0xFF] ^ t[0][e >> 24];
        p += 16;
        count -= 16;
    }
    while (count--) c = t[0][(c ^ *p++) & 0xFF] ^ (c >> 8);
    return ~c;
}
