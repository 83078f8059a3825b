// Opens wasmtime's C API library at run time and resolves the functions WADUP uses.
#include "wadup_wasmtime.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

static _Thread_local void *current;

void wadup_wasmtime_set_current(void *value) { current = value; }
void *wadup_wasmtime_get_current(void) { return current; }

int wadup_wasmtime_open(const char *path, wadup_wasmtime_api *api, char *error, size_t error_capacity) {
  void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    snprintf(error, error_capacity, "%s", dlerror());
    return -1;
  }
  memset(api, 0, sizeof *api);
#define RESOLVE(name)                                                              \
  do {                                                                             \
    *(void **)&api->name = dlsym(handle, #name);                                   \
    if (!api->name) {                                                              \
      snprintf(error, error_capacity, "%s: missing symbol %s", path, #name);        \
      dlclose(handle);                                                             \
      return -1;                                                                   \
    }                                                                              \
  } while (0)
  RESOLVE(wasm_config_new);
  RESOLVE(wasmtime_config_consume_fuel_set);
  RESOLVE(wasmtime_config_epoch_interruption_set);
  RESOLVE(wasmtime_config_max_wasm_stack_set);
  RESOLVE(wasmtime_config_async_stack_size_set);
  RESOLVE(wasmtime_config_host_memory_creator_set);
  RESOLVE(wasmtime_config_memory_init_cow_set);
  RESOLVE(wasmtime_config_profiler_set);
  RESOLVE(wasm_engine_new_with_config);
  RESOLVE(wasm_engine_delete);
  RESOLVE(wasmtime_engine_increment_epoch);
  RESOLVE(wasmtime_module_new);
  RESOLVE(wasmtime_module_delete);
  RESOLVE(wasmtime_module_serialize);
  RESOLVE(wasmtime_module_deserialize);
  RESOLVE(wasm_byte_vec_delete);
  RESOLVE(wasmtime_error_new);
  RESOLVE(wasmtime_error_message);
  RESOLVE(wasmtime_error_delete);
  RESOLVE(wasmtime_error_exit_status);
  RESOLVE(wasm_trap_message);
  RESOLVE(wasmtime_trap_code);
  RESOLVE(wasm_trap_delete);
  RESOLVE(wasm_valtype_new);
  RESOLVE(wasm_valtype_vec_new);
  RESOLVE(wasm_valtype_vec_new_empty);
  RESOLVE(wasm_functype_new);
  RESOLVE(wasm_functype_delete);
  RESOLVE(wasm_functype_params);
  RESOLVE(wasm_functype_results);
  RESOLVE(wasm_valtype_kind);
  RESOLVE(wasmtime_linker_new);
  RESOLVE(wasmtime_linker_delete);
  RESOLVE(wasmtime_linker_define_wasi);
  RESOLVE(wasmtime_linker_define_func_unchecked);
  RESOLVE(wasmtime_linker_instantiate_pre);
  RESOLVE(wasmtime_instance_pre_delete);
  RESOLVE(wasmtime_instance_pre_instantiate);
  RESOLVE(wasmtime_instance_export_get);
  RESOLVE(wasmtime_store_new);
  RESOLVE(wasmtime_store_context);
  RESOLVE(wasmtime_store_delete);
  RESOLVE(wasmtime_store_epoch_deadline_callback);
  RESOLVE(wasmtime_context_get_data);
  RESOLVE(wasmtime_context_set_fuel);
  RESOLVE(wasmtime_context_get_fuel);
  RESOLVE(wasmtime_context_set_epoch_deadline);
  RESOLVE(wasmtime_context_set_wasi);
  RESOLVE(wasi_config_new);
  RESOLVE(wasi_config_delete);
  RESOLVE(wasi_config_set_stdout_custom);
  RESOLVE(wasi_config_set_stderr_custom);
  RESOLVE(wasi_config_preopen_dir);
  RESOLVE(wasmtime_caller_export_get);
  RESOLVE(wasmtime_caller_context);
  RESOLVE(wasmtime_memory_data);
  RESOLVE(wasmtime_memory_data_size);
  RESOLVE(wasmtime_func_call_unchecked);
  RESOLVE(wasmtime_func_type);
#undef RESOLVE
  // Every member is a function pointer: one left unresolved means the list above is incomplete.
  for (size_t i = 0; i < sizeof *api / sizeof(void *); i++) {
    if (((void **)api)[i] == NULL) {
      snprintf(error, error_capacity, "internal: wasmtime API member %zu not resolved", i);
      dlclose(handle);
      return -1;
    }
  }
  return 0;
}
