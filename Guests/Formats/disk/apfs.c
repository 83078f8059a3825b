/* APFS containers for the disk module, read with libyal's libfsapfs 20201107 (apfs.h).
 *
 * Compiled by scripts/formats/disk.sh with libfsapfs's own config.h, include paths and the header
 * renaming its bundled support libraries (scripts/formats/disk-apfs.sh), so the libbfio handle made
 * here is libfsapfs's copy of libbfio, not a container library's.
 *
 * What is read: every volume of the container (its name, uuid, the container's block size and
 * count) and, for each volume that is not encrypted, every entry reachable from its root folder,
 * in the same columns as The Sleuth Kit's entries in disk.c. What is not: snapshots (only the live
 * file system), extended attributes and resource forks (not emitted), the contents of an
 * encrypted volume (recorded as encrypted, never unlocked: there is no password), Fusion
 * containers' second device, and LZFSE-compressed files (libfsapfs 20201107 decodes only deflate
 * and LZVN: such a file is an entry with the reason it is not emitted). */
#include <common.h>
#include <types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>
#include <limits.h>

#include "libfsapfs_container.h"
#include "libfsapfs_container_superblock.h"
#include "libfsapfs_io_handle.h"
#include "libfsapfs_volume.h"
#include "libfsapfs_file_entry.h"
#include "libfsapfs_definitions.h"
#include "libfsapfs_libbfio.h"
#include "libfsapfs_libcerror.h"

#include "apfs.h"
#include "../common/wadup_row.h"

#define APFS_CHUNK (1 << 20)        /* bytes of a file read and written at once */
#define APFS_MAX_DEPTH 256          /* folders deeper than this are listed but not entered */

/* --- the disk as a libbfio handle --- */

typedef struct {
    apfs_read_fn read;
    void *ctx;
    int64_t start, size;             /* the container's place on the disk */
    int64_t offset;
    int is_open;
} disk_io;

static int io_free(intptr_t **io_handle, libcerror_error_t **error) {
    (void)error;
    if (io_handle != NULL) { free(*io_handle); *io_handle = NULL; }
    return 1;
}

static int io_clone(intptr_t **destination, intptr_t *source, libcerror_error_t **error) {
    disk_io *copy = source != NULL && destination != NULL ? malloc(sizeof *copy) : NULL;
    if (copy == NULL) {
        libcerror_error_set(error, LIBCERROR_ERROR_DOMAIN_MEMORY, LIBCERROR_MEMORY_ERROR_INSUFFICIENT, "disk_io_clone: failed.");
        return -1;
    }
    *copy = *(disk_io *)source;
    copy->offset = 0;
    copy->is_open = 0;
    *destination = (intptr_t *)copy;
    return 1;
}

static int io_open(intptr_t *io_handle, int access_flags, libcerror_error_t **error) {
    if (io_handle == NULL || (access_flags & LIBBFIO_ACCESS_FLAG_WRITE) != 0) {
        libcerror_error_set(error, LIBCERROR_ERROR_DOMAIN_ARGUMENTS, LIBCERROR_ARGUMENT_ERROR_UNSUPPORTED_VALUE,
                            "disk_io_open: the disk is read-only.");
        return -1;
    }
    ((disk_io *)io_handle)->is_open = 1;
    ((disk_io *)io_handle)->offset = 0;
    return 1;
}

static int io_close(intptr_t *io_handle, libcerror_error_t **error) {
    (void)error;
    if (io_handle != NULL) ((disk_io *)io_handle)->is_open = 0;
    return 0;
}

static ssize_t io_read(intptr_t *io_handle, uint8_t *buffer, size_t size, libcerror_error_t **error) {
    disk_io *io = (disk_io *)io_handle;
    if (io == NULL || buffer == NULL || size > (size_t)SSIZE_MAX) {
        libcerror_error_set(error, LIBCERROR_ERROR_DOMAIN_ARGUMENTS, LIBCERROR_ARGUMENT_ERROR_INVALID_VALUE,
                            "disk_io_read: invalid arguments.");
        return -1;
    }
    if (io->offset >= io->size) return 0;
    if ((uint64_t)size > (uint64_t)(io->size - io->offset)) size = (size_t)(io->size - io->offset);
    size_t done = 0;
    while (done < size) {
        int64_t n = io->read(io->ctx, io->start + io->offset + (int64_t)done, buffer + done, size - done);
        if (n < 0) {
            libcerror_error_set(error, LIBCERROR_ERROR_DOMAIN_IO, LIBCERROR_IO_ERROR_READ_FAILED,
                                "disk_io_read: the disk could not be read at offset %" PRIi64 ".", io->start + io->offset + (int64_t)done);
            return -1;
        }
        if (n == 0) break;           /* the disk ends before the container does */
        done += (size_t)n;
    }
    io->offset += (int64_t)done;
    return (ssize_t)done;
}

