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
    ]

    /// The list as Markdown lines for the README.
    static var markdown: String {
        all.map { "- `\($0.table)(\($0.columns))`: \($0.module)" }.joined(separator: "\n")
    }
}
