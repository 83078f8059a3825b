/*
 * disk: disk images, volume systems and file systems, read inside the sandbox with The Sleuth
 * Kit 4.11.1 and libyal's container libraries (docs/modules/disk.md).
 *
 * A content is opened as a container when libyal recognises it (E01, VMDK, VHD, VHDX, QCOW2:
 * decoded block by block as TSK asks, never copied whole), else as a raw image. On that disk, a
 * volume system (MBR, GPT, APM, BSD, Sun) gives the partitions, and each allocated partition, or
 * the whole disk when there is no volume system, is opened as a file system. Every entry TSK's
 * `fls -r -p -m` would print is one `fs_entries` row, in fls's own terms (path, inode, mode, the
 * four times), and every data stream of a regular file is emitted as a sub-content named
 * `VOLUME/PATH`: as extents of the image when it is raw and the stream is stored plainly (no copy),
 * else streamed through TSK's reader (containers, resident, compressed or sparse-tailed data),
 * exactly the bytes `icat` writes.
 *
 * APFS, which TSK is not built with here, is read by libfsapfs (apfs.c) where TSK finds no file
 * system and the disk or partition holds an APFS container: one fs_info row per APFS volume
 * (`vN`, `pM/vN`), its entries and files in the same columns and names.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tsk/libtsk.h>
#include <tsk/img/tsk_img_i.h>
#include <tsk/util/detect_encryption.h>
#include "containers.h"
#include "apfs.h"
#include "../common/wadup_row.h"

#define STREAM_BUFFER (1 << 20)

static int32_t images_table = -1, volumes_table = -1, fs_table = -1, entries_table = -1;
static wadup_row row;

/* --- the content, and the disk TSK reads (the content itself, or a container's decoded media) --- */

static int64_t content_size;
static int32_t fatal_error;          /* a host error that ends the content (input unavailable, storage) */
static char container_error[512];

static int64_t content_read(void *ctx, int64_t offset, void *buffer, size_t length) {
    (void)ctx;
    if (offset < 0 || offset >= content_size) return 0;
    if ((int64_t)length > content_size - offset) length = (size_t)(content_size - offset);
    size_t done = 0;
    while (done < length) {
        uint32_t n = length - done > (1u << 24) ? (1u << 24) : (uint32_t)(length - done);
        int32_t rc = read_content64(offset + (int64_t)done, n, (char *)buffer + done);
        if (rc < 0) { fatal_error = rc; return -1; }
        done += n;
    }
    return (int64_t)length;
}

typedef struct {
    TSK_IMG_INFO info;               /* first: TSK sees this struct as its TSK_IMG_INFO */
    disk_container *container;       /* NULL: the content is the disk */
} source_image;

static ssize_t image_read(TSK_IMG_INFO *img, TSK_OFF_T offset, char *buffer, size_t length) {
    source_image *s = (source_image *)img;
    int64_t n = s->container
        ? disk_container_read(s->container, offset, buffer, length, container_error, sizeof container_error)
        : content_read(NULL, offset, buffer, length);
    if (n < 0) {
        tsk_error_reset();
        tsk_error_set_errno(TSK_ERR_IMG_READ);
        tsk_error_set_errstr("%s", s->container ? container_error : "the content could not be read");
        return -1;
    }
    return (ssize_t)n;
}

static void image_close(TSK_IMG_INFO *img) { tsk_img_free(img); }
static void image_stat(TSK_IMG_INFO *img, FILE *f) { (void)img; (void)f; }

/* TSK's last error as one line. */
static const char *tsk_reason(void) {
    const char *e = tsk_error_get();
    return e && *e ? e : "unknown error";
}

/* --- tables --- */

