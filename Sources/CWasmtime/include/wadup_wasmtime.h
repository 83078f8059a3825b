// The subset of wasmtime's C API (version 50.0.1) that WADUP uses, declared by hand: PyPI's
// `wasmtime` wheel ships the library without headers. Types and signatures follow wasmtime's
// documented headers (wasm.h, wasmtime/*.h, wasi.h); struct layouts were checked against the
// wheel's `_bindings.py` for this exact version (notes: shared/notes/wasmtime-c-api.md).
//
// The library is opened at run time (dlopen) and every function is reached through the table
// `wadup_wasmtime_api`, so a machine without the library still runs WADUP on WasmKit.
#ifndef WADUP_WASMTIME_H
#define WADUP_WASMTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct wasm_config_t wasm_config_t;
typedef struct wasm_engine_t wasm_engine_t;
typedef struct wasm_trap_t wasm_trap_t;
typedef struct wasm_valtype_t wasm_valtype_t;
typedef struct wasm_functype_t wasm_functype_t;
typedef struct wasm_memorytype_t wasm_memorytype_t;
typedef struct wasmtime_error wasmtime_error_t;
typedef struct wasmtime_module wasmtime_module_t;
typedef struct wasmtime_store wasmtime_store_t;
typedef struct wasmtime_context wasmtime_context_t;
typedef struct wasmtime_caller wasmtime_caller_t;
typedef struct wasmtime_linker wasmtime_linker_t;
typedef struct wasmtime_instance_pre wasmtime_instance_pre_t;
typedef struct wasi_config_t wasi_config_t;

typedef struct wasm_byte_vec_t {
  size_t size;
  uint8_t *data;
} wasm_byte_vec_t;

typedef struct wasm_valtype_vec_t {
  size_t size;
  wasm_valtype_t **data;
} wasm_valtype_vec_t;

typedef uint8_t wasm_valkind_t;
enum { WADUP_WASM_I32 = 0, WADUP_WASM_I64 = 1 };

typedef struct wasmtime_func {
  uint64_t store_id;
  void *__private;
} wasmtime_func_t;

typedef struct wasmtime_memory {
  struct {
    uint64_t store_id;
    uint32_t __private1;
  } anon;
  uint32_t __private2;
} wasmtime_memory_t;

typedef struct wasmtime_instance {
  uint64_t store_id;
  size_t __private;
} wasmtime_instance_t;

typedef uint8_t wasmtime_extern_kind_t;
enum { WADUP_WASMTIME_EXTERN_FUNC = 0, WADUP_WASMTIME_EXTERN_MEMORY = 3 };

typedef struct wasmtime_extern {
  wasmtime_extern_kind_t kind;
  union {
    wasmtime_func_t func;
    wasmtime_memory_t memory;
    uint8_t reserve[32];  // the largest member (global, table, tag) is smaller; out-parameters only
  } of;
} wasmtime_extern_t;

/// One argument or result slot of an unchecked call: 16 bytes (the v128 member).
typedef union wasmtime_val_raw {
  int32_t i32;
  int64_t i64;
  float f32;
  double f64;
  uint8_t v128[16];
  void *funcref;
} wasmtime_val_raw_t;

typedef uint8_t wasmtime_trap_code_t;
enum {
  WADUP_TRAP_STACK_OVERFLOW = 0,
  WADUP_TRAP_MEMORY_OUT_OF_BOUNDS = 1,
  WADUP_TRAP_UNREACHABLE = 9,
  WADUP_TRAP_INTERRUPT = 10,
  WADUP_TRAP_OUT_OF_FUEL = 11,
};

typedef uint8_t wasmtime_update_deadline_kind_t;
enum { WADUP_UPDATE_DEADLINE_CONTINUE = 0 };

typedef wasm_trap_t *(*wasmtime_func_unchecked_callback_t)(void *env, wasmtime_caller_t *caller,
                                                            wasmtime_val_raw_t *args_and_results,
                                                            size_t num_args_and_results);
typedef wasmtime_error_t *(*wasmtime_epoch_callback_t)(wasmtime_context_t *context, void *data,
                                                       uint64_t *epoch_deadline_delta,
                                                       wasmtime_update_deadline_kind_t *update_kind);
