/*
 * yara.wasm — YARA rules (libyara 4.2.3) over every content.
 *
 * Rules come from the module's data folder, mounted read-only at /data (yara.d/ beside yara.wasm,
 * or --module-data yara=DIR): every *.yar and *.yara file under it, recursively, compiled in init
 * (each file its own namespace, its path relative to the folder), and every *.yarc file (rules
 * compiled by `yarac`), loaded as they are. init returns 1 (declines: the module is left out of
 * the run) when there are none, 2 when a file does not compile (the error as native `yara` prints
 * it), 0 when ready. See docs/modules/yara.md.
 *
 * Tables: yara_matches(rule, namespace, tags, meta) and yara_strings(rule, identifier, offset,
 * length, data_hex): the first MAX_MATCHES_PER_STRING matches of each string of a matching rule,
 * data_hex cut at MAX_DATA_HEX_BYTES bytes.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yara.h>

#include "wadup.h"
#include "wadup_row.h"

WADUP_MANIFEST("{\"version\": 1, \"role\": \"analyze\"}");

/* Where the data folder is mounted, and how users name it in the decline message. */
#define DATA "/data"
/* A content up to this size is read whole and scanned as native `yara` scans a file; a larger one
 * is scanned as consecutive blocks of this size (see docs/modules/yara.md, Limits). */
#define WHOLE_CONTENT_MAX (64u << 20)
/* yara_strings rows per string of a matching rule (the first ones, by offset). */
#define MAX_MATCHES_PER_STRING 100
/* Bytes of a match shown in data_hex. */
#define MAX_DATA_HEX_BYTES 64
/* Rule files taken from the folder, and the depth of folders walked. */
#define MAX_RULE_FILES 10000
#define MAX_DEPTH 32
/* Sets of rules: one compiled from every source file, plus one per precompiled file. */
#define MAX_RULE_SETS 64

static YR_RULES *rule_sets[MAX_RULE_SETS];
/* One scanner per rule set, made in init and reused for every content (as native yara reuses one
 * per thread): a scan resets its state. */
static YR_SCANNER *scanners[MAX_RULE_SETS];
static int rule_set_count;
static int32_t matches_table = -1, strings_table = -1;
static uint8_t *buffer;
static size_t buffer_capacity;

/* ---- rule files ---- */

typedef struct {
    char **paths; /* relative to DATA */
    int count, capacity;
    int overflow;
} file_list;

static int has_suffix(const char *name, const char *suffix) {
    size_t n = strlen(name), s = strlen(suffix);
    return n > s && strcmp(name + n - s, suffix) == 0;
}

static void list_add(file_list *list, const char *path) {
    if (list->count >= MAX_RULE_FILES) { list->overflow = 1; return; }
    if (list->count == list->capacity) {
        int capacity = list->capacity ? list->capacity * 2 : 16;
        char **grown = realloc(list->paths, (size_t)capacity * sizeof *grown);
        if (!grown) { list->overflow = 1; return; }
        list->paths = grown;
        list->capacity = capacity;
    }
    char *copy = strdup(path);
    if (!copy) { list->overflow = 1; return; }
    list->paths[list->count++] = copy;
}

static int compare_paths(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Adds the rule files under DATA/relative (relative "" is the folder itself), recursively. */
static void walk(const char *relative, int depth, file_list *sources, file_list *compiled) {
    char path[4096];
    snprintf(path, sizeof path, "%s%s%s", DATA, *relative ? "/" : "", relative);
    DIR *dir = opendir(path);
    if (!dir) return;
    struct dirent *entry;
    while ((entry = readdir(dir))) {
        const char *name = entry->d_name;
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) continue;
        char child[4096];
        if ((size_t)snprintf(child, sizeof child, "%s%s%s", relative, *relative ? "/" : "", name) >= sizeof child) continue;
        char full[4200];
        snprintf(full, sizeof full, "%s/%s", DATA, child);
        struct stat info;
        if (stat(full, &info) != 0) continue;
        if (S_ISDIR(info.st_mode)) {
            if (depth < MAX_DEPTH) walk(child, depth + 1, sources, compiled);
        } else if (S_ISREG(info.st_mode)) {
            if (has_suffix(name, ".yar") || has_suffix(name, ".yara")) list_add(sources, child);
            else if (has_suffix(name, ".yarc")) list_add(compiled, child);
        }
    }
    closedir(dir);
}

/* ---- compiling ---- */

/* Logs a compiler message as native `yara` prints it on stderr. */
static void compiler_message(int level, const char *file, int line, const YR_RULE *rule, const char *message, void *user) {
    (void)user;
    const char *kind = level == YARA_ERROR_LEVEL_ERROR ? "error" : "warning";
    char text[4096];
    if (rule)
        snprintf(text, sizeof text, "%s: rule \"%s\" in %s(%d): %s", kind, rule->identifier, file ? file : "", line, message);
    else
        snprintf(text, sizeof text, "%s(%d): %s: %s", file ? file : "", line, kind, message);
    wadup_log(level == YARA_ERROR_LEVEL_ERROR ? WADUP_LOG_ERROR : WADUP_LOG_WARNING, text);
}

