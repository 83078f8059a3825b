import Foundation
import Logging
import WADUPCore

/// The host side of the guest ABI, independent of the engine that runs the guest.
///
/// One per instance (so per thread): it holds the tables this instance defined and the current
/// ``RunContext``. Every function takes guest memory as a raw buffer, valid for the call, and checks
/// every pointer, length, name and JSON text against it; none of them can trap the host.
public final class HostABI {
    public let moduleName: String
    let registry: TableRegistry
    let logger: Logger
    /// Table ids this instance received from `define_table`; the only ids it may insert into.
    private var definedTables: [Int32: [Column]] = [:]
    /// The columns text of each table name's last successful `define_table` on this instance, and the id it returned.
    private var definitions: [String: (columns: [UInt8], id: Int32)] = [:]
    /// The run in progress, or `nil` outside `process`.
    public var context: RunContext?
    /// While the module's `init` runs: the lines it logs, kept rather than logged (at most
    /// ``ABI/maxLogMessagesPerRun``); `nil` otherwise.
    var initLog: [InitLogLine]?

    public init(moduleName: String, registry: TableRegistry, logger: Logger) {
        self.moduleName = moduleName
        self.registry = registry
        self.logger = logger
    }

    /// The guest bytes at `ptr..<ptr+len`, or `nil` if any of them is outside `memory`.
    @inline(__always)
    static func range(_ memory: UnsafeMutableRawBufferPointer, _ ptr: UInt32, _ len: UInt32) -> UnsafeMutableRawBufferPointer? {
        let start = Int(ptr)
        let count = Int(len)
        guard start <= memory.count, count <= memory.count - start else { return nil }
        return UnsafeMutableRawBufferPointer(rebasing: memory[start..<start + count])
    }

    /// The manifest text at `address` that `wadup_accepts` of module file `path` returned:
    /// NUL-terminated UTF-8 of at most ``ABI.maxManifestBytes`` bytes inside `memory`.
    package static func exportedManifest(_ memory: UnsafeMutableRawBufferPointer, at address: UInt32, path: String) throws(ModuleLoadError) -> String {
        func refuse(_ reason: String) -> ModuleLoadError { ModuleLoadError(path: path, reason: "\(ABI.acceptsExport) returned \(reason)") }
        let start = Int(address)
        guard start < memory.count else { throw refuse("\(address), outside the module's memory") }
        let window = memory[start..<min(memory.count, start + ABI.maxManifestBytes + 1)]
        guard let end = window.firstIndex(of: 0) else { throw refuse("text without a NUL within \(ABI.maxManifestBytes) bytes") }
        guard let text = String(validating: memory[start..<end], as: UTF8.self) else { throw refuse("text that is not UTF-8") }
        return text
    }

    static func string(_ memory: UnsafeMutableRawBufferPointer, _ ptr: UInt32, _ len: UInt32) throws(ABIError) -> String {
        guard let bytes = range(memory, ptr, len) else { throw .outOfBounds }
        guard let s = String(validating: bytes.bindMemory(to: UInt8.self), as: UTF8.self) else { throw .invalidUTF8 }
        return s
    }

    private func run() throws(ABIError) -> RunContext {
        guard let context else { throw .noContent }
        return context
    }

    // MARK: Content

    /// `get_content_size() -> i32`: the size, as an unsigned 32-bit value (contents are addressed with u32 offsets).
    public func getContentSize() -> Int32 {
        guard let context else { return ABIError.noContent.rawValue }
        return Int32(bitPattern: UInt32(clamping: context.content.count))
    }

    /// `get_content_size64() -> i64`: the size, whatever it is; a negative value is an error code.
    public func getContentSize64() -> Int64 {
        guard let context else { return Int64(ABIError.noContent.rawValue) }
        return Int64(context.content.count)
    }