static int32_t define_tables(void) {
    if (entries_table >= 0) return 0;
    images_table = wadup_define_table("disk_images",
        "[{\"name\":\"format\",\"data_type\":\"String\"},{\"name\":\"media_size\",\"data_type\":\"Int64\"},"
        "{\"name\":\"sector_size\",\"data_type\":\"Int64\"},{\"name\":\"description\",\"data_type\":\"String\"},"
        "{\"name\":\"stored_md5\",\"data_type\":\"String\"},{\"name\":\"stored_sha1\",\"data_type\":\"String\"},"
        "{\"name\":\"problem\",\"data_type\":\"String\"}]");
    if (images_table < 0) return images_table;
    volumes_table = wadup_define_table("disk_volumes",
        "[{\"name\":\"scheme\",\"data_type\":\"String\"},{\"name\":\"index\",\"data_type\":\"Int64\"},"
        "{\"name\":\"start\",\"data_type\":\"Int64\"},{\"name\":\"length\",\"data_type\":\"Int64\"},"
        "{\"name\":\"type\",\"data_type\":\"String\"},{\"name\":\"description\",\"data_type\":\"String\"},"
        "{\"name\":\"volume\",\"data_type\":\"String\"}]");
    if (volumes_table < 0) return volumes_table;
    fs_table = wadup_define_table("fs_info",
        "[{\"name\":\"volume\",\"data_type\":\"String\"},{\"name\":\"type\",\"data_type\":\"String\"},"
        "{\"name\":\"label\",\"data_type\":\"String\"},{\"name\":\"uuid\",\"data_type\":\"String\"},"
        "{\"name\":\"block_size\",\"data_type\":\"Int64\"},{\"name\":\"blocks\",\"data_type\":\"Int64\"},"
        "{\"name\":\"created\",\"data_type\":\"Int64\"},{\"name\":\"offset\",\"data_type\":\"Int64\"},"
        "{\"name\":\"encryption\",\"data_type\":\"String\"},{\"name\":\"problem\",\"data_type\":\"String\"}]");
    if (fs_table < 0) return fs_table;
    entries_table = wadup_define_table("fs_entries",
        "[{\"name\":\"volume\",\"data_type\":\"String\"},{\"name\":\"path\",\"data_type\":\"String\"},"
        "{\"name\":\"inode\",\"data_type\":\"String\"},{\"name\":\"kind\",\"data_type\":\"String\"},"
        "{\"name\":\"size\",\"data_type\":\"Int64\"},{\"name\":\"mode\",\"data_type\":\"String\"},"
        "{\"name\":\"uid\",\"data_type\":\"Int64\"},{\"name\":\"gid\",\"data_type\":\"Int64\"},"
        "{\"name\":\"mtime\",\"data_type\":\"Int64\"},{\"name\":\"atime\",\"data_type\":\"Int64\"},"
        "{\"name\":\"ctime\",\"data_type\":\"Int64\"},{\"name\":\"crtime\",\"data_type\":\"Int64\"},"
        "{\"name\":\"deleted\",\"data_type\":\"Int64\"},{\"name\":\"allocated\",\"data_type\":\"Int64\"},"
        "{\"name\":\"link\",\"data_type\":\"String\"},"
        "{\"name\":\"emitted\",\"data_type\":\"Int64\"},{\"name\":\"reason\",\"data_type\":\"String\"}]");
    return entries_table < 0 ? entries_table : 0;
}

static void row_time(int64_t t) { if (t) wadup_row_int(&row, t); else wadup_row_null(&row); }
static void row_text_or_null(const char *s) { if (s && *s) wadup_row_string(&row, s); else wadup_row_null(&row); }

/* --- emitting a data stream --- */

typedef struct {
    TSK_FS_INFO *fs;
    int raw;                         /* the disk is the content: extents are possible */
    const char *volume;              /* "" or "pN" */
    wadup_text name;                 /* the sub-content's name */
    wadup_text path;                 /* the entry's path as fls prints it */
    unsigned char *buffer;
    size_t buffered;
    int32_t stream;
    int32_t write_error;
    wadup_extent *extents;
    uint32_t extent_count, extent_capacity;
} walker;

static int add_extent(walker *w, int64_t offset, int64_t length) {
    if (w->extent_count > 0) {
        wadup_extent *last = &w->extents[w->extent_count - 1];
        if (offset == WADUP_HOLE && last->offset == WADUP_HOLE) { last->length += length; return 0; }
        if (offset != WADUP_HOLE && last->offset != WADUP_HOLE && last->offset + last->length == offset) { last->length += length; return 0; }
    }
    if (w->extent_count == w->extent_capacity) {
        uint32_t capacity = w->extent_capacity ? w->extent_capacity * 2 : 64;
        wadup_extent *grown = realloc(w->extents, capacity * sizeof *grown);
        if (!grown) return -1;
        w->extents = grown;
        w->extent_capacity = capacity;
    }
    w->extents[w->extent_count++] = (wadup_extent){ offset, length };
    return 0;
}

