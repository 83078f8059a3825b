/* sqlite_parser's manifest: SQLite 3 databases, by the header string every one starts with. */
#include "wadup.h"

WADUP_MANIFEST("{\"version\": 1, \"role\": \"analyze\", \"accepts\": {\"magic\": [{\"offset\": 0, \"hex\": \"53514c69746520666f726d6174203300\"}]}}");
