/*
 * Included before every libyara source compiled for wasm32-wasi (-include).
 *
 * - Thread-local storage: `__thread` becomes an ordinary global (wasm32 without the threads
 *   proposal has no TLS, and the instance is single-threaded: see pthread.h beside this file).
 * - YR_TRYCATCH: libyara guards scans of memory-mapped files against SIGBUS/SIGSEGV with signal
 *   handlers and sigsetjmp. WASI has neither signals nor mapped files (the module scans a copy of
 *   the content in its own memory, where an access out of bounds is a wasm trap the host records),
 *   so the try clause runs as it is.
 */
#ifndef YARA_WASI_H
#define YARA_WASI_H
#define __thread
#define YR_EXCEPTION_H
#define YR_TRYCATCH(_do_, _try_clause_, _catch_clause_) \
  do                                                    \
  {                                                     \
    (void) (_do_);                                      \
    _try_clause_                                        \
  } while (0)
/* The free callbacks of wasi_callbacks.c, named by yara.sh's rewrite of libyara's casts. */
int yr_wasi_free_value(void *value);
int yr_wasi_object_destroy_value(void *value);
#endif
