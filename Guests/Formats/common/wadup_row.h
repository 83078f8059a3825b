/*
 * wadup_row.h — rows and names for the C format modules (archive, file_type), over wadup.h.
 *
 * A row is built as the ABI's row JSON (`[{"String":"…"},{"Int64":1},null]`) in a growable buffer.
 * Text from a format (entry paths, link targets, libmagic's descriptions) is bytes, not always
 * UTF-8: valid UTF-8 is kept, each other byte is written as the four characters `\xhh`, the same
 * convention the host uses for input paths that are not UTF-8.
 */
#ifndef WADUP_ROW_H
#define WADUP_ROW_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "wadup.h"

typedef struct {
    char *data;
    size_t length, capacity;
    int failed; /* an allocation failed: the row is not inserted */
} wadup_text;

/* Why an entry was not emitted, from the emit call's error code: the `reason` the format modules
 * record on the entry's row. */
static inline const char *wadup_emit_reason(int32_t code) {
    switch (code) {
    case WADUP_E_LIMIT_REACHED: return "not emitted: the host's sub-content limit was reached";
    case WADUP_E_TEMPORARY_STORAGE: return "not emitted: the host's temporary folder failed";
    case WADUP_E_INPUT_UNAVAILABLE: return "not emitted: the input became unavailable";
    default: return "not emitted: the host refused the sub-content";
    }
}

static void wadup_text_reserve(wadup_text *t, size_t more) {
    if (t->failed || t->length + more <= t->capacity) return;
    size_t capacity = t->capacity ? t->capacity : 256;
    while (capacity < t->length + more) capacity *= 2;
    char *grown = realloc(t->data, capacity);
    if (!grown) { t->failed = 1; return; }
    t->data = grown;
    t->capacity = capacity;
}

static void wadup_text_append(wadup_text *t, const char *bytes, size_t n) {
    wadup_text_reserve(t, n);
    if (t->failed) return;
    memcpy(t->data + t->length, bytes, n);
    t->length += n;
}

static void wadup_text_cstring(wadup_text *t, const char *s) { wadup_text_append(t, s, strlen(s)); }

/* Length of the valid UTF-8 sequence at p (at most n bytes), or 0 if none starts there. */
static size_t wadup_utf8_sequence(const unsigned char *p, size_t n) {
    unsigned char c = p[0];
    size_t need;
    uint32_t min, cp;
    if (c < 0x80) return 1;
    else if ((c & 0xE0) == 0xC0) { need = 2; min = 0x80; cp = c & 0x1F; }
    else if ((c & 0xF0) == 0xE0) { need = 3; min = 0x800; cp = c & 0x0F; }
    else if ((c & 0xF8) == 0xF0) { need = 4; min = 0x10000; cp = c & 0x07; }
    else return 0;
    if (n < need) return 0;
    for (size_t i = 1; i < need; i++) {
        if ((p[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return need;
}

/* Appends bytes as UTF-8 text: valid sequences as they are, other bytes as `\xhh`; with `json`
 * set, also escaped for a JSON string. NUL bytes become `\x00` (names may not hold NUL). Like the
 * host's input names, a valid name is kept exactly as it is. */
static void wadup_text_bytes(wadup_text *t, const unsigned char *p, size_t n, int json) {
    static const char hex[] = "0123456789abcdef";
    size_t i = 0;
    while (i < n) {
        size_t s = p[i] ? wadup_utf8_sequence(p + i, n - i) : 0;
        if (s == 0) {
            char e[5] = { '\\', 'x', hex[p[i] >> 4], hex[p[i] & 15], 0 };
            if (json) wadup_text_append(t, "\\\\x", 3), wadup_text_append(t, e + 2, 2);
            else wadup_text_append(t, e, 4);
            i++;
        } else if (json && s == 1 && (p[i] == '"' || p[i] == '\\')) {
            char e[2] = { '\\', (char)p[i] };
            wadup_text_append(t, e, 2);
            i++;
        } else if (json && s == 1 && p[i] < 0x20) {
            char e[6] = { '\\', 'u', '0', '0', hex[p[i] >> 4], hex[p[i] & 15] };
            wadup_text_append(t, e, 6);
            i++;
        } else {
            wadup_text_append(t, (const char *)p + i, s);
            i += s;
        }
    }
}

/* A row under construction: call wadup_row_begin, one value function per column, wadup_row_insert. */
typedef struct {
    wadup_text text;
    int values;
} wadup_row;

static void wadup_row_begin(wadup_row *r) { r->text.length = 0; r->text.failed = 0; r->values = 0; wadup_text_append(&r->text, "[", 1); }

static void wadup_row_separator(wadup_row *r) { if (r->values++) wadup_text_append(&r->text, ",", 1); }

static void wadup_row_null(wadup_row *r) { wadup_row_separator(r); wadup_text_cstring(&r->text, "null"); }

static void wadup_row_string_bytes(wadup_row *r, const void *bytes, size_t n) {
    if (!bytes) { wadup_row_null(r); return; }
    wadup_row_separator(r);
    wadup_text_cstring(&r->text, "{\"String\":\"");
    wadup_text_bytes(&r->text, bytes, n, 1);
    wadup_text_cstring(&r->text, "\"}");
}

static void wadup_row_string(wadup_row *r, const char *s) { wadup_row_string_bytes(r, s, s ? strlen(s) : 0); }

static void wadup_row_int(wadup_row *r, int64_t v) {
    char digits[24];
    int n = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do { digits[n++] = (char)('0' + u % 10); u /= 10; } while (u);
    wadup_row_separator(r);
    wadup_text_cstring(&r->text, "{\"Int64\":");
    if (v < 0) wadup_text_append(&r->text, "-", 1);
    while (n) wadup_text_append(&r->text, &digits[--n], 1);
    wadup_text_append(&r->text, "}", 1);
}

/* Inserts the row; 0 or a negative ABI error code. */
static int32_t wadup_row_insert(wadup_row *r, int32_t table) {
    wadup_text_append(&r->text, "]", 1);
    if (r->text.failed) return WADUP_E_LIMIT_REACHED;
    return insert_row(table, r->text.data, (uint32_t)r->text.length);
}

/* define_table with a C string for the columns JSON. */
static int32_t wadup_define_table(const char *name, const char *columns) {
    return define_table(name, (uint32_t)strlen(name), columns, (uint32_t)strlen(columns));
}

static void wadup_log(int32_t level, const char *message) { log_message(level, message, (uint32_t)strlen(message)); }

#endif /* WADUP_ROW_H */
