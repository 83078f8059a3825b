import WADUPCore

/// The arguments of one host call, read in place from the engine's own argument slots.
///
/// Both engines store each argument in a fixed-size little-endian slot (WasmKit's copy: 8 bytes,
/// wasmtime's raw values: 16 bytes); an i32 argument is the low 32 bits of its slot.
public struct HostArguments {
    let base: UnsafeRawPointer
    let stride: Int

    public init(base: UnsafeRawPointer, stride: Int) {
        self.base = base
        self.stride = stride
    }

    /// Argument `i` as an unsigned 32-bit value (pointers, lengths, offsets).
    @inline(__always)
    public func u32(_ i: Int) -> UInt32 { base.loadUnaligned(fromByteOffset: i * stride, as: UInt32.self) }

    /// Argument `i` as a 64-bit value (the 64-bit offsets and lengths).
    @inline(__always)
    public func i64(_ i: Int) -> Int64 { base.loadUnaligned(fromByteOffset: i * stride, as: Int64.self) }

    /// Argument `i` as a signed 32-bit value (table ids, log levels).
    @inline(__always)
    public func i32(_ i: Int) -> Int32 { base.loadUnaligned(fromByteOffset: i * stride, as: Int32.self) }
}

extension HostABI {
    /// One host function as both engines bind it: its ABI signature and its call.
    public struct Binding: Sendable {
        public let function: ABI.HostFunction
        /// Runs the function on `abi` with the guest's whole memory; the result is the function's
        /// return value (an i32 result is the low 32 bits).
        public let call: @Sendable (HostABI, UnsafeMutableRawBufferPointer, HostArguments) -> Int64
    }

    /// Every host function, in the order of ``ABI/hostFunctions`` (the engines bind by index).
    ///
    /// The one place where names, arities and argument unpacking meet the ABI's implementation;
    /// `bindingsFollowTheABI` in the tests checks it against ``ABI/hostFunctions``.
    public static let bindings: [Binding] = {
        let calls: [String: @Sendable (HostABI, UnsafeMutableRawBufferPointer, HostArguments) -> Int64] = [
            "get_content_size": { abi, _, _ in Int64(abi.getContentSize()) },
            "read_content": { abi, m, a in Int64(abi.readContent(m, offset: a.u32(0), length: a.u32(1), dest: a.u32(2))) },
            "get_content_uuid": { abi, m, a in Int64(abi.getContentUUID(m, dest: a.u32(0))) },
            "get_content_filename": { abi, m, a in Int64(abi.getContentFilename(m, dest: a.u32(0), capacity: a.u32(1))) },
            "define_table": { abi, m, a in
                Int64(abi.defineTable(m, name: a.u32(0), nameLength: a.u32(1), columns: a.u32(2), columnsLength: a.u32(3)))
            },
            "insert_row": { abi, m, a in Int64(abi.insertRow(m, table: a.i32(0), row: a.u32(1), rowLength: a.u32(2))) },
            "emit_subcontent_bytes": { abi, m, a in
                Int64(abi.emitSubcontentBytes(m, data: a.u32(0), dataLength: a.u32(1), name: a.u32(2), nameLength: a.u32(3)))
            },
            "emit_subcontent_slice": { abi, m, a in
                Int64(abi.emitSubcontentSlice(m, offset: a.u32(0), length: a.u32(1), name: a.u32(2), nameLength: a.u32(3)))
            },
            "log_message": { abi, m, a in Int64(abi.logMessage(m, level: a.i32(0), message: a.u32(1), length: a.u32(2))) },
            "get_content_size64": { abi, _, _ in abi.getContentSize64() },
            "read_content64": { abi, m, a in Int64(abi.readContent64(m, offset: a.i64(0), length: a.u32(1), dest: a.u32(2))) },
            "emit_subcontent_slice64": { abi, m, a in
                Int64(abi.emitSubcontentSlice64(m, offset: a.i64(0), length: a.i64(1), name: a.u32(2), nameLength: a.u32(3)))
            },
            "set_content_type": { abi, m, a in
                Int64(abi.setContentType(m, mime: a.u32(0), mimeLength: a.u32(1), description: a.u32(2), descriptionLength: a.u32(3)))
            },
            "get_content_type": { abi, m, a in Int64(abi.getContentType(m, dest: a.u32(0), capacity: a.u32(1))) },
            "emit_stream_begin": { abi, m, a in Int64(abi.emitStreamBegin(m, name: a.u32(0), nameLength: a.u32(1))) },
            "emit_stream_write": { abi, m, a in Int64(abi.emitStreamWrite(m, handle: a.i32(0), data: a.u32(1), dataLength: a.u32(2))) },
            "emit_stream_skip": { abi, _, a in Int64(abi.emitStreamSkip(handle: a.i32(0), length: a.i64(1))) },
            "emit_stream_end": { abi, _, a in Int64(abi.emitStreamEnd(handle: a.i32(0))) },
            "emit_stream_abort": { abi, _, a in Int64(abi.emitStreamAbort(handle: a.i32(0))) },
            "emit_subcontent_extents": { abi, m, a in
                Int64(abi.emitSubcontentExtents(m, extents: a.u32(0), extentCount: a.u32(1), name: a.u32(2), nameLength: a.u32(3)))
            },
            "emit_subcontent_encoded": { abi, m, a in
                Int64(
                    abi.emitSubcontentEncoded(
                        m, offset: a.i64(0), length: a.i64(1), decodedSize: a.i64(2), encoding: a.i64(3), name: a.u32(4), nameLength: a.u32(5)))
            },
            "get_encoding": { abi, m, a in Int64(abi.getEncoding(m, dest: a.u32(0))) },
        ]
        return ABI.hostFunctions.map { function in
            guard let call = calls[function.name] else { fatalError("no host implementation of \(function.name)") }
            return Binding(function: function, call: call)
        }
    }()
}