    /// `read_content(offset, length, dest_ptr) -> i32`.
    public func readContent(_ memory: UnsafeMutableRawBufferPointer, offset: UInt32, length: UInt32, dest: UInt32) -> Int32 {
        readContent64(memory, offset: Int64(offset), length: length, dest: dest)
    }

    /// `read_content64(offset: i64, length, dest_ptr) -> i32`: the 64-bit offset form (a negative
    /// offset is `out_of_bounds`).
    public func readContent64(_ memory: UnsafeMutableRawBufferPointer, offset: Int64, length: UInt32, dest: UInt32) -> Int32 {
        catching { () throws(ABIError) in
            let context = try run()
            guard let target = Self.range(memory, dest, length) else { throw .outOfBounds }
            guard offset >= 0, offset <= Int64(context.content.count) else { throw .outOfBounds }
            let start = Int(offset)
            let count = Int(length)
            guard count <= context.content.count - start else { throw .outOfBounds }
            guard count > 0 else { return }
            do throws(ContentReadError) {
                try context.content.copy(from: start, count: count, to: target.baseAddress!)
                context.readProgress?.add(count)
            } catch {
                // The input file changed or failed: the content fails whatever the module does next.
                if context.inputFault == nil { context.inputFault = error }
                throw .inputUnavailable
            }
        }
    }

    /// `get_content_uuid(dest_ptr) -> i32`: 16 raw bytes.
    public func getContentUUID(_ memory: UnsafeMutableRawBufferPointer, dest: UInt32) -> Int32 {
        catching { () throws(ABIError) in
            let context = try run()
            guard let target = Self.range(memory, dest, 16) else { throw .outOfBounds }
            withUnsafeBytes(of: context.uuid.uuid) { target.copyMemory(from: $0) }
        }
    }

    /// `get_content_filename(dest_ptr, capacity) -> i32`: writes up to `capacity` bytes, returns the full length.
    public func getContentFilename(_ memory: UnsafeMutableRawBufferPointer, dest: UInt32, capacity: UInt32) -> Int32 {
        guard let context else { return ABIError.noContent.rawValue }
        return Self.copyOut(context.filename, memory, dest: dest, capacity: capacity)
    }

    /// Writes up to `capacity` bytes of `text` at `dest` and returns its full byte length (the
    /// `get_*(dest, capacity)` convention: a module that gets more than it gave asks again).
    static func copyOut(_ text: String, _ memory: UnsafeMutableRawBufferPointer, dest: UInt32, capacity: UInt32) -> Int32 {
        let bytes = Array(text.utf8)
        guard let target = range(memory, dest, capacity) else { return ABIError.outOfBounds.rawValue }
        let n = min(bytes.count, target.count)
        if n > 0 { bytes.withUnsafeBytes { src in target.baseAddress!.copyMemory(from: src.baseAddress!, byteCount: n) } }
        return Int32(clamping: bytes.count)
    }

    /// The UTF-8 text at `ptr..<ptr+len`, cut to its first `limit` bytes (at a character boundary)
    /// when longer, and whether it was cut.
    static func text(_ memory: UnsafeMutableRawBufferPointer, _ ptr: UInt32, _ len: UInt32, limit: Int) throws(ABIError) -> (text: String, cut: Bool) {
        guard let bytes = range(memory, ptr, len) else { throw .outOfBounds }
        let kept = UnsafeMutableRawBufferPointer(rebasing: bytes[0..<min(bytes.count, limit)])
        let cut = bytes.count > kept.count
        guard let text = String(validating: kept.bindMemory(to: UInt8.self), as: UTF8.self) ?? (cut ? truncatedUTF8(kept) : nil) else {
            throw .invalidUTF8
        }
        return (text, cut)
    }

    // MARK: Tables

