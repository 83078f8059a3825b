/*
 * libyara's threading.c for a single-threaded wasm32-wasi instance (it replaces that file).
 *
 * Why this is safe: a WADUP module instance runs on one host thread at a time (init, then process
 * per content, never two calls at once), and wasm32-wasi code cannot create threads. A mutex can
 * therefore never be held by anyone else when it is locked: locking is a no-op that succeeds. A
 * "thread storage" key has exactly one value, the one thread's: a small table of globals.
 */
#include <yara/error.h>
#include <yara/threading.h>

#define STORAGE_KEYS 16
static void *storage[STORAGE_KEYS];
static unsigned next_key;

YR_THREAD_ID yr_current_thread_id(void) { return (YR_THREAD_ID) 1; }

int yr_mutex_create(YR_MUTEX *mutex) { (void) mutex; return ERROR_SUCCESS; }
int yr_mutex_destroy(YR_MUTEX *mutex) { (void) mutex; return ERROR_SUCCESS; }
int yr_mutex_lock(YR_MUTEX *mutex) { (void) mutex; return ERROR_SUCCESS; }
int yr_mutex_unlock(YR_MUTEX *mutex) { (void) mutex; return ERROR_SUCCESS; }

int yr_thread_storage_create(YR_THREAD_STORAGE_KEY *key)
{
  if (next_key >= STORAGE_KEYS) return ERROR_INTERNAL_FATAL_ERROR;
  *key = next_key++;
  storage[*key] = NULL;
  return ERROR_SUCCESS;
}

int yr_thread_storage_destroy(YR_THREAD_STORAGE_KEY *key) { (void) key; return ERROR_SUCCESS; }

int yr_thread_storage_set_value(YR_THREAD_STORAGE_KEY *key, void *value)
{
  if (*key >= STORAGE_KEYS) return ERROR_INTERNAL_FATAL_ERROR;
  storage[*key] = value;
  return ERROR_SUCCESS;
}

void *yr_thread_storage_get_value(YR_THREAD_STORAGE_KEY *key) { return *key < STORAGE_KEYS ? storage[*key] : NULL; }
