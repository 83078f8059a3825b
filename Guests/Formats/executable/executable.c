/*
 * executable — PE, ELF and Mach-O headers, sections, imports and exports (docs/modules/executable.md).
 *
 * A hand-written reader, no library: every value is read with read_content64 at 64-bit offsets
 * through one 64 KiB window, so a content of any size costs bounded memory, and the PE rules are
 * pefile's own (RVA to offset with its alignment adjustments, import thunks, ordinal names from its
 * ordlookup tables, imphash, overlay start) so that the answers equal pefile's; ELF's are readelf's,
 * Mach-O's llvm-objdump's.
 *
 * Tables: executables (one row per content), executable_sections, executable_imports,
 * executable_exports. Sub-contents: a PE's overlay ("overlay"), its resources of interest
 * ("resources/TYPE/NAME/LANGUAGE": manifests, and any resource that starts with an executable's,
 * an archive's or a compound document's magic), the slices of a fat Mach-O ("fat/ARCH").
 *
 * Hostile inputs: every count is bounded (sections, symbols, imports, exports, resources, notes,
 * load commands: the limits are the #defines below), every offset is checked against the
 * content's size, resource directories are walked to a fixed depth of three with a total entry
 * bound (a loop cannot recur). A structure that cannot be read ends that structure only: the rows
 * read before it are kept, and a warning names what was damaged. process returns 0 unless the
 * host fails (a read error of the input, limit on rows).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../common/wadup_row.h"
#include "ordlookup.h"

WADUP_MANIFEST(
  "{\"version\": 1, \"role\": \"analyze\", \"accepts\": {\"magic\": ["
  "{\"offset\": 0, \"hex\": \"4d5a\"},"          /* PE (MZ) */
  "{\"offset\": 0, \"hex\": \"7f454c46\"},"      /* ELF */
  "{\"offset\": 0, \"hex\": \"feedface\"}, {\"offset\": 0, \"hex\": \"cefaedfe\"},"
  "{\"offset\": 0, \"hex\": \"feedfacf\"}, {\"offset\": 0, \"hex\": \"cffaedfe\"},"
  "{\"offset\": 0, \"hex\": \"cafebabe\"}, {\"offset\": 0, \"hex\": \"bebafeca\"},"
  "{\"offset\": 0, \"hex\": \"cafebabf\"}, {\"offset\": 0, \"hex\": \"bfbafeca\"}"
  "], \"min_size\": 4}}");

#define MAX_SECTIONS_PE 0x800        /* pefile's MAX_SECTIONS */
#define MAX_IMPORT_SYMBOLS 0x2000    /* pefile's MAX_IMPORT_SYMBOLS (thunks read, all libraries) */
#define MAX_IMPORT_DESCRIPTORS 4096
#define MAX_EXPORTS 0x2000           /* pefile's max_symbol_exports */
#define MAX_RESOURCE_ENTRIES 0x8000  /* pefile's MAX_RESOURCE_ENTRIES */
#define MAX_SECTIONS_ELF 65536
#define MAX_SYMBOLS 200000
#define MAX_LOAD_COMMANDS 4096
#define MAX_FAT_ARCHES 64
#define MAX_DEBUG_ENTRIES 64
#define WINDOW (64 * 1024)

static int32_t t_exec = -1, t_sect = -1, t_imp = -1, t_exp = -1;
static int sections_left;    /* Mach-O sections still listed for this content (65536 in all) */
static wadup_row row;
static int64_t size;
static int32_t host_error;   /* a negative read/insert/emit error that ends the run */

/* ---- reading ------------------------------------------------------------------------------ */

static unsigned char *window;
static int64_t window_start = -1;
static uint32_t window_length;

/* Copies n bytes at off into out; 0 when the range is not inside the content. */
static int rd(int64_t off, void *out, uint32_t n) {
    if (off < 0 || (int64_t)n > size || off > size - (int64_t)n) return 0;
    if (n == 0) return 1;
    if (window_start >= 0 && off >= window_start && off + n <= window_start + window_length) {
        memcpy(out, window + (off - window_start), n);
        return 1;
    }
    if (n > WINDOW) {
        int32_t rc = read_content64(off, n, out);
        if (rc < 0) { host_error = rc; return 0; }
        return 1;
    }
    int64_t left = size - off;
    window_length = left < WINDOW ? (uint32_t)left : WINDOW;
    int32_t rc = read_content64(off, window_length, window);
    if (rc < 0) { host_error = rc; window_start = -1; return 0; }
    window_start = off;
    memcpy(out, window, n);
    return 1;
}

static int big_endian;
static uint16_t get16(const unsigned char *p) { return big_endian ? (uint16_t)(p[0] << 8 | p[1]) : (uint16_t)(p[1] << 8 | p[0]); }
static uint32_t get32(const unsigned char *p) {
    return big_endian ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]
                      : (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}
static uint64_t get64(const unsigned char *p) {
    return big_endian ? (uint64_t)get32(p) << 32 | get32(p + 4) : (uint64_t)get32(p + 4) << 32 | get32(p);
}
static int r16(int64_t off, uint32_t *v) { unsigned char b[2]; if (!rd(off, b, 2)) return 0; *v = get16(b); return 1; }
static int r32(int64_t off, uint32_t *v) { unsigned char b[4]; if (!rd(off, b, 4)) return 0; *v = get32(b); return 1; }
static int r64(int64_t off, uint64_t *v) { unsigned char b[8]; if (!rd(off, b, 8)) return 0; *v = get64(b); return 1; }

/* A NUL-terminated string at off, at most max bytes (cut at the content's end; out holds max + 1);
 * its length, or -1. Read in pieces of up to 256 bytes through the window. */
static int rstr(int64_t off, char *out, int max) {
    if (off < 0 || off >= size) return -1;
    int n = 0;
    while (n < max && off + n < size) {
        int64_t left = size - (off + n);
        uint32_t k = max - n < 256 ? (uint32_t)(max - n) : 256;
        if ((int64_t)k > left) k = (uint32_t)left;
        if (!rd(off + n, out + n, k)) return -1;
        char *zero = memchr(out + n, 0, k);
        if (zero) { n = (int)(zero - out); break; }
        n += (int)k;
    }
    out[n] = 0;
    return n;
}

/* Bytes entropy may still read for this content: twice its size and 16 MiB, so that sections
 * claiming the same bytes over and over (thousands of headers, each "the whole file") cost a
 * bounded time. Past it a section's entropy is NULL. */
static void warn(const char *format, const char *what);
static int64_t entropy_budget;
static int entropy_exhausted;

/* Shannon entropy (bits per byte) of [off, off + n) of the content (n clipped to its end);
 * -1 when the budget above is spent. */
static double entropy(int64_t off, int64_t n) {
    static uint64_t counts[256];
    static unsigned char *buffer;
    if (off < 0 || off >= size || n <= 0) return 0.0;
    if (n > size - off) n = size - off;
    if (n > entropy_budget) {
        if (!entropy_exhausted) warn("%s: sections claim more bytes than twice the content: the rest have no entropy", "entropy");
        entropy_exhausted = 1;
        return -1.0;
    }
    entropy_budget -= n;
    if (!buffer && !(buffer = malloc(1 << 20))) return 0.0;
    memset(counts, 0, sizeof counts);
    int64_t total = n;
    while (n > 0) {
        uint32_t k = n < (1 << 20) ? (uint32_t)n : (1 << 20);
        int32_t rc = read_content64(off, k, buffer);
        if (rc < 0) { host_error = rc; return 0.0; }
        /* four tables, so that runs of one byte value do not wait on one counter */
        static uint32_t c4[4][256];
        memset(c4, 0, sizeof c4);
        uint32_t i = 0;
        for (; i + 4 <= k; i += 4) { c4[0][buffer[i]]++; c4[1][buffer[i + 1]]++; c4[2][buffer[i + 2]]++; c4[3][buffer[i + 3]]++; }
        for (; i < k; i++) c4[0][buffer[i]]++;
        for (int b = 0; b < 256; b++) counts[b] += (uint64_t)c4[0][b] + c4[1][b] + c4[2][b] + c4[3][b];
        off += k; n -= k;
    }
    double h = 0.0;
    for (int i = 0; i < 256; i++) if (counts[i]) { double p = (double)counts[i] / (double)total; h -= p * log2(p); }
    return h;
}

static void warn(const char *format, const char *what) {
    char message[512];
    snprintf(message, sizeof message, format, what);
    wadup_log(WADUP_LOG_WARNING, message);
}

