/*
 * libarchive starts external decompressors (lrzip, grzip, lzop without liblzo2) as child
 * processes; WASI has none. These take the place of filter_fork_posix.c, which compiles to
 * nothing without fork: the filter fails with libarchive's own "can't initialize filter" error,
 * recorded in archive_errors.
 */
#include <errno.h>
#include <sys/types.h>

int __archive_create_child(const char *cmd, int *child_stdin, int *child_stdout, pid_t *out_child) {
    (void)cmd; (void)child_stdin; (void)child_stdout; (void)out_child;
    errno = ENOSYS;
    return -1;
}

void __archive_check_child(int in, int out) { (void)in; (void)out; }