static void log_yara_error(const char *what, const char *path, int code) {
    char text[4200];
    snprintf(text, sizeof text, "%s%s%s: libyara error %d", what, path ? " " : "", path ? path : "", code);
    wadup_log(WADUP_LOG_ERROR, text);
}

static int add_rule_set(YR_RULES *rules, const char *path) {
    if (rule_set_count >= MAX_RULE_SETS) {
        yr_rules_destroy(rules);
        char text[4200];
        snprintf(text, sizeof text, "%s: more than %d rule sets (precompiled files); compile them into fewer", path, MAX_RULE_SETS);
        wadup_log(WADUP_LOG_ERROR, text);
        return -1;
    }
    int code = yr_scanner_create(rules, &scanners[rule_set_count]);
    if (code != ERROR_SUCCESS) {
        yr_rules_destroy(rules);
        log_yara_error("yr_scanner_create", path, code);
        return -1;
    }
    /* The host's limits (--timeout, --fuel) bound a scan; libyara's own timeout is not used. No
     * signal handlers either (SCAN_FLAGS_NO_TRYCATCH): WASI has none. */
    yr_scanner_set_flags(scanners[rule_set_count], SCAN_FLAGS_NO_TRYCATCH);
    rule_sets[rule_set_count++] = rules;
    return 0;
}

WADUP_INIT int32_t init(void) {
    int code = yr_initialize();
    if (code != ERROR_SUCCESS) { log_yara_error("yr_initialize", NULL, code); return WADUP_INIT_ERROR; }
    matches_table = wadup_define_table("yara_matches",
        "[{\"name\":\"rule\",\"data_type\":\"String\"},{\"name\":\"namespace\",\"data_type\":\"String\"},"
        "{\"name\":\"tags\",\"data_type\":\"String\"},{\"name\":\"meta\",\"data_type\":\"String\"}]");
    strings_table = wadup_define_table("yara_strings",
        "[{\"name\":\"rule\",\"data_type\":\"String\"},{\"name\":\"identifier\",\"data_type\":\"String\"},"
        "{\"name\":\"offset\",\"data_type\":\"Int64\"},{\"name\":\"length\",\"data_type\":\"Int64\"},"
        "{\"name\":\"data_hex\",\"data_type\":\"String\"}]");
    if (matches_table < 0 || strings_table < 0) { wadup_log(WADUP_LOG_ERROR, "cannot define the yara tables"); return WADUP_INIT_ERROR; }

    file_list sources = {0}, compiled = {0};
    walk("", 0, &sources, &compiled);
    if (sources.overflow || compiled.overflow) {
        char text[256];
        snprintf(text, sizeof text, "more than %d rule files in the data folder (or out of memory listing them)", MAX_RULE_FILES);
        wadup_log(WADUP_LOG_ERROR, text);
        return WADUP_INIT_ERROR;
    }
    if (sources.count == 0 && compiled.count == 0) {
        wadup_log(WADUP_LOG_INFO, "no rules in yara.d/ (give rules with --module-data yara=DIR: *.yar, *.yara, or *.yarc from yarac)");
        return WADUP_INIT_DECLINE;
    }
    qsort(sources.paths, (size_t)sources.count, sizeof(char *), compare_paths);
    qsort(compiled.paths, (size_t)compiled.count, sizeof(char *), compare_paths);

    if (sources.count > 0) {
        /* Rule files are named by their relative paths (their namespaces, and the file names of
         * libyara's messages, as native yara run in the folder names them), and `include` is
         * resolved relative to the including file: both need the folder as working directory. */
        if (chdir(DATA) != 0) { wadup_log(WADUP_LOG_ERROR, "cannot enter the data folder /data"); return WADUP_INIT_ERROR; }
        YR_COMPILER *compiler;
        if ((code = yr_compiler_create(&compiler)) != ERROR_SUCCESS) { log_yara_error("yr_compiler_create", NULL, code); return WADUP_INIT_ERROR; }
        yr_compiler_set_callback(compiler, compiler_message, NULL);
        for (int i = 0; i < sources.count; i++) {
            FILE *file = fopen(sources.paths[i], "r");
            if (!file) {
                char text[4300];
                snprintf(text, sizeof text, "%s: cannot open (%s)", sources.paths[i], strerror(errno));
                wadup_log(WADUP_LOG_ERROR, text);
                return WADUP_INIT_ERROR;
            }
            /* Like native yara, the first file with errors stops the compilation. */
            int errors = yr_compiler_add_file(compiler, file, sources.paths[i], sources.paths[i]);
            fclose(file);
            if (errors > 0) return WADUP_INIT_ERROR;
        }
        YR_RULES *rules;
        if ((code = yr_compiler_get_rules(compiler, &rules)) != ERROR_SUCCESS) { log_yara_error("yr_compiler_get_rules", NULL, code); return WADUP_INIT_ERROR; }
        yr_compiler_destroy(compiler);
        if (add_rule_set(rules, "rules") != 0) return WADUP_INIT_ERROR;
    }
    for (int i = 0; i < compiled.count; i++) {
        char full[4200];
        snprintf(full, sizeof full, "%s/%s", DATA, compiled.paths[i]);
        YR_RULES *rules;
        if ((code = yr_rules_load(full, &rules)) != ERROR_SUCCESS) {
            char text[4300];
            snprintf(text, sizeof text, "%s: %s (libyara error %d)", compiled.paths[i],
                code == ERROR_INVALID_FILE ? "not a compiled rules file" :
                code == ERROR_UNSUPPORTED_FILE_VERSION ? "compiled by another version of yarac (this is libyara 4.2.3)" :
                code == ERROR_COULD_NOT_OPEN_FILE ? "cannot open" : "cannot load", code);
            wadup_log(WADUP_LOG_ERROR, text);
            return WADUP_INIT_ERROR;
        }
        if (add_rule_set(rules, compiled.paths[i]) != 0) return WADUP_INIT_ERROR;
    }
    for (int i = 0; i < sources.count; i++) free(sources.paths[i]);
    for (int i = 0; i < compiled.count; i++) free(compiled.paths[i]);
    free(sources.paths);
    free(compiled.paths);
    return WADUP_INIT_READY;
}

