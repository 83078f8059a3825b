/*
 * wadup.h — the WADUP guest ABI for C (and the C SDK).
 *
 * The reference is docs/modules/ABI.md; Sources/WADUPCore/ABI.swift is the host's copy. A test
 * (ABIConsistencyTests) keeps the three in step: every function and error code below must
 * match them exactly.
 *
 * A module exports `memory` and `int32_t process(void)`; it returns 0 for success. Every
 * pointer and length indexes the module's own memory. Sizes, offsets and lengths are
 * unsigned 32-bit values passed as wasm i32. Functions return 0 (or a non-negative value
 * as documented) on success and one of the WADUP_E* codes below on error; no call ever
 * traps for a bad argument.
 */
#ifndef WADUP_H
#define WADUP_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define WADUP_IMPORT(name) __attribute__((import_module("env"), import_name(#name)))

/* Error codes (negative return values). */
#define WADUP_E_OUT_OF_BOUNDS      (-1)  /* pointer/length outside memory, or offset/length outside the content */
#define WADUP_E_INVALID_UTF8       (-2)  /* a name, string or JSON text is not valid UTF-8 */
#define WADUP_E_INVALID_JSON       (-3)  /* column/row JSON that does not parse or has the wrong shape */
#define WADUP_E_INVALID_IDENTIFIER (-4)  /* table/column name not [A-Za-z_][A-Za-z0-9_]{0,62}, or reserved */
#define WADUP_E_SCHEMA_CONFLICT    (-5)  /* table already defined with other columns */
#define WADUP_E_UNKNOWN_TABLE      (-6)  /* table id not returned to this instance by define_table */
#define WADUP_E_ARITY_MISMATCH     (-7)  /* row has a different number of values than the table has columns */
#define WADUP_E_TYPE_MISMATCH      (-8)  /* value type differs from its column's type */
#define WADUP_E_LIMIT_REACHED      (-9)  /* a per-run limit: sub-contents, sub-content bytes, log lines, row bytes */
#define WADUP_E_INVALID_ARGUMENT   (-10) /* bad length/capacity/level, or a sub-content name with NUL or > 4096 bytes */
#define WADUP_E_NO_CONTENT         (-11) /* content function called outside process() */
#define WADUP_E_INPUT_UNAVAILABLE  (-12) /* the input file changed or failed while it was read: return */
#define WADUP_E_UNKNOWN_STREAM     (-13) /* a stream handle not returned by emit_stream_begin, or already ended/aborted */
#define WADUP_E_TEMPORARY_STORAGE  (-14) /* the host's temporary folder is full or failing: the run fails, return */

/* Log levels for log_message. */
#define WADUP_LOG_DEBUG   0
#define WADUP_LOG_INFO    1
#define WADUP_LOG_WARNING 2
#define WADUP_LOG_ERROR   3

/* Content access. */
WADUP_IMPORT(get_content_size) uint32_t get_content_size(void);
WADUP_IMPORT(read_content) int32_t read_content(uint32_t offset, uint32_t length, void *dest_ptr);
WADUP_IMPORT(get_content_uuid) int32_t get_content_uuid(void *dest_ptr);
WADUP_IMPORT(get_content_filename) int32_t get_content_filename(char *dest_ptr, uint32_t capacity);

/* Metadata. */
WADUP_IMPORT(define_table) int32_t define_table(const char *name_ptr, uint32_t name_len, const char *columns_ptr, uint32_t columns_len);
WADUP_IMPORT(insert_row) int32_t insert_row(int32_t table_id, const char *row_ptr, uint32_t row_len);

/* Sub-content. */
WADUP_IMPORT(emit_subcontent_bytes) int32_t emit_subcontent_bytes(const void *data_ptr, uint32_t data_len, const char *name_ptr, uint32_t name_len);
WADUP_IMPORT(emit_subcontent_slice) int32_t emit_subcontent_slice(uint32_t offset, uint32_t length, const char *name_ptr, uint32_t name_len);

/* Logging. */
WADUP_IMPORT(log_message) int32_t log_message(int32_t level, const char *msg_ptr, uint32_t msg_len);

/* 64-bit forms: exact for contents of any size (the 32-bit forms above stop at 4 GiB). */
WADUP_IMPORT(get_content_size64) int64_t get_content_size64(void);
WADUP_IMPORT(read_content64) int32_t read_content64(int64_t offset, uint32_t length, void *dest_ptr);
WADUP_IMPORT(emit_subcontent_slice64) int32_t emit_subcontent_slice64(int64_t offset, int64_t length, const char *name_ptr, uint32_t name_len);

