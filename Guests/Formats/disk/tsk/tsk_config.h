/* The Sleuth Kit's configuration for wasm32-wasi (written for WADUP, in place of ./configure's):
 * a single-threaded build with no image libraries (containers are decoded by libyal before TSK
 * sees the disk), no OpenSSL and no SQLite; zlib (HAVE_LIBZ, for HFS+ compressed files) is given by
 * scripts/formats/disk.sh, from the container libraries' build. */
#ifndef WADUP_TSK_CONFIG_H
#define WADUP_TSK_CONFIG_H
#define HAVE_INTTYPES_H 1
#define HAVE_STDINT_H 1
#define HAVE_STDLIB_H 1
#define HAVE_STDBOOL_H 1
#define HAVE_STRINGS_H 1
#define HAVE_STRING_H 1
#define HAVE_SYS_PARAM_H 1
#define HAVE_SYS_STAT_H 1
#define HAVE_SYS_TYPES_H 1
#define HAVE_UNISTD_H 1
#define HAVE_VASPRINTF 1
#define HAVE_CXX14 1
#define PACKAGE_VERSION "4.11.1"
#define VERSION "4.11.1"
/* wasi-libc has no tzname: TSK's time strings name UTC, the only zone a module has. */
extern char *wadup_tsk_tzname[2];
#define tzname wadup_tsk_tzname
#endif
