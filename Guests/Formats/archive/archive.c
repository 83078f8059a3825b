/*
 * archive — every archive and compressed stream libarchive reads, except ZIP (zip_parser's).
 *
 * Formats: tar (ustar, GNU, pax, v7; sparse files), cpio (newc, odc, binary), ar (so .deb), ISO
 * 9660 (Rock Ridge, Joliet, zisofs), 7-Zip, CAB, XAR, LHA, RAR, RAR 5, WARC; filters gzip
 * (multi-member), bzip2, xz, lzma, lzip, zstd, lz4, compress (.Z), RPM. A compressed stream
 * that holds no archive is one entry: the stream's stored name (gzip) or the content's name
 * without its suffix.
 *
 * Table archive_entries(path, format, filter, type, size, mode, mtime, emitted, reason): one row
 * per entry. Regular files are emitted as sub-contents named by their path in the archive; a file
 * stored contiguously in an uncompressed archive is emitted as a zero-copy slice of the content,
 * any other is decompressed and streamed to the host (any size: the host spills a large one to an
 * unlinked temporary file; the holes of a sparse entry are skipped, never written). Directories, links, devices, encrypted and
 * unreadable entries are recorded with the reason, not emitted.
 *
 * Damage: entries read before the damage are kept and emitted, and one row of archive_errors
 * (format, filter, entries, message) says where reading stopped; process returns 0. A failed
 * module-run loses all its rows and sub-contents (docs/modules/ABI.md), and an analyst wants what could be
 * read from a truncated or corrupt archive, as bsdtar extracts it.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../common/wadup_row.h"

#define BLOCK (1 << 20)

static int32_t entries_table = -1, errors_table = -1;
static wadup_row row;
static wadup_text scratch;

/* The content as libarchive's client: reads through one block buffer. */
static struct {
    int64_t size, position;      /* content size; offset of the next read */
    int64_t block_offset;        /* content offset of block[0] */
    size_t block_length;
    unsigned char *block;
    int error;                   /* a read_content64 error code */
} source;

static la_ssize_t source_read(struct archive *a, void *unused, const void **buffer) {
    (void)a; (void)unused;
    int64_t left = source.size - source.position;
    size_t n = left < BLOCK ? (size_t)left : BLOCK;
    if (n > 0) {
        int32_t rc = read_content64(source.position, (uint32_t)n, source.block);
        if (rc < 0) { source.error = rc; archive_set_error(a, EIO, "read_content64 failed: %d", rc); return -1; }
    }
    source.block_offset = source.position;
    source.block_length = n;
    source.position += (int64_t)n;
    *buffer = source.block;
    return (la_ssize_t)n;
}

static la_int64_t source_seek(struct archive *a, void *unused, la_int64_t offset, int whence) {
    (void)a; (void)unused;
    int64_t target = whence == SEEK_SET ? offset : whence == SEEK_CUR ? source.position + offset : source.size + offset;
    if (target < 0) return ARCHIVE_FATAL;
    if (target > source.size) target = source.size;
    source.position = target;
    source.block_length = 0;
    return target;
}

static la_int64_t source_skip(struct archive *a, void *unused, la_int64_t request) {
    (void)a; (void)unused;
    int64_t left = source.size - source.position;
    int64_t n = request < left ? request : left;
    if (n < 0) n = 0;
    source.position += n;
    source.block_length = 0;
    return n;
}

/* The content offset of p if it lies in the current block (libarchive handed out our bytes). */
static int64_t offset_in_content(const void *p, size_t n) {
    const unsigned char *c = p;
    if (source.block_length == 0 || c < source.block || c + n > source.block + source.block_length) return -1;
    return source.block_offset + (int64_t)(c - source.block);
}

