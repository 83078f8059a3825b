/* What TSK 4.11 needs on wasm32-wasi beyond wasi-libc.
 *
 * APFS is not compiled: TSK 4.11's APFS code is C++ that throws exceptions, which wasm32-wasi's
 * libc++ is built without. fs_open.c's table still names these two entry points; they decline. */
#include "tsk/fs/tsk_fs_i.h"

TSK_FS_INFO *apfs_open_auto_detect(TSK_IMG_INFO *img, TSK_OFF_T offset, TSK_FS_TYPE_ENUM type, uint8_t test) {
    (void)img; (void)offset; (void)type; (void)test;
    tsk_error_reset();
    tsk_error_set_errno(TSK_ERR_FS_UNSUPTYPE);
    tsk_error_set_errstr("APFS is not read by this build");
    return NULL;
}

TSK_FS_INFO *apfs_open(TSK_IMG_INFO *img, TSK_OFF_T offset, TSK_FS_TYPE_ENUM type, const char *pass) {
    return apfs_open_auto_detect(img, offset, type, 0);
    (void)pass;
}

char *wadup_tsk_tzname[2] = {"UTC", "UTC"};
