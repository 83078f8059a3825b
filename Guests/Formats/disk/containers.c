/* Disk image containers over libyal's libewf, libvmdk, libvhdi and libqcow (containers.h).
 *
 * This file is compiled five times by scripts/formats/disk-containers.sh:
 *   - as is: the front (detection, dispatch, bounds), in libdiskcontainers.a;
 *   - with CONTAINERS_BACKEND_EWF / _VMDK / _VHDI / _QCOW: the backend for one package, compiled
 *     with that package's config.h, include paths and the header renaming its bundled support
 *     libraries (each package carries its own libcerror/libbfio/..., of different versions), so
 *     the backend calls its own package's libbfio and libcerror.
 *
 * The image is read only through disk_read_fn: each backend gives its library a libbfio handle
 * whose callbacks call it (no file, no copy). */
#if defined( CONTAINERS_BACKEND_EWF ) || defined( CONTAINERS_BACKEND_VMDK ) \
 || defined( CONTAINERS_BACKEND_VHDI ) || defined( CONTAINERS_BACKEND_QCOW )
#define CONTAINERS_BACKEND 1
/* The package's own headers first (common.h pulls its config.h). */
#include <common.h>
#include <types.h>
#endif

#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>
#include <limits.h>
#include <inttypes.h>

#include "containers.h"

struct disk_container {
  char format[8];
  disk_read_fn read;
  void *ctx;
  int64_t size;                /* the content's size */
  int64_t media_size;          /* the decoded disk's */
  uint32_t sector_size;
  char description[160];
  char md5[33];
  char sha1[41];
  int (*backend_read)(struct disk_container *c, int64_t offset, void *buf, size_t len, char *err, size_t errlen);
  void (*backend_close)(struct disk_container *c);
  void *handle;                /* the library's handle or file */
  void *pool;                  /* libbfio pool (EWF, VMDK) */
  void *io;                    /* libbfio handle given to the library (VHD/VHDX, QCOW) */
};

/* The backends (each defined by one compilation of this file). */
int containers_ewf_open(struct disk_container *c, char *err, size_t errlen);
int containers_vmdk_open(struct disk_container *c, char *err, size_t errlen);
int containers_vhdi_open(struct disk_container *c, char *err, size_t errlen);
int containers_qcow_open(struct disk_container *c, char *err, size_t errlen);

static void set_err(char *err, size_t errlen, const char *fmt, ...) {
  if (err == NULL || errlen == 0) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
  for (char *p = err; *p; p++) if (*p == '\n' || *p == '\r') *p = ' ';
}

/* Reads exactly len bytes at offset unless the content ends: bytes read, or -1. */
static int64_t read_full(disk_read_fn read, void *ctx, int64_t offset, void *buf, size_t len) {
  size_t done = 0;
  while (done < len) {
    int64_t n = read(ctx, offset + (int64_t)done, (uint8_t *)buf + done, len - done);
    if (n < 0) return -1;
    if (n == 0) break;
    if ((uint64_t)n > len - done) return -1;
    done += (size_t)n;
  }
  return (int64_t)done;
}

#if !defined( CONTAINERS_BACKEND )
/* ------------------------------------------------------------------------------------------ */
/* The front                                                                                  */

const char *disk_container_detect(disk_read_fn read, void *ctx, int64_t size) {
  uint8_t h[64];
  if (read == NULL || size <= 0) return NULL;
  memset(h, 0, sizeof h);
  int64_t n = read_full(read, ctx, 0, h, sizeof h);
  if (n < 0) return NULL;
  if (n >= 8 && memcmp(h, "EVF\x09\x0d\x0a\xff\x00", 8) == 0) return "ewf";
  if (n >= 8 && memcmp(h, "EVF2\x0d\x0a\x81\x00", 8) == 0) return "ewf";
  if (n >= 4 && (memcmp(h, "KDMV", 4) == 0 || memcmp(h, "COWD", 4) == 0)) return "vmdk";
  if (n >= 21 && memcmp(h, "# Disk DescriptorFile", 21) == 0) return "vmdk";
  if (n >= 8 && memcmp(h, "vhdxfile", 8) == 0) return "vhdx";
  if (n >= 8 && memcmp(h, "conectix", 8) == 0) return "vhd";
  if (n >= 8 && memcmp(h, "QFI\xfb", 4) == 0) {
    uint32_t version = (uint32_t)h[4] << 24 | (uint32_t)h[5] << 16 | (uint32_t)h[6] << 8 | h[7];
    return version == 1 ? "qcow" : "qcow2";
  }
  /* A fixed VHD is the raw disk followed by a 512-byte footer (older ones: 511 bytes). */
  if (size >= 1024) {
    uint8_t f[8];
    if (read_full(read, ctx, size - 512, f, 8) == 8 && memcmp(f, "conectix", 8) == 0) return "vhd";
    if (read_full(read, ctx, size - 511, f, 8) == 8 && memcmp(f, "conectix", 8) == 0) return "vhd";
  }
  return NULL;
}

