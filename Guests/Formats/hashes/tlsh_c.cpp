/*
 * tlsh_c.cpp — a C interface to the TLSH library (Trend Micro's C++ `Tlsh` class) for hashes.c.
 *
 * The digest is the one Debian's `tlsh -f` (3.4.4, "compact hash 1 byte checksum": 128 buckets,
 * a 1-byte checksum, 70 uppercase hex digits without a version prefix) prints. The library is
 * built from python-tlsh 3.17.0's sources (scripts/formats/hashes.sh says why), whose `final`
 * keeps 3.4.4's rule for the shortest content under its "conservative" option (2): 256 bytes.
 */
#include <new>
#include "tlsh.h"
#include "tlsh_c.h"

/* One digest at a time per instance: the module keeps a single state, reset per content. */
static Tlsh *state;

extern "C" int wadup_tlsh_begin(void) {
    if (!state) state = new (std::nothrow) Tlsh();
    if (!state) return -1;
    state->reset();
    return 0;
}

extern "C" void wadup_tlsh_update(const unsigned char *data, unsigned int length) {
    state->update(data, length);
}

extern "C" int wadup_tlsh_end(char digest[WADUP_TLSH_DIGEST_CAPACITY]) {
    state->final(NULL, 0, 2 /* conservative: at least 256 bytes, as 3.4.4 */);
    if (!state->isValid()) return 0;
    state->getHash(digest, WADUP_TLSH_DIGEST_CAPACITY);
    return digest[0] != 0;
}