static void insert(int32_t table) { int32_t rc = wadup_row_insert(&row, table); if (rc < 0 && !host_error) host_error = rc; }

static void row_float(wadup_row *r, double v) {
    char text[64];
    snprintf(text, sizeof text, "{\"Float64\":%.17g}", v);
    wadup_row_separator(r);
    wadup_text_cstring(&r->text, text);
}

static void row_u64(wadup_row *r, uint64_t v) { wadup_row_int(r, (int64_t)v); } /* addresses past 2^63 read negative */

static void emit_slice(int64_t off, int64_t n, const char *name) {
    if (off < 0 || n < 0 || off > size || n > size - off) return;
    int32_t rc = emit_subcontent_slice64(off, n, name, (uint32_t)strlen(name));
    if (rc == WADUP_E_LIMIT_REACHED) warn("%s not emitted: the host's sub-content limit was reached", name);
    else if (rc < 0 && !host_error) host_error = rc;
}

/* The executables row. NULL where a field does not apply: pass has_* = 0. */
typedef struct {
    const char *format, *machine, *endian, *kind, *subsystem;
    int bits;
    int has_entry, has_base, has_timestamp, has_signed, has_overlay;
    uint64_t entry, base;
    int64_t timestamp, is_signed, overlay_offset, overlay_size;
    char imphash[33];
    int has_pdb;
    char pdb[1024];
    char build_id[80];
} summary;

static void insert_summary(const summary *s) {
    wadup_row_begin(&row);
    wadup_row_string(&row, s->format);
    wadup_row_string(&row, s->machine);
    if (s->bits) wadup_row_int(&row, s->bits); else wadup_row_null(&row);
    wadup_row_string(&row, s->endian);
    wadup_row_string(&row, s->kind);
    if (s->has_entry) row_u64(&row, s->entry); else wadup_row_null(&row);
    if (s->has_base) row_u64(&row, s->base); else wadup_row_null(&row);
    if (s->has_timestamp) wadup_row_int(&row, s->timestamp); else wadup_row_null(&row);
    wadup_row_string(&row, s->subsystem);
    wadup_row_string(&row, s->imphash[0] ? s->imphash : NULL);
    if (s->has_signed) wadup_row_int(&row, s->is_signed); else wadup_row_null(&row);
    if (s->has_pdb) wadup_row_string_bytes(&row, s->pdb, strlen(s->pdb)); else wadup_row_null(&row);
    wadup_row_string(&row, s->build_id[0] ? s->build_id : NULL);
    if (s->has_overlay) { wadup_row_int(&row, s->overlay_offset); wadup_row_int(&row, s->overlay_size); }
    else { wadup_row_null(&row); wadup_row_null(&row); }
    insert(t_exec);
}

static void insert_section(const char *name, size_t name_length, uint64_t va, uint64_t vsize, int64_t off, int64_t fsize, int has_entropy, double h, uint64_t flags) {
    wadup_row_begin(&row);
    wadup_row_string_bytes(&row, name, name_length);
    row_u64(&row, va);
    row_u64(&row, vsize);
    wadup_row_int(&row, off);
    wadup_row_int(&row, fsize);
    if (has_entropy && h >= 0.0) row_float(&row, h); else wadup_row_null(&row);
    row_u64(&row, flags);
    insert(t_sect);
}

static void insert_import(const char *library, const char *symbol, int64_t ordinal) {
    wadup_row_begin(&row);
    if (library) wadup_row_string_bytes(&row, library, strlen(library)); else wadup_row_null(&row);
    if (symbol) wadup_row_string_bytes(&row, symbol, strlen(symbol)); else wadup_row_null(&row);
    if (ordinal >= 0) wadup_row_int(&row, ordinal); else wadup_row_null(&row);
    insert(t_imp);
}

static void insert_export(const char *symbol, int64_t ordinal, uint64_t address) {
    wadup_row_begin(&row);
    if (symbol) wadup_row_string_bytes(&row, symbol, strlen(symbol)); else wadup_row_null(&row);
    if (ordinal >= 0) wadup_row_int(&row, ordinal); else wadup_row_null(&row);
    row_u64(&row, address);
    insert(t_exp);
}

/* ---- MD5 (RFC 1321), for imphash ------------------------------------------------------------ */

typedef struct { uint32_t a, b, c, d; uint64_t length; unsigned char block[64]; } md5_state;