static int open_archive(struct archive **out, int raw) {
    struct archive *a = archive_read_new();
    if (!a) return ARCHIVE_FATAL;
    /* Every filter but uuencode, whose bidder scans each text content line by line (a tenth of
     * this module's time over real files) for a format nobody ships archives in any more. */
    archive_read_support_filter_bzip2(a);
    archive_read_support_filter_compress(a);
    archive_read_support_filter_gzip(a);
    archive_read_support_filter_lz4(a);
    archive_read_support_filter_lzip(a);
    archive_read_support_filter_lzma(a);
    archive_read_support_filter_xz(a);
    archive_read_support_filter_zstd(a);
    archive_read_support_filter_rpm(a);
    archive_read_support_filter_grzip(a);
    archive_read_support_filter_lrzip(a);
    archive_read_support_filter_lzop(a);
    if (raw) {
        archive_read_support_format_raw(a);
    } else {
        /* Every reader but ZIP (zip_parser owns it), mtree (it names files on the reading
         * machine's disk) and raw/empty (handled by the second pass). */
        archive_read_support_format_7zip(a);
        archive_read_support_format_ar(a);
        archive_read_support_format_cab(a);
        archive_read_support_format_cpio(a);
        archive_read_support_format_iso9660(a);
        archive_read_support_format_lha(a);
        archive_read_support_format_rar(a);
        archive_read_support_format_rar5(a);
        archive_read_support_format_tar(a);
        archive_read_support_format_warc(a);
        archive_read_support_format_xar(a);
    }
    source.position = 0;
    source.block_length = 0;
    source.error = 0;
    archive_read_set_read_callback(a, source_read);
    archive_read_set_seek_callback(a, source_seek);
    archive_read_set_skip_callback(a, source_skip);
    archive_read_set_callback_data(a, NULL);
    int rc = archive_read_open1(a);
    *out = a;
    return rc;
}

/* The filters from the outermost in, e.g. "gzip" or "uu,xz"; "none" for none. */
static void filter_names(struct archive *a, char *out, size_t capacity) {
    out[0] = 0;
    int count = archive_filter_count(a);
    for (int i = count - 1; i >= 0; i--) {
        if (archive_filter_code(a, i) == ARCHIVE_FILTER_NONE) continue;
        const char *name = archive_filter_name(a, i);
        if (out[0]) strncat(out, ",", capacity - strlen(out) - 1);
        strncat(out, name ? name : "?", capacity - strlen(out) - 1);
    }
    if (!out[0]) snprintf(out, capacity, "none");
}

static const char *type_name(mode_t type) {
    switch (type) {
    case AE_IFREG: return "file";
    case AE_IFDIR: return "directory";
    case AE_IFLNK: return "symlink";
    case AE_IFCHR: return "character_device";
    case AE_IFBLK: return "block_device";
    case AE_IFIFO: return "fifo";
    case AE_IFSOCK: return "socket";
    default: return "unknown";
    }
}

/* The name a single compressed stream's entry gets: the content's name without its suffix. */
static void stream_name(wadup_text *out) {
    static const char *suffixes[][2] = {
        { ".tgz", ".tar" }, { ".taz", ".tar" }, { ".tbz2", ".tar" }, { ".tbz", ".tar" }, { ".txz", ".tar" },
        { ".tlz", ".tar" }, { ".tzst", ".tar" }, { ".gz", "" }, { ".bz2", "" }, { ".xz", "" }, { ".lzma", "" },
        { ".zst", "" }, { ".lz4", "" }, { ".lz", "" }, { ".Z", "" }, { ".z", "" },
    };
    char name[4096];
    int32_t length = get_content_filename(name, sizeof name);
    if (length < 0) length = 0;
    if (length > (int32_t)sizeof name) length = sizeof name;
    int32_t start = length;
    while (start > 0 && name[start - 1] != '/') start--;
    const char *base = name + start;
    size_t n = (size_t)(length - start);
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        size_t k = strlen(suffixes[i][0]);
        if (n > k && memcmp(base + n - k, suffixes[i][0], k) == 0) {
            wadup_text_append(out, base, n - k);
            wadup_text_cstring(out, suffixes[i][1]);
            return;
        }
    }
    if (n > 0) { wadup_text_append(out, base, n); wadup_text_cstring(out, ".out"); }
    else wadup_text_cstring(out, "data");
}

