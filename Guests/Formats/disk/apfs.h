/* APFS containers read with libyal's libfsapfs 20201107 (scripts/formats/disk-apfs.sh), for the
 * disk module: The Sleuth Kit's own APFS code is C++ that throws, which wasm32-wasi cannot build.
 *
 * apfs.c is compiled against libfsapfs's configuration and its renamed support libraries, so this
 * header shares no libyal type with disk.c: the disk is read through a plain callback, and the
 * rows go to disk.c's tables through the functions below. */
#ifndef DISK_APFS_H
#define DISK_APFS_H

#include <stdint.h>
#include <stddef.h>

/* Reads up to len bytes at offset of the disk; bytes read (0 at end), or -1 (the host failed:
 * disk.c has recorded it in *fatal). */
typedef int64_t (*apfs_read_fn)(void *ctx, int64_t offset, void *buf, size_t len);

/* Whether an APFS container superblock (magic "NXSB" at byte 32) starts at offset. */
int apfs_is_container(apfs_read_fn read, void *ctx, int64_t offset);

/* Reads the APFS container of `length` bytes at `offset` of the disk: one fs_info row per volume
 * (named `VOLUME/vN`, N its 1-based index in the container, or `vN` for a bare container), one
 * fs_entries row per file-system entry, each regular file's data streamed as the sub-content
 * `VOLUME/vN/PATH`. A container libfsapfs cannot open is one fs_info row for `volume` with the
 * reason. Returns < 0 for a host error that ends the content (also left in *fatal), else 0. */
int32_t apfs_read_container(apfs_read_fn read, void *ctx, int64_t offset, int64_t length, const char *volume,
                            int32_t entries_table, int32_t *fatal);

/* From disk.c: one fs_info row (NULL or 0 values are written as null). */
int32_t disk_fs_row(const char *volume, const char *type, const char *label, const char *uuid, int64_t block_size,
                    int64_t blocks, int64_t created, int64_t offset, const char *encryption, const char *problem);

#endif
