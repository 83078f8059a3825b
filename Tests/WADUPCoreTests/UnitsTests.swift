import Testing
import WADUPCore

/// Sizes and durations as the options take them (`--max-memory 256MiB`, `--timeout 1m30s`).
struct UnitsTests {
    @Test(arguments: [
        ("4096", 4096), ("256MiB", 256 << 20), ("2GiB", 2 << 30), ("1.5GiB", 3 << 29), ("64 kB", 64 * 1000),
        ("2GB", 2 * 1000 * 1000 * 1000), ("1tib", 1 << 40), ("10B", 10),
    ])
    func sizesAcceptSIAndIECUnits(text: String, bytes: Int) {
        #expect(Units.bytes(text) == bytes)
    }

    @Test(arguments: ["", "-1", "1.2.3", "10XB", "0.5B", "MiB", "99999999999TiB"])
    func malformedSizesAreRefused(text: String) {
        #expect(Units.bytes(text) == nil)
    }

    @Test(arguments: [("30", 30.0), ("2.5", 2.5), ("30s", 30), ("5m", 300), ("1h30m", 5400), ("500ms", 0.5), ("1m30s", 90)])
    func durationsAcceptSecondsMinutesAndHours(text: String, seconds: Double) {
        #expect(Units.seconds(text) == seconds)
    }

    @Test(arguments: ["", "5x", "m", "1h30", "--5s"])
    func malformedDurationsAreRefused(text: String) {
        #expect(Units.seconds(text) == nil)
    }
}
