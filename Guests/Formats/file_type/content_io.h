/*
 * content_io.h — force-included into every libmagic source of the module build
 * (scripts/build-formats.sh): libmagic's read, pread, lseek and fstat become the functions of
 * file_type.c, which serve the current content as a file descriptor. wasi-libc's unistd.h defines
 * lseek as a macro of its own, so the headers are included first and that macro is replaced.
 */
#ifndef WADUP_CONTENT_IO_H
#define WADUP_CONTENT_IO_H
#ifndef _WASI_EMULATED_SIGNAL
#define _WASI_EMULATED_SIGNAL /* compress.c includes signal.h; its decompressors are never run */
#endif
#include <errno.h>
#include <sys/types.h>
#include <sys/stat.h>
#include <unistd.h>

ssize_t wadup_magic_read(int fd, void *buffer, size_t length);
ssize_t wadup_magic_pread(int fd, void *buffer, size_t length, off_t offset);
off_t wadup_magic_lseek(int fd, off_t offset, int whence);
int wadup_magic_fstat(int fd, struct stat *st);

/* Decompressing with external programs (`file -z`) needs processes, which WASI does not have;
 * the module never asks for it (no MAGIC_COMPRESS), but compress.c must compile and link. */
static inline int dup2(int from, int to) { (void)from; (void)to; errno = ENOSYS; return -1; }
static inline int pipe(int fds[2]) { (void)fds; errno = ENOSYS; return -1; }
static inline char *mktemp(char *template_) { template_[0] = 0; return template_; }

/* WASI gives sockets and FIFOs one mode bit pattern; fsmagic.c switches on both. */
#undef S_IFSOCK
#define S_IFSOCK 0x10000 /* a value no mode here has */

#undef lseek
#define read wadup_magic_read
#define pread wadup_magic_pread
#define lseek wadup_magic_lseek
#define fstat wadup_magic_fstat
#endif