    /// `define_table(name_ptr, name_len, columns_ptr, columns_len) -> i32`: the table id, or an error.
    public func defineTable(_ memory: UnsafeMutableRawBufferPointer, name: UInt32, nameLength: UInt32, columns: UInt32, columnsLength: UInt32) -> Int32 {
        do {
            let tableName = try Self.string(memory, name, nameLength)
            guard Identifier.isValid(tableName) else { throw ABIError.invalidIdentifier }
            guard let json = Self.range(memory, columns, columnsLength) else { throw ABIError.outOfBounds }
            // A module that defines its table on every content (most do) gets the id it got before
            // for the same text, without parsing it again.
            if let known = definitions[tableName], known.columns.elementsEqual(json) { return known.id }
            let decoded = try ABICodec.decodeColumns(try JSONValue.parse(UnsafeRawBufferPointer(json)))
            let schema = TableSchema(name: tableName, columns: decoded)
            switch registry.define(schema, by: moduleName) {
            case .success(let id):
                definedTables[id] = decoded
                definitions[tableName] = (Array(json), id)
                return id
            case .failure(let conflict):
                logger.warning("schema conflict: \(conflict)", metadata: ["module": "\(moduleName)"])
                throw ABIError.schemaConflict
            }
        } catch {
            return (error as? ABIError ?? .invalidJSON).rawValue
        }
    }

    /// `insert_row(table_id, row_ptr, row_len) -> i32`.
    public func insertRow(_ memory: UnsafeMutableRawBufferPointer, table: Int32, row: UInt32, rowLength: UInt32) -> Int32 {
        catching { () throws(ABIError) in
            let context = try run()
            guard let columns = definedTables[table] else { throw .unknownTable }
            guard let json = Self.range(memory, row, rowLength) else { throw .outOfBounds }
            guard context.rows.count < context.limits.maxRows, context.rowBytes + json.count <= ABI.maxRowBytesPerRun else { throw .limitReached }
            let values = try ABICodec.decodeRow(try JSONValue.parse(UnsafeRawBufferPointer(json)), columns: columns)
            context.rowBytes += json.count
            context.rows.append((table, values))
        }
    }

    // MARK: Sub-content

    private func childName(_ memory: UnsafeMutableRawBufferPointer, _ ptr: UInt32, _ len: UInt32) throws(ABIError) -> String {
        guard len <= ABI.maxSubcontentNameBytes else { throw .invalidArgument }
        let name = try Self.string(memory, ptr, len)
        guard !name.utf8.contains(0) else { throw .invalidArgument }
        return name
    }

    /// `emit_subcontent_bytes(data_ptr, data_len, name_ptr, name_len) -> i32`: copies the bytes out once.
    public func emitSubcontentBytes(_ memory: UnsafeMutableRawBufferPointer, data: UInt32, dataLength: UInt32, name: UInt32, nameLength: UInt32) -> Int32 {
        catching { () throws(ABIError) in
            let context = try run()
            guard let bytes = Self.range(memory, data, dataLength) else { throw .outOfBounds }
            let childName = try childName(memory, name, nameLength)
            guard context.admitsCopy(bytes: bytes.count) else { throw .limitReached }
            context.children.append(EmittedContent(name: childName, data: ContentBuffer(copying: UnsafeRawBufferPointer(bytes))))
        }
    }

    /// `emit_subcontent_slice(offset, length, name_ptr, name_len) -> i32`: a zero-copy view of the current content.
    public func emitSubcontentSlice(_ memory: UnsafeMutableRawBufferPointer, offset: UInt32, length: UInt32, name: UInt32, nameLength: UInt32) -> Int32 {
        emitSubcontentSlice64(memory, offset: Int64(offset), length: Int64(length), name: name, nameLength: nameLength)
    }