static ssize_t io_write(intptr_t *io_handle, const uint8_t *buffer, size_t size, libcerror_error_t **error) {
    (void)io_handle; (void)buffer; (void)size;
    libcerror_error_set(error, LIBCERROR_ERROR_DOMAIN_IO, LIBCERROR_IO_ERROR_WRITE_FAILED, "disk_io_write: the disk is read-only.");
    return -1;
}

static off64_t io_seek(intptr_t *io_handle, off64_t offset, int whence, libcerror_error_t **error) {
    disk_io *io = (disk_io *)io_handle;
    int64_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR && io ? io->offset : whence == SEEK_END && io ? io->size : -1;
    if (io == NULL || base < 0 || (offset > 0 && base > INT64_MAX - offset) || base + offset < 0) {
        libcerror_error_set(error, LIBCERROR_ERROR_DOMAIN_IO, LIBCERROR_IO_ERROR_SEEK_FAILED, "disk_io_seek: invalid offset.");
        return -1;
    }
    io->offset = base + offset;
    return (off64_t)io->offset;
}

static int io_exists(intptr_t *io_handle, libcerror_error_t **error) { (void)io_handle; (void)error; return 1; }

static int io_is_open(intptr_t *io_handle, libcerror_error_t **error) {
    (void)error;
    return io_handle != NULL && ((disk_io *)io_handle)->is_open ? 1 : 0;
}

static int io_get_size(intptr_t *io_handle, size64_t *size, libcerror_error_t **error) {
    if (io_handle == NULL || size == NULL) {
        libcerror_error_set(error, LIBCERROR_ERROR_DOMAIN_ARGUMENTS, LIBCERROR_ARGUMENT_ERROR_INVALID_VALUE, "disk_io_get_size: invalid arguments.");
        return -1;
    }
    *size = (size64_t)((disk_io *)io_handle)->size;
    return 1;
}

/* libfsapfs's error as one line (its innermost message first), freed. */
static void error_text(libcerror_error_t **error, const char *what, char *out, size_t capacity) {
    char text[1024] = "";
    if (error != NULL && *error != NULL) {
        libcerror_error_backtrace_sprint(*error, text, sizeof text);
        text[sizeof text - 1] = 0;
        char *nl = strpbrk(text, "\r\n");
        if (nl != NULL) *nl = 0;
        if (strlen(text) > 240) text[240] = 0;
        libcerror_error_free(error);
    }
    if (text[0]) snprintf(out, capacity, "%s (libfsapfs: %s)", what, text);
    else snprintf(out, capacity, "%s", what);
}

/* --- one volume's entries --- */

typedef struct {
    const char *volume;              /* "v1", "p2/v1" */
    int32_t entries_table;
    int32_t *fatal;
    wadup_text path;                 /* "/dir/name", as fls would print it */
    wadup_text name;                 /* the sub-content's name */
    wadup_row row;
    uint8_t *buffer;
    uint64_t ancestors[APFS_MAX_DEPTH];
    int depth;
} apfs_walker;

static int64_t seconds(int64_t nanoseconds) {
    int64_t s = nanoseconds / 1000000000;
    return nanoseconds % 1000000000 < 0 ? s - 1 : s;
}

static void row_time(wadup_row *row, int have, int64_t nanoseconds) {
    int64_t s = seconds(nanoseconds);
    if (have && s) wadup_row_int(row, s); else wadup_row_null(row);
}

/* The kind and the type letter TSK uses (its name and meta type letters agree for these). */
static const char *kind_of(uint16_t mode, char *letter) {
    switch (mode & 0170000) {
    case 0100000: *letter = 'r'; return "file";
    case 0040000: *letter = 'd'; return "directory";
    case 0120000: *letter = 'l'; return "symlink";
    case 0010000: *letter = 'p'; return "fifo";
    case 0020000: *letter = 'c'; return "char_device";
    case 0060000: *letter = 'b'; return "block_device";
    case 0140000: *letter = 's'; return "socket";
    case 0160000: *letter = 'w'; return "whiteout";
    default: *letter = '-'; return "unknown";
    }
}

