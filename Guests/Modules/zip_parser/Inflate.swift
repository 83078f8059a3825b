/// A DEFLATE decoder (RFC 1951): stored, fixed and dynamic Huffman blocks.
///
/// Decodes into a buffer of a known size (the entry's declared size) and fails, instead of
/// growing, if the stream produces more; it never reads past its input.
final class Inflater {
    enum Failure: Error { case truncated, invalidBlockType, invalidStoredLength, invalidCode, invalidDistance, outputOverflow, invalidLengths }

    /// Width of the literal/length fast table: 10 bits measured best (wider tables cost more to
    /// rebuild per block than they save in long-code lookups).
    static let fastBits = 10
    static let lengthBase: [UInt16] = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
    static let lengthExtra: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    static let distanceBase: [UInt16] = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]
    static let distanceExtra: [UInt8] = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]
    static let codeLengthOrder: [Int] = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]
    /// Each byte with its bits in reverse order.
    static let byteReversal: [UInt8] = (0..<256).map { b in
        var r = 0
        for i in 0..<8 where b & (1 << i) != 0 { r |= 1 << (7 - i) }
        return UInt8(r)
    }

    /// A canonical Huffman code: a table for codes up to `bits` long, and counts/symbols for the rest.
    ///
    /// Plain pointers (allocated once per decoder) so that decoding a symbol costs no reference counting.
    struct Huffman {
        /// Entry: symbol << 4 | length, or 0 when the code is longer than `bits`.
        let fast: UnsafeMutablePointer<UInt16>
        let counts: UnsafeMutablePointer<UInt16>
        let symbols: UnsafeMutablePointer<UInt16>
        /// Width of the `fast` table: a table is rebuilt for every block, so it is no wider than
        /// its codes need (code-length codes are at most 7 bits).
        let bits: Int

        static func allocate(bits: Int) -> Huffman {
            let storage = UnsafeMutablePointer<UInt16>.allocate(capacity: (1 << bits) + 16 + 288)
            storage.initialize(repeating: 0, count: (1 << bits) + 16 + 288)
            return Huffman(fast: storage, counts: storage + (1 << bits), symbols: storage + (1 << bits) + 16, bits: bits)
        }

        func deallocate() { fast.deallocate() }

        func build(_ lengths: UnsafeBufferPointer<UInt8>) throws(Failure) {
            for i in 0..<16 { counts[i] = 0 }
            for l in lengths { counts[Int(l)] += 1 }
            counts[0] = 0
            var left = 1
            for len in 1..<16 {
                left <<= 1
                left -= Int(counts[len])
                if left < 0 { throw .invalidLengths }
            }
            var offsets = [UInt16](repeating: 0, count: 16)
            for len in 1..<15 { offsets[len + 1] = offsets[len] + counts[len] }
            for (symbol, l) in lengths.enumerated() where l != 0 {
                symbols[Int(offsets[Int(l)])] = UInt16(symbol)
                offsets[Int(l)] += 1
            }
            fast.update(repeating: 0, count: 1 << bits)
            // Canonical codes in (length, symbol) order, stored bit-reversed for LSB-first reading;
            // the reversal goes through a byte table instead of a loop over the bits.
            var next = [Int](repeating: 0, count: 16)
            var code = 0
            for len in 1..<16 {
                next[len] = code
                code = (code + Int(counts[len])) << 1
            }
            let reverse = Inflater.byteReversal
            for (symbol, l) in lengths.enumerated() where l != 0 && Int(l) <= bits {
                let len = Int(l)
                let c = next[len]
                next[len] = c + 1
                let reversed = (Int(reverse[c & 0xFF]) << 8 | Int(reverse[(c >> 8) & 0xFF])) >> (16 - len)
                let entry = UInt16(symbol) << 4 | UInt16(len)
                var slot = reversed
                while slot < (1 << bits) {
                    fast[slot] = entry
                    slot &+= 1 << len
                }
            }
        }
    }

    var input: UnsafePointer<UInt8>
    var inputCount: Int
    var inputPosition = 0
    var bitBuffer: UInt64 = 0
    var bitCount = 0
    var output: UnsafeMutablePointer<UInt8>
    var outputCapacity: Int
    var outputCount = 0
    let tables = Inflater.sharedTables
    /// Read-only after creation, and a module instance is single-threaded.
    nonisolated(unsafe) static let sharedTables = Tables()
    let literals = Huffman.allocate(bits: Inflater.fastBits)
    let distances = Huffman.allocate(bits: 10)
    let codeLengths = Huffman.allocate(bits: 7)

    /// Bytes the output buffer must have beyond `capacity` (short matches are copied 8 bytes at a time).
    static let slack = 8

    init(input: UnsafePointer<UInt8>, count: Int, output: UnsafeMutablePointer<UInt8>, capacity: Int) {
        self.input = input
        self.inputCount = count
        self.output = output
        self.outputCapacity = capacity
    }

    /// Starts a new stream, keeping the tables' memory (a decoder is reused for every entry).
    func reset(input: UnsafePointer<UInt8>, count: Int, output: UnsafeMutablePointer<UInt8>, capacity: Int) {
        self.input = input
        self.inputCount = count
        self.inputPosition = 0
        self.bitBuffer = 0
        self.bitCount = 0
        self.output = output
        self.outputCapacity = capacity
        self.outputCount = 0
    }

    deinit {
        literals.deallocate()
        distances.deallocate()
        codeLengths.deallocate()
    }

    @inline(__always)
    func refill() {
        Self.refill(&bitBuffer, &bitCount, &inputPosition, input, inputCount)
    }

    @inline(__always)
    func bits(_ n: Int) throws(Failure) -> Int {
        if bitCount < n { refill() }
        let value = Int(bitBuffer & ((1 << UInt64(n)) - 1))
        bitBuffer >>= UInt64(n)
        bitCount -= n
        return value
    }

    /// Bits consumed beyond the real input mean the stream was truncated.
    var overran: Bool { inputPosition - bitCount / 8 > inputCount }

    @inline(__always)
    func decode(_ table: Huffman) throws(Failure) -> Int {
        if bitCount < 15 { refill() }
        let entry = table.fast[Int(bitBuffer & UInt64((1 << table.bits) - 1))]
        if entry != 0 {
            let len = Int(entry & 15)
            bitBuffer >>= UInt64(len)
            bitCount -= len
            return Int(entry >> 4)
        }
        // Slow path: a code longer than the table's bits, decoded bit by bit (as in zlib's puff).
        var code = 0
        var first = 0
        var index = 0
        for len in 1..<16 {
            code |= Int(bitBuffer & 1)
            bitBuffer >>= 1
            bitCount -= 1
            let count = Int(table.counts[len])
            if code - count < first { return Int(table.symbols[index + (code - first)]) }
            index += count
            first += count
            first <<= 1
            code <<= 1
        }
        throw .invalidCode
    }

    func run() throws(Failure) {
        var final = 0
        repeat {
            final = try bits(1)
            switch try bits(2) {
            case 0: try stored()
            case 1:
                try fixedTables()
                try codes()
            case 2:
                try dynamicTables()
                try codes()
            default: throw .invalidBlockType
            }
            if overran { throw .truncated }
        } while final == 0
    }

    func stored() throws(Failure) {
        // Drop to a byte boundary, then give back whole bytes still in the bit buffer.
        _ = try bits(bitCount % 8)
        inputPosition -= bitCount / 8
        bitBuffer = 0
        bitCount = 0
        guard inputPosition + 4 <= inputCount else { throw .truncated }
        let len = Int(input[inputPosition]) | Int(input[inputPosition + 1]) << 8
        let nlen = Int(input[inputPosition + 2]) | Int(input[inputPosition + 3]) << 8
        inputPosition += 4
        guard len == (~nlen & 0xFFFF) else { throw .invalidStoredLength }
        guard inputPosition + len <= inputCount else { throw .truncated }
        guard len <= outputCapacity - outputCount else { throw .outputOverflow }
        (output + outputCount).update(from: input + inputPosition, count: len)
        outputCount += len
        inputPosition += len
    }

    func fixedTables() throws(Failure) {
        var lengths = [UInt8](repeating: 0, count: 288)
        for i in 0..<144 { lengths[i] = 8 }
        for i in 144..<256 { lengths[i] = 9 }
        for i in 256..<280 { lengths[i] = 7 }
        for i in 280..<288 { lengths[i] = 8 }
        try lengths.withUnsafeBufferPointer { (b) throws(Failure) in try literals.build(b) }
        let distanceLengths = [UInt8](repeating: 5, count: 30)
        try distanceLengths.withUnsafeBufferPointer { (b) throws(Failure) in try distances.build(b) }
    }

    func dynamicTables() throws(Failure) {
        let nlen = try bits(5) + 257
        let ndist = try bits(5) + 1
        let ncode = try bits(4) + 4
        guard nlen <= 286, ndist <= 30 else { throw .invalidLengths }
        var lengths = [UInt8](repeating: 0, count: 320)
        for i in 0..<ncode { lengths[Inflater.codeLengthOrder[i]] = UInt8(try bits(3)) }
        try lengths.withUnsafeBufferPointer { (b) throws(Failure) in try codeLengths.build(UnsafeBufferPointer(rebasing: b[0..<19])) }
        for i in 0..<19 { lengths[i] = 0 }
        var index = 0
        while index < nlen + ndist {
            let symbol = try decode(codeLengths)
            if symbol < 16 {
                lengths[index] = UInt8(symbol)
                index += 1
                continue
            }
            var repeated: UInt8 = 0
            var count: Int
            switch symbol {
            case 16:
                guard index > 0 else { throw .invalidLengths }
                repeated = lengths[index - 1]
                count = 3 + (try bits(2))
            case 17: count = 3 + (try bits(3))
            default: count = 11 + (try bits(7))
            }
            guard index + count <= nlen + ndist else { throw .invalidLengths }
            for _ in 0..<count {
                lengths[index] = repeated
                index += 1
            }
        }
        if overran { throw .truncated }
        guard lengths[256] != 0 else { throw .invalidLengths }
        try lengths.withUnsafeBufferPointer { (b) throws(Failure) in
            try literals.build(UnsafeBufferPointer(rebasing: b[0..<nlen]))
            try distances.build(UnsafeBufferPointer(rebasing: b[nlen..<(nlen + ndist)]))
        }
    }

    /// Decodes one block's symbols. The hot loop keeps the bit reader and the output position in
    /// locals (wasm locals, not loads and stores to the heap), uses wrapping arithmetic where the
    /// bounds are already checked, and copies non-overlapping matches with one memory.copy.
    func codes() throws(Failure) {
        var bitBuffer = self.bitBuffer
        var bitCount = self.bitCount
        var inputPosition = self.inputPosition
        var outputCount = self.outputCount
        let input = self.input
        let inputCount = self.inputCount
        let output = self.output
        let capacity = self.outputCapacity
        let literalFast = literals.fast
        let distanceFast = distances.fast
        let literalMask: UInt64 = (1 &<< UInt64(literals.bits)) &- 1
        let distanceMask: UInt64 = (1 &<< UInt64(distances.bits)) &- 1
        let lengthBase = tables.lengthBase
        let lengthExtra = tables.lengthExtra
        let distanceBase = tables.distanceBase
        let distanceExtra = tables.distanceExtra
        defer {
            self.bitBuffer = bitBuffer
            self.bitCount = bitCount
            self.inputPosition = inputPosition
            self.outputCount = outputCount
        }

        while true {
            // Locals only in this loop (no closures): captured variables would live in memory.
            if bitCount < 48 {
                Self.refill(&bitBuffer, &bitCount, &inputPosition, input, inputCount)
            }
            var entry = literalFast[Int(truncatingIfNeeded: bitBuffer & literalMask)]
            // Runs of literals (table entries 1..<0x1000: symbol < 256) stay in this inner loop,
            // which checks the bit count only when fewer than 15 bits (one longest code) are left.
            while entry &- 1 < 0x0FFF {
                let len = Int(entry & 15)
                bitBuffer &>>= UInt64(len)
                bitCount &-= len
                guard outputCount < capacity else { throw .outputOverflow }
                output[outputCount] = UInt8(truncatingIfNeeded: entry &>> 4)
                outputCount &+= 1
                if bitCount < 15 {
                    Self.refill(&bitBuffer, &bitCount, &inputPosition, input, inputCount)
                }
                entry = literalFast[Int(truncatingIfNeeded: bitBuffer & literalMask)]
            }
            if bitCount < 48 {
                Self.refill(&bitBuffer, &bitCount, &inputPosition, input, inputCount)
            }
            var symbol = try take(entry, literals, &bitBuffer, &bitCount, &inputPosition)
            if symbol < 256 {
                guard outputCount < capacity else { throw .outputOverflow }
                output[outputCount] = UInt8(truncatingIfNeeded: symbol)
                outputCount &+= 1
                continue
            }
            if symbol == 256 {
                if inputPosition &- bitCount / 8 > inputCount { throw .truncated }
                return
            }
            let lengthIndex = symbol &- 257
            guard lengthIndex < 29 else { throw .invalidCode }
            // A length's extra bits (at most 5) and a distance code (at most 15) fit in the 48 bits refilled above.
            let lengthBits = UInt64(lengthExtra[lengthIndex])
            let length = Int(lengthBase[lengthIndex]) &+ Int(truncatingIfNeeded: bitBuffer & ((1 &<< lengthBits) &- 1))
            bitBuffer &>>= lengthBits
            bitCount &-= Int(lengthBits)
            if bitCount < 32 {
                Self.refill(&bitBuffer, &bitCount, &inputPosition, input, inputCount)
            }
            entry = distanceFast[Int(truncatingIfNeeded: bitBuffer & distanceMask)]
            symbol = try take(entry, distances, &bitBuffer, &bitCount, &inputPosition)
            guard symbol < 30 else { throw .invalidDistance }
            if bitCount < 16 {
                Self.refill(&bitBuffer, &bitCount, &inputPosition, input, inputCount)
            }
            let distanceBits = UInt64(distanceExtra[symbol])
            let distance = Int(distanceBase[symbol]) &+ Int(truncatingIfNeeded: bitBuffer & ((1 &<< distanceBits) &- 1))
            bitBuffer &>>= distanceBits
            bitCount &-= Int(distanceBits)
            guard distance <= outputCount else { throw .invalidDistance }
            guard length <= capacity &- outputCount else { throw .outputOverflow }
            let target = output + outputCount
            // WasmKit's memory.copy has a high fixed cost, so only long matches use it; shorter ones
            // move 8 bytes at a time, which is safe when the source is at least 8 bytes behind
            // (it may write up to 7 bytes past the match: the output buffer has `slack` bytes spare).
            if length >= 64 && distance >= length {
                target.update(from: target - distance, count: length)
            } else if distance >= 8 {
                var i = 0
                while i < length {
                    UnsafeMutableRawPointer(target + i).storeBytes(
                        of: UnsafeRawPointer(target + (i &- distance)).loadUnaligned(as: UInt64.self), as: UInt64.self)
                    i &+= 8
                }
            } else if distance == 1 {
                target.update(repeating: target[-1], count: length)
            } else {
                var i = 0
                while i < length {
                    target[i] = target[i &- distance]
                    i &+= 1
                }
            }
            outputCount &+= length
            if inputPosition &- bitCount / 8 > inputCount { throw .truncated }
        }
    }

    /// Tops up the bit buffer to at least 56 bits. Takes the reader's state as `inout` locals and is
    /// always inlined, so the hot loop keeps it in wasm locals (a closure would put it in memory).
    @inline(__always)
    static func refill(_ bitBuffer: inout UInt64, _ bitCount: inout Int, _ inputPosition: inout Int, _ input: UnsafePointer<UInt8>, _ inputCount: Int) {
        if inputPosition &+ 8 <= inputCount {
            // Branchless: one unaligned 8-byte load, keep the whole bytes that fit.
            bitBuffer |= UnsafeRawPointer(input + inputPosition).loadUnaligned(as: UInt64.self) &<< UInt64(bitCount)
            inputPosition &+= (63 &- bitCount) &>> 3
            bitCount |= 56
        } else {
            // Near the end, byte by byte, counting phantom zero bytes so over-reading is detected.
            while bitCount <= 56 {
                if inputPosition < inputCount { bitBuffer |= UInt64(input[inputPosition]) &<< UInt64(bitCount) }
                inputPosition &+= 1
                bitCount &+= 8
            }
        }
    }

    /// Consumes the code whose fast-table `entry` was looked up, or decodes a longer one through
    /// ``slowDecode(_:_:_:_:)``; returns its symbol. Always inlined, so the state stays in locals.
    @inline(__always)
    func take(_ entry: UInt16, _ table: Huffman, _ bitBuffer: inout UInt64, _ bitCount: inout Int, _ inputPosition: inout Int) throws(Failure) -> Int {
        if entry != 0 {
            let len = Int(entry & 15)
            bitBuffer &>>= UInt64(len)
            bitCount &-= len
            return Int(entry &>> 4)
        }
        let symbol: Int
        (symbol, bitBuffer, bitCount, inputPosition) = try slowDecode(table, bitBuffer, bitCount, inputPosition)
        return symbol
    }

    /// A code longer than the fast table: hands the reader's state to ``decode(_:)`` and returns it
    /// with the symbol (by value: `inout` would move the hot loop's locals into memory).
    func slowDecode(_ table: Huffman, _ bitBuffer: UInt64, _ bitCount: Int, _ inputPosition: Int) throws(Failure) -> (Int, UInt64, Int, Int) {
        self.bitBuffer = bitBuffer
        self.bitCount = bitCount
        self.inputPosition = inputPosition
        let symbol = try decode(table)
        return (symbol, self.bitBuffer, self.bitCount, self.inputPosition)
    }

    /// The length and distance tables as plain pointers, built once.
    struct Tables {
        let lengthBase: UnsafeMutablePointer<UInt16>
        let lengthExtra: UnsafeMutablePointer<UInt8>
        let distanceBase: UnsafeMutablePointer<UInt16>
        let distanceExtra: UnsafeMutablePointer<UInt8>

        init() {
            lengthBase = .allocate(capacity: 29)
            lengthExtra = .allocate(capacity: 29)
            distanceBase = .allocate(capacity: 30)
            distanceExtra = .allocate(capacity: 30)
            for i in 0..<29 {
                lengthBase[i] = Inflater.lengthBase[i]
                lengthExtra[i] = Inflater.lengthExtra[i]
            }
            for i in 0..<30 {
                distanceBase[i] = Inflater.distanceBase[i]
                distanceExtra[i] = Inflater.distanceExtra[i]
            }
        }
    }
}
