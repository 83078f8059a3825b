/*
 * archive's manifest: the formats and filters archive.c enables, by their magic numbers, and by
 * the MIME types `file` gives them (which also finds what has no magic: v7 tar, raw LZMA).
 * ZIP is zip_parser's. Without an identifier in the run, every content is offered (a content
 * without a type matches every MIME pattern).
 */
#include "wadup.h"

WADUP_MANIFEST(
  "{\"version\": 1, \"role\": \"analyze\", \"accepts\": {"
  "\"mime\": [\"application/x-tar\", \"application/x-gtar\", \"application/x-ustar\", \"application/x-cpio\", \"application/x-archive\","
  " \"application/x-debian-package\", \"application/vnd.debian.binary-package\", \"application/x-iso9660-image\","
  " \"application/x-7z-compressed\", \"application/vnd.ms-cab-compressed\", \"application/x-xar\", \"application/x-lha\","
  " \"application/x-lzh-compressed\", \"application/x-rar\", \"application/vnd.rar\", \"application/x-rar-compressed\", \"application/warc\","
  " \"application/gzip\", \"application/x-gzip\", \"application/x-bzip2\", \"application/x-xz\", \"application/x-lzma\", \"application/x-lzip\","
  " \"application/zstd\", \"application/x-zstd\", \"application/x-lz4\", \"application/x-compress\", \"application/x-rpm\","
  " \"application/x-lrzip\", \"application/x-lzop\", \"application/x-grzip\"],"
  "\"magic\": ["
  "{\"offset\": 257, \"hex\": \"7573746172\"},"                    /* tar: ustar, GNU, pax */
  "{\"offset\": 0, \"hex\": \"303730373031\"}, {\"offset\": 0, \"hex\": \"303730373032\"}, {\"offset\": 0, \"hex\": \"303730373037\"},"
  "{\"offset\": 0, \"hex\": \"c771\"}, {\"offset\": 0, \"hex\": \"71c7\"},"   /* cpio: newc, crc, odc, binary */
  "{\"offset\": 0, \"hex\": \"213c617263683e0a\"},"                /* ar */
  "{\"offset\": 32769, \"hex\": \"4344303031\"},"                  /* ISO 9660 */
  "{\"offset\": 0, \"hex\": \"377abcaf271c\"},"                    /* 7-Zip */
  "{\"offset\": 0, \"hex\": \"4d534346\"},"                        /* CAB */
  "{\"offset\": 0, \"hex\": \"78617221\"},"                        /* XAR */
  "{\"offset\": 2, \"hex\": \"2d6c68\"}, {\"offset\": 2, \"hex\": \"2d6c7a\"},"  /* LHA */
  "{\"offset\": 0, \"hex\": \"526172211a07\"},"                    /* RAR, RAR 5 */
  "{\"offset\": 0, \"hex\": \"574152432f\"},"                      /* WARC */
  "{\"offset\": 0, \"hex\": \"1f8b\"}, {\"offset\": 0, \"hex\": \"425a68\"}, {\"offset\": 0, \"hex\": \"fd377a585a00\"},"
  "{\"offset\": 0, \"hex\": \"5d0000\"}, {\"offset\": 0, \"hex\": \"4c5a4950\"}, {\"offset\": 0, \"hex\": \"28b52ffd\"},"
  "{\"offset\": 0, \"hex\": \"04224d18\"}, {\"offset\": 0, \"hex\": \"02214c18\"}, {\"offset\": 0, \"hex\": \"1f9d\"},"
  "{\"offset\": 0, \"hex\": \"edabeedb\"}, {\"offset\": 0, \"hex\": \"4c525a49\"}, {\"offset\": 0, \"hex\": \"894c5a4f000d0a1a0a\"},"
  "{\"offset\": 0, \"hex\": \"475a6970494900\"}"                   /* gzip bzip2 xz lzma lzip zstd lz4 .Z rpm lrzip lzop grzip */
  "]}}");
