import Foundation
import NIOCore
import Testing
import WADUPPostgres
import WADUPTestSupport

extension PostgresTests {
    /// The rows' JSON as the server reads it into typed columns (the statement the writer runs),
    /// read back by psql: quotes, backslashes, control characters, U+0000 (as U+FFFD), the extreme
    /// integers, NaN and the infinities, bytes, empty values and NULLs.
    @Test func rowsSentAsJSONAreWhatTheServerStores() throws {
        let server = try Server.load()
        let database = try server.createDatabase()
        _ = try server.psql(database, "CREATE TABLE awkward (n bigint, t text, i bigint, d double precision, b bytea)")
        var rows = PostgresRows(table: "awkward", columns: ["n", "t", "i", "d", "b"])
        let texts: [String?] = ["quote \" backslash \\ tab \t newline \n return \r \u{1}\u{1F} é 😀", "nul\u{0}here", nil, ""]
        let ints: [Int64?] = [Int64.min, nil, Int64.max, 0]
        let doubles: [Double] = [1e-300, .nan, .infinity, -.infinity]
        let bytes: [[UInt8]?] = [[0, 255, 16], nil, [], Array(0...255)]
        for n in 0..<4 {
            rows.int(Int64(n))
            rows.text(texts[n])
            rows.int(ints[n])
            rows.double(doubles[n])
            rows.bytes(bytes[n])
            rows.endRow()
        }
        rows.endRow()  // a row of no values: every column NULL
        let json = String(buffer: rows.json)
        _ = try server.psql(database, "INSERT INTO awkward (n, t, i, d, b) SELECT n, t, i, d, b FROM json_populate_recordset(NULL::awkward, $wadup$\(json)$wadup$)")
        let stored = try server.json(database, "SELECT n, t, i::text AS i, d::text AS d, encode(b, 'hex') AS b FROM awkward ORDER BY n NULLS LAST")
        #expect(stored.count == 5)
        for (n, row) in stored.prefix(4).enumerated() {
            let row = try #require(row as? [String: Any])
            #expect(row["t"] as? String == texts[n].map { $0.replacingOccurrences(of: "\u{0}", with: "\u{FFFD}") }, "row \(n)")
            #expect(row["i"] as? String == ints[n].map(String.init), "row \(n)")
            #expect(row["d"] as? String == ["1e-300", "NaN", "Infinity", "-Infinity"][n], "row \(n)")
            #expect(row["b"] as? String == bytes[n].map { $0.map { String(format: "%02x", $0) }.joined() }, "row \(n)")
        }
        let empty = try #require(stored.last as? [String: Any])
        #expect(["n", "t", "i", "d", "b"].allSatisfy { empty[$0] is NSNull })
    }
}
