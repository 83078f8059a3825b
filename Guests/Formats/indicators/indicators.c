/*
 * indicators — network and registry indicators in the strings of every content.
 *
 * Strings are found exactly as GNU `strings -a -n 6` (7-bit ASCII: tab and 0x20..0x7e) and
 * `strings -a -n 6 -el` (16-bit little-endian units whose high byte is 0 and low byte is one of
 * those) find them, over the first SCAN_LIMIT bytes of the content. Each string is then searched
 * for URLs, e-mail addresses, IPv4 and IPv6 addresses, the domain names of those URLs and
 * addresses, and Windows registry keys, by small hand-written scanners (no regular expressions,
 * every scanner linear in the string's length, whatever the string holds).
 *
 * Tables (docs/modules/indicators.md has every rule):
 *   indicators(kind, value, offset, encoding)   one row per distinct (kind, value, encoding), at
 *                                               its first offset; at most MAX_ROWS per content
 *   indicator_scans(scanned_bytes, truncated, ascii_strings, utf16le_strings, indicators, capped)
 *                                               one row per content
 *   indicator_strings(offset, length, encoding) every string, only when the module's data folder
 *                                               holds a file named `strings` (for the tests)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../common/wadup_row.h"

WADUP_MANIFEST("{\"version\": 1, \"role\": \"analyze\", \"accepts\": {\"min_size\": 6}}");

#define SCAN_LIMIT ((int64_t)64 << 20) /* bytes of a content scanned */
#define MIN_STRING 6                   /* strings -n 6 */
#define MAX_ROWS 10000                 /* indicator rows per content */
#define MAX_VALUE 2048                 /* characters of a value; longer ones are cut */
#define READ_CHUNK (8u << 20)

enum kind { URL, EMAIL, IPV4, IPV6, DOMAIN, REGISTRY };
static const char *const kind_names[] = { "url", "email", "ipv4", "ipv6", "domain", "registry" };
enum encoding { ASCII, UTF16LE };
static const char *const encoding_names[] = { "ascii", "utf16le" };

/* ---- character classes ------------------------------------------------------------------- */

enum {
    C_STRING = 1 << 0,   /* a string character: tab, 0x20..0x7e */
    C_URL = 1 << 1,      /* RFC 3986 unreserved, reserved and '%' */
    C_SCHEME = 1 << 2,   /* A-Za-z0-9+.- */
    C_LOCAL = 1 << 3,    /* e-mail local part: A-Za-z0-9._%+- */
    C_HOST = 1 << 4,     /* A-Za-z0-9.- */
    C_HEX = 1 << 5,
    C_DIGIT = 1 << 6,
    C_WORD = 1 << 7,     /* A-Za-z0-9_ */
    C_KEY = 1 << 8,      /* a registry key character: printable but "'<>|*?/:,; */
    C_IPV6 = 1 << 9,     /* 0-9A-Fa-f:. */
    C_ALPHA = 1 << 10,
};
static uint16_t cls[256];
/* Byte classes of the string loops: a string character; a string character or 0 (every byte of
 * a 16-bit little-endian string is one). */
static uint8_t is_string[256], is_string_or_zero[256];


static void init_classes(void) {
    for (int c = 0; c < 256; c++) {
        uint16_t f = 0;
        int alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'), digit = c >= '0' && c <= '9';
        if (c == '\t' || (c >= 0x20 && c <= 0x7e)) f |= C_STRING;
        if (alpha || digit || (c && strchr("-._~:/?#[]@!$&'()*+,;=%", c))) f |= C_URL;
        if (alpha || digit || c == '+' || c == '.' || c == '-') f |= C_SCHEME;
        if (alpha || digit || (c && strchr("._%+-", c))) f |= C_LOCAL;
        if (alpha || digit || c == '.' || c == '-') f |= C_HOST;
        if (digit || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) f |= C_HEX;
        if (digit) f |= C_DIGIT;
        if (alpha) f |= C_ALPHA;
        if (alpha || digit || c == '_') f |= C_WORD;
        if (c >= 0x20 && c <= 0x7e && !strchr("\"'<>|*?/:,;", c)) f |= C_KEY;
        if ((f & C_HEX) || c == ':' || c == '.') f |= C_IPV6;
        cls[c] = f;
        is_string[c] = !!(f & C_STRING);
        is_string_or_zero[c] = c == 0 || (f & C_STRING);
    }
}

