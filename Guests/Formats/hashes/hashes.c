/*
 * hashes — the digests every analyst asks of every content: MD5, SHA-1, ssdeep, TLSH and the Shannon
 * entropy of its bytes.
 *
 * Table hashes(md5, sha1, ssdeep, tlsh, entropy): one row per content.
 *   md5, sha1  lowercase hex, as md5sum and sha1sum print them (libmd 1.0.4's MD5 and SHA-1)
 *   ssdeep     as `ssdeep -b` prints the hash (libfuzzy 2.14.1, told the content's length first
 *              and digested without flags, exactly as ssdeep's fuzzy_hash_file does); NULL past
 *              libfuzzy's limit (192 GiB)
 *   tlsh       as Debian's `tlsh -f` (3.4.4, 128 buckets, 1-byte checksum) prints it; NULL where
 *              TLSH gives none: under 256 bytes, or half of the 128 buckets or more empty (too
 *              little variety: a run of one byte, short text), or 4 GiB and over (TLSH counts the
 *              length in 32 bits, and `tlsh -f` then hashes only the first size mod 2^32 bytes)
 *   entropy    Shannon entropy in bits per byte, -sum(p * log2 p) over the byte values present,
 *              0 for an empty content
 *
 * The content is read once, in chunks of CHUNK bytes with read_content64 (any size; the memory is
 * the chunk and the digests' states, about 1.1 MiB), and each chunk is fed to all five.
 *
 * Manifest: role analyze, no `accepts`: every content is offered.
 */
#include <math.h>
#include <md5.h>
#include <sha1.h>
#include <stdio.h>
#include <fuzzy.h>
#include "tlsh_c.h"
#include "../common/wadup_row.h"

WADUP_MANIFEST("{\"version\": 1, \"role\": \"analyze\"}");

#define CHUNK (1u << 20)
/* TLSH's length is an unsigned int: from 2^32 bytes on it has no digest (see above). */
#define TLSH_MAX_LENGTH ((int64_t)UINT32_MAX)

static unsigned char chunk[CHUNK];
static int32_t table = -1;
static wadup_row row;

/* The byte histogram of the entropy: four interleaved 32-bit counters per value for one chunk (so
 * that consecutive equal bytes do not wait on each other's increment), added into 64-bit totals. */
static uint32_t partial[4][256];
static uint64_t counts[256];

static void count_bytes(const unsigned char *p, size_t n) {
    memset(partial, 0, sizeof partial);
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        partial[0][p[i]]++;
        partial[1][p[i + 1]]++;
        partial[2][p[i + 2]]++;
        partial[3][p[i + 3]]++;
    }
    for (; i < n; i++) partial[0][p[i]]++;
    for (int v = 0; v < 256; v++)
        counts[v] += (uint64_t)partial[0][v] + partial[1][v] + partial[2][v] + partial[3][v];
}

/* -sum(c/n * log2(c/n)) in the order of the byte values, as Python's sum over a Counter of them. */
static double entropy_of(uint64_t n) {
    if (n == 0) return 0;
    double sum = 0;
    for (int v = 0; v < 256; v++) {
        if (!counts[v]) continue;
        double p = (double)counts[v] / (double)n;
        sum += p * log2(p);
    }
    return sum == 0 ? 0 : -sum; /* no -0 for a content of one byte value */
}

static void hex(char *out, const uint8_t *digest, size_t n) {
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[digest[i] >> 4];
        out[2 * i + 1] = digits[digest[i] & 15];
    }
    out[2 * n] = 0;
}

static void row_double(wadup_row *r, double v) {
    char text[32];
    snprintf(text, sizeof text, "%.17g", v);
    wadup_row_separator(r);
    wadup_text_cstring(&r->text, "{\"Float64\":");
    wadup_text_cstring(&r->text, text);
    wadup_text_append(&r->text, "}", 1);
}

__attribute__((export_name("process"))) int32_t process(void) {
    if (table < 0) {
        table = wadup_define_table("hashes",
            "[{\"name\":\"md5\",\"data_type\":\"String\"},{\"name\":\"sha1\",\"data_type\":\"String\"},"
            "{\"name\":\"ssdeep\",\"data_type\":\"String\"},{\"name\":\"tlsh\",\"data_type\":\"String\"},"
            "{\"name\":\"entropy\",\"data_type\":\"Float64\"}]");
        if (table < 0) return table;
    }
    int64_t size = get_content_size64();
    if (size < 0) return (int32_t)size;

    MD5_CTX md5;
    SHA1_CTX sha1;
    MD5Init(&md5);
    SHA1Init(&sha1);
    struct fuzzy_state *fuzzy = fuzzy_new();
    if (!fuzzy) return WADUP_E_LIMIT_REACHED;
    /* ssdeep -b tells libfuzzy the length first (fuzzy_hash_file); it fails past 192 GiB. */
    int fuzzy_ok = fuzzy_set_total_input_length(fuzzy, (uint_least64_t)size) == 0;
    int tlsh_ok = size <= TLSH_MAX_LENGTH;
    if (tlsh_ok && wadup_tlsh_begin() != 0) { fuzzy_free(fuzzy); return WADUP_E_LIMIT_REACHED; }
    memset(counts, 0, sizeof counts);

    for (int64_t offset = 0; offset < size;) {
        uint32_t n = size - offset < CHUNK ? (uint32_t)(size - offset) : CHUNK;
        int32_t rc = read_content64(offset, n, chunk);
        if (rc < 0) { fuzzy_free(fuzzy); return rc; }
        MD5Update(&md5, chunk, n);
        SHA1Update(&sha1, chunk, n);
        if (fuzzy_ok) fuzzy_update(fuzzy, chunk, n);
        if (tlsh_ok) wadup_tlsh_update(chunk, n);
        count_bytes(chunk, n);
        offset += n;
    }

    uint8_t digest[SHA1_DIGEST_LENGTH];
    char md5_hex[2 * MD5_DIGEST_LENGTH + 1], sha1_hex[2 * SHA1_DIGEST_LENGTH + 1];
    MD5Final(digest, &md5);
    hex(md5_hex, digest, MD5_DIGEST_LENGTH);
    SHA1Final(digest, &sha1);
    hex(sha1_hex, digest, SHA1_DIGEST_LENGTH);
    char ssdeep[FUZZY_MAX_RESULT];
    if (fuzzy_ok) fuzzy_ok = fuzzy_digest(fuzzy, ssdeep, 0) == 0;
    fuzzy_free(fuzzy);
    char tlsh[WADUP_TLSH_DIGEST_CAPACITY];
    if (tlsh_ok) tlsh_ok = wadup_tlsh_end(tlsh);

    wadup_row_begin(&row);
    wadup_row_string(&row, md5_hex);
    wadup_row_string(&row, sha1_hex);
    wadup_row_string(&row, fuzzy_ok ? ssdeep : NULL);
    wadup_row_string(&row, tlsh_ok ? tlsh : NULL);
    row_double(&row, entropy_of((uint64_t)size));
    int32_t rc = wadup_row_insert(&row, table);
    return rc < 0 ? rc : 0;
}