/* "r/rrw-r--r--": the mode as disk.c writes TSK's (tsk_fs_meta_make_ls after the name's type). */
static void mode_text(uint16_t mode, char letter, char out[13]) {
    static const char rwx[] = "rwxrwxrwx";
    out[0] = letter; out[1] = '/'; out[2] = letter;
    for (int i = 0; i < 9; i++) out[3 + i] = mode & (0400 >> i) ? rwx[i] : '-';
    if (mode & 04000) out[5] = mode & 0100 ? 's' : 'S';
    if (mode & 02000) out[8] = mode & 0010 ? 's' : 'S';
    if (mode & 01000) out[11] = mode & 0001 ? 't' : 'T';
    out[12] = 0;
}

/* Appends a name as disk.c appends TSK's (control characters become '^', as fls prints them). */
static void append_sanitized(wadup_text *t, const char *s) {
    for (; *s; s++) {
        char c = (unsigned char)*s < 0x20 ? '^' : *s;
        wadup_text_append(t, &c, 1);
    }
}

/* The file's data streamed as a sub-content: 0 emitted, 1 not (reason set), < 0 a host error. */
static int32_t emit_data(apfs_walker *w, libfsapfs_file_entry_t *entry, uint64_t size, char *reason, size_t capacity) {
    if (w->buffer == NULL && (w->buffer = malloc(APFS_CHUNK)) == NULL) return WADUP_E_LIMIT_REACHED;
    w->name.length = 0;
    wadup_text_cstring(&w->name, w->volume);
    wadup_text_append(&w->name, w->path.data, w->path.length);
    if (w->name.failed) return WADUP_E_LIMIT_REACHED;
    int32_t stream = emit_stream_begin(w->name.data, (uint32_t)w->name.length);
    if (stream < 0) return stream;
    uint64_t done = 0;
    while (done < size) {
        size_t want = size - done < APFS_CHUNK ? (size_t)(size - done) : APFS_CHUNK;
        libcerror_error_t *error = NULL;
        ssize_t n = libfsapfs_file_entry_read_buffer_at_offset(entry, w->buffer, want, (off64_t)done, &error);
        if (*w->fatal) { if (error) libcerror_error_free(&error); emit_stream_abort(stream); return *w->fatal; }
        if (n <= 0) {
            emit_stream_abort(stream);
            if (n == 0) snprintf(reason, capacity, "not emitted: the data ends at %" PRIu64 " of %" PRIu64 " bytes", done, size);
            else error_text(&error, "not emitted: libfsapfs could not read it", reason, capacity);
            return 1;
        }
        int32_t rc = emit_stream_write(stream, w->buffer, (uint32_t)n);
        if (rc < 0) { emit_stream_abort(stream); return rc; }
        done += (uint64_t)n;
    }
    int32_t rc = emit_stream_end(stream);
    return rc < 0 ? rc : 0;
}