typedef ssize_t (*wasi_output_callback_t)(void *data, const unsigned char *bytes, size_t count);

typedef uint8_t *(*wasmtime_memory_get_callback_t)(void *env, size_t *byte_size, size_t *maximum_byte_size);
typedef wasmtime_error_t *(*wasmtime_memory_grow_callback_t)(void *env, size_t new_size);
typedef struct wasmtime_linear_memory {
  void *env;
  wasmtime_memory_get_callback_t get_memory;
  wasmtime_memory_grow_callback_t grow_memory;
  void (*finalizer)(void *);
} wasmtime_linear_memory_t;
typedef wasmtime_error_t *(*wasmtime_new_memory_callback_t)(void *env, const wasm_memorytype_t *ty, size_t minimum,
                                                           size_t maximum, size_t reserved_size_in_bytes,
                                                           size_t guard_size_in_bytes,
                                                           wasmtime_linear_memory_t *memory_ret);
typedef struct wasmtime_memory_creator {
  void *env;
  wasmtime_new_memory_callback_t new_memory;
  void (*finalizer)(void *);
} wasmtime_memory_creator_t;

/// Every function WADUP calls, resolved by `wadup_wasmtime_open`.
typedef struct wadup_wasmtime_api {
  wasm_config_t *(*wasm_config_new)(void);
  void (*wasmtime_config_consume_fuel_set)(wasm_config_t *, bool);
  void (*wasmtime_config_epoch_interruption_set)(wasm_config_t *, bool);
  void (*wasmtime_config_max_wasm_stack_set)(wasm_config_t *, size_t);
  void (*wasmtime_config_async_stack_size_set)(wasm_config_t *, size_t);
  void (*wasmtime_config_host_memory_creator_set)(wasm_config_t *, const wasmtime_memory_creator_t *);
  void (*wasmtime_config_memory_init_cow_set)(wasm_config_t *, bool);
  void (*wasmtime_config_profiler_set)(wasm_config_t *, uint8_t); /* 0 none, 1 jitdump, 2 vtune, 3 perfmap */
  wasm_engine_t *(*wasm_engine_new_with_config)(wasm_config_t *);
  void (*wasm_engine_delete)(wasm_engine_t *);
  void (*wasmtime_engine_increment_epoch)(wasm_engine_t *);

  wasmtime_error_t *(*wasmtime_module_new)(wasm_engine_t *, const uint8_t *, size_t, wasmtime_module_t **);
  void (*wasmtime_module_delete)(wasmtime_module_t *);
  wasmtime_error_t *(*wasmtime_module_serialize)(wasmtime_module_t *, wasm_byte_vec_t *);
  wasmtime_error_t *(*wasmtime_module_deserialize)(wasm_engine_t *, const uint8_t *, size_t, wasmtime_module_t **);
  void (*wasm_byte_vec_delete)(wasm_byte_vec_t *);

  wasmtime_error_t *(*wasmtime_error_new)(const char *);
  void (*wasmtime_error_message)(const wasmtime_error_t *, wasm_byte_vec_t *);
  void (*wasmtime_error_delete)(wasmtime_error_t *);
  bool (*wasmtime_error_exit_status)(const wasmtime_error_t *, int *);
  void (*wasm_trap_message)(const wasm_trap_t *, wasm_byte_vec_t *);
  bool (*wasmtime_trap_code)(const wasm_trap_t *, wasmtime_trap_code_t *);
  void (*wasm_trap_delete)(wasm_trap_t *);

  wasm_valtype_t *(*wasm_valtype_new)(wasm_valkind_t);
  void (*wasm_valtype_vec_new)(wasm_valtype_vec_t *, size_t, wasm_valtype_t *const[]);
  void (*wasm_valtype_vec_new_empty)(wasm_valtype_vec_t *);
  wasm_functype_t *(*wasm_functype_new)(wasm_valtype_vec_t *, wasm_valtype_vec_t *);
  void (*wasm_functype_delete)(wasm_functype_t *);
  const wasm_valtype_vec_t *(*wasm_functype_params)(const wasm_functype_t *);
  const wasm_valtype_vec_t *(*wasm_functype_results)(const wasm_functype_t *);
  wasm_valkind_t (*wasm_valtype_kind)(const wasm_valtype_t *);

  wasmtime_linker_t *(*wasmtime_linker_new)(wasm_engine_t *);
  void (*wasmtime_linker_delete)(wasmtime_linker_t *);
  wasmtime_error_t *(*wasmtime_linker_define_wasi)(wasmtime_linker_t *);
  wasmtime_error_t *(*wasmtime_linker_define_func_unchecked)(wasmtime_linker_t *, const char *, size_t, const char *,
                                                              size_t, const wasm_functype_t *,
                                                              wasmtime_func_unchecked_callback_t, void *,
                                                              void (*)(void *));
  wasmtime_error_t *(*wasmtime_linker_instantiate_pre)(const wasmtime_linker_t *, const wasmtime_module_t *,
                                                        wasmtime_instance_pre_t **);
  void (*wasmtime_instance_pre_delete)(wasmtime_instance_pre_t *);
  wasmtime_error_t *(*wasmtime_instance_pre_instantiate)(const wasmtime_instance_pre_t *, wasmtime_context_t *,
                                                          wasmtime_instance_t *, wasm_trap_t **);
  bool (*wasmtime_instance_export_get)(wasmtime_context_t *, const wasmtime_instance_t *, const char *, size_t,
                                       wasmtime_extern_t *);

  wasmtime_store_t *(*wasmtime_store_new)(wasm_engine_t *, void *, void (*)(void *));
  wasmtime_context_t *(*wasmtime_store_context)(wasmtime_store_t *);
  void (*wasmtime_store_delete)(wasmtime_store_t *);
  void (*wasmtime_store_epoch_deadline_callback)(wasmtime_store_t *, wasmtime_epoch_callback_t, void *,
                                                 void (*)(void *));
  void *(*wasmtime_context_get_data)(const wasmtime_context_t *);
  wasmtime_error_t *(*wasmtime_context_set_fuel)(wasmtime_context_t *, uint64_t);
  wasmtime_error_t *(*wasmtime_context_get_fuel)(const wasmtime_context_t *, uint64_t *);
  void (*wasmtime_context_set_epoch_deadline)(wasmtime_context_t *, uint64_t);
  wasmtime_error_t *(*wasmtime_context_set_wasi)(wasmtime_context_t *, wasi_config_t *);

  wasi_config_t *(*wasi_config_new)(void);
  void (*wasi_config_delete)(wasi_config_t *);
  void (*wasi_config_set_stdout_custom)(wasi_config_t *, wasi_output_callback_t, void *, void (*)(void *));
  void (*wasi_config_set_stderr_custom)(wasi_config_t *, wasi_output_callback_t, void *, void (*)(void *));
  /// wasmtime 50's `wasi.h`: `fs_mutable` false grants read operations only under `guest_path`.
  bool (*wasi_config_preopen_dir)(wasi_config_t *, const char *host_path, const char *guest_path, bool fs_mutable);

  bool (*wasmtime_caller_export_get)(wasmtime_caller_t *, const char *, size_t, wasmtime_extern_t *);
  wasmtime_context_t *(*wasmtime_caller_context)(wasmtime_caller_t *);
  uint8_t *(*wasmtime_memory_data)(const wasmtime_context_t *, const wasmtime_memory_t *);
  size_t (*wasmtime_memory_data_size)(const wasmtime_context_t *, const wasmtime_memory_t *);
  wasmtime_error_t *(*wasmtime_func_call_unchecked)(wasmtime_context_t *, const wasmtime_func_t *,
                                                     wasmtime_val_raw_t *, size_t, wasm_trap_t **);
  wasm_functype_t *(*wasmtime_func_type)(const wasmtime_context_t *, const wasmtime_func_t *);
} wadup_wasmtime_api;

/// Opens the library at `path` and resolves every function of `api`. Returns 0, or -1 with a
/// one-line reason (dlerror, or the first missing symbol) in `error`.
int wadup_wasmtime_open(const char *path, wadup_wasmtime_api *api, char *error, size_t error_capacity);

/// The per-thread pointer the memory creator reads while an instance is made on this thread.
void wadup_wasmtime_set_current(void *value);
void *wadup_wasmtime_get_current(void);

#endif
