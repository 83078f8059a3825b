/*
 * file_type — what `file` says about every content: libmagic 5.44 with Debian's compiled database
 * built into the module.
 *
 * Table file_types(mime, description): one row per content, `file --mime-type -b` and `file -b`.
 *
 * libmagic is given the content as a file descriptor (magic_descriptor), exactly as `file` gives
 * it a file: it reads the first 7 MiB, the tail for end-relative magic, ELF sections and OLE2
 * sectors through that descriptor. The library is compiled with read/pread/lseek/fstat renamed to
 * the functions below (scripts/build-formats.sh), which serve the descriptor CONTENT_FD from the
 * current content with read_content64, so the answer equals `file`'s for a content of any size.
 * The database is parsed once per instance, on the first content.
 *
 * One magic set gives both answers: libmagic runs once with MAGIC_MIME_TYPE, then once with
 * MAGIC_NONE, and the pinned build's patch (patches/share-scans.patch, magic_share_scans) lets the
 * second run start each scan of the soft magic at the entry where the first run's scan found
 * something, so the thousands of entries that match nothing are tested once, not twice.
 *
 * It is the run's identifier (manifest role "identify"): it runs first on every content and
 * reports the two answers with set_content_type, which the other modules are dispatched on.
 */
#include <errno.h>
#include <magic.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "../common/wadup_row.h"

static const unsigned char database[] = {
#embed WADUP_MAGIC_DB
};

#define CONTENT_FD 0x3fff0000

WADUP_MANIFEST("{\"version\": 1, \"role\": \"identify\"}");

static int32_t table = -1;
static magic_t magic;
static int64_t content_size, cursor;
static int32_t content_error;
static wadup_row row;
static wadup_text mime, description; /* this content's two answers, NUL-terminated */

static ssize_t content_pread(void *buffer, size_t length, int64_t offset) {
    if (offset < 0) { errno = EINVAL; return -1; }
    if (offset >= content_size) return 0;
    int64_t left = content_size - offset;
    size_t n = (int64_t)length < left ? length : (size_t)left;
    int32_t rc = read_content64(offset, (uint32_t)n, buffer);
    if (rc < 0) { content_error = rc; errno = EIO; return -1; }
    return (ssize_t)n;
}

ssize_t wadup_magic_read(int fd, void *buffer, size_t length) {
    if (fd != CONTENT_FD) return read(fd, buffer, length);
    ssize_t n = content_pread(buffer, length, cursor);
    if (n > 0) cursor += n;
    return n;
}

ssize_t wadup_magic_pread(int fd, void *buffer, size_t length, off_t offset) {
    if (fd != CONTENT_FD) return pread(fd, buffer, length, offset);
    return content_pread(buffer, length, offset);
}

off_t wadup_magic_lseek(int fd, off_t offset, int whence) {
    if (fd != CONTENT_FD) return lseek(fd, offset, whence);
    int64_t target = whence == SEEK_SET ? offset : whence == SEEK_CUR ? cursor + offset : content_size + offset;
    if (target < 0) { errno = EINVAL; return -1; }
    cursor = target;
    return (off_t)target;
}

int wadup_magic_fstat(int fd, struct stat *st) {
    if (fd != CONTENT_FD) return fstat(fd, st);
    memset(st, 0, sizeof *st);
    st->st_mode = S_IFREG | 0644;
    st->st_size = (off_t)content_size;
    st->st_nlink = 1;
    return 0;
}

static magic_t open_magic(void) {
    magic_t m = magic_open(MAGIC_NONE);
    if (!m) return NULL;
    void *buffers[1] = { (void *)database };
    size_t sizes[1] = { sizeof database };
    if (magic_load_buffers(m, buffers, sizes, 1) != 0) {
        wadup_log(WADUP_LOG_ERROR, magic_error(m) ? magic_error(m) : "magic_load_buffers failed");
        magic_close(m);
        return NULL;
    }
    return m;
}

/* Sets `text` to libmagic's answer with `flags` (MAGIC_MIME_TYPE: `file --mime-type -b`,
 * MAGIC_NONE: `file -b`), or to "ERROR: message" as `file` prints when libmagic fails on a file. */
static void answer(int flags, wadup_text *text) {
    text->length = 0;
    text->failed = 0;
    magic_setflags(magic, flags);
    cursor = 0;
    const char *said = magic_descriptor(magic, CONTENT_FD);
    if (!said) {
        wadup_text_cstring(text, "ERROR: ");
        said = magic_error(magic) ? magic_error(magic) : "unknown";
    }
    wadup_text_append(text, said, strlen(said) + 1);
}

__attribute__((export_name("process"))) int32_t process(void) {
    if (table < 0) {
        table = wadup_define_table("file_types",
            "[{\"name\":\"mime\",\"data_type\":\"String\"},{\"name\":\"description\",\"data_type\":\"String\"}]");
        if (table < 0) return table;
    }
    if (!magic && !(magic = open_magic())) return 1;
    content_size = get_content_size64();
    if (content_size < 0) return (int32_t)content_size;
    content_error = 0;
    const char *mime_type, *describe;
    if (content_size == 0) {
        /* `file` answers an empty regular file from its stat (fsmagic), before libmagic reads it. */
        mime_type = "inode/x-empty";
        describe = "empty";
    } else {
        magic_share_scans(1);
        answer(MAGIC_MIME_TYPE, &mime);
        answer(MAGIC_NONE, &description);
        magic_share_scans(0);
        if (mime.failed || description.failed) return 1;
        mime_type = mime.data;
        describe = description.data;
    }
    if (content_error) return content_error;
    /* The content's type for dispatch: both answers, unless libmagic failed ("ERROR: ..."). */
    if (strncmp(mime_type, "ERROR: ", 7) != 0 && strncmp(describe, "ERROR: ", 7) != 0)
        set_content_type(mime_type, (uint32_t)strlen(mime_type), describe, (uint32_t)strlen(describe));
    wadup_row_begin(&row);
    wadup_row_string(&row, mime_type);
    wadup_row_string(&row, describe);
    int32_t rc = wadup_row_insert(&row, table);
    return rc < 0 ? rc : 0;
}