int disk_container_open(const char *format, disk_read_fn read, void *ctx, int64_t size, disk_container **out,
                        char *err, size_t errlen) {
  if (out != NULL) *out = NULL;
  if (format == NULL || read == NULL || out == NULL || size < 0) {
    set_err(err, errlen, "containers: invalid arguments");
    return -1;
  }
  int (*open)(struct disk_container *, char *, size_t) = NULL;
  if (strcmp(format, "ewf") == 0) open = containers_ewf_open;
  else if (strcmp(format, "vmdk") == 0) open = containers_vmdk_open;
  else if (strcmp(format, "vhd") == 0 || strcmp(format, "vhdx") == 0) open = containers_vhdi_open;
  else if (strcmp(format, "qcow2") == 0 || strcmp(format, "qcow") == 0) open = containers_qcow_open;
  if (open == NULL) {
    set_err(err, errlen, "containers: unknown format %s", format);
    return -1;
  }
  struct disk_container *c = calloc(1, sizeof *c);
  if (c == NULL) {
    set_err(err, errlen, "%s: out of memory", format);
    return -1;
  }
  snprintf(c->format, sizeof c->format, "%s", format);
  c->read = read;
  c->ctx = ctx;
  c->size = size;
  c->sector_size = 512;
  if (err != NULL && errlen > 0) err[0] = 0;
  if (open(c, err, errlen) != 1) {
    if (err != NULL && errlen > 0 && err[0] == 0) set_err(err, errlen, "%s: the image could not be opened", format);
    if (c->backend_close != NULL) c->backend_close(c);
    free(c);
    return -1;
  }
  if (c->sector_size == 0) c->sector_size = 512;
  if (c->media_size < 0) c->media_size = 0;
  *out = c;
  return 0;
}

int64_t disk_container_media_size(disk_container *c) { return c != NULL ? c->media_size : 0; }
uint32_t disk_container_sector_size(disk_container *c) { return c != NULL ? c->sector_size : 512; }
const char *disk_container_description(disk_container *c) { return c != NULL ? c->description : ""; }
const char *disk_container_stored_md5(disk_container *c) { return c != NULL && c->md5[0] ? c->md5 : NULL; }
const char *disk_container_stored_sha1(disk_container *c) { return c != NULL && c->sha1[0] ? c->sha1 : NULL; }

int64_t disk_container_read(disk_container *c, int64_t offset, void *buf, size_t len, char *err, size_t errlen) {
  if (c == NULL || buf == NULL || offset < 0) {
    set_err(err, errlen, "containers: invalid arguments");
    return -1;
  }
  if (offset >= c->media_size || len == 0) return 0;
  if ((uint64_t)len > (uint64_t)(c->media_size - offset)) len = (size_t)(c->media_size - offset);
  size_t done = 0;
  /* The libraries read at most SSIZE_MAX at once (2 GiB on wasm32): pieces of 64 MiB. Every round
   * either advances or stops, so the loop ends. */
  while (done < len) {
    size_t piece = len - done;
    if (piece > ((size_t)64 << 20)) piece = (size_t)64 << 20;
    int n = c->backend_read(c, offset + (int64_t)done, (uint8_t *)buf + done, piece, err, errlen);
    if (n < 0) return done > 0 ? (int64_t)done : -1;
    if (n == 0) break;
    if ((size_t)n > piece) {
      set_err(err, errlen, "%s: the library returned more than was asked", c->format);
      return -1;
    }
    done += (size_t)n;
  }
  return (int64_t)done;
}

void disk_container_close(disk_container *c) {
  if (c == NULL) return;
  if (c->backend_close != NULL) c->backend_close(c);
  free(c);
}

#else
/* ------------------------------------------------------------------------------------------ */
/* A backend: the libbfio handle over disk_read_fn, in this package's own libbfio.            */

#if defined( CONTAINERS_BACKEND_EWF )
#include "libewf_definitions.h"
#include "libewf_handle.h"
#include "libewf_metadata.h"
#include "libewf_libbfio.h"
#include "libewf_libcerror.h"
#define BACKEND_NAME "ewf"
#elif defined( CONTAINERS_BACKEND_VMDK )
#include "libvmdk_definitions.h"
#include "libvmdk_handle.h"
#include "libvmdk_extent_descriptor.h"
#include "libvmdk_libbfio.h"
#include "libvmdk_libcerror.h"
#define BACKEND_NAME "vmdk"
#elif defined( CONTAINERS_BACKEND_VHDI )
#include "libvhdi_definitions.h"
#include "libvhdi_file.h"
#include "libvhdi_libbfio.h"
#include "libvhdi_libcerror.h"
#define BACKEND_NAME "vhd"
#elif defined( CONTAINERS_BACKEND_QCOW )
#include "libqcow_definitions.h"
#include "libqcow_file.h"
#include "libqcow_libbfio.h"
#include "libqcow_libcerror.h"
#define BACKEND_NAME "qcow"
#endif

/* One per libbfio handle (libbfio frees it: LIBBFIO_FLAG_IO_HANDLE_MANAGED). Small reads are
 * served from one aligned 64 KiB block of the content: libvhdi reads a dynamic VHD sector by
 * sector, and each read of the content is a call out of the module. */
#define CONTENT_IO_BLOCK 65536
typedef struct {
  disk_read_fn read;
  void *ctx;
  int64_t size;
  int64_t offset;
  int is_open;
  uint8_t *block;          /* NULL until a small read */
  int64_t block_offset;
  size_t block_length;     /* 0: nothing cached */
} content_io;

static int io_free(intptr_t **io_handle, libcerror_error_t **error) {
  (void)error;
  if (io_handle != NULL && *io_handle != NULL) {
    free(((content_io *)*io_handle)->block);
    free(*io_handle);
    *io_handle = NULL;
  }
  return 1;
}