/* ---- scanning ---- */

typedef struct {
    int32_t status; /* 0, or the ABI error that stopped the run */
} scan_state;

static void append_hex(wadup_text *t, const uint8_t *bytes, size_t n) {
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        char pair[2] = { digits[bytes[i] >> 4], digits[bytes[i] & 15] };
        wadup_text_append(t, pair, 2);
    }
}

static int32_t report_rule(YR_SCAN_CONTEXT *context, const YR_RULE *rule) {
    wadup_row row = {0};
    int32_t status;

    wadup_text tags = {0};
    const char *tag;
    yr_rule_tags_foreach(rule, tag) {
        if (tag != rule->tags) wadup_text_append(&tags, " ", 1);
        wadup_text_cstring(&tags, tag);
    }
    wadup_text meta = {0};
    wadup_text_append(&meta, "{", 1);
    const YR_META *m;
    yr_rule_metas_foreach(rule, m) {
        if (m != rule->metas) wadup_text_append(&meta, ",", 1);
        wadup_text_append(&meta, "\"", 1);
        wadup_text_bytes(&meta, (const unsigned char *)m->identifier, strlen(m->identifier), 1);
        wadup_text_append(&meta, "\":", 2);
        if (m->type == META_TYPE_INTEGER) {
            char number[32];
            snprintf(number, sizeof number, "%lld", (long long)m->integer);
            wadup_text_cstring(&meta, number);
        } else if (m->type == META_TYPE_BOOLEAN) {
            wadup_text_cstring(&meta, m->integer ? "true" : "false");
        } else {
            wadup_text_append(&meta, "\"", 1);
            wadup_text_bytes(&meta, (const unsigned char *)m->string, strlen(m->string), 1);
            wadup_text_append(&meta, "\"", 1);
        }
    }
    wadup_text_append(&meta, "}", 1);

    wadup_row_begin(&row);
    wadup_row_string(&row, rule->identifier);
    wadup_row_string(&row, rule->ns->name);
    wadup_row_string_bytes(&row, tags.failed ? NULL : (tags.data ? tags.data : ""), tags.length);
    wadup_row_string_bytes(&row, meta.failed ? NULL : meta.data, meta.length);
    status = wadup_row_insert(&row, matches_table);
    free(tags.data);
    free(meta.data);

    const YR_STRING *string;
    yr_rule_strings_foreach(rule, string) {
        if (status < 0) break;
        int shown = 0;
        for (const YR_MATCH *match = context->matches[string->idx].head; match && shown < MAX_MATCHES_PER_STRING; match = match->next) {
            if (match->is_private) continue;
            shown++;
            wadup_text hex = {0};
            size_t n = match->data_length < MAX_DATA_HEX_BYTES ? (size_t)match->data_length : MAX_DATA_HEX_BYTES;
            append_hex(&hex, match->data, n);
            wadup_row_begin(&row);
            wadup_row_string(&row, rule->identifier);
            wadup_row_string(&row, string->identifier);
            wadup_row_int(&row, match->base + match->offset);
            wadup_row_int(&row, match->match_length);
            wadup_row_string_bytes(&row, hex.failed ? NULL : (hex.data ? hex.data : ""), hex.length);
            free(hex.data);
            status = wadup_row_insert(&row, strings_table);
            if (status < 0) break;
        }
    }
    free(row.text.data);
    return status;
}