/* The stream's bytes as extents of the content, when it is stored plainly on a raw disk; 0 when
 * they were emitted, 1 when the stream must be read instead, < 0 an emit error. */
static int32_t emit_as_extents(walker *w, const TSK_FS_ATTR *attr) {
    TSK_FS_INFO *fs = w->fs;
    if (!w->raw || !(attr->flags & TSK_FS_ATTR_NONRES) || (attr->flags & (TSK_FS_ATTR_COMP | TSK_FS_ATTR_ENC))
        || attr->nrd.skiplen != 0 || attr->nrd.initsize < attr->size || attr->size <= 0)
        return 1;
    w->extent_count = 0;
    int64_t remaining = attr->size;
    for (const TSK_FS_ATTR_RUN *run = attr->nrd.run; run && remaining > 0; run = run->next) {
        if (run->len == 0) continue;
        if (run->len > (TSK_DADDR_T)(INT64_MAX / fs->block_size)) return 1;
        int64_t length = (int64_t)run->len * fs->block_size;
        if (length > remaining) length = remaining;
        if (run->flags & (TSK_FS_ATTR_RUN_FLAG_SPARSE | TSK_FS_ATTR_RUN_FLAG_FILLER)) {
            if (add_extent(w, WADUP_HOLE, length)) return 1;
        } else {
            if (run->addr + run->len - 1 > fs->last_block || run->addr + run->len < run->addr) return 1;
            int64_t offset = fs->offset + (int64_t)run->addr * fs->block_size;
            if (offset + length > content_size) return 1;
            if (add_extent(w, offset, length)) return 1;
        }
        remaining -= length;
    }
    if (remaining > 0) return 1;     /* fewer runs than the size: TSK's reader decides */
    return emit_subcontent_extents(w->extents, w->extent_count, w->name.data, (uint32_t)w->name.length);
}

static int32_t flush(walker *w) {
    if (w->buffered == 0 || w->write_error) return w->write_error;
    int32_t rc = emit_stream_write(w->stream, w->buffer, (uint32_t)w->buffered);
    w->buffered = 0;
    if (rc < 0) w->write_error = rc;
    return w->write_error;
}

static TSK_WALK_RET_ENUM stream_block(TSK_FS_FILE *file, TSK_OFF_T offset, TSK_DADDR_T address, char *data,
                                      size_t length, TSK_FS_BLOCK_FLAG_ENUM flags, void *context) {
    (void)file; (void)offset; (void)address; (void)flags;
    walker *w = context;
    while (length > 0) {
        size_t n = STREAM_BUFFER - w->buffered;
        if (n > length) n = length;
        memcpy(w->buffer + w->buffered, data, n);
        w->buffered += n; data += n; length -= n;
        if (w->buffered == STREAM_BUFFER && flush(w)) return TSK_WALK_STOP;
    }
    return TSK_WALK_CONT;
}

/* The stream's bytes as TSK's reader gives them (icat's bytes): 0 emitted, > 0 TSK could not read
 * them (reason set), < 0 an emit error. */
static int32_t emit_by_reading(walker *w, TSK_FS_FILE *file, const TSK_FS_ATTR *attr, char *reason, size_t capacity) {
    if (!w->buffer && !(w->buffer = malloc(STREAM_BUFFER))) return WADUP_E_LIMIT_REACHED;
    w->stream = emit_stream_begin(w->name.data, (uint32_t)w->name.length);
    if (w->stream < 0) return w->stream;
    w->buffered = 0;
    w->write_error = 0;
    tsk_error_reset();
    uint8_t failed = tsk_fs_file_walk_type(file, attr->type, attr->id, TSK_FS_FILE_WALK_FLAG_NONE, stream_block, w);
    if (!failed && !w->write_error) flush(w);
    if (w->write_error) { emit_stream_abort(w->stream); return w->write_error; }
    if (failed || fatal_error) {
        emit_stream_abort(w->stream);
        if (fatal_error) return fatal_error;
        snprintf(reason, capacity, "not emitted: TSK could not read it (%s)", tsk_reason());
        return 1;
    }
    int32_t rc = emit_stream_end(w->stream);
    return rc < 0 ? rc : 0;
}