static void md5_block(md5_state *s, const unsigned char *p) {
    static const uint32_t k[64] = {
        0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
        0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
        0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
        0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
        0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
        0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
        0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
        0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391 };
    static const int r[64] = { 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
        5, 9, 14, 20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21 };
    uint32_t m[16], a = s->a, b = s->b, c = s->c, d = s->d;
    for (int i = 0; i < 16; i++) m[i] = (uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 | (uint32_t)p[4 * i + 2] << 16 | (uint32_t)p[4 * i + 3] << 24;
    for (int i = 0; i < 64; i++) {
        uint32_t f; int g;
        if (i < 16) { f = (b & c) | (~b & d); g = i; }
        else if (i < 32) { f = (d & b) | (~d & c); g = (5 * i + 1) % 16; }
        else if (i < 48) { f = b ^ c ^ d; g = (3 * i + 5) % 16; }
        else { f = c ^ (b | ~d); g = (7 * i) % 16; }
        uint32_t t = d; d = c; c = b;
        uint32_t x = a + f + k[i] + m[g];
        b = b + (x << r[i] | x >> (32 - r[i]));
        a = t;
    }
    s->a += a; s->b += b; s->c += c; s->d += d;
}
static void md5_init(md5_state *s) { s->a = 0x67452301; s->b = 0xefcdab89; s->c = 0x98badcfe; s->d = 0x10325476; s->length = 0; }
static void md5_update(md5_state *s, const void *data, size_t n) {
    const unsigned char *p = data;
    while (n--) { s->block[s->length++ % 64] = *p++; if (s->length % 64 == 0) md5_block(s, s->block); }
}
static void md5_hex(md5_state *s, char out[33]) {
    uint64_t bits = s->length * 8;
    unsigned char pad = 0x80, zero = 0, len[8];
    md5_update(s, &pad, 1);
    while (s->length % 64 != 56) md5_update(s, &zero, 1);
    for (int i = 0; i < 8; i++) len[i] = (unsigned char)(bits >> (8 * i));
    md5_update(s, len, 8);
    uint32_t v[4] = { s->a, s->b, s->c, s->d };
    for (int i = 0; i < 16; i++) snprintf(out + 2 * i, 3, "%02x", (v[i / 4] >> (8 * (i % 4))) & 0xff);
}

/* ---- PE ------------------------------------------------------------------------------------ */

typedef struct { uint32_t va, vsize, raw_size, raw_ptr, next_va; int has_next; } pe_section;
static pe_section *pe_sections;   /* sorted by VirtualAddress, as pefile keeps them */
static int pe_count;
static uint32_t file_alignment, section_alignment;

static uint32_t adjust_file(uint32_t v) { return file_alignment < 0x200 ? v : (v / 0x200) * 0x200; }
static uint32_t adjust_section(uint32_t v) {
    uint32_t a = section_alignment < 0x1000 ? file_alignment : section_alignment;
    return (a && v % a) ? a * (v / a) : v;
}

/* pefile's section.contains_rva. */
static int contains_rva(const pe_section *s, uint32_t rva) {
    uint64_t va = adjust_section(s->va);
    uint64_t n = (size - (int64_t)adjust_file(s->raw_ptr) < (int64_t)s->raw_size) ? s->vsize : (s->raw_size > s->vsize ? s->raw_size : s->vsize);
    if (s->has_next && s->next_va > s->va && va + n > s->next_va) n = s->next_va - va;
    return va <= rva && rva < va + n;
}

/* pefile's get_section_by_rva, with its cache of the section last found (which also decides
 * between overlapping sections as pefile does, and keeps a walk of one table linear). */
static const pe_section *last_section;
static const pe_section *section_of(uint32_t rva) {
    if (last_section && contains_rva(last_section, rva)) return last_section;
    for (int i = 0; i < pe_count; i++)
        if (contains_rva(&pe_sections[i], rva)) return last_section = &pe_sections[i];
    return NULL;
}

/* pefile's get_offset_from_rva: -1 where it raises. */
static int64_t rva_offset(uint32_t rva) {
    const pe_section *s = section_of(rva);
    if (!s) return (int64_t)rva < size ? (int64_t)rva : -1;
    return (int64_t)rva - adjust_section(s->va) + adjust_file(s->raw_ptr);
}

/* The end of the bytes pefile reads at rva (a section's data ends at PointerToRawData + SizeOfRawData). */
static int64_t rva_limit(uint32_t rva) {
    const pe_section *s = section_of(rva);
    if (!s) return size;
    int64_t end = (int64_t)s->raw_ptr + s->raw_size;
    return end < size ? end : size;
}

/* A string at rva as pefile's get_string_at_rva reads it (cut at its section's data). */
static int pe_string(uint32_t rva, char *out, int max) {
    int64_t off = rva_offset(rva);
    if (off < 0) { out[0] = 0; return -1; }
    int64_t limit = rva_limit(rva);
    if (limit - off < max) max = limit - off > 0 ? (int)(limit - off) : 0;
    if (max == 0) { out[0] = 0; return 0; }
    return rstr(off, out, max);
}

static int pe_read(uint32_t rva, void *out, uint32_t n) {
    int64_t off = rva_offset(rva);
    return off >= 0 && off + n <= rva_limit(rva) && rd(off, out, n);
}

/* pefile's is_valid_dos_filename / is_valid_function_name (relaxed) checks. */
static int valid_dos_name(const char *s) {
    if (!s || !*s) return 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (!(*p >= 0x20 && *p < 0x7f && !strchr("*<>:\"|?", *p)) && !(*p >= 0x80)) return 0;
    return 1;
}
static int valid_function_name(const char *s) {
    static const char allowed[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_?@$()<>";
    if (!s || !*s) return 0;
    for (const char *p = s; *p; p++) if (!strchr(allowed, *p)) return 0;
    return 1;
}

static const char *ord_lookup(const char *dll, uint32_t ordinal, char *made) {
    char lower[64];
    size_t n = strlen(dll);
    if (n >= sizeof lower) return NULL;
    for (size_t i = 0; i <= n; i++) lower[i] = (char)((dll[i] >= 'A' && dll[i] <= 'Z') ? dll[i] + 32 : dll[i]);
    const ord_name *table = NULL; size_t count = 0;
    if (!strcmp(lower, "ws2_32.dll") || !strcmp(lower, "wsock32.dll")) { table = ord_ws2_32; count = sizeof ord_ws2_32 / sizeof *ord_ws2_32; }
    else if (!strcmp(lower, "oleaut32.dll")) { table = ord_oleaut32; count = sizeof ord_oleaut32 / sizeof *ord_oleaut32; }
    else return NULL;
    for (size_t i = 0; i < count; i++) if (table[i].ordinal == ordinal) return table[i].name;
    snprintf(made, 16, "ord%u", ordinal);
    return made;
}

static void append_lower(wadup_text *t, const char *s) {
    for (; *s; s++) { char c = (*s >= 'A' && *s <= 'Z') ? *s + 32 : *s; wadup_text_append(t, &c, 1); }
}

/* Imports (pefile's parse_import_directory / parse_imports) and the imphash. */
static void pe_imports(uint32_t rva, int pe32plus, summary *s) {
    static wadup_text imphash_text;
    imphash_text.length = 0; imphash_text.failed = 0;
    int total = 0, errors = 0, any = 0;
    char dll[0x201], name[0x201], made[16];
    for (int d = 0; d < MAX_IMPORT_DESCRIPTORS; d++, rva += 20) {
        unsigned char desc[20];
        if (!pe_read(rva, desc, 20)) break;
        int zero = 1;
        for (int i = 0; i < 20; i++) if (desc[i]) { zero = 0; break; }
        if (zero) break;
        uint32_t oft = get32(desc), name_rva = get32(desc + 12), ft = get32(desc + 16);
        int64_t file_offset = rva_offset(rva);
        uint32_t next = rva + 20;
        int64_t max_len = size - file_offset;
        if (next > oft || next > ft) max_len = (int64_t)next - oft > (int64_t)next - ft ? (int64_t)next - oft : (int64_t)next - ft;
        uint32_t table = oft ? oft : ft;
        uint32_t step = pe32plus ? 8 : 4;
        /* The symbols of this descriptor, kept to insert them once the library's name is known. */
        typedef struct { char *name; int64_t ordinal; } symbol;
        static symbol *symbols; static int capacity;
        int count = 0, broken = 0;
        for (uint32_t t = table; t; t += step) {
            if ((int64_t)t >= (int64_t)table + max_len) break;
            if (++total > MAX_IMPORT_SYMBOLS + 1) break;
            uint64_t value;
            unsigned char b[8];
            if (!pe_read(t, b, step)) break;
            value = pe32plus ? get64(b) : get32(b);
            if (value == 0) break;
            int64_t ordinal = -1;
            name[0] = 0;
            uint64_t flag = pe32plus ? 0x8000000000000000ull : 0x80000000ull;
            if (value & flag) ordinal = (int64_t)(value & 0xffff);
            else {
                uint32_t hint_rva = (uint32_t)(value & (pe32plus ? 0x7fffffffffffffffull : 0x7fffffffull));
                unsigned char hint[2];
                if (!pe_read(hint_rva, hint, 2)) { broken = 1; break; }
                if (pe_string((uint32_t)(value + 2), name, 0x200) < 0 || !valid_function_name(name)) continue; /* *invalid* */
            }
            if (count == capacity) {
                int grown = capacity ? capacity * 2 : 64;
                symbol *p = realloc(symbols, (size_t)grown * sizeof *p);
                if (!p) break;
                symbols = p; capacity = grown;
            }
            symbols[count].name = ordinal >= 0 ? NULL : strdup(name);
            symbols[count].ordinal = ordinal;
            count++;
        }
        /* pefile: a thunk whose hint/name cannot be read aborts the descriptor ("Invalid entries"). */
        if (broken) { for (int i = 0; i < count; i++) free(symbols[i].name); count = 0; }
        if (count == 0) {
            if (++errors > 5) { warn("import directory: %s", "too many damaged descriptors"); break; }
            continue;
        }
        if (pe_string(name_rva, dll, 0x200) < 0 || !valid_dos_name(dll)) snprintf(dll, sizeof dll, "*invalid*");
        if (dll[0]) {
            /* imphash: library lowercased without .dll/.ocx/.sys, then "lib.func" lowercased. */
            char lib[0x201];
            snprintf(lib, sizeof lib, "%s", dll);
            for (char *p = lib; *p; p++) if (*p >= 'A' && *p <= 'Z') *p += 32;
            char *dot = strrchr(lib, '.');
            if (dot && (!strcmp(dot, ".dll") || !strcmp(dot, ".ocx") || !strcmp(dot, ".sys"))) *dot = 0;
            for (int i = 0; i < count; i++) {
                const char *symbol_name = symbols[i].name;
                if (!symbol_name) symbol_name = ord_lookup(dll, (uint32_t)symbols[i].ordinal, made);
                insert_import(dll, symbol_name, symbols[i].ordinal);
                const char *hashed = symbol_name;
                char ord_made[16];
                if (!hashed) { snprintf(ord_made, sizeof ord_made, "ord%lld", (long long)symbols[i].ordinal); hashed = ord_made; }
                if (any++) wadup_text_append(&imphash_text, ",", 1);
                append_lower(&imphash_text, lib);
                wadup_text_append(&imphash_text, ".", 1);
                append_lower(&imphash_text, hashed);
            }
        }
        for (int i = 0; i < count; i++) free(symbols[i].name);
    }
    if (any && !imphash_text.failed) {
        md5_state m;
        md5_init(&m);
        md5_update(&m, imphash_text.data, imphash_text.length);
        md5_hex(&m, s->imphash);
    }
}

/* Exports (pefile's parse_export_directory): named symbols in name order, then the unnamed. */
static void pe_exports(uint32_t rva, uint32_t dir_size) {
    unsigned char d[40];
    if (!pe_read(rva, d, 40)) return;
    uint32_t base = get32(d + 16), functions = get32(d + 20), names = get32(d + 24);
    uint32_t address_of_functions = get32(d + 28), address_of_names = get32(d + 32), address_of_ordinals = get32(d + 36);
    char name[0x201];
    static unsigned char *seen;  /* ordinals (index into functions) given a name */
    uint32_t limit_functions = functions < MAX_EXPORTS * 8u ? functions : MAX_EXPORTS * 8u;
    free(seen);
    seen = calloc(limit_functions + 1, 1);
    if (!seen) return;
    int rows = 0;
    uint32_t n = names < MAX_EXPORTS ? names : MAX_EXPORTS;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t ordinal_index, address, name_rva;
        unsigned char b[4];
        if (!pe_read(address_of_ordinals + 2 * i, b, 2)) break;
        ordinal_index = get16(b);
        if (!pe_read(address_of_functions + 4 * ordinal_index, b, 4)) break;
        address = get32(b);
        if (!pe_read(address_of_names + 4 * i, b, 4)) break;
        name_rva = get32(b);
        if (pe_string(name_rva, name, 0x200) < 0 || !valid_function_name(name)) break;
        if (ordinal_index < limit_functions) seen[ordinal_index] = 1;
        insert_export(name, (int64_t)base + ordinal_index, address);
        rows++;
    }
    (void)dir_size;
    for (uint32_t i = 0; i < limit_functions && rows < MAX_EXPORTS; i++) {
        if (seen[i]) continue;
        unsigned char b[4];
        if (!pe_read(address_of_functions + 4 * i, b, 4)) break;
        uint32_t address = get32(b);
        if (address == 0) continue;
        insert_export(NULL, (int64_t)base + i, address);
        rows++;
    }
}

/* RT_* names as pefile's RESOURCE_TYPE has them. */
static const char *resource_type_name(uint32_t id) {
    static const char *names[] = { NULL, "RT_CURSOR", "RT_BITMAP", "RT_ICON", "RT_MENU", "RT_DIALOG", "RT_STRING", "RT_FONTDIR",
        "RT_FONT", "RT_ACCELERATOR", "RT_RCDATA", "RT_MESSAGETABLE", "RT_GROUP_CURSOR", NULL, "RT_GROUP_ICON", NULL, "RT_VERSION",
        "RT_DLGINCLUDE", NULL, "RT_PLUGPLAY", "RT_VXD", "RT_ANICURSOR", "RT_ANIICON", "RT_HTML", "RT_MANIFEST" };
    return id < sizeof names / sizeof *names ? names[id] : NULL;
}

/* A resource entry's name: its id in decimal or its UTF-16 name as UTF-8 ('/' as '_'). */
static void resource_label(int64_t base, uint32_t name, char *out, size_t capacity) {
    if (!(name & 0x80000000u)) { snprintf(out, capacity, "%u", name); return; }
    uint32_t length;
    int64_t at = base + (name & 0x7fffffff);
    size_t k = 0;
    if (r16(at, &length)) {
        for (uint32_t i = 0; i < length && i < 256 && k + 4 < capacity; i++) {
            uint32_t c;
            if (!r16(at + 2 + 2 * i, &c)) break;
            if (c == '/' || c == 0) c = '_';
            if (c >= 0xd800 && c < 0xe000) c = 0xfffd;
            if (c < 0x80) out[k++] = (char)c;
            else if (c < 0x800) { out[k++] = (char)(0xc0 | c >> 6); out[k++] = (char)(0x80 | (c & 0x3f)); }
            else { out[k++] = (char)(0xe0 | c >> 12); out[k++] = (char)(0x80 | ((c >> 6) & 0x3f)); out[k++] = (char)(0x80 | (c & 0x3f)); }
        }
    }
    if (k == 0) out[k++] = '_';
    out[k] = 0;
}

/* Whether a resource's first bytes are an executable's, an archive's or a compound document's. */
static int interesting(const unsigned char *p, uint32_t n) {
    static const struct { const char *magic; unsigned length; } magics[] = {
        { "MZ", 2 }, { "\x7f" "ELF", 4 }, { "PK\x03\x04", 4 }, { "7z\xbc\xaf\x27\x1c", 6 }, { "Rar!\x1a\x07", 6 },
        { "\x1f\x8b", 2 }, { "MSCF", 4 }, { "BZh", 3 }, { "\xfd" "7zXZ", 5 }, { "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8 },
        { "%PDF", 4 }, { "\x28\xb5\x2f\xfd", 4 } };
    for (size_t i = 0; i < sizeof magics / sizeof *magics; i++)
        if (n >= magics[i].length && !memcmp(p, magics[i].magic, magics[i].length)) return 1;
    return 0;
}

/* Walks the resource tree (type / name / language: three levels, as Windows uses it) and emits
 * the resources of interest as slices named resources/TYPE/NAME/LANGUAGE. */
static void pe_resources(uint32_t rva) {
    int64_t base = rva_offset(rva);
    if (base < 0) return;
    int entries = 0;
    uint32_t header[4];
    struct { int64_t dir; uint32_t count, index; char label[300]; } level[3];
    int depth = 0;
    level[0].dir = base;
    level[0].index = 0;
    level[0].label[0] = 0;
    uint32_t named, ids;
    if (!r16(base + 12, &named) || !r16(base + 14, &ids)) return;
    level[0].count = named + ids;
    (void)header;
    while (depth >= 0) {
        if (level[depth].index >= level[depth].count || entries >= MAX_RESOURCE_ENTRIES) { depth--; continue; }
        uint32_t i = level[depth].index++;
        entries++;
        uint32_t name, target;
        int64_t entry = level[depth].dir + 16 + 8 * (int64_t)i;
        if (!r32(entry, &name) || !r32(entry + 4, &target)) { depth--; continue; }
        char label[300];
        if (depth == 0 && !(name & 0x80000000u) && resource_type_name(name)) snprintf(label, sizeof label, "%s", resource_type_name(name));
        else resource_label(base, name, label, sizeof label);
        if (target & 0x80000000u) {
            if (depth == 2) continue; /* deeper than language: not a Windows resource */
            int64_t dir = base + (target & 0x7fffffff);
            if (!r16(dir + 12, &named) || !r16(dir + 14, &ids)) continue;
            depth++;
            level[depth].dir = dir;
            level[depth].count = named + ids;
            level[depth].index = 0;
            snprintf(level[depth].label, sizeof level[depth].label, "%s%s%s", level[depth - 1].label, depth > 1 ? "/" : "", label);
            continue;
        }
        if (depth != 2) continue;
        uint32_t data_rva, data_size;
        if (!r32(base + target, &data_rva) || !r32(base + target + 4, &data_size)) continue;
        int64_t off = rva_offset(data_rva);
        if (off < 0 || data_size == 0 || (int64_t)data_size > size - off) continue;
        unsigned char head[8] = { 0 };
        rd(off, head, data_size < 8 ? data_size : 8);
        int manifest = strncmp(level[2].label, "RT_MANIFEST/", 12) == 0;
        if (!manifest && !interesting(head, data_size)) continue;
        char emitted[700];
        snprintf(emitted, sizeof emitted, "resources/%s/%s", level[2].label, label);
        emit_slice(off, data_size, emitted);
    }
}

static const char *pe_machine(uint32_t m) {
    switch (m) {
    case 0x0: return "IMAGE_FILE_MACHINE_UNKNOWN"; case 0x1d3: return "IMAGE_FILE_MACHINE_AM33";
    case 0x8664: return "IMAGE_FILE_MACHINE_AMD64"; case 0x1c0: return "IMAGE_FILE_MACHINE_ARM";
    case 0xaa64: return "IMAGE_FILE_MACHINE_ARM64"; case 0x1c4: return "IMAGE_FILE_MACHINE_ARMNT";
    case 0xebc: return "IMAGE_FILE_MACHINE_EBC"; case 0x14c: return "IMAGE_FILE_MACHINE_I386";
    case 0x200: return "IMAGE_FILE_MACHINE_IA64"; case 0x9041: return "IMAGE_FILE_MACHINE_M32R";
    case 0x266: return "IMAGE_FILE_MACHINE_MIPS16"; case 0x366: return "IMAGE_FILE_MACHINE_MIPSFPU";
    case 0x466: return "IMAGE_FILE_MACHINE_MIPSFPU16"; case 0x1f0: return "IMAGE_FILE_MACHINE_POWERPC";
    case 0x1f1: return "IMAGE_FILE_MACHINE_POWERPCFP"; case 0x166: return "IMAGE_FILE_MACHINE_R4000";
    case 0x5032: return "IMAGE_FILE_MACHINE_RISCV32"; case 0x5064: return "IMAGE_FILE_MACHINE_RISCV64";
    case 0x5128: return "IMAGE_FILE_MACHINE_RISCV128"; case 0x1a2: return "IMAGE_FILE_MACHINE_SH3";
    case 0x1a3: return "IMAGE_FILE_MACHINE_SH3DSP"; case 0x1a6: return "IMAGE_FILE_MACHINE_SH4";
    case 0x1a8: return "IMAGE_FILE_MACHINE_SH5"; case 0x1c2: return "IMAGE_FILE_MACHINE_THUMB";
    case 0x169: return "IMAGE_FILE_MACHINE_WCEMIPSV2"; case 0xa641: return "IMAGE_FILE_MACHINE_ARM64EC";
    case 0x6232: return "IMAGE_FILE_MACHINE_LOONGARCH32"; case 0x6264: return "IMAGE_FILE_MACHINE_LOONGARCH64";
    default: return NULL;
    }
}

static const char *pe_subsystem(uint32_t v) {
    static const char *names[] = { "IMAGE_SUBSYSTEM_UNKNOWN", "IMAGE_SUBSYSTEM_NATIVE", "IMAGE_SUBSYSTEM_WINDOWS_GUI",
        "IMAGE_SUBSYSTEM_WINDOWS_CUI", NULL, "IMAGE_SUBSYSTEM_OS2_CUI", NULL, "IMAGE_SUBSYSTEM_POSIX_CUI",
        "IMAGE_SUBSYSTEM_NATIVE_WINDOWS", "IMAGE_SUBSYSTEM_WINDOWS_CE_GUI", "IMAGE_SUBSYSTEM_EFI_APPLICATION",
        "IMAGE_SUBSYSTEM_EFI_BOOT_SERVICE_DRIVER", "IMAGE_SUBSYSTEM_EFI_RUNTIME_DRIVER", "IMAGE_SUBSYSTEM_EFI_ROM",
        "IMAGE_SUBSYSTEM_XBOX", NULL, "IMAGE_SUBSYSTEM_WINDOWS_BOOT_APPLICATION" };
    return v < sizeof names / sizeof *names ? names[v] : NULL;
}

static int compare_va(const void *a, const void *b) {
    const pe_section *x = a, *y = b;
    return x->va < y->va ? -1 : x->va > y->va;
}

static int parse_pe(void) {
    big_endian = 0;
    uint32_t lfanew, signature;
    if (!r32(0x3c, &lfanew) || !r32(lfanew, &signature) || signature != 0x4550) return 0; /* MZ without PE: not ours */
    unsigned char fh[20];
    if (!rd((int64_t)lfanew + 4, fh, 20)) return 0;
    uint32_t machine = get16(fh), nsections = get16(fh + 2), timestamp = get32(fh + 4), opt_size = get16(fh + 16), characteristics = get16(fh + 18);
    int64_t opt = (int64_t)lfanew + 24;
    uint32_t magic;
    if (!r16(opt, &magic) || (magic != 0x10b && magic != 0x20b)) { warn("PE: %s", "no optional header this reader knows (not PE32 or PE32+)"); return 0; }
    int plus = magic == 0x20b;
    unsigned char oh[240] = { 0 };
    uint32_t avail = size - opt < (int64_t)sizeof oh ? (uint32_t)(size - opt) : (uint32_t)sizeof oh;
    if (!rd(opt, oh, avail)) return 0;
    summary s = { 0 };
    char machine_text[32];
    s.format = "PE";
    s.machine = pe_machine(machine);
    if (!s.machine) { snprintf(machine_text, sizeof machine_text, "0x%x", machine); s.machine = machine_text; }
    s.bits = plus ? 64 : 32;
    s.endian = "little";
    s.kind = (characteristics & 0x2000) ? "DLL" : "EXE";
    s.has_entry = 1; s.entry = get32(oh + 16);
    s.has_base = 1; s.base = plus ? get64(oh + 24) : get32(oh + 28);
    s.has_timestamp = 1; s.timestamp = timestamp;
    section_alignment = get32(oh + 32);
    file_alignment = get32(oh + 36);
    char subsystem_text[32];
    s.subsystem = pe_subsystem(get16(oh + 68));
    if (!s.subsystem) { snprintf(subsystem_text, sizeof subsystem_text, "%u", get16(oh + 68)); s.subsystem = subsystem_text; }
    uint32_t ndirs = get32(oh + (plus ? 108 : 92)) & 0x7fffffff;
    if (ndirs > 16) ndirs = 16;
    uint32_t dir_va[16] = { 0 }, dir_size[16] = { 0 };
    int dirs_offset = plus ? 112 : 96;
    for (uint32_t i = 0; i < ndirs && dirs_offset + 8 * i + 8 <= avail; i++) {
        dir_va[i] = get32(oh + dirs_offset + 8 * i);
        dir_size[i] = get32(oh + dirs_offset + 8 * i + 4);
    }

    /* Sections, in file order for the table; sorted by address for RVA lookups, as pefile. */
    free(pe_sections);
    pe_count = 0;
    if (nsections > MAX_SECTIONS_PE) nsections = MAX_SECTIONS_PE;
    pe_sections = calloc(nsections ? nsections : 1, sizeof *pe_sections);
    if (!pe_sections) return 1;
    int64_t table = opt + opt_size;
    for (uint32_t i = 0; i < nsections; i++) {
        unsigned char h[40];
        if (!rd(table + 40 * (int64_t)i, h, 40)) { warn("PE: %s", "section table cut short by the end of the content"); break; }
        /* pefile's parse_sections: an all-zero header ends the table, and so does a header with
         * three of its five implausibilities at once (the section is not kept). */
        int nonzero = 0;
        for (int k = 0; k < 40; k++) nonzero |= h[k];
        if (!nonzero) break;
        uint32_t vsize = get32(h + 8), va = get32(h + 12), raw_size = get32(h + 16), raw_ptr = get32(h + 20);
        int errors = ((int64_t)raw_size + raw_ptr > size) + ((int64_t)adjust_file(raw_ptr) > size) + (vsize > 0x10000000)
                   + (adjust_section(va) > 0x10000000) + (file_alignment != 0 && raw_ptr % file_alignment != 0);
        if (errors >= 3) { warn("PE: %s", "a section header with three errors at once ends the section table (as pefile)"); break; }
        pe_section *p = &pe_sections[pe_count++];
        p->vsize = vsize; p->va = va; p->raw_size = raw_size; p->raw_ptr = raw_ptr;
        size_t name_length = 0;
        while (name_length < 8 && h[name_length]) name_length++;
        /* entropy of pefile's section.get_data(): from the adjusted pointer to pointer + size. */
        int64_t start = adjust_file(p->raw_ptr), end = (int64_t)start + p->raw_size;
        if (end > (int64_t)p->raw_ptr + p->raw_size) end = (int64_t)p->raw_ptr + p->raw_size;
        double h_value = start < size && end > start ? entropy(start, end - start) : 0.0;
        insert_section((const char *)h, name_length, p->va, p->vsize, p->raw_ptr, p->raw_size, 1, h_value, get32(h + 36));
    }
    qsort(pe_sections, (size_t)pe_count, sizeof *pe_sections, compare_va); /* pefile's sort is stable; equal VAs are rare */
    for (int i = 0; i < pe_count; i++) { pe_sections[i].has_next = i + 1 < pe_count; pe_sections[i].next_va = i + 1 < pe_count ? pe_sections[i + 1].va : 0; }

    if (dir_va[1]) pe_imports(dir_va[1], plus, &s);
    if (dir_va[0] && dir_size[0]) pe_exports(dir_va[0], dir_size[0]);

    /* Authenticode: the certificate table's file offset and size (present, not verified). */
    s.has_signed = 1;
    s.is_signed = dir_va[4] && dir_size[4] >= 8 && (int64_t)dir_va[4] + dir_size[4] <= size;

    /* CodeView debug entries: the PDB path (RSDS or NB10). */
    if (dir_va[6] && dir_size[6]) {
        int64_t off = rva_offset(dir_va[6]);
        for (uint32_t i = 0; off >= 0 && i < dir_size[6] / 28 && i < MAX_DEBUG_ENTRIES && !s.has_pdb; i++) {
            unsigned char e[28];
            if (!rd(off + 28 * (int64_t)i, e, 28)) break;
            if (get32(e + 12) != 2) continue;
            int64_t at = get32(e + 24);
            unsigned char sig[4];
            if (!rd(at, sig, 4)) continue;
            if (!memcmp(sig, "RSDS", 4)) s.has_pdb = rstr(at + 24, s.pdb, sizeof s.pdb - 1) >= 0;
            else if (!memcmp(sig, "NB10", 4)) s.has_pdb = rstr(at + 16, s.pdb, sizeof s.pdb - 1) >= 0;
        }
    }

    /* The overlay, as pefile's get_overlay_data_start_offset. */
    int64_t best_off = 0, best_size = 0;
#define CONSIDER(o, n) do { int64_t o_ = (o), n_ = (n); if (o_ + n_ <= size && o_ + n_ > best_off + best_size) { best_off = o_; best_size = n_; } } while (0)
    CONSIDER(opt, opt_size);
    for (uint32_t i = 0; i < (uint32_t)pe_count; i++) CONSIDER(pe_sections[i].raw_ptr, pe_sections[i].raw_size);
    for (uint32_t i = 0; i < ndirs; i++) {
        if (i == 4) continue;
        int64_t o = rva_offset(dir_va[i]);
        if (o >= 0) CONSIDER(o, dir_size[i]);
    }
#undef CONSIDER
    if (size > best_off + best_size) {
        s.has_overlay = 1;
        s.overlay_offset = best_off + best_size;
        s.overlay_size = size - s.overlay_offset;
    }
    insert_summary(&s);
    if (s.has_overlay) emit_slice(s.overlay_offset, s.overlay_size, "overlay");
    if (dir_va[2] && dir_size[2]) pe_resources(dir_va[2]);
    return 1;
}

/* ---- ELF ----------------------------------------------------------------------------------- */

static const char *elf_machine(uint32_t m, char *fallback) {
    switch (m) {
    case 0: return "None"; case 2: return "Sparc"; case 3: return "Intel 80386"; case 4: return "MC68000";
    case 8: return "MIPS R3000"; case 15: return "HPPA"; case 18: return "Sparc v8+"; case 20: return "PowerPC";
    case 21: return "PowerPC64"; case 22: return "IBM S/390"; case 40: return "ARM"; case 42: return "Renesas / SuperH SH";
    case 43: return "Sparc v9"; case 50: return "Intel IA-64"; case 62: return "Advanced Micro Devices X86-64";
    case 183: return "AArch64"; case 243: return "RISC-V"; case 247: return "Linux BPF"; case 258: return "LoongArch";
    case 0x9026: return "Alpha";
    default: sprintf(fallback, "<unknown>: 0x%x", m); return fallback;
    }
}

typedef struct { uint32_t name, type; uint64_t flags, addr, offset, size; uint32_t link, info; uint64_t entsize; } elf_shdr;

static int elf64;
static int elf_shdr_at(int64_t off, elf_shdr *h) {
    unsigned char b[64];
    if (!rd(off, b, elf64 ? 64 : 40)) return 0;
    if (elf64) { h->name = get32(b); h->type = get32(b + 4); h->flags = get64(b + 8); h->addr = get64(b + 16); h->offset = get64(b + 24); h->size = get64(b + 32); h->link = get32(b + 40); h->info = get32(b + 44); h->entsize = get64(b + 56); }
    else { h->name = get32(b); h->type = get32(b + 4); h->flags = get32(b + 8); h->addr = get32(b + 12); h->offset = get32(b + 16); h->size = get32(b + 20); h->link = get32(b + 24); h->info = get32(b + 28); h->entsize = get32(b + 36); }
    return 1;
}

/* The GNU build-id note (type 3, name "GNU") in [off, off + n), as hex. */
static int elf_build_id(int64_t off, uint64_t n, char *out, size_t capacity) {
    int64_t end = off + (int64_t)(n > (uint64_t)size ? (uint64_t)size : n);
    for (int k = 0; k < 256 && off + 12 <= end; k++) {
        uint32_t namesz, descsz, type;
        if (!r32(off, &namesz) || !r32(off + 4, &descsz) || !r32(off + 8, &type)) return 0;
        int64_t name_at = off + 12, desc_at = name_at + ((namesz + 3) & ~3u);
        if (type == 3 && namesz == 4 && descsz > 0 && descsz <= 64) {
            char name[4];
            unsigned char desc[64];
            if (rd(name_at, name, 4) && !memcmp(name, "GNU", 4) && rd(desc_at, desc, descsz) && desc_at + descsz <= end) {
                for (uint32_t i = 0; i < descsz && 2 * i + 2 < capacity; i++) snprintf(out + 2 * i, 3, "%02x", desc[i]);
                return 1;
            }
        }
        off = desc_at + ((descsz + 3) & ~(uint64_t)3);
    }
    return 0;
}

static int parse_elf(void) {
    unsigned char ident[16];
    if (!rd(0, ident, 16) || (ident[4] != 1 && ident[4] != 2) || (ident[5] != 1 && ident[5] != 2)) { warn("ELF: %s", "unknown class or data encoding"); return 0; }
    elf64 = ident[4] == 2;
    big_endian = ident[5] == 2;
    unsigned char h[64];
    if (!rd(0, h, elf64 ? 64 : 52)) { warn("ELF: %s", "header cut short"); return 0; }
    uint32_t type = get16(h + 16), machine = get16(h + 18);
    uint64_t entry, phoff, shoff;
    uint32_t phentsize, phnum, shentsize, shnum, shstrndx;
    if (elf64) { entry = get64(h + 24); phoff = get64(h + 32); shoff = get64(h + 40); phentsize = get16(h + 54); phnum = get16(h + 56); shentsize = get16(h + 58); shnum = get16(h + 60); shstrndx = get16(h + 62); }
    else { entry = get32(h + 24); phoff = get32(h + 28); shoff = get32(h + 32); phentsize = get16(h + 42); phnum = get16(h + 44); shentsize = get16(h + 46); shnum = get16(h + 48); shstrndx = get16(h + 50); }
    summary s = { 0 };
    char machine_text[32], kind_text[32];
    s.format = "ELF";
    s.machine = elf_machine(machine, machine_text);
    s.bits = elf64 ? 64 : 32;
    s.endian = big_endian ? "big" : "little";
    switch (type) {
    case 0: s.kind = "NONE"; break; case 1: s.kind = "REL"; break; case 2: s.kind = "EXEC"; break;
    case 3: s.kind = "DYN"; break; case 4: s.kind = "CORE"; break;
    default: snprintf(kind_text, sizeof kind_text, "0x%x", type); s.kind = kind_text;
    }
    s.has_entry = 1; s.entry = entry;

    /* Sections (extended numbering: a count or string index too large for the header is in section 0). */
    elf_shdr zero;
    if (shoff && shentsize >= (elf64 ? 64u : 40u) && elf_shdr_at((int64_t)shoff, &zero)) {
        if (shnum == 0) shnum = zero.size > MAX_SECTIONS_ELF ? MAX_SECTIONS_ELF : (uint32_t)zero.size;
        if (shstrndx == 0xffff) shstrndx = zero.link;
    } else shnum = 0;
    if (shnum > MAX_SECTIONS_ELF) shnum = MAX_SECTIONS_ELF;
    elf_shdr strtab = { 0 };
    int has_strtab = shstrndx < shnum && elf_shdr_at((int64_t)shoff + (int64_t)shstrndx * shentsize, &strtab);
    int dynsym = -1, versym = -1, verneed = -1;
    for (uint32_t i = 1; i < shnum; i++) {
        elf_shdr sh;
        if (!elf_shdr_at((int64_t)shoff + (int64_t)i * shentsize, &sh)) { warn("ELF: %s", "section headers cut short by the end of the content"); shnum = i; break; }
        char name[256];
        int n = has_strtab && sh.name < strtab.size ? rstr((int64_t)(strtab.offset + sh.name), name, 255) : -1;
        if (n < 0) { name[0] = 0; n = 0; }
        int nobits = sh.type == 8;
        int64_t fsize = nobits ? 0 : (int64_t)sh.size;
        double h_value = 0.0;
        int has_h = !nobits && sh.size > 0 && sh.offset < (uint64_t)size;
        if (has_h) h_value = entropy((int64_t)sh.offset, (int64_t)(sh.size > (uint64_t)size ? (uint64_t)size : sh.size));
        insert_section(name, (size_t)n, sh.addr, sh.size, (int64_t)sh.offset, fsize, has_h, h_value, sh.flags);
        if (sh.type == 11 && dynsym < 0) dynsym = (int)i;
        if (sh.type == 0x6fffffff && versym < 0) versym = (int)i;
        if (sh.type == 0x6ffffffe && verneed < 0) verneed = (int)i;
        if (sh.type == 7 && !s.build_id[0] && !nobits) elf_build_id((int64_t)sh.offset, sh.size, s.build_id, sizeof s.build_id);
    }
    /* Without section headers, the build id from the program headers' notes. */
    if (!s.build_id[0] && phoff && phentsize >= (elf64 ? 56u : 32u)) {
        for (uint32_t i = 0; i < phnum && !s.build_id[0]; i++) {
            unsigned char p[56];
            if (!rd((int64_t)phoff + (int64_t)i * phentsize, p, elf64 ? 56 : 32)) break;
            if (get32(p) != 4) continue;
            uint64_t off = elf64 ? get64(p + 8) : get32(p + 4), n = elf64 ? get64(p + 32) : get32(p + 16);
            elf_build_id((int64_t)off, n, s.build_id, sizeof s.build_id);
        }
    }
    insert_summary(&s);

    /* Dynamic symbols: undefined ones are imports (library from the version needs), defined
     * global, weak and unique ones exports. */
    if (dynsym < 0) return 1;
    elf_shdr sym, str;
    if (!elf_shdr_at((int64_t)shoff + (int64_t)dynsym * shentsize, &sym) || sym.link >= shnum
        || !elf_shdr_at((int64_t)shoff + (int64_t)sym.link * shentsize, &str)) return 1;
    uint32_t entsize = elf64 ? 24 : 16;
    uint64_t count = sym.size / entsize;
    if (count > MAX_SYMBOLS) { warn("ELF: %s", "more than 200000 dynamic symbols: the rest are not listed"); count = MAX_SYMBOLS; }
    /* version index -> library (vna_other -> vn_file) */
    enum { MAX_VERSIONS = 1024 };
    static char *libraries[MAX_VERSIONS];
    for (int i = 0; i < MAX_VERSIONS; i++) { free(libraries[i]); libraries[i] = NULL; }
    elf_shdr vs = { 0 }, vn, vnstr;
    int has_versym = versym >= 0 && elf_shdr_at((int64_t)shoff + (int64_t)versym * shentsize, &vs);
    if (has_versym && verneed >= 0 && elf_shdr_at((int64_t)shoff + (int64_t)verneed * shentsize, &vn) && vn.link < shnum
        && elf_shdr_at((int64_t)shoff + (int64_t)vn.link * shentsize, &vnstr)) {
        int64_t at = (int64_t)vn.offset;
        for (uint32_t k = 0; k < vn.info && k < 256; k++) {
            unsigned char b[16];
            if (!rd(at, b, 16)) break;
            uint32_t cnt = get16(b + 2), file = get32(b + 4), aux = get32(b + 8), next = get32(b + 12);
            char lib[256];
            if (rstr((int64_t)(vnstr.offset + file), lib, 255) < 0) lib[0] = 0;
            int64_t a = at + aux;
            for (uint32_t j = 0; j < cnt && j < 256; j++) {
                unsigned char x[16];
                if (!rd(a, x, 16)) break;
                uint32_t other = get16(x + 6) & 0x7fff, anext = get32(x + 12);
                if (other < MAX_VERSIONS && lib[0] && !libraries[other]) libraries[other] = strdup(lib);
                if (!anext) break;
                a += anext;
            }
            if (!next) break;
            at += next;
        }
    }
    char name[1024];
    for (uint64_t i = 1; i < count; i++) {
        unsigned char b[24];
        if (!rd((int64_t)(sym.offset + i * entsize), b, entsize)) { warn("ELF: %s", "dynamic symbol table cut short"); break; }
        uint32_t name_off, shndx, info;
        uint64_t value;
        if (elf64) { name_off = get32(b); info = b[4]; shndx = get16(b + 6); value = get64(b + 8); }
        else { name_off = get32(b); value = get32(b + 4); info = b[12]; shndx = get16(b + 14); }
        if (name_off >= str.size || rstr((int64_t)(str.offset + name_off), name, sizeof name - 1) <= 0) continue;
        uint32_t bind = info >> 4;
        if (shndx == 0) {
            const char *library = NULL;
            uint32_t v;
            if (has_versym && r16((int64_t)(vs.offset + 2 * i), &v) && (v & 0x7fff) < MAX_VERSIONS) library = libraries[v & 0x7fff];
            insert_import(library, name, -1);
        } else if (bind == 1 || bind == 2 || bind == 10) insert_export(name, -1, value);
        if (host_error) break;
    }
    return 1;
}

/* ---- Mach-O -------------------------------------------------------------------------------- */

static const char *macho_cpu(uint32_t cpu) {
    switch (cpu) {
    case 7: return "I386"; case 0x01000007: return "X86_64"; case 12: return "ARM"; case 0x0100000c: return "ARM64";
    case 0x0200000c: return "ARM64_32"; case 18: return "POWERPC"; case 0x01000012: return "POWERPC64";
    default: return NULL;
    }
}

static const char *macho_filetype(uint32_t t) {
    static const char *names[] = { NULL, "OBJECT", "EXECUTE", "FVMLIB", "CORE", "PRELOAD", "DYLIB", "DYLINKER", "BUNDLE",
        "DYLIB_STUB", "DSYM", "KEXT_BUNDLE", "FILESET" };
    return t < sizeof names / sizeof *names ? names[t] : NULL;
}

static int parse_fat(void) {
    big_endian = 1;
    uint32_t magic, n;
    if (!r32(0, &magic) || !r32(4, &n)) return 0;
    if (magic == 0xbebafeca || magic == 0xbfbafeca) { big_endian = 0; r32(0, &magic); r32(4, &n); }
    /* Java class files share cafebabe: their version makes the "count" 45 or more. */
    if (n == 0 || n >= 45) return 0;
    int fat64 = magic == 0xcafebabf;
    summary s = { 0 };
    s.format = "Mach-O fat";
    s.endian = big_endian ? "big" : "little";
    s.kind = "FAT";
    insert_summary(&s);
    for (uint32_t i = 0; i < n && i < MAX_FAT_ARCHES; i++) {
        unsigned char b[32];
        int64_t at = 8 + (int64_t)i * (fat64 ? 32 : 20);
        if (!rd(at, b, fat64 ? 32 : 20)) { warn("Mach-O fat: %s", "architecture table cut short"); break; }
        uint32_t cpu = get32(b);
        uint64_t off = fat64 ? get64(b + 8) : get32(b + 8), n_bytes = fat64 ? get64(b + 16) : get32(b + 12);
        char name[64];
        const char *cpu_name = macho_cpu(cpu);
        if (cpu_name) snprintf(name, sizeof name, "fat/%s", cpu_name); else snprintf(name, sizeof name, "fat/cpu%u", cpu);
        if (off <= (uint64_t)size && n_bytes <= (uint64_t)size - off) emit_slice((int64_t)off, (int64_t)n_bytes, name);
        else warn("Mach-O fat: %s outside the content", name);
    }
    return 1;
}

static int parse_macho(void) {
    unsigned char m[4];
    rd(0, m, 4);
    big_endian = m[0] == 0xfe;
    uint32_t magic;
    r32(0, &magic);
    int is64 = magic == 0xfeedfacf;
    unsigned char h[32];
    if (!rd(0, h, is64 ? 32 : 28)) { warn("Mach-O: %s", "header cut short"); return 0; }
    uint32_t cpu = get32(h + 4), filetype = get32(h + 12), ncmds = get32(h + 16);
    summary s = { 0 };
    char cpu_text[32], type_text[32];
    s.format = "Mach-O";
    s.machine = macho_cpu(cpu);
    if (!s.machine) { snprintf(cpu_text, sizeof cpu_text, "%u", cpu); s.machine = cpu_text; }
    s.bits = is64 ? 64 : 32;
    s.endian = big_endian ? "big" : "little";
    s.kind = macho_filetype(filetype);
    if (!s.kind) { snprintf(type_text, sizeof type_text, "%u", filetype); s.kind = type_text; }
    s.has_signed = 1;
    int64_t at = is64 ? 32 : 28;
    uint32_t symoff = 0, nsyms = 0, stroff = 0, strsize = 0;
    enum { MAX_DYLIBS = 256 };
    static char *dylibs[MAX_DYLIBS];
    int ndylibs = 0;
    for (int i = 0; i < MAX_DYLIBS; i++) { free(dylibs[i]); dylibs[i] = NULL; }
    if (ncmds > MAX_LOAD_COMMANDS) ncmds = MAX_LOAD_COMMANDS;
    for (uint32_t c = 0; c < ncmds; c++) {
        uint32_t cmd, cmdsize;
        if (!r32(at, &cmd) || !r32(at + 4, &cmdsize) || cmdsize < 8) { warn("Mach-O: %s", "load commands cut short or damaged"); break; }
        if (cmd == 0x1 || cmd == 0x19) {
            int seg64 = cmd == 0x19;
            uint32_t nsects;
            if (!r32(at + (seg64 ? 64 : 48), &nsects)) break;
            int64_t sect = at + (seg64 ? 72 : 56);
            for (uint32_t k = 0; k < nsects && sections_left > 0 && sect + (seg64 ? 80 : 68) <= at + cmdsize; k++, sect += seg64 ? 80 : 68, sections_left--) {
                unsigned char b[80];
                if (!rd(sect, b, seg64 ? 80 : 68)) break;
                char name[40];
                size_t a = 0, g = 0;
                while (a < 16 && b[a]) a++;
                while (g < 16 && b[16 + g]) g++;
                memcpy(name, b + 16, g); name[g] = ',';
                memcpy(name + g + 1, b, a);
                uint64_t addr = seg64 ? get64(b + 32) : get32(b + 32), n = seg64 ? get64(b + 40) : get32(b + 36);
                uint32_t off = get32(b + (seg64 ? 48 : 40)), flags = get32(b + (seg64 ? 64 : 56));
                uint32_t stype = flags & 0xff;
                int zerofill = stype == 1 || stype == 0x0c || stype == 0x12;
                int64_t fsize = zerofill ? 0 : (int64_t)n;
                int has_h = !zerofill && n > 0 && off < (uint64_t)size;
                double hv = has_h ? entropy(off, (int64_t)n) : 0.0;
                insert_section(name, g + 1 + a, addr, n, off, fsize, has_h, hv, flags);
            }
        } else if (cmd == 0x2) {
            unsigned char b[16];
            if (rd(at + 8, b, 16)) { symoff = get32(b); nsyms = get32(b + 4); stroff = get32(b + 8); strsize = get32(b + 12); }
        } else if (cmd == 0x80000028) {
            uint64_t e;
            if (r64(at + 8, &e)) { s.has_entry = 1; s.entry = e; }
        } else if (cmd == 0x1b) {
            unsigned char u[16];
            if (rd(at + 8, u, 16))
                snprintf(s.build_id, sizeof s.build_id, "%02X%02X%02X%02X-%02X%02X-%02X%02X-%02X%02X-%02X%02X%02X%02X%02X%02X",
                         u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
        } else if (cmd == 0x1d) {
            s.is_signed = 1;
        } else if (cmd == 0xc || cmd == 0x80000018 || cmd == 0x80000023 || cmd == 0x80000020 || cmd == 0x80000022) {
            uint32_t name_off;
            char lib[512];
            if (ndylibs < MAX_DYLIBS && r32(at + 8, &name_off) && name_off < cmdsize) {
                int n = rstr(at + name_off, lib, (int)(cmdsize - name_off) < 511 ? (int)(cmdsize - name_off) : 511);
                dylibs[ndylibs++] = strdup(n >= 0 ? lib : "");
            }
        }
        at += cmdsize;
    }
    insert_summary(&s);
    /* Symbols: undefined external ones are imports (library by two-level ordinal when linked),
     * defined external ones (section, absolute, common) exports. */
    uint32_t entsize = is64 ? 16 : 12;
    if (nsyms > MAX_SYMBOLS) { warn("Mach-O: %s", "more than 200000 symbols: the rest are not listed"); nsyms = MAX_SYMBOLS; }
    char name[1024];
    for (uint32_t i = 0; i < nsyms && !host_error; i++) {
        unsigned char b[16];
        if (!rd((int64_t)symoff + (int64_t)i * entsize, b, entsize)) { warn("Mach-O: %s", "symbol table cut short"); break; }
        uint32_t strx = get32(b), type = b[4], desc = get16(b + 6);
        uint64_t value = is64 ? get64(b + 8) : get32(b + 8);
        if (type & 0xe0) continue;        /* debugging (stab) entries */
        if (!(type & 0x01)) continue;     /* not external */
        if (strx >= strsize || rstr((int64_t)stroff + strx, name, sizeof name - 1) <= 0) continue;
        uint32_t kind = type & 0x0e;
        if (kind == 0 && value == 0) {
            uint32_t ordinal = (desc >> 8) & 0xff;
            insert_import(ordinal >= 1 && ordinal <= (uint32_t)ndylibs ? dylibs[ordinal - 1] : NULL, name, -1);
        } else if (kind == 0 || kind == 0x0e || kind == 0x02) insert_export(name, -1, value);
    }
    return 1;
}

/* ---- entry --------------------------------------------------------------------------------- */

static int32_t define_tables(void) {
    t_exec = wadup_define_table("executables",
        "[{\"name\":\"format\",\"data_type\":\"String\"},{\"name\":\"machine\",\"data_type\":\"String\"},"
        "{\"name\":\"bits\",\"data_type\":\"Int64\"},{\"name\":\"endian\",\"data_type\":\"String\"},"
        "{\"name\":\"kind\",\"data_type\":\"String\"},{\"name\":\"entry_point\",\"data_type\":\"Int64\"},"
        "{\"name\":\"image_base\",\"data_type\":\"Int64\"},{\"name\":\"timestamp\",\"data_type\":\"Int64\"},"
        "{\"name\":\"subsystem\",\"data_type\":\"String\"},{\"name\":\"imphash\",\"data_type\":\"String\"},"
        "{\"name\":\"is_signed\",\"data_type\":\"Int64\"},{\"name\":\"pdb_path\",\"data_type\":\"String\"},"
        "{\"name\":\"build_id\",\"data_type\":\"String\"},{\"name\":\"overlay_offset\",\"data_type\":\"Int64\"},"
        "{\"name\":\"overlay_size\",\"data_type\":\"Int64\"}]");
    t_sect = wadup_define_table("executable_sections",
        "[{\"name\":\"name\",\"data_type\":\"String\"},{\"name\":\"virtual_address\",\"data_type\":\"Int64\"},"
        "{\"name\":\"virtual_size\",\"data_type\":\"Int64\"},{\"name\":\"file_offset\",\"data_type\":\"Int64\"},"
        "{\"name\":\"file_size\",\"data_type\":\"Int64\"},{\"name\":\"entropy\",\"data_type\":\"Float64\"},"
        "{\"name\":\"flags\",\"data_type\":\"Int64\"}]");
    t_imp = wadup_define_table("executable_imports",
        "[{\"name\":\"library\",\"data_type\":\"String\"},{\"name\":\"symbol\",\"data_type\":\"String\"},"
        "{\"name\":\"ordinal\",\"data_type\":\"Int64\"}]");
    t_exp = wadup_define_table("executable_exports",
        "[{\"name\":\"symbol\",\"data_type\":\"String\"},{\"name\":\"ordinal\",\"data_type\":\"Int64\"},"
        "{\"name\":\"address\",\"data_type\":\"Int64\"}]");
    if (t_exec < 0) return t_exec;
    if (t_sect < 0) return t_sect;
    if (t_imp < 0) return t_imp;
    return t_exp < 0 ? t_exp : 0;
}

__attribute__((export_name("process")))
int32_t process(void) {
    if (!window && !(window = malloc(WINDOW))) return 1;
    window_start = -1;
    host_error = 0;
    size = get_content_size64();
    if (size < 0) return 1;
    entropy_budget = 2 * size + (16 << 20);
    entropy_exhausted = 0;
    sections_left = MAX_SECTIONS_ELF;
    last_section = NULL;
    unsigned char m[4] = { 0 };
    if (size < 4 || !rd(0, m, 4)) return host_error ? 1 : 0;
    int (*parse)(void) = NULL;
    if (m[0] == 'M' && m[1] == 'Z') parse = parse_pe;
    else if (!memcmp(m, "\x7f" "ELF", 4)) parse = parse_elf;
    else if ((m[0] == 0xca && m[1] == 0xfe && m[2] == 0xba && (m[3] == 0xbe || m[3] == 0xbf))
             || (m[3] == 0xca && m[2] == 0xfe && m[1] == 0xba && (m[0] == 0xbe || m[0] == 0xbf))) parse = parse_fat;
    else if ((m[0] == 0xfe && m[1] == 0xed && m[2] == 0xfa && (m[3] == 0xce || m[3] == 0xcf))
             || (m[3] == 0xfe && m[2] == 0xed && m[1] == 0xfa && (m[0] == 0xce || m[0] == 0xcf))) parse = parse_macho;
    /* Not an executable: nothing, not even the tables, so that a run without dispatch (which offers
     * every content) writes exactly what a run with the manifest's magic numbers writes. */
    if (!parse) return 0;
    if (t_exec < 0) { int32_t rc = define_tables(); if (rc < 0) return 1; }
    (void)parse();
    /* A failed read of the input or a host limit on rows: the host records why; the run fails. */
    return host_error ? 1 : 0;
}