static int scan_callback(YR_SCAN_CONTEXT *context, int message, void *data, void *user) {
    scan_state *state = user;
    switch (message) {
    case CALLBACK_MSG_RULE_MATCHING:
        state->status = report_rule(context, data);
        return state->status < 0 ? CALLBACK_ABORT : CALLBACK_CONTINUE;
    case CALLBACK_MSG_TOO_MANY_MATCHES: {
        const YR_STRING *string = data;
        char text[512];
        snprintf(text, sizeof text, "too many matches for %s; its results are incomplete", string->identifier);
        wadup_log(WADUP_LOG_WARNING, text);
        return CALLBACK_CONTINUE;
    }
    default:
        return CALLBACK_CONTINUE;
    }
}

/* Contents larger than WHOLE_CONTENT_MAX: consecutive blocks read on demand into one buffer. */
typedef struct {
    uint64_t size, next;
    YR_MEMORY_BLOCK block;
    int32_t read_status;
} block_reader;

static const uint8_t *fetch_block(YR_MEMORY_BLOCK *block) {
    block_reader *reader = block->context;
    int32_t status = read_content64((int64_t)block->base, (uint32_t)block->size, buffer);
    if (status < 0) { reader->read_status = status; return NULL; }
    return buffer;
}

static YR_MEMORY_BLOCK *next_block(YR_MEMORY_BLOCK_ITERATOR *iterator) {
    block_reader *reader = iterator->context;
    if (reader->next >= reader->size || reader->read_status < 0) return NULL;
    uint64_t left = reader->size - reader->next;
    reader->block.base = reader->next;
    reader->block.size = left < WHOLE_CONTENT_MAX ? (size_t)left : WHOLE_CONTENT_MAX;
    reader->block.context = reader;
    reader->block.fetch_data = fetch_block;
    reader->next += reader->block.size;
    return &reader->block;
}

static YR_MEMORY_BLOCK *first_block(YR_MEMORY_BLOCK_ITERATOR *iterator) {
    ((block_reader *)iterator->context)->next = 0;
    return next_block(iterator);
}

static uint64_t content_file_size(YR_MEMORY_BLOCK_ITERATOR *iterator) { return ((block_reader *)iterator->context)->size; }

static int reserve_buffer(size_t size) {
    if (size <= buffer_capacity) return 0;
    free(buffer);
    buffer = malloc(size ? size : 1);
    buffer_capacity = buffer ? size : 0;
    return buffer ? 0 : -1;
}

__attribute__((export_name("process"))) int32_t process(void) {
    int64_t size = get_content_size64();
    if (size < 0) return 1;
    size_t whole = (uint64_t)size <= WHOLE_CONTENT_MAX ? (size_t)size : WHOLE_CONTENT_MAX;
    if (reserve_buffer(whole) != 0) { wadup_log(WADUP_LOG_ERROR, "out of memory for the content's buffer"); return 1; }
    block_reader reader = { .size = (uint64_t)size };
    if ((uint64_t)size <= WHOLE_CONTENT_MAX && size > 0) {
        int32_t status = read_content64(0, (uint32_t)size, buffer);
        if (status < 0) return 1;
    }
    for (int i = 0; i < rule_set_count; i++) {
        YR_SCANNER *scanner = scanners[i];
        scan_state state = {0};
        yr_scanner_set_callback(scanner, scan_callback, &state);
        int code;
        if ((uint64_t)size <= WHOLE_CONTENT_MAX) {
            code = yr_scanner_scan_mem(scanner, buffer, (size_t)size);
        } else {
            YR_MEMORY_BLOCK_ITERATOR iterator = {
                .context = &reader, .first = first_block, .next = next_block, .file_size = content_file_size,
                .last_error = ERROR_SUCCESS };
            code = yr_scanner_scan_mem_blocks(scanner, &iterator);
        }
        if (reader.read_status < 0 || state.status < 0) return 1;
        if (code != ERROR_SUCCESS && code != ERROR_CALLBACK_ERROR) {
            char text[128];
            snprintf(text, sizeof text, "scan failed: libyara error %d%s", code,
                code == ERROR_TOO_MANY_SCAN_THREADS ? " (too many scan threads)" :
                code == ERROR_SCAN_TIMEOUT ? " (scan timeout)" : code == ERROR_INSUFFICIENT_MEMORY ? " (out of memory)" : "");
            wadup_log(WADUP_LOG_ERROR, text);
            return 1;
        }
    }
    return 0;
}