/* Why an emit failed, for the entry's row; a temporary-storage failure ends the run (the host
 * fails it anyway). */
static void emit_failed(int32_t code, char *reason, size_t capacity, int *fatal) {
    snprintf(reason, capacity, "%s", wadup_emit_reason(code));
    if (code == WADUP_E_TEMPORARY_STORAGE) { *fatal = 1; source.error = code; }
}

/* Streams the content's bytes [start, start + n) into `stream` (an entry found contiguous so far,
 * then not). */
static int32_t stream_content(int32_t stream, int64_t start, int64_t n) {
    static unsigned char *buffer;
    if (!buffer && !(buffer = malloc(BLOCK))) return WADUP_E_LIMIT_REACHED;
    while (n > 0) {
        uint32_t k = n < BLOCK ? (uint32_t)n : BLOCK;
        int32_t rc = read_content64(start, k, buffer);
        if (rc < 0) { source.error = rc; return rc; }
        if ((rc = emit_stream_write(stream, buffer, k)) < 0) return rc;
        start += k;
        n -= k;
    }
    return 0;
}

/* Reads one entry's data and emits it: a zero-copy slice when it is stored contiguously in the
 * content, else a stream (any size: the host keeps it in memory or a temporary file; holes of a
 * sparse entry are skipped, not written). Returns the size, or -1 with a reason it was not
 * emitted in `reason` (ARCHIVE_FATAL from libarchive ends the archive: *fatal is set). */
static int64_t emit_entry(struct archive *a, const wadup_text *name, char *reason, size_t capacity, int *fatal, int sparse, int64_t declared) {
    const void *block;
    size_t length;
    la_int64_t at;
    int64_t total = 0, slice_start = -1;
    int contiguous = !sparse;
    int32_t stream = -1, r;
    int rc;
    reason[0] = 0;
    while ((rc = archive_read_data_block(a, &block, &length, &at)) == ARCHIVE_OK || rc == ARCHIVE_WARN) {
        if (at < total) { snprintf(reason, capacity, "entry offset out of range"); goto skip; }
        if (at > total) contiguous = 0; /* a hole (sparse file): zeros */
        if (contiguous) {
            int64_t where = offset_in_content(block, length);
            if (length > 0 && (where < 0 || (slice_start >= 0 && where != slice_start + total))) contiguous = 0;
            else if (length > 0 && slice_start < 0) slice_start = where;
            if (!contiguous && total > 0) {
                /* Not a slice after all: the bytes so far are at [slice_start, +total) in the content. */
                if ((stream = emit_stream_begin(name->data, (uint32_t)name->length)) < 0) { emit_failed(stream, reason, capacity, fatal); goto skip; }
                if ((r = stream_content(stream, slice_start, total)) < 0) { emit_failed(r, reason, capacity, fatal); goto skip; }
            }
        }
        if (!contiguous) {
            if (stream < 0 && (stream = emit_stream_begin(name->data, (uint32_t)name->length)) < 0) { emit_failed(stream, reason, capacity, fatal); goto skip; }
            if (at > total && (r = emit_stream_skip(stream, at - total)) < 0) { emit_failed(r, reason, capacity, fatal); goto skip; }
            if (length > 0 && (r = emit_stream_write(stream, block, (uint32_t)length)) < 0) { emit_failed(r, reason, capacity, fatal); goto skip; }
        }
        total = at + (int64_t)length;
    }
    if (rc != ARCHIVE_EOF) {
        snprintf(reason, capacity, "data: %s", archive_error_string(a) ? archive_error_string(a) : "read error");
        if (rc == ARCHIVE_FATAL) *fatal = 1;
        if (stream >= 0) emit_stream_abort(stream);
        return -1;
    }
    if (sparse && declared > total) {
        /* A trailing hole: the entry's size is the one the header declares. */
        if (stream < 0 && (stream = emit_stream_begin(name->data, (uint32_t)name->length)) < 0) { emit_failed(stream, reason, capacity, fatal); return -1; }
        if ((r = emit_stream_skip(stream, declared - total)) < 0) { emit_failed(r, reason, capacity, fatal); emit_stream_abort(stream); return -1; }
        total = declared;
    }
    int32_t emitted;
    if (stream >= 0) emitted = emit_stream_end(stream);
    else if (contiguous && slice_start >= 0) emitted = emit_subcontent_slice64(slice_start, total, name->data, (uint32_t)name->length);
    else emitted = emit_subcontent_bytes("", 0, name->data, (uint32_t)name->length);
    if (emitted < 0) {
        emit_failed(emitted, reason, capacity, fatal);
        return -1;
    }
    return total;
skip:
    if (stream >= 0) emit_stream_abort(stream);
    if (!*fatal && archive_read_data_skip(a) == ARCHIVE_FATAL) *fatal = 1;
    return -1;
}