/* ---- a string: characters in the content buffer, every `stride` bytes ------------------------ */

typedef struct {
    const uint8_t *p;
    size_t n;          /* characters */
    unsigned stride;   /* 1 (ascii) or 2 (utf16le: the low bytes) */
    int64_t offset;    /* of the first character in the content */
    enum encoding encoding;
} view;

#define AT(v, i) ((v)->p[(size_t)(i) * (v)->stride])
#define IS(v, i, f) (cls[AT(v, i)] & (f))

/* ---- found indicators: deduplicated by (kind, value, encoding) ------------------------------- */

typedef struct {
    uint8_t kind, encoding;
    int64_t offset;
    uint32_t value, length; /* in arena */
    uint64_t hash;
} entry;

#define SLOTS 32768 /* a power of two, over 2 * MAX_ROWS */
static entry *entries;
static int32_t slots[SLOTS]; /* index + 1, 0 free */
static uint32_t used_slots[MAX_ROWS];
static uint32_t entry_count;
static int capped;
static char *arena;
static size_t arena_length, arena_capacity;
static char scratch[MAX_VALUE];

static void found(const view *v, size_t start, size_t end, enum kind kind, int lower) {
    size_t n = end - start;
    if (n > MAX_VALUE) n = MAX_VALUE;
    uint64_t h = 1469598103934665603ull;
    h = (h ^ kind) * 1099511628211ull;
    h = (h ^ v->encoding) * 1099511628211ull;
    for (size_t i = 0; i < n; i++) {
        char c = (char)AT(v, start + i);
        if (lower && c >= 'A' && c <= 'Z') c += 'a' - 'A';
        scratch[i] = c;
        h = (h ^ (uint8_t)c) * 1099511628211ull;
    }
    int64_t offset = v->offset + (int64_t)(start * v->stride);
    uint32_t slot = (uint32_t)h & (SLOTS - 1);
    while (slots[slot]) {
        entry *e = &entries[slots[slot] - 1];
        if (e->hash == h && e->kind == kind && e->encoding == v->encoding && e->length == n && !memcmp(arena + e->value, scratch, n)) {
            if (offset < e->offset) e->offset = offset;
            return;
        }
        slot = (slot + 1) & (SLOTS - 1);
    }
    if (entry_count == MAX_ROWS) { capped = 1; return; }
    if (arena_length + n > arena_capacity) {
        size_t capacity = arena_capacity ? arena_capacity : 65536;
        while (capacity < arena_length + n) capacity *= 2;
        char *grown = realloc(arena, capacity);
        if (!grown) { capped = 1; return; }
        arena = grown;
        arena_capacity = capacity;
    }
    memcpy(arena + arena_length, scratch, n);
    entries[entry_count] = (entry){ (uint8_t)kind, (uint8_t)v->encoding, offset, (uint32_t)arena_length, (uint32_t)n, h };
    arena_length += n;
    used_slots[entry_count++] = slot;
    slots[slot] = (int32_t)entry_count;
}

/* ---- validators: ranges [a, b) of a view ------------------------------------------------------ */

static int equals_ci(const view *v, size_t a, size_t b, const char *word) {
    size_t n = strlen(word);
    if (b - a != n) return 0;
    for (size_t i = 0; i < n; i++) {
        int c = AT(v, a + i);
        if (c >= 'A' && c <= 'Z') c += 'a' - 'A';
        if (c != word[i]) return 0;
    }
    return 1;
}

/* A dotted quad as Python's ipaddress.IPv4Address accepts it: four decimal octets of 1-3
 * digits, at most 255, no leading zero. */
static int valid_ipv4(const view *v, size_t a, size_t b) {
    int parts = 0;
    size_t i = a;
    while (1) {
        size_t s = i;
        unsigned value = 0;
        while (i < b && IS(v, i, C_DIGIT)) { value = value * 10 + (AT(v, i) - '0'); if (i - s >= 3) return 0; i++; }
        size_t len = i - s;
        if (len == 0 || len > 3 || value > 255 || (len > 1 && AT(v, s) == '0')) return 0;
        parts++;
        if (i == b) break;
        if (AT(v, i) != '.') return 0;
        i++;
    }
    return parts == 4;
}