/* One fs_entries row for the entry at w->path; *is_directory and *identifier for the walk. */
static int32_t record(apfs_walker *w, libfsapfs_file_entry_t *entry, int *is_directory, uint64_t *identifier) {
    libcerror_error_t *error = NULL;
    uint64_t id = 0;
    uint16_t mode = 0;
    uint32_t uid = 0, gid = 0;
    size64_t size = 0;
    int64_t mtime = 0, atime = 0, ctime = 0, crtime = 0;
    int have_id = libfsapfs_file_entry_get_identifier(entry, &id, &error) == 1;
    if (error) libcerror_error_free(&error);
    int have_mode = libfsapfs_file_entry_get_file_mode(entry, &mode, &error) == 1;
    if (error) libcerror_error_free(&error);
    int have_owner = libfsapfs_file_entry_get_owner_identifier(entry, &uid, &error) == 1
        && libfsapfs_file_entry_get_group_identifier(entry, &gid, &error) == 1;
    if (error) libcerror_error_free(&error);
    int have_size = libfsapfs_file_entry_get_size(entry, &size, &error) == 1;
    if (error) libcerror_error_free(&error);
    int have_m = libfsapfs_file_entry_get_modification_time(entry, &mtime, &error) == 1;
    if (error) libcerror_error_free(&error);
    int have_a = libfsapfs_file_entry_get_access_time(entry, &atime, &error) == 1;
    if (error) libcerror_error_free(&error);
    int have_c = libfsapfs_file_entry_get_inode_change_time(entry, &ctime, &error) == 1;
    if (error) libcerror_error_free(&error);
    int have_cr = libfsapfs_file_entry_get_creation_time(entry, &crtime, &error) == 1;
    if (error) libcerror_error_free(&error);
    if (*w->fatal) return *w->fatal;

    char letter;
    const char *kind = have_mode ? kind_of(mode, &letter) : (letter = '-', "unknown");
    char full_mode[13];
    if (have_mode) mode_text(mode, letter, full_mode); else snprintf(full_mode, sizeof full_mode, "-/----------");
    *is_directory = have_mode && (mode & 0170000) == 0040000;
    *identifier = id;

    /* the bytes */
    char reason[400] = "";
    int emitted = 0;
    if (!have_mode || (mode & 0170000) != 0100000) snprintf(reason, sizeof reason, "not a regular file");
    else if (!have_size) snprintf(reason, sizeof reason, "not emitted: libfsapfs gives no size");
    else if (size == 0) snprintf(reason, sizeof reason, "empty");
    else {
        int32_t rc = emit_data(w, entry, size, reason, sizeof reason);
        if (rc == 0) emitted = 1;
        else if (rc < 0) {
            snprintf(reason, sizeof reason, "%s", wadup_emit_reason(rc));
            if (rc == WADUP_E_TEMPORARY_STORAGE || rc == WADUP_E_INPUT_UNAVAILABLE) *w->fatal = rc;
        }
        if (*w->fatal) return *w->fatal;
    }

    /* a symbolic link's target */
    wadup_text link = {0};
    int have_link = 0;
    if (have_mode && (mode & 0170000) == 0120000) {
        size_t n = 0;
        if (libfsapfs_file_entry_get_utf8_symbolic_link_target_size(entry, &n, &error) == 1 && n > 0 && n < 65536) {
            uint8_t *target = malloc(n);
            if (target && libfsapfs_file_entry_get_utf8_symbolic_link_target(entry, target, n, &error) == 1) {
                target[n - 1] = 0;
                append_sanitized(&link, (const char *)target);
                have_link = !link.failed;
            }
            free(target);
        }
        if (error) libcerror_error_free(&error);
    }

    char inode[24];
    snprintf(inode, sizeof inode, "%" PRIu64, id);
    wadup_row *row = &w->row;
    wadup_row_begin(row);
    wadup_row_string(row, w->volume);
    wadup_row_string_bytes(row, w->path.data, w->path.length);
    if (have_id) wadup_row_string(row, inode); else wadup_row_null(row);
    wadup_row_string(row, kind);
    if (have_size) wadup_row_int(row, (int64_t)size); else wadup_row_null(row);
    wadup_row_string(row, full_mode);
    if (have_owner) { wadup_row_int(row, uid); wadup_row_int(row, gid); } else { wadup_row_null(row); wadup_row_null(row); }
    row_time(row, have_m, mtime);
    row_time(row, have_a, atime);
    row_time(row, have_c, ctime);
    row_time(row, have_cr, crtime);
    wadup_row_int(row, 0);           /* deleted: only the live tree is walked */
    wadup_row_int(row, 1);
    if (have_link) wadup_row_string_bytes(row, link.data, link.length); else wadup_row_null(row);
    free(link.data);
    wadup_row_int(row, emitted);
    if (emitted) wadup_row_null(row); else wadup_row_string(row, reason);
    int32_t rc = wadup_row_insert(row, w->entries_table);
    return rc < 0 ? rc : *w->fatal;
}

static void walk_warning(apfs_walker *w, const char *what, libcerror_error_t **error) {
    char text[600], message[800];
    error_text(error, what, text, sizeof text);
    snprintf(message, sizeof message, "disk: APFS %s: %.*s: %s", w->volume, (int)(w->path.length > 200 ? 200 : w->path.length),
             w->path.data ? w->path.data : "", text);
    wadup_log(WADUP_LOG_WARNING, message);
}

/* Every entry under the folder (w->path its path, "" for the root): depth first, in libfsapfs's
 * order (the directory records' key order). Returns < 0 for a host error, else 0. */
