/*
 * The CommonCrypto digest calls libyara's crypto.h uses (selected with
 * HAVE_COMMONCRYPTO_COMMONCRYPTO_H), on Debian's libmd: MD5, SHA-1 and SHA-256 for the `hash`
 * module and pe.imphash(). This route leaves out pe's Authenticode parsing (pe.signatures,
 * pe.number_of_signatures, pe.is_signed), which libyara builds only with OpenSSL (HAVE_LIBCRYPTO).
 */
#ifndef YARA_WASI_COMMON_DIGEST_H
#define YARA_WASI_COMMON_DIGEST_H
#include <stddef.h>
#include <stdint.h>
#include <md5.h>
#include <sha1.h>
#include <sha2.h>

typedef MD5_CTX CC_MD5_CTX;
typedef SHA1_CTX CC_SHA1_CTX;
typedef SHA2_CTX CC_SHA256_CTX;

#define CC_MD5_Init(ctx) MD5Init(ctx)
#define CC_MD5_Update(ctx, data, len) MD5Update((ctx), (const uint8_t *)(data), (size_t)(len))
#define CC_MD5_Final(digest, ctx) MD5Final((uint8_t *)(digest), (ctx))
#define CC_SHA1_Init(ctx) SHA1Init(ctx)
#define CC_SHA1_Update(ctx, data, len) SHA1Update((ctx), (const uint8_t *)(data), (size_t)(len))
#define CC_SHA1_Final(digest, ctx) SHA1Final((uint8_t *)(digest), (ctx))
#define CC_SHA256_Init(ctx) SHA256Init(ctx)
#define CC_SHA256_Update(ctx, data, len) SHA256Update((ctx), (const uint8_t *)(data), (size_t)(len))
#define CC_SHA256_Final(digest, ctx) SHA256Final((uint8_t *)(digest), (ctx))
#endif