/* An IPv6 address as Python's ipaddress.IPv6Address accepts it (without a scope): its
 * _ip_int_from_string, step by step. */
static int valid_ipv6(const view *v, size_t a, size_t b) {
    size_t starts[12], ends[12];
    int parts = 0;
    size_t s = a;
    for (size_t i = a;; i++) {
        if (i == b || AT(v, i) == ':') {
            if (parts == 12) return 0;
            starts[parts] = s; ends[parts] = i; parts++;
            if (i == b) break;
            s = i + 1;
        }
    }
    if (parts < 3) return 0;
    int count = parts; /* hextets, an IPv4 suffix counting two */
    int last_is_ipv4 = 0;
    for (size_t i = starts[parts - 1]; i < ends[parts - 1]; i++)
        if (AT(v, i) == '.') { last_is_ipv4 = 1; break; }
    if (last_is_ipv4) {
        if (!valid_ipv4(v, starts[parts - 1], ends[parts - 1])) return 0;
        count = parts + 1;
    }
    if (count > 9) return 0;
    /* parts as Python sees them after the IPv4 suffix became two non-empty hextets */
    int empty[12];
    for (int i = 0; i < parts; i++) empty[i] = ends[i] == starts[i];
    int last = count - 1; /* index of the last part in Python's list */
    #define EMPTY(i) ((last_is_ipv4 && (i) >= parts - 1) ? 0 : empty[i])
    int skip = -1;
    for (int i = 1; i < last; i++)
        if (EMPTY(i)) { if (skip >= 0) return 0; skip = i; }
    if (skip >= 0) {
        int hi = skip, lo = count - skip - 1;
        if (EMPTY(0)) { hi--; if (hi) return 0; }
        if (EMPTY(last)) { lo--; if (lo) return 0; }
        if (8 - (hi + lo) < 1) return 0;
    } else {
        if (count != 8 || EMPTY(0) || EMPTY(last)) return 0;
    }
    #undef EMPTY
    int hextets = last_is_ipv4 ? parts - 1 : parts;
    for (int p = 0; p < hextets; p++) {
        if (ends[p] - starts[p] > 4) return 0;
        for (size_t i = starts[p]; i < ends[p]; i++)
            if (!IS(v, i, C_HEX)) return 0;
    }
    return 1;
}

/* A host name: dot-separated labels of A-Za-z0-9-, 1 to 63 characters, neither starting nor
 * ending with '-', 253 characters at most. Sets *numeric when every label is digits only. */
static int valid_name(const view *v, size_t a, size_t b, int *labels, int *numeric, size_t *last_label) {
    if (b == a || b - a > 253) return 0;
    *labels = 0; *numeric = 1;
    size_t s = a;
    for (size_t i = a;; i++) {
        if (i == b || AT(v, i) == '.') {
            size_t len = i - s;
            if (len == 0 || len > 63 || AT(v, s) == '-' || AT(v, i - 1) == '-') return 0;
            for (size_t j = s; j < i; j++) {
                if (!IS(v, j, C_HOST) || AT(v, j) == '.') return 0;
                if (!IS(v, j, C_DIGIT)) *numeric = 0;
            }
            (*labels)++;
            *last_label = s;
            if (i == b) break;
            s = i + 1;
        }
    }
    return 1;
}

/* ---- the scanners -------------------------------------------------------------------------- */

static const char *const schemes[] = { "http", "https", "ftp", "ftps", "sftp", "tftp", "ws", "wss", "ldap", "ldaps",
                                       "smb", "ssh", "telnet", "rtsp", "irc", "git", "svn", 0 };

/* The authority [a, b) of a URL: [userinfo@]host[:port], host a name, a dotted quad or [IPv6].
 * On success, the host's range and whether it is a name. */