static int32_t walk(apfs_walker *w, libfsapfs_file_entry_t *folder) {
    libcerror_error_t *error = NULL;
    int count = 0;
    if (libfsapfs_file_entry_get_number_of_sub_file_entries(folder, &count, &error) != 1) {
        if (*w->fatal) { if (error) libcerror_error_free(&error); return *w->fatal; }
        walk_warning(w, "the folder could not be listed", &error);
        return 0;
    }
    size_t base = w->path.length;
    for (int i = 0; i < count; i++) {
        libfsapfs_file_entry_t *entry = NULL;
        if (libfsapfs_file_entry_get_sub_file_entry_by_index(folder, i, &entry, &error) != 1) {
            if (*w->fatal) { if (error) libcerror_error_free(&error); return *w->fatal; }
            walk_warning(w, "an entry of the folder could not be read", &error);
            continue;
        }
        size_t n = 0;
        uint8_t *name = NULL;
        if (libfsapfs_file_entry_get_utf8_name_size(entry, &n, &error) == 1 && n > 0 && n <= 4096 && (name = malloc(n)) != NULL
            && libfsapfs_file_entry_get_utf8_name(entry, name, n, &error) == 1) {
            name[n - 1] = 0;
        } else {
            free(name);
            name = NULL;
        }
        if (error) libcerror_error_free(&error);
        w->path.length = base;
        wadup_text_cstring(&w->path, "/");
        append_sanitized(&w->path, name ? (const char *)name : "^");
        free(name);
        wadup_text_append(&w->path, "", 1);
        w->path.length--;
        if (w->path.failed) { libfsapfs_file_entry_free(&entry, NULL); return WADUP_E_LIMIT_REACHED; }

        int is_directory = 0;
        uint64_t id = 0;
        int32_t rc = record(w, entry, &is_directory, &id);
        if (rc >= 0 && is_directory) {
            /* A folder that is its own ancestor (a damaged or hostile tree) is listed, not entered. */
            int loop = 0;
            for (int d = 0; d < w->depth; d++) if (w->ancestors[d] == id) loop = 1;
            if (loop) walk_warning(w, "the folder is its own ancestor: not entered", NULL);
            else if (w->depth >= APFS_MAX_DEPTH) walk_warning(w, "the folder is too deep: not entered", NULL);
            else {
                w->ancestors[w->depth++] = id;
                rc = walk(w, entry);
                w->depth--;
            }
        }
        libfsapfs_file_entry_free(&entry, NULL);
        if (rc < 0) return rc;
    }
    w->path.length = base;
    return 0;
}

/* --- the container --- */

int apfs_is_container(apfs_read_fn read, void *ctx, int64_t offset) {
    uint8_t magic[4];
    return read(ctx, offset + 32, magic, sizeof magic) == (int64_t)sizeof magic && memcmp(magic, "NXSB", 4) == 0;
}

static void uuid_text(const uint8_t u[16], char out[37]) {
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
}

