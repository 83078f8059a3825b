#include "wadup_runtime.h"

/* ---- Allocator: power-of-two size classes with free lists, on top of memory.grow. ----
 * Each block starts with a 16-byte area; the 8 bytes just before the user pointer hold the
 * class and the distance back to the block start (which differs from 16 only for
 * over-aligned posix_memalign). Freed blocks go to their class's list and are reused. */

extern unsigned char __heap_base;
static uintptr_t heap_top, heap_end;
static void *free_lists[33];

static int class_for(size_t n) {
    int c = 5;
    while (((size_t)1 << c) < n) c++;
    return c;
}

static void *grow(size_t bytes) {
    if (heap_top == 0) {
        heap_top = ((uintptr_t)&__heap_base + 15) & ~(uintptr_t)15;
        heap_end = (uintptr_t)__builtin_wasm_memory_size(0) * 65536;
    }
    if (bytes > UINTPTR_MAX - heap_top) return 0;
    if (heap_top + bytes > heap_end) {
        size_t need = heap_top + bytes - heap_end;
        size_t pages = (need + 65535) / 65536;
        if (__builtin_wasm_memory_grow(0, pages) == (size_t)-1) return 0;
        heap_end += pages * 65536;
    }
    void *p = (void *)heap_top;
    heap_top += bytes;
    return p;
}

static void *allocate(size_t size, size_t align) {
    if (align < 16) align = 16;
    if (size > ((size_t)1 << 31) || align > ((size_t)1 << 16)) return 0;
    size_t need = size + 16 + (align > 16 ? align : 0);
    int c = class_for(need);
    unsigned char *block = free_lists[c];
    if (block) {
        free_lists[c] = *(void **)block;
    } else {
        block = grow((size_t)1 << c);
        if (!block) return 0;
    }
    uintptr_t user = ((uintptr_t)block + 16 + align - 1) & ~(uintptr_t)(align - 1);
    ((uint32_t *)user)[-2] = (uint32_t)c;
    ((uint32_t *)user)[-1] = (uint32_t)(user - (uintptr_t)block);
    return (void *)user;
}

void *malloc(size_t size) { return allocate(size, 16); }

void free(void *p) {
    if (!p) return;
    uint32_t c = ((uint32_t *)p)[-2];
    unsigned char *block = (unsigned char *)p - ((uint32_t *)p)[-1];
    *(void **)block = free_lists[c];
    free_lists[c] = block;
}

int posix_memalign(void **out, size_t align, size_t size) {
    void *p = allocate(size, align);
    if (!p) return 12; /* ENOMEM */
    *out = p;
    return 0;
}

void *aligned_alloc(size_t align, size_t size) { return allocate(size, align); }

void *calloc(size_t n, size_t size) {
    if (size && n > ((size_t)1 << 31) / size) return 0;
    unsigned char *p = malloc(n * size);
    if (p) __builtin_memset(p, 0, n * size);
    return p;
}

void *realloc(void *p, size_t size) {
    if (!p) return malloc(size);
    uint32_t c = ((uint32_t *)p)[-2];
    size_t usable = ((size_t)1 << c) - ((uint32_t *)p)[-1];
    if (size <= usable) return p;
    void *q = malloc(size);
    if (!q) return 0;
    __builtin_memcpy(q, p, usable);
    free(p);
    return q;
}

size_t malloc_usable_size(void *p) {
    if (!p) return 0;
    return ((size_t)1 << ((uint32_t *)p)[-2]) - ((uint32_t *)p)[-1];
}

void *wadup_try_alloc(size_t size) { return allocate(size, 16); }
void wadup_free(void *p) { free(p); }

size_t wadup_heap_size(void) { return heap_top ? heap_top - (((uintptr_t)&__heap_base + 15) & ~(uintptr_t)15) : 0; }

/* ---- mem* functions: with the bulk-memory feature these compile to memory.copy / memory.fill. ---- */

void *memcpy(void *d, const void *s, size_t n) { return __builtin_memcpy(d, s, n); }
void *memmove(void *d, const void *s, size_t n) { return __builtin_memmove(d, s, n); }
void *memset(void *d, int c, size_t n) { return __builtin_memset(d, c, n); }

int memcmp(const void *a, const void *b, size_t n) {
    const unsigned char *x = a, *y = b;
    for (size_t i = 0; i < n; i++) {
        if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
    }
    return 0;
}

size_t strlen(const char *s) {
    size_t n = 0;
    while (s[n]) n++;
    return n;
}

/* ---- randomness: a fixed-seed generator; modules run deterministically. ---- */

static uint64_t random_state = 0x9E3779B97F4A7C15ull;

void arc4random_buf(void *buf, size_t n) {
    unsigned char *p = buf;
    for (size_t i = 0; i < n; i++) {
        random_state ^= random_state << 13;
        random_state ^= random_state >> 7;
        random_state ^= random_state << 17;
        p[i] = (unsigned char)random_state;
    }
}

uint32_t arc4random(void) {
    uint32_t v;
    arc4random_buf(&v, sizeof v);
    return v;
}

/* ---- stack protector: Swift code is compiled with it on by default. ---- */

uintptr_t __stack_chk_guard = 0x5EC0DE5Bu;

void __stack_chk_fail(void) { __builtin_trap(); }

/* ---- printing: Embedded Swift's print() writes through putchar; lines go to log_message. ---- */

#include "../../C/wadup.h"

static char line[1024];
static size_t line_len;

int putchar(int c) {
    if (c == '\n' || line_len == sizeof line) {
        log_message(WADUP_LOG_INFO, line, (uint32_t)line_len);
        line_len = 0;
        if (c == '\n') return c;
    }
    line[line_len++] = (char)c;
    return c;
}

/* ---- libm functions Swift's floating-point code calls; all but round are single wasm instructions. ---- */

double trunc(double x) { return __builtin_trunc(x); }
double floor(double x) { return __builtin_floor(x); }
double ceil(double x) { return __builtin_ceil(x); }
double fabs(double x) { return __builtin_fabs(x); }
double sqrt(double x) { return __builtin_sqrt(x); }
double round(double x) {
    double t = __builtin_trunc(x);
    if (__builtin_fabs(x - t) >= 0.5) t += x > 0 ? 1.0 : -1.0;
    return t;
}