static int valid_authority(const view *v, size_t a, size_t b, size_t *host_start, size_t *host_end, int *is_name) {
    size_t hs = a;
    for (size_t i = a; i < b; i++)
        if (AT(v, i) == '@') hs = i + 1;
    for (size_t i = a; i < hs; i++)
        if (AT(v, i) == '[' || AT(v, i) == ']') return 0;
    size_t port;
    if (hs < b && AT(v, hs) == '[') {
        size_t close = hs + 1;
        while (close < b && AT(v, close) != ']') close++;
        if (close == b || !valid_ipv6(v, hs + 1, close)) return 0;
        *host_start = hs + 1; *host_end = close; *is_name = 0;
        if (close + 1 == b) return 1;
        if (AT(v, close + 1) != ':') return 0;
        port = close + 2;
    } else {
        size_t he = hs;
        while (he < b && AT(v, he) != ':') he++;
        int labels, numeric;
        size_t last;
        if (!valid_name(v, hs, he, &labels, &numeric, &last)) return 0;
        if (numeric && !valid_ipv4(v, hs, he)) return 0;
        *host_start = hs; *host_end = he; *is_name = !numeric;
        if (he == b) return 1;
        port = he + 1;
    }
    uint32_t value = 0;
    for (size_t i = port; i < b; i++) {
        if (!IS(v, i, C_DIGIT)) return 0;
        value = value * 10 + (AT(v, i) - '0');
        if (value > 65535) return 0;
    }
    return 1;
}

/* Characters trimmed from the end of a URL: always, or ')' and ']' when unbalanced. */
static int trimmable(uint8_t c) { return c && strchr(".,:;!?'*)]", c) != 0; }

static void scan_urls(const view *v) {
    /* The last maximal run of URL characters measured, [.., run_end), and run_keep: the end of its
     * part that trimming cannot remove (every character in [run_keep, run_end) is trimmable). */
    size_t i = 0, run_end = 0, run_keep = 0;
    while (i + 3 <= v->n) {
        if (AT(v, i) != ':' || AT(v, i + 1) != '/' || AT(v, i + 2) != '/') { i++; continue; }
        size_t s = i;
        while (s > 0 && IS(v, s - 1, C_SCHEME)) s--;
        int known = 0;
        if (i - s <= 6)
            for (int k = 0; schemes[k] && !known; k++) known = equals_ci(v, s, i, schemes[k]);
        if (!known) { i += 3; continue; }
        size_t a = i + 3;
        if (a >= run_end) {
            run_end = a;
            while (run_end < v->n && IS(v, run_end, C_URL)) run_end++;
            run_keep = run_end;
            while (run_keep > a && trimmable(AT(v, run_keep - 1))) run_keep--;
        }
        size_t e = run_end, ae = a;
        while (ae < e && AT(v, ae) != '/' && AT(v, ae) != '?' && AT(v, ae) != '#') ae++;
        size_t hs, he;
        int is_name;
        /* A '/', '?' or '#' before a character that trimming stops at: the authority is final, so
         * check it before measuring the whole URL (a failed candidate costs only its authority). */
        if (ae < run_keep && !valid_authority(v, a, ae, &hs, &he, &is_name)) { i = a; continue; }
        int open_p = 0, close_p = 0, open_b = 0, close_b = 0;
        for (size_t j = s; j < e; j++) {
            uint8_t c = AT(v, j);
            open_p += c == '('; close_p += c == ')'; open_b += c == '['; close_b += c == ']';
        }
        size_t t = e;
        while (t > a) {
            uint8_t c = AT(v, t - 1);
            if (c != ')' && c != ']' && trimmable(c)) t--;
            else if (c == ')' && open_p < close_p) { close_p--; t--; }
            else if (c == ']' && open_b < close_b) { close_b--; t--; }
            else break;
        }
        if (ae > t) ae = t;
        /* Failing here, [a, e) holds no '/' (ae == e, or only trimmable characters follow ae), so
         * no other "://" starts before e. */
        if (!valid_authority(v, a, ae, &hs, &he, &is_name)) { i = e; continue; }
        found(v, s, t, URL, 0);
        if (is_name) found(v, hs, he, DOMAIN, 1);
        i = t;
    }
}

