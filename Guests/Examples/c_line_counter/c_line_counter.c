/* A WADUP module in C, with nothing but wadup.h: counts the lines of every content.
 * Table c_line_counts(lines INTEGER, longest INTEGER): newline count and longest line in bytes.
 * Build: clang --target=wasm32-unknown-unknown -O2 -nostdlib -I Guests/C -Wl,--no-entry -Wl,--export=process */
#include "wadup.h"

static unsigned char chunk[65536];
static int32_t table = -1;

static uint32_t length(const char *s) {
    uint32_t n = 0;
    while (s[n]) n++;
    return n;
}

/* Writes the decimal form of v at p, returns the number of characters. */
static uint32_t decimal(char *p, uint64_t v) {
    char tmp[20];
    uint32_t n = 0, i;
    do { tmp[n++] = (char)('0' + v % 10); v /= 10; } while (v);
    for (i = 0; i < n; i++) p[i] = tmp[n - 1 - i];
    return n;
}

__attribute__((export_name("process"))) int32_t process(void) {
    static const char name[] = "c_line_counts";
    static const char columns[] = "[{\"name\":\"lines\",\"data_type\":\"Int64\"},{\"name\":\"longest\",\"data_type\":\"Int64\"}]";
    if (table < 0) {
        table = define_table(name, length(name), columns, length(columns));
        if (table < 0) return table;
    }
    uint32_t size = get_content_size(), offset = 0;
    uint64_t lines = 0, longest = 0, current = 0;
    while (offset < size) {
        uint32_t n = size - offset < sizeof chunk ? size - offset : (uint32_t)sizeof chunk;
        int32_t rc = read_content(offset, n, chunk);
        if (rc < 0) return rc;
        for (uint32_t i = 0; i < n; i++) {
            if (chunk[i] == '\n') {
                lines++;
                if (current > longest) longest = current;
                current = 0;
            } else {
                current++;
            }
        }
        offset += n;
    }
    if (current > longest) longest = current;
    char row[96];
    uint32_t p = 0;
    const char *a = "[{\"Int64\":", *b = "},{\"Int64\":", *c = "}]";
    for (uint32_t i = 0; a[i]; i++) row[p++] = a[i];
    p += decimal(row + p, lines);
    for (uint32_t i = 0; b[i]; i++) row[p++] = b[i];
    p += decimal(row + p, longest);
    for (uint32_t i = 0; c[i]; i++) row[p++] = c[i];
    int32_t rc = insert_row(table, row, p);
    return rc < 0 ? rc : 0;
}