/* --- one fls line --- */

static const char *kind_name(TSK_FS_NAME_TYPE_ENUM type) {
    switch (type) {
    case TSK_FS_NAME_TYPE_REG: return "file";
    case TSK_FS_NAME_TYPE_DIR: return "directory";
    case TSK_FS_NAME_TYPE_LNK: return "symlink";
    case TSK_FS_NAME_TYPE_FIFO: return "fifo";
    case TSK_FS_NAME_TYPE_CHR: return "char_device";
    case TSK_FS_NAME_TYPE_BLK: return "block_device";
    case TSK_FS_NAME_TYPE_SOCK: return "socket";
    case TSK_FS_NAME_TYPE_WHT: return "whiteout";
    case TSK_FS_NAME_TYPE_SHAD: return "shadow";
    case TSK_FS_NAME_TYPE_VIRT: return "virtual";
    case TSK_FS_NAME_TYPE_VIRT_DIR: return "virtual_directory";
    default: return "unknown";
    }
}

/* Appends a name as fls prints it (tsk_print_sanitized: control characters become '^'). */
static void append_sanitized(wadup_text *t, const char *s) {
    for (; *s; s++) {
        char c = (unsigned char)*s < 0x20 ? '^' : *s;
        wadup_text_append(t, &c, 1);
    }
}

/* Why a stream is not emitted even though it could be. */
static const char *not_emitted(const TSK_FS_FILE *file, const TSK_FS_ATTR *attr, const char *path) {
    if (!file->meta) return "no metadata";
    if (attr && attr->type == TSK_FS_ATTR_TYPE_NTFS_FNAME) return "the $FILE_NAME attribute's times";
    /* A directory's $I30 index is its listing; a named index of a file ($ObjId:$O) is a stream fls
     * prints and icat reads, so it is emitted. */
    if (attr && attr->type == TSK_FS_ATTR_TYPE_NTFS_IDXROOT && (!attr->name || strcmp(attr->name, "$I30") == 0)) return "a directory index";
    if (!attr && file->meta->type != TSK_FS_META_TYPE_REG) return "not a regular file";
    if (attr && file->meta->type != TSK_FS_META_TYPE_REG && file->meta->type != TSK_FS_META_TYPE_DIR) return "not a regular file";
    if (!attr && file->meta->size == 0) return "empty";
    if (attr && attr->size == 0) return "empty";
    /* NTFS's bad-cluster map: a sparse stream the volume's size, holding nothing. */
    if (TSK_FS_TYPE_ISNTFS(file->fs_info->ftype) && strcmp(path, "/$BadClus:$Bad") == 0) return "the volume's bad-cluster map (sparse)";
    return NULL;
}