static void scan_emails(const view *v) {
    size_t local = 0; /* start of the current run of local-part characters */
    for (size_t i = 0; i < v->n; i++) {
        uint8_t c = AT(v, i);
        if (c != '@') { if (!(cls[c] & C_LOCAL)) local = i + 1; continue; }
        size_t ls = local;
        while (ls < i && AT(v, ls) == '.') ls++;
        local = i + 1;
        if (ls == i) continue;
        size_t e = i + 1;
        while (e < v->n && IS(v, e, C_HOST)) e++;
        while (e > i + 1 && (AT(v, e - 1) == '.' || AT(v, e - 1) == '-')) e--;
        int labels, numeric;
        size_t last;
        if (!valid_name(v, i + 1, e, &labels, &numeric, &last) || labels < 2 || e - last < 2) continue;
        int alpha = 1;
        for (size_t j = last; j < e; j++) alpha &= !!IS(v, j, C_ALPHA);
        if (!alpha) continue;
        found(v, ls, e, EMAIL, 0);
        found(v, i + 1, e, DOMAIN, 1);
    }
}

static void scan_ipv4(const view *v) {
    size_t i = 0;
    while (i < v->n) {
        if (!IS(v, i, C_DIGIT) && AT(v, i) != '.') { i++; continue; }
        size_t j = i;
        while (j < v->n && (IS(v, j, C_DIGIT) || AT(v, j) == '.')) j++;
        int ok = !(i > 0 && IS(v, i - 1, C_WORD)) && !(j < v->n && IS(v, j, C_WORD));
        size_t a = i, b = j;
        while (a < b && AT(v, a) == '.') a++;
        while (b > a && AT(v, b - 1) == '.') b--;
        if (ok && b > a && valid_ipv4(v, a, b)) found(v, a, b, IPV4, 0);
        i = j;
    }
}

static void scan_ipv6(const view *v) {
    size_t i = 0;
    while (i < v->n) {
        if (!IS(v, i, C_IPV6)) { i++; continue; }
        size_t j = i;
        int colons = 0, digits = 0;
        while (j < v->n && IS(v, j, C_IPV6)) { colons += AT(v, j) == ':'; j++; }
        int ok = colons >= 2 && !(i > 0 && IS(v, i - 1, C_WORD)) && !(j < v->n && IS(v, j, C_WORD));
        size_t a = i, b = j;
        while (b > a && AT(v, b - 1) == '.') b--;
        if (b - a >= 2 && AT(v, b - 1) == ':' && AT(v, b - 2) != ':') b--;
        if (b - a >= 2 && AT(v, a) == ':' && AT(v, a + 1) != ':') a++;
        for (size_t k = a; ok && k < b && !digits; k++) digits = !!IS(v, k, C_DIGIT);
        if (ok && digits && valid_ipv6(v, a, b)) found(v, a, b, IPV6, 0);
        i = j;
    }
}

static const char *const roots[] = { "hkey_local_machine", "hkey_current_user", "hkey_classes_root", "hkey_users",
                                     "hkey_current_config", "hkey_performance_data", "hkey_dyn_data", "hklm", "hkcu",
                                     "hkcr", "hku", "hkcc", "\\registry\\machine", "\\registry\\user", "software",
                                     "system\\currentcontrolset", 0 };

static void scan_registry(const view *v) {
    size_t i = 0;
    while (i < v->n) {
        uint8_t c = AT(v, i), lower = c | 0x20;
        if ((lower != 'h' && lower != 's' && c != '\\') || (i > 0 && (IS(v, i - 1, C_WORD) || AT(v, i - 1) == '\\'))) { i++; continue; }
        size_t end = 0;
        for (int r = 0; roots[r] && !end; r++) {
            size_t len = strlen(roots[r]);
            if (i + len + 1 >= v->n || AT(v, i + len) != '\\' || !equals_ci(v, i, i + len, roots[r])) continue;
            size_t k = i + len + 1;
            while (k < v->n && IS(v, k, C_KEY)) k++;
            while (k > i + len + 1 && (AT(v, k - 1) == ' ' || AT(v, k - 1) == '.' || AT(v, k - 1) == '\\')) k--;
            if (k > i + len + 1) end = k;
        }
        if (!end) { i++; continue; }
        found(v, i, end, REGISTRY, 0);
        i = end;
    }
}

static int64_t string_counts[2];
static int32_t strings_table = -1;
static int emit_strings; /* the data folder asks for indicator_strings rows */
static wadup_row row;

