/* zip_parser's manifest: every ZIP-based content (jar, apk, OOXML, wheels, ...) by its local
 * header, its empty or spanned forms, or an end-of-central-directory record in the last 64 KiB
 * (self-extracting archives, ZIPs appended to other files). */
#include "wadup.h"

WADUP_MANIFEST("{\"version\": 1, \"role\": \"analyze\", \"accepts\": {\"magic\": ["
               "{\"offset\": 0, \"hex\": \"504b0304\"}, {\"offset\": 0, \"hex\": \"504b0506\"}, {\"offset\": 0, \"hex\": \"504b0708\"}, "
               "{\"offset\": -65557, \"range\": 65557, \"hex\": \"504b0506\"}]}}");
