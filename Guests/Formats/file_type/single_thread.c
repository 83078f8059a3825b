/*
 * gnulib's locale helpers (linked with GNU regex) guard setlocale with C11 mutexes; the module runs
 * on one thread and wasi-libc's single-threaded build has none, so these stand in (musl's types:
 * once_flag is an int that starts at 0, a mutex needs no state).
 */
int mtx_init(void *mutex, int type) { (void)mutex; (void)type; return 0; /* thrd_success */ }
int mtx_lock(void *mutex) { (void)mutex; return 0; }
int mtx_unlock(void *mutex) { (void)mutex; return 0; }
void call_once(int *flag, void (*function)(void)) {
    if (!*flag) {
        *flag = 1;
        function();
    }
}