static void scan_string(const view *v) {
    string_counts[v->encoding]++;
    if (emit_strings) {
        wadup_row_begin(&row);
        wadup_row_int(&row, v->offset);
        wadup_row_int(&row, (int64_t)v->n);
        wadup_row_string(&row, encoding_names[v->encoding]);
        wadup_row_insert(&row, strings_table);
    }
    uint16_t seen = 0;
    for (size_t i = 0; i < v->n; i++) {
        uint8_t c = AT(v, i);
        seen |= c == ':' ? 1 : c == '@' ? 2 : c == '.' ? 4 : c == '\\' ? 8 : 0;
    }
    if (seen & 1) scan_urls(v);
    if (seen & 2) scan_emails(v);
    if (seen & 4) scan_ipv4(v);
    if (seen & 1) scan_ipv6(v);
    if (seen & 8) scan_registry(v);
}

/* Eight bytes at a time (SWAR): a mask with the high bit of every byte that is a string character
 * (tab, 0x20..0x7e), and one with the high bit of every byte that is 0. */
#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull
static inline uint64_t load64(const uint8_t *p) { uint64_t w; memcpy(&w, p, 8); return w; }
static inline uint64_t zero_bytes(uint64_t w) { return ~(((w & ~HIGHS) + ~HIGHS) | w) & HIGHS; }
static inline uint64_t string_bytes(uint64_t w) {
    uint64_t low = w & ~HIGHS;
    uint64_t printable = ((low + 0x60 * ONES) & ~(low + ONES) & ~w) & HIGHS; /* 0x20..0x7e */
    return printable | zero_bytes(w ^ (0x09 * ONES));
}

/* The first i' >= i where a window of `width` bytes of class `in` starts, or n when none: the
 * window's last byte is looked at first, and a byte outside the class skips past itself. */
static size_t next_window(const uint8_t *b, size_t n, size_t i, size_t width, const uint8_t *in) {
    while (i + width <= n) {
        size_t k = width;
        while (k > 0 && in[b[i + k - 1]]) k--;
        if (k == 0) return i;
        i += k;
    }
    return n;
}

/* The end of the run of class `in` bytes from i, eight bytes at a time where they are all strings. */
static size_t run_end(const uint8_t *b, size_t n, size_t i, const uint8_t *in) {
    while (i + 8 <= n && string_bytes(load64(b + i)) == HIGHS) i += 8;
    while (i < n && in[b[i]]) i++;
    return i;
}

/* GNU strings' loop for 7-bit ASCII (encoding s): every maximal run of at least MIN_STRING string
 * characters. */
static void strings_ascii(const uint8_t *b, size_t n) {
    size_t i = 0;
    while ((i = next_window(b, n, i, MIN_STRING, is_string)) < n) {
        size_t end = run_end(b, n, i + MIN_STRING, is_string);
        scan_string(&(view){ b + i, end - i, 1, (int64_t)i, ASCII });
        i = end + 1;
    }
}

/* GNU strings' loop for 16-bit little-endian (encoding l): from a position, units of two bytes
 * are read while they are string characters (high byte 0, low byte a string character); at a unit
 * that is not, scanning goes on one byte after that unit's first byte (unget_part_char); a unit
 * needs both its bytes. The strings this prints are exactly the maximal runs of good units at
 * the same parity, at least MIN_STRING long: so only windows of 2 * MIN_STRING bytes that are all
 * string characters or 0 can hold one, and GNU's loop runs inside those windows only (a byte
 * outside the class makes both units that hold it bad). */
static void strings_utf16le(const uint8_t *b, size_t n) {
    size_t i = 0;
    while ((i = next_window(b, n, i, 2 * MIN_STRING, is_string_or_zero)) < n) {
        size_t end = i + 2 * MIN_STRING;
        while (end < n && is_string_or_zero[b[end]]) end++;
        size_t p = i;
        while (p + 1 < end) {
            /* eight positions none of which starts a good unit (GNU passes them one by one) */
            while (p + 9 <= end && !(string_bytes(load64(b + p)) & zero_bytes(load64(b + p + 1)))) p += 8;
            size_t start = p;
            while (p + 1 < end && b[p + 1] == 0 && is_string[b[p]]) p += 2;
            size_t units = (p - start) / 2;
            if (units >= MIN_STRING) scan_string(&(view){ b + start, units, 2, (int64_t)start, UTF16LE });
            p = p + 1 < end ? p + 1 : end;
        }
        i = end + 1;
    }
}