static int io_clone(intptr_t **destination, intptr_t *source, libcerror_error_t **error) {
  if (destination == NULL || source == NULL) {
    libcerror_error_set(error, LIBCERROR_ERROR_DOMAIN_ARGUMENTS, LIBCERROR_ARGUMENT_ERROR_INVALID_VALUE,
                        "content_io_clone: invalid handle.");
    return -1;
  }
  content_io *copy = malloc(sizeof *copy);
  if (copy == NULL) {
    libcerror_error_set(error, LIBCERROR_ERROR_DOMAIN_MEMORY, LIBCERROR_MEMORY_ERROR_INSUFFICIENT,
                        "content_io_clone: out of memory.");
    return -1;
  }
  *copy = *(content_io *)source;
  copy->offset = 0;
  copy->is_open = 0;
  copy->block = NULL;
  copy->block_length = 0;
  *destination = (intptr_t *)copy;
  return 1;
}

static int io_open(intptr_t *io_handle, int access_flags, libcerror_error_t **error) {
  content_io *io = (content_io *)io_handle;
  if (io == NULL || (access_flags & LIBBFIO_ACCESS_FLAG_WRITE) != 0) {
    libcerror_error_set(error, LIBCERROR_ERROR_DOMAIN_ARGUMENTS, LIBCERROR_ARGUMENT_ERROR_UNSUPPORTED_VALUE,
                        "content_io_open: the content is read-only.");
    return -1;
  }
  io->is_open = 1;
  io->offset = 0;
  return 1;
}

static int io_close(intptr_t *io_handle, libcerror_error_t **error) {
  (void)error;
  if (io_handle != NULL) ((content_io *)io_handle)->is_open = 0;
  return 0;
}

static ssize_t io_read(intptr_t *io_handle, uint8_t *buffer, size_t size, libcerror_error_t **error) {
  content_io *io = (content_io *)io_handle;
  if (io == NULL || buffer == NULL || size > (size_t)SSIZE_MAX) {
    libcerror_error_set(error, LIBCERROR_ERROR_DOMAIN_ARGUMENTS, LIBCERROR_ARGUMENT_ERROR_INVALID_VALUE,
                        "content_io_read: invalid arguments.");
    return -1;
  }
  if (io->offset >= io->size) return 0;
  if ((uint64_t)size > (uint64_t)(io->size - io->offset)) size = (size_t)(io->size - io->offset);
  if (size < CONTENT_IO_BLOCK && (io->block != NULL || (io->block = malloc(CONTENT_IO_BLOCK)) != NULL)) {
    size_t done = 0;
    /* Each round copies from the block or fills it; a fill that does not cover the offset ends it. */
    for (int round = 0; done < size && round < 4; round++) {
      int64_t at = io->offset + (int64_t)done;
      if (io->block_length > 0 && at >= io->block_offset && at < io->block_offset + (int64_t)io->block_length) {
        size_t from = (size_t)(at - io->block_offset), take = io->block_length - from;
        if (take > size - done) take = size - done;
        memcpy(buffer + done, io->block + from, take);
        done += take;
        continue;
      }
      int64_t start = at - at % CONTENT_IO_BLOCK;
      size_t want = (uint64_t)(io->size - start) < CONTENT_IO_BLOCK ? (size_t)(io->size - start) : CONTENT_IO_BLOCK;
      int64_t got = read_full(io->read, io->ctx, start, io->block, want);
      io->block_length = 0;
      if (got < 0) {
        libcerror_error_set(error, LIBCERROR_ERROR_DOMAIN_IO, LIBCERROR_IO_ERROR_READ_FAILED,
                            "content_io_read: the content could not be read at offset %" PRIi64 ".", start);
        return -1;
      }
      io->block_offset = start;
      io->block_length = (size_t)got;
      if (at >= start + got) break;
    }
    io->offset += (int64_t)done;
    return (ssize_t)done;
  }
  int64_t n = read_full(io->read, io->ctx, io->offset, buffer, size);
  if (n < 0) {
    libcerror_error_set(error, LIBCERROR_ERROR_DOMAIN_IO, LIBCERROR_IO_ERROR_READ_FAILED,
                        "content_io_read: the content could not be read at offset %" PRIi64 ".", io->offset);
    return -1;
  }
  io->offset += n;
  return (ssize_t)n;
}

static ssize_t io_write(intptr_t *io_handle, const uint8_t *buffer, size_t size, libcerror_error_t **error) {
  (void)io_handle; (void)buffer; (void)size;
  libcerror_error_set(error, LIBCERROR_ERROR_DOMAIN_IO, LIBCERROR_IO_ERROR_WRITE_FAILED,
                      "content_io_write: the content is read-only.");
  return -1;
}

static off64_t io_seek(intptr_t *io_handle, off64_t offset, int whence, libcerror_error_t **error) {
  content_io *io = (content_io *)io_handle;
  int64_t base = 0;
  if (io == NULL) return -1;
  if (whence == SEEK_CUR) base = io->offset;
  else if (whence == SEEK_END) base = io->size;
  else if (whence != SEEK_SET) base = -1;
  if (base < 0 || (offset > 0 && base > INT64_MAX - offset) || base + offset < 0) {
    libcerror_error_set(error, LIBCERROR_ERROR_DOMAIN_IO, LIBCERROR_IO_ERROR_SEEK_FAILED,
                        "content_io_seek: invalid offset.");
    return -1;
  }
  io->offset = base + offset;
  return (off64_t)io->offset;
}

static int io_exists(intptr_t *io_handle, libcerror_error_t **error) {
  (void)io_handle; (void)error;
  return 1;
}

static int io_is_open(intptr_t *io_handle, libcerror_error_t **error) {
  (void)error;
  return io_handle != NULL && ((content_io *)io_handle)->is_open ? 1 : 0;
}