/* One volume: its fs_info row, then its entries. */
static int32_t read_volume(libfsapfs_volume_t *volume, const char *name, int64_t offset, int64_t block_size, int64_t blocks,
                           int32_t entries_table, int32_t *fatal) {
    libcerror_error_t *error = NULL;
    uint8_t label[256] = "", uuid_bytes[16];
    char uuid[37] = "";
    if (libfsapfs_volume_get_utf8_name(volume, label, sizeof label, &error) != 1) label[0] = 0;
    if (error) libcerror_error_free(&error);
    label[sizeof label - 1] = 0;
    if (libfsapfs_volume_get_identifier(volume, uuid_bytes, sizeof uuid_bytes, &error) == 1) uuid_text(uuid_bytes, uuid);
    if (error) libcerror_error_free(&error);
    int locked = libfsapfs_volume_is_locked(volume, &error);
    if (error) libcerror_error_free(&error);
    if (*fatal) return *fatal;
    /* Locked: an encrypted volume libfsapfs could not unlock (no password is ever given). */
    if (locked == 1)
        return disk_fs_row(name, "apfs", (const char *)label, uuid, block_size, blocks, 0, offset, "APFS", "encrypted: not read");
    if (locked != 0)
        return disk_fs_row(name, "apfs", (const char *)label, uuid, block_size, blocks, 0, offset, NULL,
                           "not read: libfsapfs could not tell whether the volume is encrypted");

    libfsapfs_file_entry_t *root = NULL;
    char problem[400] = "";
    int64_t created = 0;
    if (libfsapfs_volume_get_root_directory(volume, &root, &error) != 1) {
        if (*fatal) { if (error) libcerror_error_free(&error); return *fatal; }
        error_text(&error, "the root folder could not be read", problem, sizeof problem);
    } else if (libfsapfs_file_entry_get_creation_time(root, &created, &error) == 1) {
        created = seconds(created);
    }
    if (error) libcerror_error_free(&error);
    int32_t rc = disk_fs_row(name, "apfs", (const char *)label, uuid, block_size, blocks, created, offset, NULL, problem[0] ? problem : NULL);
    if (rc < 0 || root == NULL) { libfsapfs_file_entry_free(&root, NULL); return rc < 0 ? rc : 0; }

    apfs_walker *w = calloc(1, sizeof *w);
    if (w == NULL) { libfsapfs_file_entry_free(&root, NULL); return WADUP_E_LIMIT_REACHED; }
    w->volume = name;
    w->entries_table = entries_table;
    w->fatal = fatal;
    rc = walk(w, root);
    libfsapfs_file_entry_free(&root, NULL);
    free(w->path.data);
    free(w->name.data);
    free(w->row.text.data);
    free(w->buffer);
    free(w);
    return rc < 0 ? rc : *fatal;
}

int32_t apfs_read_container(apfs_read_fn read, void *ctx, int64_t offset, int64_t length, const char *volume,
                            int32_t entries_table, int32_t *fatal) {
    libcerror_error_t *error = NULL;
    libbfio_handle_t *handle = NULL;
    libfsapfs_container_t *container = NULL;
    char problem[400] = "";
    disk_io *io = calloc(1, sizeof *io);
    if (io == NULL) return WADUP_E_LIMIT_REACHED;
    *io = (disk_io){ read, ctx, offset, length, 0, 0 };
    if (libbfio_handle_initialize(&handle, (intptr_t *)io, io_free, io_clone, io_open, io_close, io_read, io_write, io_seek,
                                  io_exists, io_is_open, io_get_size, LIBBFIO_FLAG_IO_HANDLE_MANAGED, &error) != 1) {
        free(io);
        if (error) libcerror_error_free(&error);
        return WADUP_E_LIMIT_REACHED;
    }
    int32_t rc = 0;
    if (libfsapfs_container_initialize(&container, &error) != 1
        || libfsapfs_container_open_file_io_handle(container, handle, LIBFSAPFS_OPEN_READ, &error) != 1) {
        if (!*fatal) {
            error_text(&error, "the APFS container could not be opened", problem, sizeof problem);
            rc = disk_fs_row(volume, "apfs", NULL, NULL, 0, 0, 0, offset, NULL, problem);
        }
    } else {
        libfsapfs_internal_container_t *internal = (libfsapfs_internal_container_t *)container;
        int64_t block_size = internal->superblock ? internal->superblock->block_size : 0;
        int64_t blocks = internal->superblock ? (int64_t)internal->superblock->number_of_blocks : 0;
        int count = 0;
        if (libfsapfs_container_get_number_of_volumes(container, &count, &error) != 1) count = 0;
        if (error) libcerror_error_free(&error);
        for (int i = 0; i < count && rc >= 0 && !*fatal; i++) {
            char name[48];
            snprintf(name, sizeof name, "%s%sv%d", volume, *volume ? "/" : "", i + 1);
            libfsapfs_volume_t *v = NULL;
            if (libfsapfs_container_get_volume_by_index(container, i, &v, &error) != 1) {
                if (*fatal) break;
                error_text(&error, "the volume could not be opened", problem, sizeof problem);
                rc = disk_fs_row(name, "apfs", NULL, NULL, block_size, blocks, 0, offset, NULL, problem);
                continue;
            }
            rc = read_volume(v, name, offset, block_size, blocks, entries_table, fatal);
            libfsapfs_volume_free(&v, NULL);
        }
        libfsapfs_container_close(container, NULL);
    }
    if (error) libcerror_error_free(&error);
    libfsapfs_container_free(&container, NULL);
    libbfio_handle_free(&handle, NULL);
    return rc < 0 ? rc : *fatal;
}