static int32_t record(walker *w, TSK_FS_FILE *file, const char *dir, const TSK_FS_ATTR *attr) {
    /* the path, as tsk_fs_name_print_mac_md5 prints it */
    int ads = attr && attr->name && attr->type != TSK_FS_ATTR_TYPE_NTFS_FNAME
        && (attr->type != TSK_FS_ATTR_TYPE_NTFS_IDXROOT || strcmp(attr->name, "$I30") != 0);
    w->path.length = 0;
    wadup_text_cstring(&w->path, "/");
    if (dir) append_sanitized(&w->path, dir);
    append_sanitized(&w->path, file->name->name);
    if (ads) { wadup_text_cstring(&w->path, ":"); append_sanitized(&w->path, attr->name); }
    if (attr && attr->type == TSK_FS_ATTR_TYPE_NTFS_FNAME) wadup_text_cstring(&w->path, " ($FILE_NAME)");
    wadup_text_append(&w->path, "", 1);
    w->path.length--;
    if (w->path.failed) return WADUP_E_LIMIT_REACHED;

    char inode[64];
    if (attr) snprintf(inode, sizeof inode, "%" PRIuINUM "-%" PRIu32 "-%" PRIu16, file->name->meta_addr, (uint32_t)attr->type, attr->id);
    else snprintf(inode, sizeof inode, "%" PRIuINUM, file->name->meta_addr);
    char mode[16] = "----------";
    char ls[12];
    const TSK_FS_META *meta = file->meta;
    if (meta) { tsk_fs_meta_make_ls(meta, ls, sizeof ls); snprintf(mode, sizeof mode, "%s", ls); }
    char full_mode[20];
    snprintf(full_mode, sizeof full_mode, "%s/%s",
             file->name->type < TSK_FS_NAME_TYPE_STR_MAX ? tsk_fs_name_type_str[file->name->type] : "-", mode);

    /* the bytes */
    char reason[600] = "";
    int emitted = 0;
    const char *skip = not_emitted(file, attr, w->path.data);
    if (skip) snprintf(reason, sizeof reason, "%s", skip);
    else {
        const TSK_FS_ATTR *data = attr ? attr : tsk_fs_file_attr_get(file);
        if (!data) snprintf(reason, sizeof reason, "not emitted: TSK found no data (%s)", tsk_reason());
        else {
            w->name.length = 0;
            if (*w->volume) { wadup_text_cstring(&w->name, w->volume); wadup_text_cstring(&w->name, "/"); }
            wadup_text_append(&w->name, w->path.data + 1, w->path.length - 1);
            if (w->name.failed) return WADUP_E_LIMIT_REACHED;
            int32_t rc = emit_as_extents(w, data);
            if (rc == 1) rc = emit_by_reading(w, file, data, reason, sizeof reason);
            if (rc == 0) emitted = 1;
            else if (rc < 0) {
                snprintf(reason, sizeof reason, "%s", wadup_emit_reason(rc));
                if (rc == WADUP_E_TEMPORARY_STORAGE || rc == WADUP_E_INPUT_UNAVAILABLE) fatal_error = rc;
            }
        }
    }

    int deleted = (file->name->flags & TSK_FS_NAME_FLAG_UNALLOC) != 0;
    int allocated = meta && (meta->flags & TSK_FS_META_FLAG_ALLOC);
    int fname = attr && attr->type == TSK_FS_ATTR_TYPE_NTFS_FNAME;
    wadup_row_begin(&row);
    wadup_row_string(&row, w->volume);
    wadup_row_string_bytes(&row, w->path.data, w->path.length);
    wadup_row_string(&row, inode);
    wadup_row_string(&row, kind_name(file->name->type));
    if (meta) wadup_row_int(&row, attr ? attr->size : meta->size); else wadup_row_null(&row);
    wadup_row_string(&row, full_mode);
    if (meta) { wadup_row_int(&row, meta->uid); wadup_row_int(&row, meta->gid); } else { wadup_row_null(&row); wadup_row_null(&row); }
    if (!meta) { for (int i = 0; i < 4; i++) wadup_row_null(&row); }
    else if (fname) { row_time(meta->time2.ntfs.fn_mtime); row_time(meta->time2.ntfs.fn_atime); row_time(meta->time2.ntfs.fn_ctime); row_time(meta->time2.ntfs.fn_crtime); }
    else { row_time(meta->mtime); row_time(meta->atime); row_time(meta->ctime); row_time(meta->crtime); }
    wadup_row_int(&row, deleted);
    wadup_row_int(&row, allocated ? 1 : 0);
    if (meta && meta->type == TSK_FS_META_TYPE_LNK && meta->link) {
        wadup_text link = {0};
        append_sanitized(&link, meta->link);
        wadup_row_string_bytes(&row, link.data, link.length);
        free(link.data);
    } else wadup_row_null(&row);
    wadup_row_int(&row, emitted);
    if (emitted) wadup_row_null(&row); else wadup_row_string(&row, reason);
    int32_t rc = wadup_row_insert(&row, entries_table);
    if (rc < 0) return rc;
    return fatal_error;
}

/* fls's print_dent_act with -r -p -m: NTFS gives a line per data stream, the directory index and
 * the $FILE_NAME times; every other file system a line per name. `.` and `..` are left out. */