    /// `emit_subcontent_slice64(offset: i64, length: i64, name_ptr, name_len) -> i32`: the 64-bit form.
    public func emitSubcontentSlice64(_ memory: UnsafeMutableRawBufferPointer, offset: Int64, length: Int64, name: UInt32, nameLength: UInt32) -> Int32 {
        catching { () throws(ABIError) in
            let context = try run()
            guard let (start, count) = context.contentRange(offset: offset, length: length) else { throw .outOfBounds }
            let childName = try childName(memory, name, nameLength)
            guard context.admitsChild(bytes: count) else { throw .limitReached }
            context.children.append(EmittedContent(name: childName, data: context.content.slice(offset: start, count: count)))
        }
    }

    /// `emit_subcontent_encoded(offset: i64, length: i64, decoded_size: i64, encoding: i64, name_ptr,
    /// name_len) -> i32`: a range this module decodes later, in a decoding run of its own on any
    /// worker. Counted now as `decoded_size` bytes emitted with `emit_subcontent_bytes`.
    public func emitSubcontentEncoded(
        _ memory: UnsafeMutableRawBufferPointer, offset: Int64, length: Int64, decodedSize: Int64, encoding: Int64, name: UInt32, nameLength: UInt32
    ) -> Int32 {
        catching { () throws(ABIError) in
            let context = try run()
            guard context.decoding == nil, decodedSize >= 0, decodedSize <= Int64(Int.max) else { throw .invalidArgument }
            guard let (start, count) = context.contentRange(offset: offset, length: length) else { throw .outOfBounds }
            let childName = try childName(memory, name, nameLength)
            guard context.admitsCopy(bytes: Int(decodedSize)) else { throw .limitReached }
            context.children.append(
                EmittedContent(
                    name: childName, encoded: context.content.slice(offset: start, count: count),
                    encoding: Encoding(token: encoding, decodedSize: decodedSize)))
        }
    }

    /// `get_encoding(dest_ptr) -> i32`: in a decoding run, writes `{i64 encoding; i64 decoded_size}`
    /// and returns 1; in an ordinary run, 0.
    public func getEncoding(_ memory: UnsafeMutableRawBufferPointer, dest: UInt32) -> Int32 {
        do throws(ABIError) {
            let context = try run()
            guard let encoding = context.decoding else { return 0 }
            guard let out = Self.range(memory, dest, 16) else { throw .outOfBounds }
            out.storeBytes(of: encoding.token.littleEndian, toByteOffset: 0, as: Int64.self)
            out.storeBytes(of: encoding.decodedSize.littleEndian, toByteOffset: 8, as: Int64.self)
            return 1
        } catch {
            return error.rawValue
        }
    }

    // MARK: Content types

    /// `set_content_type(mime_ptr, mime_len, desc_ptr, desc_len) -> i32`: the content's type, from
    /// an identifying module. The MIME type must be `type/subtype` (``ContentType/isValidMIME(_:)``);
    /// the description is UTF-8, cut at ``ABI/maxTypeDescriptionBytes``. A module that is not an
    /// identifier gets `invalid_argument`: dispatch is decided by identifiers only.
    public func setContentType(_ memory: UnsafeMutableRawBufferPointer, mime: UInt32, mimeLength: UInt32, description: UInt32, descriptionLength: UInt32) -> Int32 {
        catching { () throws(ABIError) in
            let context = try run()
            guard context.mayIdentify else { throw .invalidArgument }
            guard mimeLength <= ABI.maxMIMEBytes else { throw .invalidArgument }
            let type = try Self.string(memory, mime, mimeLength)
            guard ContentType.isValidMIME(type) else { throw .invalidArgument }
            let text = try Self.text(memory, description, descriptionLength, limit: ABI.maxTypeDescriptionBytes).text
            context.reportedType = ContentType(mime: type, description: text)
        }
    }

    /// `get_content_type(dest_ptr, capacity) -> i32`: the MIME type an identifier reported before
    /// this run; writes up to `capacity` bytes and returns the full length, 0 without a type.
    public func getContentType(_ memory: UnsafeMutableRawBufferPointer, dest: UInt32, capacity: UInt32) -> Int32 {
        guard let context else { return ABIError.noContent.rawValue }
        return Self.copyOut(context.contentType?.mime ?? "", memory, dest: dest, capacity: capacity)
    }