static int32_t record_error(const char *format, const char *filter, int64_t entries, const char *message) {
    wadup_row_begin(&row);
    wadup_row_string(&row, format);
    wadup_row_string(&row, filter);
    wadup_row_int(&row, entries);
    wadup_row_string(&row, message);
    return wadup_row_insert(&row, errors_table);
}

/* read_entries: 0 done, 1 not an archive (try the stream reader), < 0 an ABI error. */
static int32_t read_entries(struct archive *a, int raw) {
    struct archive_entry *entry;
    char filter[128], reason[512];
    int64_t entries = 0;
    int rc;
    const char *format = NULL;
    filter_names(a, filter, sizeof filter); /* the filters are chosen when the archive is opened */
    if (raw && strcmp(filter, "none") == 0) return 0; /* not compressed: nothing to unpack */
    for (;;) {
        rc = archive_read_next_header(a, &entry);
        /* Compressed zeros read as an empty tar: a stream with no entry is unpacked as a stream. */
        if (rc == ARCHIVE_EOF && entries == 0 && !raw && strcmp(filter, "none") != 0) return 1;
        if (rc == ARCHIVE_EOF) break;
        format = archive_format_name(a); /* per entry: a tar's entries may be GNU, pax or ustar */
        if (rc == ARCHIVE_FATAL || rc == ARCHIVE_RETRY) {
            /* No reader recognised it: not an archive (perhaps a compressed stream). A recognised
             * archive that fails before its first entry (encrypted headers, truncated) is recorded. */
            if (entries == 0 && !raw && source.error == 0 && archive_format(a) == 0) return 1;
            const char *message = archive_error_string(a);
            wadup_log(WADUP_LOG_WARNING, message ? message : "archive damaged");
            return record_error(format, filter, entries, message ? message : "damaged");
        }
        entries++;
        mode_t type = archive_entry_filetype(entry);
        if (type == 0) type = AE_IFREG; /* ar and old tar headers carry no type: a file, as bsdtar extracts it */
        const char *hardlink = archive_entry_hardlink(entry);
        const char *symlink = archive_entry_symlink(entry);

        scratch.length = 0;
        scratch.failed = 0;
        const char *path = archive_entry_pathname(entry);
        if (raw) {
            if (path && strcmp(path, "data") != 0) wadup_text_bytes(&scratch, (const unsigned char *)path, strlen(path), 0);
            else stream_name(&scratch);
        } else if (path && path[0]) {
            wadup_text_bytes(&scratch, (const unsigned char *)path, strlen(path), 0);
        } else {
            wadup_text_cstring(&scratch, "unnamed");
        }
        if (scratch.length > 4096) scratch.length = 4096;
        if (scratch.failed) return WADUP_E_LIMIT_REACHED;

        int64_t size = archive_entry_size_is_set(entry) ? archive_entry_size(entry) : -1;
        int emitted = 0, fatal = 0;
        reason[0] = 0;
        if (hardlink) {
            snprintf(reason, sizeof reason, "hard link to ");
        } else if (type != AE_IFREG) {
            snprintf(reason, sizeof reason, "%s", type_name(type));
            if (symlink) strncat(reason, " to ", sizeof reason - strlen(reason) - 1);
        } else if (archive_entry_is_data_encrypted(entry)) {
            snprintf(reason, sizeof reason, "encrypted");
        } else {
            int64_t got = emit_entry(a, &scratch, reason, sizeof reason, &fatal, archive_entry_sparse_count(entry) > 0, size);
            if (got >= 0) { emitted = 1; size = got; }
        }

        wadup_row_begin(&row);
        wadup_row_string_bytes(&row, scratch.data, scratch.length);
        wadup_row_string(&row, format);
        wadup_row_string(&row, filter);
        wadup_row_string(&row, hardlink ? "hardlink" : type_name(type));
        if (size >= 0) wadup_row_int(&row, size); else wadup_row_null(&row);
        wadup_row_int(&row, (int64_t)archive_entry_perm(entry));
        if (archive_entry_mtime_is_set(entry)) wadup_row_int(&row, (int64_t)archive_entry_mtime(entry)); else wadup_row_null(&row);
        wadup_row_int(&row, emitted);
        if (emitted) {
            wadup_row_null(&row);
        } else {
            /* The reason, with a link's target as bytes (kept exact as text, like names). */
            wadup_text full = {0};
            wadup_text_cstring(&full, reason);
            const char *target = hardlink ? hardlink : symlink;
            if (target && !fatal) wadup_text_bytes(&full, (const unsigned char *)target, strlen(target), 0);
            wadup_row_string_bytes(&row, full.data, full.length);
            free(full.data);
        }
        int32_t inserted = wadup_row_insert(&row, entries_table);
        if (inserted < 0) return inserted;
        if (fatal) return record_error(format, filter, entries, reason);
    }
    return 0;
}

