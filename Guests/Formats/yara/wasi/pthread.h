/*
 * pthread.h for libyara on wasm32-wasi, which has no threads (and wasi-libc no pthread.h).
 *
 * libyara only names pthread's types (threading.h: YR_MUTEX, YR_THREAD_ID, YR_THREAD_STORAGE_KEY);
 * its functions are replaced by single_thread.c. A WADUP module instance is single-threaded: the
 * host calls init and process one at a time on the thread that owns the instance, and wasm32-wasi
 * code cannot start a thread, so no lock can ever be contended and one copy of each "thread-local"
 * value is the only one there is.
 */
#ifndef YARA_WASI_PTHREAD_H
#define YARA_WASI_PTHREAD_H
#include <sys/types.h> /* pthread_t, pthread_key_t, pthread_mutex_t (wasi-libc defines the types) */
#endif