    // MARK: Streams and extents

    /// `emit_stream_begin(name_ptr, name_len) -> i32`: a new stream's handle (≥ 0). The stream
    /// counts as one sub-content from here (an aborted one too); its bytes count as they are written.
    public func emitStreamBegin(_ memory: UnsafeMutableRawBufferPointer, name: UInt32, nameLength: UInt32) -> Int32 {
        do throws(ABIError) {
            let context = try run()
            let childName = try childName(memory, name, nameLength)
            guard context.streams.count < ABI.maxOpenStreams, context.nextStream < Int32.max, context.admitsChild(bytes: 0) else { throw .limitReached }
            let handle = context.nextStream
            context.nextStream += 1
            context.streams[handle] = SubcontentStream(name: childName, folder: context.temporaryFolder)
            return handle
        } catch {
            return error.rawValue
        }
    }

    /// The open stream `handle` of the run in progress.
    private func openStream(_ handle: Int32) throws(ABIError) -> (RunContext, SubcontentStream) {
        let context = try run()
        guard let stream = context.streams[handle] else { throw .unknownStream }
        return (context, stream)
    }

    /// A temporary file that could not be written: the stream is dropped and the run fails with it.
    private func storageFailed(_ fault: SubcontentStream.StorageFault, context: RunContext, handle: Int32) -> ABIError {
        context.streams[handle] = nil
        if context.storageFault == nil { context.storageFault = fault.description }
        return .temporaryStorage
    }

    /// `emit_stream_write(handle, data_ptr, data_len) -> i32`: appends the bytes to the stream.
    public func emitStreamWrite(_ memory: UnsafeMutableRawBufferPointer, handle: Int32, data: UInt32, dataLength: UInt32) -> Int32 {
        catching { () throws(ABIError) in
            let (context, stream) = try openStream(handle)
            guard let bytes = Self.range(memory, data, dataLength) else { throw .outOfBounds }
            guard context.budget?.reserve(moreBytes: bytes.count) ?? true else { throw .limitReached }
            do throws(SubcontentStream.StorageFault) {
                try stream.write(UnsafeRawBufferPointer(bytes))
            } catch {
                throw storageFailed(error, context: context, handle: handle)
            }
        }
    }

    /// `emit_stream_skip(handle, length: i64) -> i32`: appends `length` zeros (a hole of the
    /// temporary file: no disk, no copy).
    public func emitStreamSkip(handle: Int32, length: Int64) -> Int32 {
        catching { () throws(ABIError) in
            let (context, stream) = try openStream(handle)
            guard length >= 0 else { throw .invalidArgument }
            guard length <= Int64(Int.max - stream.count) else { throw .limitReached }
            guard context.budget?.reserve(moreBytes: Int(length)) ?? true else { throw .limitReached }
            do throws(SubcontentStream.StorageFault) {
                try stream.skip(Int(length))
            } catch {
                throw storageFailed(error, context: context, handle: handle)
            }
        }
    }

    /// `emit_stream_end(handle) -> i32`: the stream becomes a sub-content, after those emitted before.
    public func emitStreamEnd(handle: Int32) -> Int32 {
        catching { () throws(ABIError) in
            let (context, stream) = try openStream(handle)
            context.streams[handle] = nil
            do throws(SubcontentStream.StorageFault) {
                try context.appendStream(stream)
            } catch {
                throw storageFailed(error, context: context, handle: handle)
            }
        }
    }

    /// `emit_stream_abort(handle) -> i32`: discards the stream.
    public func emitStreamAbort(handle: Int32) -> Int32 {
        catching { () throws(ABIError) in
            let (context, _) = try openStream(handle)
            context.streams[handle] = nil
        }
    }

