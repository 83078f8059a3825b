/* Found first by CPython's mmap module on wasm32-wasi (scripts/formats/python.sh adds this folder
 * to its include path): wasi-libc's emulated mmap (-lwasi-emulated-mman) copies a file into
 * memory, and Debian's version has no msync. The module calls msync only to flush an
 * ACCESS_WRITE map, which the emulation cannot create (a shared writable map fails), so it only
 * has to exist. */
#ifndef WADUP_WASI_SYS_MMAN_H
#define WADUP_WASI_SYS_MMAN_H
#include_next <sys/mman.h>
#include <errno.h>
#include <stddef.h>
/* Declared by wasi-libc's header, defined nowhere: defined here (only mmapmodule.c sees it). */
__attribute__((weak)) int msync(void *addr, size_t len, int flags) { (void)addr; (void)len; (void)flags; errno = ENOTSUP; return -1; }
#endif
