/* Disk image containers (EWF, VMDK, VHD, VHDX, QCOW) decoded by libyal's libraries, reading the
 * image only through a read callback (random access on the content; never a copy of the disk).
 * Built by scripts/formats/disk-containers.sh. Only a single-file image is read: a split EWF, a
 * VMDK whose descriptor names other extent files, a differencing VHD/VHDX or a QCOW with a backing
 * file fails to open with a one-line reason. */
#ifndef DISK_CONTAINERS_H
#define DISK_CONTAINERS_H

#include <stdint.h>
#include <stddef.h>

typedef struct disk_container disk_container;
/* Reads up to len bytes at offset of the underlying content; returns bytes read (0 at end), or -1. */
typedef int64_t (*disk_read_fn)(void *ctx, int64_t offset, void *buf, size_t len);
/* The container format the first bytes show: "ewf", "vmdk", "vhd", "vhdx", "qcow2" (or "qcow"), or NULL for none. size = the content's size. */
const char *disk_container_detect(disk_read_fn read, void *ctx, int64_t size);
/* Opens it; 0 on success, else -1 with a one-line reason in err (e.g. "ewf: the image has 3 segment files; only the first is in this content", "vhd: a differencing disk needs its parent"). */
int disk_container_open(const char *format, disk_read_fn read, void *ctx, int64_t size, disk_container **out, char *err, size_t errlen);
int64_t disk_container_media_size(disk_container *c);
uint32_t disk_container_sector_size(disk_container *c);   /* bytes per sector, 512 when the format has none */
/* Reads the decoded disk: bytes read, 0 at end, -1 on error (err as above). */
int64_t disk_container_read(disk_container *c, int64_t offset, void *buf, size_t len, char *err, size_t errlen);
/* Facts for the disk_images table: description (e.g. "EWF (EnCase 6) level 1 compression", "VMDK monolithic sparse", "VHDX dynamic"), and the hashes the image stores (EWF md5/sha1; NULL when none). */
const char *disk_container_description(disk_container *c);
const char *disk_container_stored_md5(disk_container *c);
const char *disk_container_stored_sha1(disk_container *c);
void disk_container_close(disk_container *c);

#endif