    /// `emit_subcontent_extents(extents_ptr, extent_count, name_ptr, name_len) -> i32`: a zero-copy
    /// sub-content made of ranges of the current content and holes, from an array of little-endian
    /// `{i64 offset, i64 length}` (offset -1: a hole of zeros).
    public func emitSubcontentExtents(_ memory: UnsafeMutableRawBufferPointer, extents: UInt32, extentCount: UInt32, name: UInt32, nameLength: UInt32) -> Int32 {
        catching { () throws(ABIError) in
            let context = try run()
            guard extentCount <= ABI.maxExtents else { throw .invalidArgument }
            guard let array = Self.range(memory, extents, extentCount * 16) else { throw .outOfBounds }
            let childName = try childName(memory, name, nameLength)
            let size = Int64(context.content.count)
            var pieces: [ContentBuffer.Extent] = []
            pieces.reserveCapacity(Int(extentCount))
            var total: Int64 = 0
            for i in 0..<Int(extentCount) {
                let offset = Int64(littleEndian: array.loadUnaligned(fromByteOffset: i * 16, as: Int64.self))
                let length = Int64(littleEndian: array.loadUnaligned(fromByteOffset: i * 16 + 8, as: Int64.self))
                guard length >= 0 else { throw .outOfBounds }
                if offset == ABI.holeOffset {
                    pieces.append(.hole(count: Int(length)))
                } else {
                    guard offset >= 0, offset <= size, length <= size - offset else { throw .outOfBounds }
                    pieces.append(.range(of: context.content, offset: Int(offset), count: Int(length)))
                }
                guard length <= Int64.max - total else { throw .outOfBounds }
                total += length
            }
            guard context.admitsChild(bytes: Int(total)) else { throw .limitReached }
            context.children.append(EmittedContent(name: childName, data: ContentBuffer(extents: pieces)))
        }
    }

    // MARK: Logging

    /// `log_message(level, msg_ptr, msg_len) -> i32`: 0 debug, 1 info, 2 warning, 3 error.
    public func logMessage(_ memory: UnsafeMutableRawBufferPointer, level: Int32, message: UInt32, length: UInt32) -> Int32 {
        catching { () throws(ABIError) in
            let logLevel: Logger.Level
            switch level {
            case 0: logLevel = .debug
            case 1: logLevel = .info
            case 2: logLevel = .warning
            case 3: logLevel = .error
            default: throw .invalidArgument
            }
            var (text, cut) = try Self.text(memory, message, length, limit: ABI.maxLogMessageBytes)
            if cut { text += " [truncated]" }
            var metadata: Logger.Metadata = ["module": "\(moduleName)"]
            if initLog != nil {
                guard initLog!.count < ABI.maxLogMessagesPerRun else { throw .limitReached }
                initLog!.append(InitLogLine(level: logLevel, text: text))
                logger.debug("init: \(text)", metadata: metadata)
                return
            }
            if let context {
                guard context.logCount < ABI.maxLogMessagesPerRun else { throw .limitReached }
                context.logCount += 1
                if logLevel == .error { context.lastErrorLine = text }
                metadata["content"] = "\(context.uuid.uuidString.lowercased())"
            }
            logger.log(level: logLevel, "\(text)", metadata: metadata)
        }
    }

    /// The longest valid UTF-8 prefix of a cut message, if the cut only split the last character.
    private static func truncatedUTF8(_ bytes: UnsafeMutableRawBufferPointer) -> String? {
        for drop in 1...3 where bytes.count > drop {
            let prefix = UnsafeMutableRawBufferPointer(rebasing: bytes[0..<bytes.count - drop])
            if let s = String(validating: prefix.bindMemory(to: UInt8.self), as: UTF8.self) { return s }
        }
        return nil
    }

    @inline(__always)
    private func catching(_ body: () throws(ABIError) -> Void) -> Int32 {
        do {
            try body()
            return 0
        } catch {
            return error.rawValue
        }
    }
}