static int io_get_size(intptr_t *io_handle, size64_t *size, libcerror_error_t **error) {
  if (io_handle == NULL || size == NULL) {
    libcerror_error_set(error, LIBCERROR_ERROR_DOMAIN_ARGUMENTS, LIBCERROR_ARGUMENT_ERROR_INVALID_VALUE,
                        "content_io_get_size: invalid arguments.");
    return -1;
  }
  *size = (size64_t)((content_io *)io_handle)->size;
  return 1;
}

/* A libbfio handle reading the container's content. */
static libbfio_handle_t *content_handle(struct disk_container *c, libcerror_error_t **error) {
  libbfio_handle_t *handle = NULL;
  content_io *io = calloc(1, sizeof *io);
  if (io == NULL) return NULL;
  io->read = c->read;
  io->ctx = c->ctx;
  io->size = c->size;
  if (libbfio_handle_initialize(&handle, (intptr_t *)io, io_free, io_clone, io_open, io_close, io_read, io_write,
                                io_seek, io_exists, io_is_open, io_get_size, LIBBFIO_FLAG_IO_HANDLE_MANAGED,
                                error) != 1) {
    free(io);
    return NULL;
  }
  return handle;
}

/* The error's first (innermost) message on one line, after "format: ". */
static void library_error(const char *format, libcerror_error_t *error, const char *what, char *err, size_t errlen) {
  char text[4096];
  text[0] = 0;
  if (error != NULL) {
    /* It returns -1 when the whole backtrace does not fit, with the first messages written. */
    libcerror_error_backtrace_sprint(error, text, sizeof text);
    text[sizeof text - 1] = 0;
    char *nl = strpbrk(text, "\r\n");
    if (nl != NULL) *nl = 0;
    if (strlen(text) > 240) text[240] = 0;
  }
  if (text[0]) set_err(err, errlen, "%s: %s (%s)", format, what, text);
  else set_err(err, errlen, "%s: %s", format, what);
  if (error != NULL) libcerror_error_free(&error);
}

/* Bytes the library can return for a read of len (its read functions return ssize_t). */
static size_t read_size(size_t len) { return len > (size_t)INT_MAX ? (size_t)INT_MAX : len; }

#if defined( CONTAINERS_BACKEND_EWF )
/* ------------------------------------------------------------------------------------------ */
/* EWF (libewf 20140813: EWF-E01, SMART, EnCase 1-7 segment files; no EWF2/Ex01).            */

static uint64_t le64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
  return v;
}

/* Whether this segment file is the whole image: it is segment 1 and its last section is "done"
 * (a split image's segment ends in "next"). 1 yes, 0 no (reason in err), -1 unknown. */
static int ewf_single_segment(struct disk_container *c, char *err, size_t errlen) {
  uint8_t header[13], section[76];
  if (read_full(c->read, c->ctx, 0, header, sizeof header) != (int64_t)sizeof header) return -1;
  unsigned segment = header[9] | header[10] << 8;
  if (segment != 1) {
    set_err(err, errlen, "ewf: this is segment file %u of a split image; only the first segment file opens an image", segment);
    return 0;
  }
  int64_t offset = 13;
  /* Sections are chained by absolute offsets that must increase: at most one per 76 bytes. */
  for (int i = 0; i < 1 << 20; i++) {
    if (offset > c->size - 76) return -1;
    if (read_full(c->read, c->ctx, offset, section, sizeof section) != (int64_t)sizeof section) return -1;
    if (memcmp(section, "done", 5) == 0) return 1;
    if (memcmp(section, "next", 5) == 0) {
      set_err(err, errlen, "ewf: the image continues in further segment files (.E02...); only the first is in this content");
      return 0;
    }
    uint64_t next = le64(section + 16);
    if (next <= (uint64_t)offset || next > (uint64_t)c->size) return -1;
    offset = (int64_t)next;
  }
  return -1;
}

static const char *ewf_format_name(uint8_t format) {
  switch (format) {
  case LIBEWF_FORMAT_ENCASE1: return "EnCase 1";
  case LIBEWF_FORMAT_ENCASE2: return "EnCase 2";
  case LIBEWF_FORMAT_ENCASE3: return "EnCase 3";
  case LIBEWF_FORMAT_ENCASE4: return "EnCase 4";
  case LIBEWF_FORMAT_ENCASE5: return "EnCase 5";
  case LIBEWF_FORMAT_ENCASE6: return "EnCase 6";
  case LIBEWF_FORMAT_ENCASE7: return "EnCase 7";
  case LIBEWF_FORMAT_SMART: return "SMART";
  case LIBEWF_FORMAT_FTK_IMAGER: return "FTK Imager";
  case LIBEWF_FORMAT_LOGICAL_ENCASE5: return "logical EnCase 5";
  case LIBEWF_FORMAT_LOGICAL_ENCASE6: return "logical EnCase 6";
  case LIBEWF_FORMAT_LOGICAL_ENCASE7: return "logical EnCase 7";
  case LIBEWF_FORMAT_LINEN5: return "linen 5";
  case LIBEWF_FORMAT_LINEN6: return "linen 6";
  case LIBEWF_FORMAT_LINEN7: return "linen 7";
  case LIBEWF_FORMAT_EWF: return "EWF";
  case LIBEWF_FORMAT_EWFX: return "EWFX";
  default: return "unknown";
  }
}

static void hex(char *out, const uint8_t *bytes, size_t n) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = digits[bytes[i] >> 4];
    out[2 * i + 1] = digits[bytes[i] & 15];
  }
  out[2 * n] = 0;
}