/* ---- process ------------------------------------------------------------------------------- */

static int32_t indicators_table = -1, scans_table = -1;
static uint8_t *buffer;
static size_t buffer_capacity;

static void setup(void) {
    init_classes();
    entries = malloc(sizeof(entry) * MAX_ROWS);
    FILE *f = fopen("/data/strings", "rb");
    if (f) { emit_strings = 1; fclose(f); }
    indicators_table = wadup_define_table("indicators",
        "[{\"name\":\"kind\",\"data_type\":\"String\"},{\"name\":\"value\",\"data_type\":\"String\"},"
        "{\"name\":\"offset\",\"data_type\":\"Int64\"},{\"name\":\"encoding\",\"data_type\":\"String\"}]");
    scans_table = wadup_define_table("indicator_scans",
        "[{\"name\":\"scanned_bytes\",\"data_type\":\"Int64\"},{\"name\":\"truncated\",\"data_type\":\"Int64\"},"
        "{\"name\":\"ascii_strings\",\"data_type\":\"Int64\"},{\"name\":\"utf16le_strings\",\"data_type\":\"Int64\"},"
        "{\"name\":\"indicators\",\"data_type\":\"Int64\"},{\"name\":\"capped\",\"data_type\":\"Int64\"}]");
    if (emit_strings)
        strings_table = wadup_define_table("indicator_strings",
            "[{\"name\":\"offset\",\"data_type\":\"Int64\"},{\"name\":\"length\",\"data_type\":\"Int64\"},"
            "{\"name\":\"encoding\",\"data_type\":\"String\"}]");
}

__attribute__((export_name("process"))) int32_t process(void) {
    if (!entries) setup();
    if (!entries) return WADUP_E_LIMIT_REACHED;
    if (indicators_table < 0) return indicators_table;
    if (scans_table < 0) return scans_table;
    int64_t size = get_content_size64();
    if (size < 0) return (int32_t)size;
    /* Shorter than a string: no row, as the manifest's min_size says (a run without dispatch
     * writes what a run with it writes). */
    if (size < MIN_STRING) return 0;
    size_t n = (size_t)(size < SCAN_LIMIT ? size : SCAN_LIMIT);
    if (n > buffer_capacity) {
        uint8_t *grown = realloc(buffer, n);
        if (!grown) return WADUP_E_LIMIT_REACHED;
        buffer = grown;
        buffer_capacity = n;
    }
    for (size_t at = 0; at < n; at += READ_CHUNK) {
        uint32_t length = (uint32_t)(n - at < READ_CHUNK ? n - at : READ_CHUNK);
        int32_t rc = read_content64((int64_t)at, length, buffer + at);
        if (rc < 0) return rc;
    }

    for (uint32_t i = 0; i < entry_count; i++) slots[used_slots[i]] = 0;
    entry_count = 0; arena_length = 0; capped = 0;
    string_counts[ASCII] = string_counts[UTF16LE] = 0;
    strings_ascii(buffer, n);
    strings_utf16le(buffer, n);

    for (uint32_t i = 0; i < entry_count; i++) {
        const entry *e = &entries[i];
        wadup_row_begin(&row);
        wadup_row_string(&row, kind_names[e->kind]);
        wadup_row_string_bytes(&row, arena + e->value, e->length);
        wadup_row_int(&row, e->offset);
        wadup_row_string(&row, encoding_names[e->encoding]);
        int32_t rc = wadup_row_insert(&row, indicators_table);
        if (rc < 0) return rc;
    }
    wadup_row_begin(&row);
    wadup_row_int(&row, (int64_t)n);
    wadup_row_int(&row, size > SCAN_LIMIT);
    wadup_row_int(&row, string_counts[ASCII]);
    wadup_row_int(&row, string_counts[UTF16LE]);
    wadup_row_int(&row, entry_count);
    wadup_row_int(&row, capped);
    return wadup_row_insert(&row, scans_table) < 0 ? WADUP_E_LIMIT_REACHED : 0;
}