static TSK_WALK_RET_ENUM visit(TSK_FS_FILE *file, const char *dir, void *context) {
    walker *w = context;
    int32_t rc = 0;
    if (TSK_FS_TYPE_ISNTFS(file->fs_info->ftype) && file->meta) {
        int printed = 0;
        int count = tsk_fs_file_attr_getsize(file);
        for (int i = 0; i < count && rc >= 0 && !fatal_error; i++) {
            const TSK_FS_ATTR *attr = tsk_fs_file_attr_get_idx(file, i);
            if (!attr) continue;
            if (attr->type == TSK_FS_ATTR_TYPE_NTFS_DATA) {
                printed = 1;
                if (file->meta->type == TSK_FS_META_TYPE_DIR && file->name->name[0] == '.' && file->name->name[1] && file->name->name[2] == '\0')
                    continue;
                rc = record(w, file, dir, attr);
            } else if (attr->type == TSK_FS_ATTR_TYPE_NTFS_IDXROOT) {
                printed = 1;
                if (!TSK_FS_ISDOT(file->name->name)) rc = record(w, file, dir, attr);
            } else if (attr->type == TSK_FS_ATTR_TYPE_NTFS_FNAME && attr->id == file->meta->time2.ntfs.fn_id) {
                if (!TSK_FS_ISDOT(file->name->name)) rc = record(w, file, dir, attr);
            }
        }
        if (!printed && rc >= 0 && !fatal_error) rc = record(w, file, dir, NULL);
    } else if (!TSK_FS_ISDOT(file->name->name)) {
        rc = record(w, file, dir, NULL);
    }
    if (rc < 0 || fatal_error) { if (rc < 0 && !fatal_error) fatal_error = rc; return TSK_WALK_STOP; }
    return TSK_WALK_CONT;
}

/* --- a file system --- */

/* The value of the first line of fsstat's text starting with `key: `, into out. */
static void fsstat_value(const char *text, const char *const keys[], char *out, size_t capacity) {
    out[0] = 0;
    for (int k = 0; keys[k]; k++) {
        size_t n = strlen(keys[k]);
        for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
            if (strncmp(line, keys[k], n) == 0 && line[n] == ':') {
                const char *v = line + n + 1;
                while (*v == ' ') v++;
                size_t m = strcspn(v, "\n");
                while (m > 0 && v[m - 1] == ' ') m--;
                if (m == 0) continue;
                if (m >= capacity) m = capacity - 1;
                memcpy(out, v, m);
                out[m] = 0;
                return;
            }
        }
    }
}

int32_t disk_fs_row(const char *volume, const char *type, const char *label, const char *uuid, int64_t block_size,
                      int64_t blocks, int64_t created, int64_t offset, const char *encryption, const char *problem) {
    wadup_row_begin(&row);
    wadup_row_string(&row, volume);
    row_text_or_null(type);
    row_text_or_null(label);
    row_text_or_null(uuid);
    if (block_size) wadup_row_int(&row, block_size); else wadup_row_null(&row);
    if (blocks) wadup_row_int(&row, blocks); else wadup_row_null(&row);
    if (created) wadup_row_int(&row, created); else wadup_row_null(&row);
    wadup_row_int(&row, offset);
    row_text_or_null(encryption);
    row_text_or_null(problem);
    return wadup_row_insert(&row, fs_table);
}

static walker w;

/* The disk for apfs.c, through TSK's image reader (and its cache of recent reads). */
static int64_t disk_read(void *ctx, int64_t offset, void *buffer, size_t length) {
    TSK_IMG_INFO *img = ctx;
    if (offset < 0 || offset >= img->size) return 0;
    if ((int64_t)length > img->size - offset) length = (size_t)(img->size - offset);
    ssize_t n = tsk_img_read(img, offset, buffer, length);
    return n < 0 ? -1 : (int64_t)n;
}

/* Opens the file system at `offset` of the disk (`length` bytes) and records it; 0 when there is
 * none there. */
