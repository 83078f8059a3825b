/*
 * Free-value callbacks with the exact type libyara calls them through.
 *
 * libyara passes `yr_free` and `yr_object_destroy` (both returning void) to its hash tables cast to
 * YR_HASH_TABLE_FREE_VALUE_FUNC (returning int). Native code tolerates the mismatch; WebAssembly
 * checks the type of every indirect call and traps ("indirect call type mismatch"). yara.sh
 * rewrites those four casts (compiler.c, scanner.c, modules/hash/hash.c, modules/pe/pe.c) to these.
 */
#include <yara/mem.h>
#include <yara/object.h>

int yr_wasi_free_value(void *value)
{
  yr_free(value);
  return 0;
}

int yr_wasi_object_destroy_value(void *value)
{
  yr_object_destroy((YR_OBJECT *) value);
  return 0;
}
