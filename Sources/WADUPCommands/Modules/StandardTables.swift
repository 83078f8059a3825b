/// The tables the standard modules write, as `wadup new`'s README lists them: a module's author
/// sees which names are taken and what a query can join with (every table has `content_uuid`).
///
/// Kept in step with the standard modules by `DispatchEquivalenceTests` (every table a run of the
/// whole set writes is listed) and with docs/modules/standard-modules.md by `DocumentationTests`.
package enum StandardTables {
    /// (table, the module that writes it, its columns after `content_uuid`).
    package static let all: [(table: String, module: String, columns: String)] = [
        ("file_types", "file_type", "mime, description"),
        ("file_sizes", "byte_counter", "filename, size"),
        ("zip_entries", "zip_parser", "path, method, compressed_size, size, crc32_ok, emitted"),
        ("db_table_stats", "sqlite_parser", "table_name, row_count"),
        ("archive_entries", "archive", "path, format, filter, type, size, mode, mtime, emitted, reason"),
        ("archive_errors", "archive", "format, filter, entries, message"),
        ("hashes", "hashes", "md5, sha1, ssdeep, tlsh, entropy"),
        ("executables", "executable", "format, machine, bits, endian, kind, entry_point, image_base, timestamp, subsystem, imphash, is_signed, pdb_path, build_id, overlay_offset, overlay_size"),
        ("executable_sections", "executable", "name, virtual_address, virtual_size, file_offset, file_size, entropy, flags"),
        ("executable_imports", "executable", "library, symbol, ordinal"),
        ("executable_exports", "executable", "symbol, ordinal, address"),
        ("indicators", "indicators", "kind, value, offset, encoding"),
        ("indicator_scans", "indicators", "scanned_bytes, truncated, ascii_strings, utf16le_strings, indicators, capped"),
        ("yara_matches", "yara", "rule, namespace, tags, meta"),
        ("yara_strings", "yara", "rule, identifier, offset, length, data_hex"),
        ("mail_messages", "mail", "message_id, date, sender, recipients, cc, subject, in_reply_to, x_mailer, received_hops"),
        ("mail_headers", "mail", "name, value"),
        ("mail_parts", "mail", "part, content_type, filename, size, disposition"),
        ("mail_defects", "mail", "part, defect, detail"),
        ("mail_mbox_messages", "mail", "number, envelope, offset, size"),
        ("pdf_documents", "pdf", "version, pages, encrypted, producer, creator, title, author, created, modified"),
        ("pdf_features", "pdf", "keyword, count"),
        ("pdf_links", "pdf", "uri, page"),
        ("pdf_problems", "pdf", "step, problem"),
        ("office_documents", "office", "format, encrypted, clsid, vba_modules"),
        ("ole_streams", "office", "path, kind, size, clsid, created, modified"),
        ("office_properties", "office", "source, name, value"),
        ("vba_modules", "office", "name, stream, code_size"),
        ("vba_indicators", "office", "kind, keyword, description"),
        ("rtf_objects", "office", "start, kind, class_name, size, filename"),
        ("office_problems", "office", "step, problem"),
        ("disk_images", "disk", "format, media_size, sector_size, description, stored_md5, stored_sha1, problem"),
        ("disk_volumes", "disk", "scheme, index, start, length, type, description, volume"),
        ("fs_info", "disk", "volume, type, label, uuid, block_size, blocks, created, offset, encryption, problem"),
        ("fs_entries", "disk", "volume, path, inode, kind, size, mode, uid, gid, mtime, atime, ctime, crtime, deleted, allocated, link, emitted, reason"),
    ]

    /// The list as Markdown lines for the README.
    static var markdown: String {
        all.map { "- `\($0.table)(\($0.columns))`: \($0.module)" }.joined(separator: "\n")
    }
}
