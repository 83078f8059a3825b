import Foundation
import Testing
import WADUPPipeline

/// The text form of content uuids written to the database.
struct UUIDTextTests {
    @Test func theTextIsFoundationsLowercased() {
        var uuids = (0..<1000).map { _ in UUID() }
        uuids.append(UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)))
        uuids.append(UUID(uuid: (255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255)))
        for uuid in uuids { #expect(uuid.lowercasedString == uuid.uuidString.lowercased()) }
    }
}