/* A stored hash as lowercase hex, from the binary digest or else the hash values (xhash). */
static void ewf_hash(libewf_handle_t *handle, int md5, char *out, size_t hex_len) {
  uint8_t digest[20];
  libcerror_error_t *error = NULL;
  int set = md5 ? libewf_handle_get_md5_hash(handle, digest, 16, &error)
                : libewf_handle_get_sha1_hash(handle, digest, 20, &error);
  if (error != NULL) libcerror_error_free(&error);
  if (set == 1) {
    int zero = 1;
    for (size_t i = 0; i < hex_len / 2; i++) if (digest[i] != 0) zero = 0;
    if (!zero) {
      hex(out, digest, hex_len / 2);
      return;
    }
  }
  uint8_t value[80];
  const char *id = md5 ? "MD5" : "SHA1";
  if (libewf_handle_get_utf8_hash_value(handle, (const uint8_t *)id, strlen(id), value, sizeof value, &error) == 1
      && strlen((char *)value) == hex_len) {
    for (size_t i = 0; i < hex_len; i++) {
      char ch = (char)value[i];
      if (ch >= 'A' && ch <= 'F') ch = (char)(ch - 'A' + 'a');
      if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'))) { out[0] = 0; goto done; }
      out[i] = ch;
    }
    out[hex_len] = 0;
  }
done:
  if (error != NULL) libcerror_error_free(&error);
}

static int ewf_read(struct disk_container *c, int64_t offset, void *buf, size_t len, char *err, size_t errlen) {
  libcerror_error_t *error = NULL;
  ssize_t n = libewf_handle_read_random((libewf_handle_t *)c->handle, buf, read_size(len), (off64_t)offset, &error);
  if (n < 0) {
    library_error("ewf", error, "the media could not be read", err, errlen);
    return -1;
  }
  return (int)n;
}

static void ewf_close(struct disk_container *c) {
  libcerror_error_t *error = NULL;
  if (c->handle != NULL) {
    libewf_handle_close((libewf_handle_t *)c->handle, &error);
    if (error != NULL) libcerror_error_free(&error);
    libewf_handle_free((libewf_handle_t **)&c->handle, &error);
    if (error != NULL) libcerror_error_free(&error);
  }
  if (c->pool != NULL) {
    libbfio_pool_free((libbfio_pool_t **)&c->pool, &error);
    if (error != NULL) libcerror_error_free(&error);
  }
  c->handle = c->pool = NULL;
}

int containers_ewf_open(struct disk_container *c, char *err, size_t errlen) {
  libcerror_error_t *error = NULL;
  libewf_handle_t *handle = NULL;
  libbfio_pool_t *pool = NULL;
  libbfio_handle_t *io = NULL;
  uint8_t signature[8];
  int entry = 0;

  c->backend_read = ewf_read;
  c->backend_close = ewf_close;
  if (read_full(c->read, c->ctx, 0, signature, 8) != 8) {
    set_err(err, errlen, "ewf: the content is too short");
    return -1;
  }
  if (memcmp(signature, "EVF2", 4) == 0) {
    set_err(err, errlen, "ewf: EWF2 (Ex01) images are not supported (libewf 20140813 reads EWF1 only)");
    return -1;
  }
  if (ewf_single_segment(c, err, errlen) == 0) return -1;
  if (libbfio_pool_initialize(&pool, 0, LIBBFIO_POOL_UNLIMITED_NUMBER_OF_OPEN_HANDLES, &error) != 1) goto failed;
  c->pool = pool;
  if ((io = content_handle(c, &error)) == NULL) goto failed;
  if (libbfio_pool_append_handle(pool, &entry, io, LIBBFIO_OPEN_READ, &error) != 1) {
    libbfio_handle_free(&io, NULL);
    goto failed;
  }
  if (libewf_handle_initialize(&handle, &error) != 1) goto failed;
  c->handle = handle;
  if (libewf_handle_open_file_io_pool(handle, pool, LIBEWF_OPEN_READ, &error) != 1) {
    library_error("ewf", error, "the image could not be opened", err, errlen);
    return -1;
  }
  if (libewf_handle_segment_files_corrupted(handle, &error) == 1) {
    set_err(err, errlen, "ewf: the segment file is incomplete or corrupted (or the image has further segment files)");
    if (error != NULL) libcerror_error_free(&error);
    return -1;
  }
  if (error != NULL) libcerror_error_free(&error);
  size64_t media_size = 0;
  uint32_t bytes_per_sector = 512;
  uint8_t format = 0, compression_flags = 0;
  int8_t compression_level = 0;
  if (libewf_handle_get_media_size(handle, &media_size, &error) != 1) goto failed;
  if (libewf_handle_get_bytes_per_sector(handle, &bytes_per_sector, &error) != 1) bytes_per_sector = 512;
  if (error != NULL) libcerror_error_free(&error);
  if (libewf_handle_get_format(handle, &format, &error) != 1) format = 0;
  if (error != NULL) libcerror_error_free(&error);
  if (libewf_handle_get_compression_values(handle, &compression_level, &compression_flags, &error) != 1) compression_level = -2;
  if (error != NULL) libcerror_error_free(&error);
  if (media_size > (size64_t)INT64_MAX) media_size = 0;
  c->media_size = (int64_t)media_size;
  c->sector_size = bytes_per_sector;
  const char *compression = compression_level == LIBEWF_COMPRESSION_NONE
    ? ((compression_flags & LIBEWF_COMPRESS_FLAG_USE_EMPTY_BLOCK_COMPRESSION) ? "empty-block compression" : "no compression")
    : compression_level == LIBEWF_COMPRESSION_FAST ? "fast compression"
    : compression_level == LIBEWF_COMPRESSION_BEST ? "best compression" : "unknown compression";
  snprintf(c->description, sizeof c->description, "EWF (%s) %s", ewf_format_name(format), compression);
  ewf_hash(handle, 1, c->md5, 32);
  ewf_hash(handle, 0, c->sha1, 40);
  return 1;

failed:
  library_error("ewf", error, "the image could not be opened", err, errlen);
  return -1;
}

