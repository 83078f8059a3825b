/* The few C symbols Embedded Swift needs on bare wasm32: an allocator that reuses freed
 * blocks (so a module's heap does not grow from one content to the next), mem* functions,
 * arc4random_buf and the stack protector's guard; and the SDK's helpers that are faster in C
 * (CRC-32). Module code uses them through the WADUPGuest API. */
#ifndef WADUP_RUNTIME_H
#define WADUP_RUNTIME_H
#include <stddef.h>
#include <stdint.h>

/* Allocation that returns NULL instead of trapping, for buffers whose size comes from the input. */
void *wadup_try_alloc(size_t size);
void wadup_free(void *p);

/* CRC-32 (IEEE, as ZIP, gzip and PNG use) of `count` bytes, continuing `crc` (start with 0). */
uint32_t wadup_crc32(uint32_t crc, const void *data, size_t count);

/* Bytes currently obtained from memory.grow for the heap (for tests of heap growth). */
size_t wadup_heap_size(void);

#endif