static int32_t read_file_system(TSK_IMG_INFO *img, int raw, const char *volume, int64_t offset, int64_t length,
                                int in_volume_system, int apfs_partition) {
    tsk_error_reset();
    TSK_FS_INFO *fs = tsk_fs_open_img(img, offset, TSK_FS_TYPE_DETECT);
    if (!fs) {
        char problem[512];
        snprintf(problem, sizeof problem, "%s", tsk_reason());
        if (fatal_error) return fatal_error;
        /* APFS, which TSK is not built with here: libfsapfs reads it (apfs.c), when the content or
         * the partition starts with a container superblock or the partition table says APFS. */
        int apfs = apfs_is_container(disk_read, img, offset);
        if (fatal_error) return fatal_error;
        if (apfs || apfs_partition) return apfs_read_container(disk_read, img, offset, length, volume, entries_table, &fatal_error);
        encryption_detected_result *enc = detectVolumeEncryption(img, offset);
        const char *encryption = enc && enc->encryptionType != ENCRYPTION_DETECTED_NONE ? enc->desc : NULL;
        int32_t rc = 0;
        /* A bare content with no file system is simply not a disk: no row. */
        if (in_volume_system || encryption) rc = disk_fs_row(volume, NULL, NULL, NULL, 0, 0, 0, offset, encryption, encryption ? "encrypted: not read" : problem);
        free(enc);
        return rc < 0 ? rc : 0;
    }
    char *text = NULL;
    size_t text_length = 0;
    FILE *out = open_memstream(&text, &text_length);
    if (out) { fs->fsstat(fs, out); fclose(out); }
    char label[256] = "", uuid[128] = "";
    static const char *const label_keys[] = { "Volume Label (Root Directory)", "Volume Label (from root directory)", "Volume Label (Boot Sector)", "Volume Label", "Volume Name", NULL };
    static const char *const uuid_keys[] = { "Volume ID", "Volume Serial Number", "Serial Number", NULL };
    if (text) { fsstat_value(text, label_keys, label, sizeof label); fsstat_value(text, uuid_keys, uuid, sizeof uuid); }
    free(text);
    int64_t created = 0;
    TSK_FS_FILE *root = tsk_fs_file_open_meta(fs, NULL, fs->root_inum);
    if (root) { if (root->meta) created = root->meta->crtime; tsk_fs_file_close(root); }
    int32_t rc = disk_fs_row(volume, tsk_fs_type_toname(fs->ftype), label, uuid, fs->block_size, (int64_t)fs->block_count, created, offset, NULL, NULL);
    if (rc < 0) { tsk_fs_close(fs); return rc; }

    w.fs = fs;
    w.raw = raw;
    w.volume = volume;
    tsk_error_reset();
    uint8_t failed = tsk_fs_dir_walk(fs, fs->root_inum,
        TSK_FS_DIR_WALK_FLAG_ALLOC | TSK_FS_DIR_WALK_FLAG_UNALLOC | TSK_FS_DIR_WALK_FLAG_RECURSE, visit, &w);
    if (failed && !fatal_error) {
        char message[600];
        snprintf(message, sizeof message, "disk: walking %s%sthe %s file system stopped: %s", volume, *volume ? ": " : "", tsk_fs_type_toname(fs->ftype), tsk_reason());
        wadup_log(WADUP_LOG_WARNING, message);
    }
    tsk_fs_close(fs);
    return fatal_error;
}

/* --- the disk --- */

static const char *volume_type(TSK_VS_PART_FLAG_ENUM flags) {
    if (flags & TSK_VS_PART_FLAG_META) return "meta";
    if (flags & TSK_VS_PART_FLAG_ALLOC) return "alloc";
    return "unalloc";
}