#elif defined( CONTAINERS_BACKEND_VMDK )
/* ------------------------------------------------------------------------------------------ */
/* VMDK (libvmdk 20200926): a sparse (KDMV/COWD) file holding its own descriptor and one extent. */

static const char *vmdk_disk_type(int type) {
  switch (type) {
  case LIBVMDK_DISK_TYPE_2GB_EXTENT_FLAT: return "2GB extent flat";
  case LIBVMDK_DISK_TYPE_2GB_EXTENT_SPARSE: return "2GB extent sparse";
  case LIBVMDK_DISK_TYPE_CUSTOM: return "custom";
  case LIBVMDK_DISK_TYPE_DEVICE: return "device";
  case LIBVMDK_DISK_TYPE_DEVICE_PARITIONED: return "partitioned device";
  case LIBVMDK_DISK_TYPE_MONOLITHIC_FLAT: return "monolithic flat";
  case LIBVMDK_DISK_TYPE_MONOLITHIC_SPARSE: return "monolithic sparse";
  case LIBVMDK_DISK_TYPE_STREAM_OPTIMIZED: return "stream optimized";
  case LIBVMDK_DISK_TYPE_VMFS_FLAT: return "VMFS flat";
  case LIBVMDK_DISK_TYPE_VMFS_FLAT_PRE_ALLOCATED: return "VMFS flat pre-allocated";
  case LIBVMDK_DISK_TYPE_VMFS_FLAT_ZEROED: return "VMFS flat zeroed";
  case LIBVMDK_DISK_TYPE_VMFS_RAW: return "VMFS raw";
  case LIBVMDK_DISK_TYPE_VMFS_RDM: return "VMFS RDM";
  case LIBVMDK_DISK_TYPE_VMFS_RDMP: return "VMFS RDMP";
  case LIBVMDK_DISK_TYPE_VMFS_SPARSE: return "VMFS sparse";
  case LIBVMDK_DISK_TYPE_VMFS_SPARSE_THIN: return "VMFS sparse thin";
  default: return "unknown type";
  }
}

static int vmdk_read(struct disk_container *c, int64_t offset, void *buf, size_t len, char *err, size_t errlen) {
  libcerror_error_t *error = NULL;
  ssize_t n = libvmdk_handle_read_buffer_at_offset((libvmdk_handle_t *)c->handle, buf, read_size(len), (off64_t)offset, &error);
  if (n < 0) {
    library_error("vmdk", error, "the media could not be read", err, errlen);
    return -1;
  }
  return (int)n;
}

static void vmdk_close(struct disk_container *c) {
  libcerror_error_t *error = NULL;
  if (c->handle != NULL) {
    libvmdk_handle_close((libvmdk_handle_t *)c->handle, &error);
    if (error != NULL) libcerror_error_free(&error);
    libvmdk_handle_free((libvmdk_handle_t **)&c->handle, &error);
    if (error != NULL) libcerror_error_free(&error);
  }
  if (c->pool != NULL) {
    libbfio_pool_free((libbfio_pool_t **)&c->pool, &error);
    if (error != NULL) libcerror_error_free(&error);
  }
  if (c->io != NULL) {
    libbfio_handle_free((libbfio_handle_t **)&c->io, &error);
    if (error != NULL) libcerror_error_free(&error);
  }
  c->handle = c->pool = c->io = NULL;
}

