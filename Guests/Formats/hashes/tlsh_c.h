/* tlsh_c.h — the C interface to TLSH (tlsh_c.cpp). */
#ifndef WADUP_TLSH_C_H
#define WADUP_TLSH_C_H
#ifdef __cplusplus
extern "C" {
#endif

/* 70 hex digits and the NUL. */
#define WADUP_TLSH_DIGEST_CAPACITY 71

/* Starts a digest; 0, or -1 when the state cannot be allocated. */
int wadup_tlsh_begin(void);
/* Feeds the next bytes. */
void wadup_tlsh_update(const unsigned char *data, unsigned int length);
/* Ends the digest: 1 with `digest` set, or 0 when TLSH gives none (under 256 bytes, or half of
 * the 128 buckets or more empty). */
int wadup_tlsh_end(char digest[WADUP_TLSH_DIGEST_CAPACITY]);

#ifdef __cplusplus
}
#endif
#endif