/* Content types: an identifying module reports one; any module reads the MIME type reported. */
WADUP_IMPORT(set_content_type) int32_t set_content_type(const char *mime_ptr, uint32_t mime_len, const char *desc_ptr, uint32_t desc_len);
WADUP_IMPORT(get_content_type) int32_t get_content_type(char *dest_ptr, uint32_t capacity);

/*
 * The module's manifest (docs/modules/ABI.md, "Manifest"): its role and what it accepts, as JSON
 * in the custom section "wadup.manifest". Give the JSON as one C string literal, once per module:
 *   WADUP_MANIFEST("{\"role\": \"analyze\", \"accepts\": {\"mime\": [\"application/pdf\"]}}");
 * (the literal is handed to the assembler as written, so its escapes are the assembler's too).
 */
#define WADUP_MANIFEST(json) \
  __asm__(".section .custom_section.wadup.manifest,\"\",@\n.ascii " #json "\n.text\n")
/*
 * Optional initialization (docs/modules/ABI.md, "Initialization"): export `init`, called once per
 * instance after _initialize and before any process(), to check the module's configuration:
 *   WADUP_INIT int32_t init(void) { ... return WADUP_INIT_READY; }
 * WADUP_INIT_READY (0): the module runs. WADUP_INIT_DECLINE (1): nothing to do in this
 * configuration; the module is not loaded and the host prints the line init logged (info level).
 * Any other value: a configuration error; the run stops before any content is read (exit 2) with
 * the lines init logged at error level. init gets 10x the fuel and time of a content.
 */
#define WADUP_INIT __attribute__((export_name("init")))
#define WADUP_INIT_READY   0
#define WADUP_INIT_DECLINE 1
#define WADUP_INIT_ERROR   2

/* A manifest known only once the module runs (docs/modules/ABI.md, "Manifest"): export
 * `wadup_accepts`, called once after a ready init, returning NUL-terminated manifest JSON (or NULL):
 *   WADUP_ACCEPTS const char *wadup_accepts(void) { return "{\"accepts\": {\"names\": [\"*.pdf\"]}}"; }
 * A wadup.manifest section (WADUP_MANIFEST) wins over it. */
#define WADUP_ACCEPTS __attribute__((export_name("wadup_accepts")))

/* Streams: a sub-content of any size, written piece by piece (kept in host memory while small,
 * then in an unlinked temporary file). At most 16 open at once; streamed bytes count toward the
 * per-input budget (--max-input-bytes), not toward --max-subcontent-bytes. */
WADUP_IMPORT(emit_stream_begin) int32_t emit_stream_begin(const char *name_ptr, uint32_t name_len);
WADUP_IMPORT(emit_stream_write) int32_t emit_stream_write(int32_t handle, const void *data_ptr, uint32_t data_len);
WADUP_IMPORT(emit_stream_skip) int32_t emit_stream_skip(int32_t handle, int64_t length);
WADUP_IMPORT(emit_stream_end) int32_t emit_stream_end(int32_t handle);
WADUP_IMPORT(emit_stream_abort) int32_t emit_stream_abort(int32_t handle);

/* Extents: a zero-copy sub-content made of ranges of the current content and holes (offset
 * WADUP_HOLE reads as zeros); at most 65536 extents a call. */
#define WADUP_HOLE (-1)
typedef struct { int64_t offset; int64_t length; } wadup_extent;
WADUP_IMPORT(emit_subcontent_extents) int32_t emit_subcontent_extents(const wadup_extent *extents_ptr, uint32_t extent_count, const char *name_ptr, uint32_t name_len);

/* Encoded sub-contents (docs/modules/ABI.md, "Encoded sub-contents"): a range of the current
 * content that this same module decodes later, in a run of its own on that range, in whichever
 * worker takes it; `encoding` is the module's own token (a codec, a checksum), handed back by
 * get_encoding. The sub-content users see is what that decoding run emits (one sub-content of
 * exactly decoded_size bytes); the rows it inserts belong to the content that emitted the range. */
WADUP_IMPORT(emit_subcontent_encoded) int32_t emit_subcontent_encoded(int64_t offset, int64_t length, int64_t decoded_size, int64_t encoding, const char *name_ptr, uint32_t name_len);
/* In a decoding run: writes {int64_t encoding; int64_t decoded_size} (16 bytes, little-endian) at
 * dest_ptr and returns 1; in an ordinary run returns 0 and writes nothing. */
typedef struct { int64_t encoding; int64_t decoded_size; } wadup_encoding;
WADUP_IMPORT(get_encoding) int32_t get_encoding(wadup_encoding *dest_ptr);

#ifdef __cplusplus
}
#endif

#endif /* WADUP_H */