int containers_vmdk_open(struct disk_container *c, char *err, size_t errlen) {
  libcerror_error_t *error = NULL;
  libvmdk_handle_t *handle = NULL;
  libbfio_pool_t *pool = NULL;
  libbfio_handle_t *io = NULL, *extent_io = NULL;
  libvmdk_extent_descriptor_t *extent = NULL;
  int disk_type = 0, extents = 0, extent_type = 0, entry = 0;
  size64_t media_size = 0;
  size_t name_size = 0;
  uint8_t name[256];
  off64_t extent_offset = 0;
  size64_t extent_size = 0;

  c->backend_read = vmdk_read;
  c->backend_close = vmdk_close;
  if ((io = content_handle(c, &error)) == NULL) goto failed;
  c->io = io;
  if (libvmdk_handle_initialize(&handle, &error) != 1) goto failed;
  c->handle = handle;
  if (libvmdk_handle_open_file_io_handle(handle, io, LIBVMDK_OPEN_READ, &error) != 1) {
    library_error("vmdk", error, "the descriptor could not be read", err, errlen);
    return -1;
  }
  if (libvmdk_handle_get_disk_type(handle, &disk_type, &error) != 1) goto failed;
  if (libvmdk_handle_get_utf8_parent_filename_size(handle, &name_size, &error) == 1 && name_size > 1) {
    name[0] = 0;
    if (name_size <= sizeof name) libvmdk_handle_get_utf8_parent_filename(handle, name, sizeof name, &error);
    if (error != NULL) libcerror_error_free(&error);
    set_err(err, errlen, "vmdk: a differencing disk needs its parent (%s)", name);
    return -1;
  }
  if (error != NULL) libcerror_error_free(&error);
  if (libvmdk_handle_get_number_of_extents(handle, &extents, &error) != 1) goto failed;
  if (extents != 1) {
    set_err(err, errlen, "vmdk: the image has %d extent files; only one file is in this content", extents);
    return -1;
  }
  if (libvmdk_handle_get_extent_descriptor(handle, 0, &extent, &error) != 1) goto failed;
  if (libvmdk_extent_descriptor_get_type(extent, &extent_type, &error) != 1
      || libvmdk_extent_descriptor_get_range(extent, &extent_offset, &extent_size, &error) != 1) {
    libvmdk_extent_descriptor_free(&extent, NULL);
    goto failed;
  }
  name[0] = 0;
  if (libvmdk_extent_descriptor_get_utf8_filename_size(extent, &name_size, &error) == 1 && name_size <= sizeof name)
    libvmdk_extent_descriptor_get_utf8_filename(extent, name, sizeof name, &error);
  if (error != NULL) libcerror_error_free(&error);
  libvmdk_extent_descriptor_free(&extent, NULL);
  uint8_t signature[4] = {0};
  read_full(c->read, c->ctx, 0, signature, 4);
  int sparse_file = memcmp(signature, "KDMV", 4) == 0 || memcmp(signature, "COWD", 4) == 0;
  if (!sparse_file) {
    /* A text descriptor: its extents are other files. */
    set_err(err, errlen, "vmdk: the descriptor names the extent file %s; only the descriptor is in this content", name);
    return -1;
  }
  if (extent_type != LIBVMDK_EXTENT_TYPE_SPARSE && extent_type != LIBVMDK_EXTENT_TYPE_VMFS_SPARSE) {
    set_err(err, errlen, "vmdk: the extent %s is not the sparse file itself; only one file is in this content", name);
    return -1;
  }
  /* The single extent is this file: the pool holds a second handle on the same content. */
  if (libbfio_pool_initialize(&pool, 0, LIBBFIO_POOL_UNLIMITED_NUMBER_OF_OPEN_HANDLES, &error) != 1) goto failed;
  c->pool = pool;
  if ((extent_io = content_handle(c, &error)) == NULL) goto failed;
  if (libbfio_pool_append_handle(pool, &entry, extent_io, LIBBFIO_OPEN_READ, &error) != 1) {
    libbfio_handle_free(&extent_io, NULL);
    goto failed;
  }
  if (libvmdk_handle_open_extent_data_files_file_io_pool(handle, pool, &error) != 1) {
    library_error("vmdk", error, "the extent could not be opened", err, errlen);
    return -1;
  }
  if (libvmdk_handle_get_media_size(handle, &media_size, &error) != 1) goto failed;
  if (media_size > (size64_t)INT64_MAX) media_size = 0;
  c->media_size = (int64_t)media_size;
  c->sector_size = 512;
  snprintf(c->description, sizeof c->description, "VMDK %s", vmdk_disk_type(disk_type));
  return 1;

failed:
  library_error("vmdk", error, "the image could not be opened", err, errlen);
  return -1;
}

#elif defined( CONTAINERS_BACKEND_VHDI )
/* ------------------------------------------------------------------------------------------ */
/* VHD and VHDX (libvhdi 20210425): fixed and dynamic disks; a differencing one needs its parent. */

static int vhdi_read(struct disk_container *c, int64_t offset, void *buf, size_t len, char *err, size_t errlen) {
  libcerror_error_t *error = NULL;
  ssize_t n = libvhdi_file_read_buffer_at_offset((libvhdi_file_t *)c->handle, buf, read_size(len), (off64_t)offset, &error);
  if (n < 0) {
    library_error(c->format, error, "the media could not be read", err, errlen);
    return -1;
  }
  return (int)n;
}

static void vhdi_close(struct disk_container *c) {
  libcerror_error_t *error = NULL;
  if (c->handle != NULL) {
    libvhdi_file_close((libvhdi_file_t *)c->handle, &error);
    if (error != NULL) libcerror_error_free(&error);
    libvhdi_file_free((libvhdi_file_t **)&c->handle, &error);
    if (error != NULL) libcerror_error_free(&error);
  }
  if (c->io != NULL) {
    libbfio_handle_free((libbfio_handle_t **)&c->io, &error);
    if (error != NULL) libcerror_error_free(&error);
  }
  c->handle = c->io = NULL;
}

