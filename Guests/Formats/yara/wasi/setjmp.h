/*
 * setjmp.h for libyara on wasm32-wasi, whose libc has none (non-local jumps need the wasm
 * exception-handling proposal, which the engines WADUP runs do not both support).
 *
 * libyara longjmps only out of its flex lexers' fatal errors (out of memory inside the lexer,
 * "input in flex scanner failed"): setjmp here always returns 0 and longjmp traps. Such an error
 * in init refuses the module (init failed: a trap); during a scan it is the content's `trap`
 * failure. Ordinary syntax errors never take this path: they are reported by the compiler's
 * callback and init returns an error.
 */
#ifndef YARA_WASI_SETJMP_H
#define YARA_WASI_SETJMP_H
typedef int jmp_buf[1];
#define setjmp(env) ((void) (env), 0)
#define longjmp(env, value) ((void) (env), (void) (value), __builtin_trap())
#endif