static int32_t read_disk(TSK_IMG_INFO *img, int raw) {
    tsk_error_reset();
    TSK_VS_INFO *vs = tsk_vs_open(img, 0, TSK_VS_TYPE_DETECT);
    if (fatal_error) return fatal_error;
    if (!vs) return read_file_system(img, raw, "", 0, img->size, 0, 0);
    const char *scheme = tsk_vs_type_toname(vs->vstype);
    int32_t rc = 0;
    int number = 0;
    for (TSK_PNUM_T i = 0; i < vs->part_count && rc >= 0; i++) {
        const TSK_VS_PART_INFO *part = tsk_vs_part_get(vs, i);
        if (!part) continue;
        char volume[16] = "";
        if ((part->flags & TSK_VS_PART_FLAG_ALLOC) && !(part->flags & TSK_VS_PART_FLAG_META)) snprintf(volume, sizeof volume, "p%d", ++number);
        wadup_row_begin(&row);
        wadup_row_string(&row, scheme);
        wadup_row_int(&row, (int64_t)part->addr);
        wadup_row_int(&row, (int64_t)part->start * vs->block_size);
        wadup_row_int(&row, (int64_t)part->len * vs->block_size);
        wadup_row_string(&row, volume_type(part->flags));
        row_text_or_null(part->desc);
        wadup_row_string(&row, volume);
        rc = wadup_row_insert(&row, volumes_table);
    }
    for (TSK_PNUM_T i = 0, n = 0; i < vs->part_count && rc >= 0 && !fatal_error; i++) {
        const TSK_VS_PART_INFO *part = tsk_vs_part_get(vs, i);
        if (!part || !(part->flags & TSK_VS_PART_FLAG_ALLOC) || (part->flags & TSK_VS_PART_FLAG_META)) continue;
        char volume[16];
        snprintf(volume, sizeof volume, "p%u", (unsigned)++n);
        rc = read_file_system(img, raw, volume, (int64_t)part->start * vs->block_size, (int64_t)part->len * vs->block_size, 1,
                              part->desc && strstr(part->desc, "APFS") != NULL);
    }
    tsk_vs_close(vs);
    return rc < 0 ? rc : fatal_error;
}

static int32_t image_row(const char *format, disk_container *c, const char *problem) {
    wadup_row_begin(&row);
    wadup_row_string(&row, format);
    if (c) { wadup_row_int(&row, disk_container_media_size(c)); wadup_row_int(&row, disk_container_sector_size(c)); }
    else { wadup_row_null(&row); wadup_row_null(&row); }
    row_text_or_null(c ? disk_container_description(c) : NULL);
    row_text_or_null(c ? disk_container_stored_md5(c) : NULL);
    row_text_or_null(c ? disk_container_stored_sha1(c) : NULL);
    row_text_or_null(problem);
    return wadup_row_insert(&row, images_table);
}

__attribute__((export_name("process"))) int32_t process(void) {
    int32_t rc = define_tables();
    if (rc < 0) return rc;
    fatal_error = 0;
    content_size = get_content_size64();
    if (content_size < 0) return (int32_t)content_size;
    if (content_size < 512) return 0;

    disk_container *container = NULL;
    const char *format = disk_container_detect(content_read, NULL, content_size);
    if (fatal_error) return fatal_error;
    int64_t media_size = content_size;
    unsigned sector_size = 512;
    if (format) {
        char error[512] = "";
        if (disk_container_open(format, content_read, NULL, content_size, &container, error, sizeof error) != 0) {
            if (fatal_error) return fatal_error;
            return image_row(format, NULL, error);
        }
        media_size = disk_container_media_size(container);
        sector_size = disk_container_sector_size(container);
        if (sector_size < 512 || sector_size % 512) sector_size = 512;
        if ((rc = image_row(format, container, NULL)) < 0) { disk_container_close(container); return rc; }
    }
    /* A fixed VHD is the raw disk followed by its 512-byte footer: read (and emit extents of) the
     * content itself, as for a raw image. */
    int raw = container == NULL;
    if (format && strcmp(format, "vhd") == 0 && media_size + 512 <= content_size) {
        unsigned char head[8];
        if (content_read(NULL, 0, head, sizeof head) == (int64_t)sizeof head && memcmp(head, "conectix", 8) != 0) raw = 1;
        if (fatal_error) { disk_container_close(container); return fatal_error; }
    }
    source_image *s = tsk_img_malloc(sizeof *s);
    if (!s) { if (container) disk_container_close(container); return WADUP_E_LIMIT_REACHED; }
    s->container = raw ? NULL : container;
    TSK_IMG_INFO *img = tsk_img_open_external(s, media_size, sector_size, image_read, image_close, image_stat);
    if (!img) { tsk_img_free(s); if (container) disk_container_close(container); return 0; }
    rc = read_disk(img, raw);
    tsk_img_close(img);
    if (container) disk_container_close(container);
    return rc < 0 ? rc : 0;
}