int containers_vhdi_open(struct disk_container *c, char *err, size_t errlen) {
  libcerror_error_t *error = NULL;
  libvhdi_file_t *file = NULL;
  libbfio_handle_t *io = NULL;
  int file_type = 0;
  uint32_t disk_type = 0, bytes_per_sector = 512;
  size64_t media_size = 0;
  size_t name_size = 0;
  uint8_t name[256];

  c->backend_read = vhdi_read;
  c->backend_close = vhdi_close;
  if ((io = content_handle(c, &error)) == NULL) goto failed;
  c->io = io;
  if (libvhdi_file_initialize(&file, &error) != 1) goto failed;
  c->handle = file;
  if (libvhdi_file_open_file_io_handle(file, io, LIBVHDI_OPEN_READ, &error) != 1) {
    library_error(c->format, error, "the image could not be opened", err, errlen);
    return -1;
  }
  if (libvhdi_file_get_file_type(file, &file_type, &error) != 1) goto failed;
  const char *kind = file_type == LIBVHDI_FILE_TYPE_VHDX ? "VHDX" : "VHD";
  snprintf(c->format, sizeof c->format, "%s", file_type == LIBVHDI_FILE_TYPE_VHDX ? "vhdx" : "vhd");
  if (libvhdi_file_get_disk_type(file, &disk_type, &error) != 1) goto failed;
  if (disk_type == LIBVHDI_DISK_TYPE_DIFFERENTIAL) {
    name[0] = 0;
    if (libvhdi_file_get_utf8_parent_filename_size(file, &name_size, &error) == 1 && name_size <= sizeof name)
      libvhdi_file_get_utf8_parent_filename(file, name, sizeof name, &error);
    if (error != NULL) libcerror_error_free(&error);
    set_err(err, errlen, "%s: a differencing disk needs its parent%s%s%s", c->format, name[0] ? " (" : "", (char *)name, name[0] ? ")" : "");
    return -1;
  }
  if (libvhdi_file_get_media_size(file, &media_size, &error) != 1) goto failed;
  if (libvhdi_file_get_bytes_per_sector(file, &bytes_per_sector, &error) != 1) bytes_per_sector = 512;
  if (error != NULL) libcerror_error_free(&error);
  if (media_size > (size64_t)INT64_MAX) media_size = 0;
  c->media_size = (int64_t)media_size;
  c->sector_size = bytes_per_sector;
  snprintf(c->description, sizeof c->description, "%s %s", kind,
           disk_type == LIBVHDI_DISK_TYPE_FIXED ? "fixed" : disk_type == LIBVHDI_DISK_TYPE_DYNAMIC ? "dynamic" : "unknown type");
  return 1;

failed:
  library_error(c->format, error, "the image could not be opened", err, errlen);
  return -1;
}

#elif defined( CONTAINERS_BACKEND_QCOW )
/* ------------------------------------------------------------------------------------------ */
/* QCOW (libqcow 20201213): versions 1-3, zlib-compressed clusters; no backing file, no key. */

static int qcow_read(struct disk_container *c, int64_t offset, void *buf, size_t len, char *err, size_t errlen) {
  libcerror_error_t *error = NULL;
  ssize_t n = libqcow_file_read_buffer_at_offset((libqcow_file_t *)c->handle, buf, read_size(len), (off64_t)offset, &error);
  if (n < 0) {
    library_error(c->format, error, "the media could not be read", err, errlen);
    return -1;
  }
  return (int)n;
}

static void qcow_close(struct disk_container *c) {
  libcerror_error_t *error = NULL;
  if (c->handle != NULL) {
    libqcow_file_close((libqcow_file_t *)c->handle, &error);
    if (error != NULL) libcerror_error_free(&error);
    libqcow_file_free((libqcow_file_t **)&c->handle, &error);
    if (error != NULL) libcerror_error_free(&error);
  }
  if (c->io != NULL) {
    libbfio_handle_free((libbfio_handle_t **)&c->io, &error);
    if (error != NULL) libcerror_error_free(&error);
  }
  c->handle = c->io = NULL;
}

int containers_qcow_open(struct disk_container *c, char *err, size_t errlen) {
  libcerror_error_t *error = NULL;
  libqcow_file_t *file = NULL;
  libbfio_handle_t *io = NULL;
  uint32_t version = 0, encryption = 0;
  size64_t media_size = 0;
  size_t name_size = 0;
  uint8_t name[256];

  c->backend_read = qcow_read;
  c->backend_close = qcow_close;
  if ((io = content_handle(c, &error)) == NULL) goto failed;
  c->io = io;
  if (libqcow_file_initialize(&file, &error) != 1) goto failed;
  c->handle = file;
  if (libqcow_file_open_file_io_handle(file, io, LIBQCOW_OPEN_READ, &error) != 1) {
    library_error(c->format, error, "the image could not be opened", err, errlen);
    return -1;
  }
  if (libqcow_file_get_format_version(file, &version, &error) != 1) goto failed;
  snprintf(c->format, sizeof c->format, "%s", version == 1 ? "qcow" : "qcow2");
  if (libqcow_file_get_utf8_backing_filename_size(file, &name_size, &error) == 1 && name_size > 1) {
    name[0] = 0;
    if (name_size <= sizeof name) libqcow_file_get_utf8_backing_filename(file, name, sizeof name, &error);
    if (error != NULL) libcerror_error_free(&error);
    set_err(err, errlen, "%s: the image has a backing file (%s); only this layer is in this content", c->format, name);
    return -1;
  }
  if (error != NULL) libcerror_error_free(&error);
  if (libqcow_file_get_encryption_method(file, &encryption, &error) != 1) goto failed;
  if (encryption != LIBQCOW_ENCRYPTION_METHOD_NONE) {
    set_err(err, errlen, "%s: the image is encrypted (%s)", c->format,
            encryption == LIBQCOW_ENCRYPTION_METHOD_AES_128_CBC ? "AES-128-CBC" : encryption == LIBQCOW_ENCRYPTION_METHOD_LUKS ? "LUKS" : "unknown method");
    return -1;
  }
  if (libqcow_file_get_media_size(file, &media_size, &error) != 1) goto failed;
  if (media_size > (size64_t)INT64_MAX) media_size = 0;
  c->media_size = (int64_t)media_size;
  c->sector_size = 512;
  if (version == 1) snprintf(c->description, sizeof c->description, "QCOW version 1");
  else snprintf(c->description, sizeof c->description, "QCOW2 (version %u)", version);
  return 1;

failed:
  library_error(c->format, error, "the image could not be opened", err, errlen);
  return -1;
}
#endif

#endif /* CONTAINERS_BACKEND */