__attribute__((export_name("process"))) int32_t process(void) {
    if (entries_table < 0) {
        entries_table = wadup_define_table("archive_entries",
            "[{\"name\":\"path\",\"data_type\":\"String\"},{\"name\":\"format\",\"data_type\":\"String\"},"
            "{\"name\":\"filter\",\"data_type\":\"String\"},{\"name\":\"type\",\"data_type\":\"String\"},"
            "{\"name\":\"size\",\"data_type\":\"Int64\"},{\"name\":\"mode\",\"data_type\":\"Int64\"},"
            "{\"name\":\"mtime\",\"data_type\":\"Int64\"},{\"name\":\"emitted\",\"data_type\":\"Int64\"},"
            "{\"name\":\"reason\",\"data_type\":\"String\"}]");
        if (entries_table < 0) return entries_table;
        errors_table = wadup_define_table("archive_errors",
            "[{\"name\":\"format\",\"data_type\":\"String\"},{\"name\":\"filter\",\"data_type\":\"String\"},"
            "{\"name\":\"entries\",\"data_type\":\"Int64\"},{\"name\":\"message\",\"data_type\":\"String\"}]");
        if (errors_table < 0) return errors_table;
    }
    if (!source.block) {
        /* Names in pax headers are UTF-8; in the C locale libarchive would convert them to ASCII. */
        setlocale(LC_ALL, "C.UTF-8");
        if (!(source.block = malloc(BLOCK))) return WADUP_E_LIMIT_REACHED;
    }
    source.size = get_content_size64();
    if (source.size < 0) return (int32_t)source.size;
    if (source.size == 0) return 0;

    struct archive *a;
    int32_t result = 1;
    if (open_archive(&a, 0) == ARCHIVE_OK) result = read_entries(a, 0);
    archive_read_free(a);
    if (result == 1) {
        /* Not an archive: a single compressed stream? */
        result = 0;
        if (open_archive(&a, 1) == ARCHIVE_OK) result = read_entries(a, 1);
        archive_read_free(a);
    }
    if (source.error) return source.error;
    return result < 0 ? result : 0;
}
