/// A DEFLATE decoder (RFC 1951): stored, fixed and dynamic Huffman blocks.
///
/// Decodes into a buffer of a known size (a ZIP entry's declared size, say) and fails, instead of
/// growing, if the stream produces more; it never reads past its input. A library of its own so
/// that any module can inflate (ZIP, gzip, PNG, PDF streams) and its speed can be measured alone.
/// Reuse one decoder for every stream: its tables are allocated once.
public final class Inflater {
    /// Why a stream was rejected.
    public enum Failure: Error { case truncated, invalidBlockType, invalidStoredLength, invalidCode, invalidDistance, outputOverflow, invalidLengths }

    /// Width of the literal/length fast table: 10 bits measured best (wider tables cost more to
    /// rebuild per block than they save in long-code lookups).
    static let fastBits = 10
    static let lengthBase: [UInt16] = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
    static let lengthExtra: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    static let distanceBase: [UInt16] = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]
    static let distanceExtra: [UInt8] = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]
    static let codeLengthOrder: [UInt8] = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]
    /// What a fast-table entry holds for a symbol: the value the hot loop needs (a literal byte,
    /// a length or distance base) and how many extra bits follow the code.
    enum Alphabet {
        case literalLength, distance, codeLength

        /// Per symbol: its entry without the code length (`value << 16 | extraBits`, plus the
        /// literal or end-of-block flag), or `invalid`. Built once.
        var payloads: UnsafeMutablePointer<UInt32> {
            switch self {
            case .literalLength: Inflater.literalLengthPayloads
            case .distance: Inflater.distancePayloads
            case .codeLength: Inflater.codeLengthPayloads
            }
        }
    }

    // The payload tables are written once, on first use, and only read after: a module instance
    // is single-threaded.
    static let invalid: UInt32 = 0xFFFF_FFFF
    static let literalFlag: UInt32 = 0x8000_0000
    static let endOfBlockFlag: UInt32 = 0x4000_0000
    /// A length entry whose value is the whole length (no extra bits, or they are in the entry).
    static let exactFlag: UInt32 = 0x8000
    nonisolated(unsafe) static let literalLengthPayloads: UnsafeMutablePointer<UInt32> = {
        let table = UnsafeMutablePointer<UInt32>.allocate(capacity: 288)
        for symbol in 0..<288 {
            switch symbol {
            case 0..<256: table[symbol] = literalFlag | UInt32(symbol) << 16
            case 256: table[symbol] = endOfBlockFlag
            case 257..<286:
                let extra = UInt32(lengthExtra[symbol - 257])
                table[symbol] = UInt32(lengthBase[symbol - 257]) << 16 | extra | (extra == 0 ? exactFlag : 0)
            default: table[symbol] = invalid
            }
        }
        return table
    }()
    nonisolated(unsafe) static let distancePayloads: UnsafeMutablePointer<UInt32> = {
        let table = UnsafeMutablePointer<UInt32>.allocate(capacity: 32)
        for symbol in 0..<32 {
            table[symbol] = symbol < 30 ? UInt32(distanceBase[symbol]) << 16 | UInt32(distanceExtra[symbol]) : invalid
        }
        return table
    }()
    nonisolated(unsafe) static let codeLengthPayloads: UnsafeMutablePointer<UInt32> = {
        let table = UnsafeMutablePointer<UInt32>.allocate(capacity: 19)
        for symbol in 0..<19 { table[symbol] = UInt32(symbol) << 16 }
        return table
    }()

    /// A canonical Huffman code: a table for codes up to `bits` long, and counts/symbols for the rest.
    ///
    /// Fast-table entries are `value << 16 | codeLength << 8 | codeLength + extraBits` (both below
    /// 64: masks of 0x3F, which wasm shifts apply anyway, take them out), so that one
    /// lookup gives a whole length or distance (base, and where its extra bits are); literals set
    /// bit 31, end-of-block bit 30, and `exactFlag` marks a value needing no extra bits. 64-bit
    /// (the value fits in 32), like the bit buffer: the hot loop converts nothing. 0 means the
    /// code is longer than `bits` (or its symbol is invalid): the slow path decodes it bit by bit.
    /// Plain pointers (allocated once per decoder), so that building and decoding cost no
    /// reference counting or bounds checks.
    struct Huffman {
        let fast: UnsafeMutablePointer<UInt64>
        /// Codes per length (16), then the next code per length (16), then symbols by code.
        let counts: UnsafeMutablePointer<UInt32>
        let next: UnsafeMutablePointer<UInt32>
        let symbols: UnsafeMutablePointer<UInt32>
        let payloads: UnsafeMutablePointer<UInt32>
        /// Length codes short enough to have their extra bits in the table too: `codeword |
        /// length << 12 | symbol << 16`, at most 20 (symbols 265 to 284).
        let folded: UnsafeMutablePointer<UInt32>
        /// Width of the `fast` table: a table is rebuilt for every block, so it is no wider than
        /// its codes need (code-length codes are at most 7 bits).
        let bits: Int
        let alphabet: Alphabet

        static func allocate(bits: Int, alphabet: Alphabet) -> Huffman {
            let fast = UnsafeMutablePointer<UInt64>.allocate(capacity: 1 << bits)
            fast.initialize(repeating: 0, count: 1 << bits)
            let storage = UnsafeMutablePointer<UInt32>.allocate(capacity: 32 + 288 + 32)
            storage.initialize(repeating: 0, count: 32 + 288 + 32)
            return Huffman(
                fast: fast, counts: storage, next: storage + 16, symbols: storage + 32, payloads: alphabet.payloads,
                folded: storage + 32 + 288, bits: bits, alphabet: alphabet)
        }

        func deallocate() {
            fast.deallocate()
            counts.deallocate()
        }

        /// The fast-table entry of `symbol`, whose code is `length` bits long (0 if it is invalid).
        @inline(__always)
        func entry(_ symbol: Int, length: Int) -> UInt64 {
            let payload = payloads[symbol]
            return payload == Inflater.invalid ? 0 : UInt64(payload &+ UInt32(truncatingIfNeeded: length) &* 0x101)
        }

        /// Builds the code of `count` symbols from their code lengths (0: unused).
        func build(_ lengths: UnsafePointer<UInt8>, _ count: Int) throws(Failure) {
            counts.update(repeating: 0, count: 16)
            var i = 0
            while i < count {
                counts[Int(lengths[i])] &+= 1
                i &+= 1
            }
            counts[0] = 0
            var left = 1
            for len in 1..<16 {
                left <<= 1
                left -= Int(counts[len])
                if left < 0 { throw .invalidLengths }
            }
            // Symbols sorted by code (length, then symbol): `next` holds each length's first index.
            next[1] = 0
            for len in 1..<15 { next[len &+ 1] = next[len] &+ counts[len] }
            i = 0
            while i < count {
                let l = Int(lengths[i])
                if l != 0 {
                    symbols[Int(next[l])] = UInt32(truncatingIfNeeded: i)
                    next[l] &+= 1
                }
                i &+= 1
            }
            fillFastTable()
        }

        /// Fills the fast table from the symbols sorted by code (as libdeflate does): codes are
        /// written once each, in bit-reversed order, into a table that starts as wide as the
        /// shortest code and doubles (one `memory.copy`) whenever the code length grows, which
        /// replicates the shorter codes into every slot they prefix. Slots of longer codes, or of
        /// codes an incomplete code lacks, stay 0.
        private func fillFastTable() {
            let size = 1 &<< bits
            var len = 1
            while len <= bits && counts[len] == 0 { len &+= 1 }
            guard len <= bits else {
                fast.update(repeating: 0, count: size)
                return
            }
            var tableEnd = 1 &<< len
            fast.update(repeating: 0, count: tableEnd)
            var codeword = 0
            var s = 0
            var foldedCount = 0
            let foldLengths = alphabet == .literalLength
            while true {
                var n = Int(counts[len])
                while n > 0 {
                    let symbol = Int(symbols[s])
                    fast[codeword] = entry(symbol, length: len)
                    if foldLengths && symbol > 264 && symbol < 285 && len &+ Int(payloads[symbol] & 0x3F) <= bits {
                        folded[foldedCount] = UInt32(truncatingIfNeeded: codeword | len &<< 12 | symbol &<< 16)
                        foldedCount &+= 1
                    }
                    s &+= 1
                    if codeword == tableEnd &- 1 {
                        // All ones: the code is complete, and this was its last codeword.
                        len = bits
                        break
                    }
                    // The next codeword, bit-reversed: clear the trailing ones, set the bit above.
                    let bit = 1 &<< (Int.bitWidth &- 1 &- (codeword ^ (tableEnd &- 1)).leadingZeroBitCount)
                    codeword = (codeword & (bit &- 1)) | bit
                    n &-= 1
                }
                len &+= 1
                if len > bits { break }
                UnsafeMutableRawPointer(fast + tableEnd).copyMemory(from: fast, byteCount: tableEnd &* 8)
                tableEnd &<<= 1
            }
            while tableEnd < size {
                UnsafeMutableRawPointer(fast + tableEnd).copyMemory(from: fast, byteCount: tableEnd &* 8)
                tableEnd &<<= 1
            }
            // Lengths whose code and extra bits fit in the table: one entry per extra value, so
            // the hot loop takes the whole length from the table.
            for i in 0..<foldedCount {
                let record = Int(folded[i])
                let codeword = record & 0xFFF
                let len = (record &>> 12) & 0xF
                let payload = payloads[record &>> 16]
                let extra = Int(payload & 0x3F)
                let total = UInt32(len &+ extra)
                for x in 0..<(1 &<< extra) {
                    let value = UInt64((payload & 0xFFFF_0000) &+ UInt32(x) &<< 16 | Inflater.exactFlag | total &<< 8 | total)
                    var slot = codeword | x &<< len
                    while slot < size {
                        fast[slot] = value
                        slot &+= 1 &<< Int(total)
                    }
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
    /// Bytes written by the last ``run()``.
    public internal(set) var outputCount = 0
    let literals = Huffman.allocate(bits: Inflater.fastBits, alphabet: .literalLength)
    let distances = Huffman.allocate(bits: 10, alphabet: .distance)
    let codeLengths = Huffman.allocate(bits: 7, alphabet: .codeLength)
    /// Code lengths of the block being set up (literal/length then distance codes).
    let lengths = UnsafeMutablePointer<UInt8>.allocate(capacity: 320)

    /// Bytes the output buffer must have beyond `capacity` (matches are copied 8 bytes at a time,
    /// at least 16).
    public static let slack = 16

    /// A decoder with no stream yet (give it one with ``reset(input:count:output:capacity:)``).
    public init() {
        input = UnsafePointer(bitPattern: 16)!
        inputCount = 0
        output = UnsafeMutablePointer(bitPattern: 16)!
        outputCapacity = 0
    }

    /// Starts a new stream, keeping the tables' memory (a decoder is reused for every entry).
    public func reset(input: UnsafePointer<UInt8>, count: Int, output: UnsafeMutablePointer<UInt8>, capacity: Int) {
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
        lengths.deallocate()
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
    var overran: Bool { Self.overran(inputPosition, bitCount, inputCount) }

    /// The same test on a reader's state held in locals (the refills count phantom zero bytes past
    /// the end, so a position beyond the input means the stream's bits ran out).
    @inline(__always)
    static func overran(_ inputPosition: Int, _ bitCount: Int, _ inputCount: Int) -> Bool {
        inputPosition &- bitCount / 8 > inputCount
    }

    /// Decodes a code longer than the fast table bit by bit (as in zlib's puff).
    func slowSymbol(_ table: Huffman) throws(Failure) -> Int {
        if bitCount < 15 { refill() }
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

    /// Decodes the whole stream; on success ``outputCount`` bytes of the output are written.
    public func run() throws(Failure) {
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
        UnsafeMutableRawPointer(output + outputCount).copyMemory(from: input + inputPosition, byteCount: len)
        outputCount += len
        inputPosition += len
    }

    func fixedTables() throws(Failure) {
        lengths.update(repeating: 8, count: 144)
        (lengths + 144).update(repeating: 9, count: 112)
        (lengths + 256).update(repeating: 7, count: 24)
        (lengths + 280).update(repeating: 8, count: 8)
        try literals.build(lengths, 288)
        lengths.update(repeating: 5, count: 30)
        try distances.build(lengths, 30)
    }

    /// Reads a dynamic block's code lengths and builds its tables, with the bit reader in locals.
    func dynamicTables() throws(Failure) {
        var bitBuffer = self.bitBuffer
        var bitCount = self.bitCount
        var inputPosition = self.inputPosition
        let input = self.input
        let inputCount = self.inputCount
        let lengths = self.lengths
        defer {
            self.bitBuffer = bitBuffer
            self.bitCount = bitCount
            self.inputPosition = inputPosition
        }
        // 14 header bits, then up to 19 code-length lengths of 3 bits.
        Self.refill(&bitBuffer, &bitCount, &inputPosition, input, inputCount)
        let nlen = Int(truncatingIfNeeded: bitBuffer & 31) &+ 257
        let ndist = Int(truncatingIfNeeded: (bitBuffer &>> 5) & 31) &+ 1
        let ncode = Int(truncatingIfNeeded: (bitBuffer &>> 10) & 15) &+ 4
        bitBuffer &>>= 14
        bitCount &-= 14
        guard nlen <= 286, ndist <= 30 else { throw .invalidLengths }
        lengths.update(repeating: 0, count: 19)
        for i in 0..<ncode {
            if bitCount < 3 { Self.refill(&bitBuffer, &bitCount, &inputPosition, input, inputCount) }
            lengths[Int(Inflater.codeLengthOrder[i])] = UInt8(truncatingIfNeeded: bitBuffer & 7)
            bitBuffer &>>= 3
            bitCount &-= 3
        }
        try codeLengths.build(lengths, 19)
        // Code-length codes are at most 7 bits: all of them are in the 7-bit fast table, and an
        // empty slot is a code the (incomplete) code does not have.
        let fast = codeLengths.fast
        let total = nlen &+ ndist
        var index = 0
        while index < total {
            if bitCount < 14 { Self.refill(&bitBuffer, &bitCount, &inputPosition, input, inputCount) }
            let entry = fast[Int(truncatingIfNeeded: bitBuffer & 127)]
            guard entry != 0 else { throw .invalidCode }
            bitBuffer &>>= entry & 0x3F
            bitCount &-= Int(truncatingIfNeeded: entry & 0x3F)
            let symbol = entry &>> 16
            if symbol < 16 {
                lengths[index] = UInt8(truncatingIfNeeded: symbol)
                index &+= 1
                continue
            }
            var repeated: UInt8 = 0
            var count: Int
            switch symbol {
            case 16:
                guard index > 0 else { throw .invalidLengths }
                repeated = lengths[index &- 1]
                count = 3 &+ Int(truncatingIfNeeded: bitBuffer & 3)
                bitBuffer &>>= 2
                bitCount &-= 2
            case 17:
                count = 3 &+ Int(truncatingIfNeeded: bitBuffer & 7)
                bitBuffer &>>= 3
                bitCount &-= 3
            default:
                count = 11 &+ Int(truncatingIfNeeded: bitBuffer & 127)
                bitBuffer &>>= 7
                bitCount &-= 7
            }
            guard count <= total &- index else { throw .invalidLengths }
            (lengths + index).update(repeating: repeated, count: count)
            index &+= count
        }
        if Self.overran(inputPosition, bitCount, inputCount) { throw .truncated }
        guard lengths[256] != 0 else { throw .invalidLengths }
        try literals.build(lengths, nlen)
        try distances.build(lengths + nlen, ndist)
    }

    /// Decodes one block's symbols. The hot loop keeps the bit reader and the output position in
    /// locals (wasm locals, not loads and stores to the heap), uses wrapping arithmetic where the
    /// bounds are already checked, and takes a whole length or distance (base and extra bits) from
    /// one table entry.
    func codes() throws(Failure) {
        var bitBuffer = self.bitBuffer
        // 64-bit like the bit buffer, and so are the table entries: no conversions between the two.
        var bitCount = UInt64(truncatingIfNeeded: self.bitCount)
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
        defer {
            self.bitBuffer = bitBuffer
            self.bitCount = Int(truncatingIfNeeded: bitCount)
            self.inputPosition = inputPosition
            self.outputCount = outputCount
        }

        while true {
            // Locals only in this loop (no closures): captured variables would live in memory.
            if bitCount < 48 {
                Self.refill64(&bitBuffer, &bitCount, &inputPosition, input, inputCount)
            }
            var entry = literalFast[Int(truncatingIfNeeded: bitBuffer & literalMask)]
            // Runs of literals stay in this inner loop, which checks the bit count only when fewer
            // than 15 bits (one longest code) are left.
            while entry >= UInt64(Inflater.literalFlag) {
                let len = entry & 0x3F
                bitBuffer &>>= len
                bitCount &-= len
                guard outputCount < capacity else { throw .outputOverflow }
                output[outputCount] = UInt8(truncatingIfNeeded: entry &>> 16)
                outputCount &+= 1
                if bitCount < 15 {
                    Self.refill64(&bitBuffer, &bitCount, &inputPosition, input, inputCount)
                }
                entry = literalFast[Int(truncatingIfNeeded: bitBuffer & literalMask)]
            }
            // A length (code and extra bits: at most 20) and a distance (at most 28) fit in 48 bits.
            if bitCount < 48 {
                Self.refill64(&bitBuffer, &bitCount, &inputPosition, input, inputCount)
            }
            // One test for the rare cases: a long code (0) or the end of the block.
            if entry &- 1 >= UInt64(Inflater.endOfBlockFlag) &- 1 {
                if entry == 0 {
                    (entry, bitBuffer, bitCount, inputPosition) = try slowEntry(literals, bitBuffer, bitCount, inputPosition)
                    if entry >= UInt64(Inflater.literalFlag) {
                        guard outputCount < capacity else { throw .outputOverflow }
                        output[outputCount] = UInt8(truncatingIfNeeded: entry &>> 16)
                        outputCount &+= 1
                        continue
                    }
                }
                if entry >= UInt64(Inflater.endOfBlockFlag) {
                    bitBuffer &>>= entry & 0x3F
                    bitCount &-= entry & 0x3F
                    if Self.overran(inputPosition, Int(truncatingIfNeeded: bitCount), inputCount) { throw .truncated }
                    return
                }
            }
            var length = Int(truncatingIfNeeded: entry &>> 16)
            if entry & UInt64(Inflater.exactFlag) == 0 { length &+= Self.extraBits(entry, bitBuffer) }
            bitBuffer &>>= entry & 0x3F
            bitCount &-= entry & 0x3F
            entry = distanceFast[Int(truncatingIfNeeded: bitBuffer & distanceMask)]
            if entry == 0 {
                (entry, bitBuffer, bitCount, inputPosition) = try slowEntry(distances, bitBuffer, bitCount, inputPosition)
            }
            let distance = Int(truncatingIfNeeded: entry &>> 16) &+ Self.extraBits(entry, bitBuffer)
            bitBuffer &>>= entry & 0x3F
            bitCount &-= entry & 0x3F
            guard distance <= outputCount else { throw .invalidDistance }
            guard length <= capacity &- outputCount else { throw .outputOverflow }
            let target = output + outputCount
            outputCount &+= length
            if distance >= 8 {
                // 8 bytes at a time, which is right when the source is at least 8 bytes behind; it
                // may write up to 15 bytes past the match (the buffer has `slack` bytes spare).
                Self.copy8(target, distance, 0)
                Self.copy8(target, distance, 8)
                if length > 16 {
                    if length >= 64 && distance >= length {
                        // One memory.copy: a high fixed cost in WasmKit, cheap per byte.
                        UnsafeMutableRawPointer(target + 16).copyMemory(from: target + (16 &- distance), byteCount: length &- 16)
                    } else {
                        var i = 16
                        while i < length {
                            Self.copy8(target, distance, i)
                            i &+= 8
                        }
                    }
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
        }
    }

    /// The value of the extra bits that follow the code of a length or distance `entry`.
    @inline(__always)
    static func extraBits(_ entry: UInt64, _ bitBuffer: UInt64) -> Int {
        let all = bitBuffer & ((1 &<< (entry & 0x3F)) &- 1)
        return Int(truncatingIfNeeded: all &>> ((entry &>> 8) & 0x3F))
    }

    @inline(__always)
    static func copy8(_ target: UnsafeMutablePointer<UInt8>, _ distance: Int, _ offset: Int) {
        UnsafeMutableRawPointer(target + offset).storeBytes(
            of: UnsafeRawPointer(target + (offset &- distance)).loadUnaligned(as: UInt64.self), as: UInt64.self)
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

    /// ``refill(_:_:_:_:_:)`` with a 64-bit bit count, for the hot loop.
    @inline(__always)
    static func refill64(_ bitBuffer: inout UInt64, _ bitCount: inout UInt64, _ inputPosition: inout Int, _ input: UnsafePointer<UInt8>, _ inputCount: Int) {
        if inputPosition &+ 8 <= inputCount {
            bitBuffer |= UnsafeRawPointer(input + inputPosition).loadUnaligned(as: UInt64.self) &<< bitCount
            inputPosition &+= Int(truncatingIfNeeded: (63 &- bitCount) &>> 3)
            bitCount |= 56
        } else {
            var count = Int(truncatingIfNeeded: bitCount)
            refill(&bitBuffer, &count, &inputPosition, input, inputCount)
            bitCount = UInt64(truncatingIfNeeded: count)
        }
    }

    /// A code longer than the fast table: decodes it bit by bit and returns the entry its symbol
    /// would have had, with a code length of 0 (the code is consumed), and the reader's state (by
    /// value: `inout` would move the hot loop's locals into memory).
    func slowEntry(_ table: Huffman, _ bitBuffer: UInt64, _ bitCount: UInt64, _ inputPosition: Int) throws(Failure) -> (UInt64, UInt64, UInt64, Int) {
        self.bitBuffer = bitBuffer
        self.bitCount = Int(truncatingIfNeeded: bitCount)
        self.inputPosition = inputPosition
        let symbol = try slowSymbol(table)
        let entry = table.entry(symbol, length: 0)
        guard entry != 0 else { throw table.alphabet == .distance ? .invalidDistance : .invalidCode }
        return (entry, self.bitBuffer, UInt64(truncatingIfNeeded: self.bitCount), self.inputPosition)
    }
}
