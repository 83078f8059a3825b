import Foundation
import Testing
import WADUPCore
import WADUPRuntime
import WADUPTestSupport

/// `docs/modules/ABI.md`, `Guests/C/wadup.h` and `ABI.swift` describe one ABI: this keeps them in step.
struct ABIConsistencyTests {
    let header = try! String(contentsOf: URL(fileURLWithPath: Harness.path("Guests/C/wadup.h")), encoding: .utf8)
    let document = try! String(contentsOf: URL(fileURLWithPath: Harness.path("docs/modules/ABI.md")), encoding: .utf8)

    /// The wasm type a C declaration lowers to on wasm32: 64-bit integers are i64, the rest
    /// (32-bit integers, pointers) i32.
    static func wasmType(_ declaration: Substring) -> ABI.ValueType {
        declaration.contains("int64_t") ? .i64 : .i32
    }

    @Test func theHeaderDeclaresEveryHostFunctionWithItsTypes() throws {
        let declarations = header.split(separator: "\n").filter { $0.hasPrefix("WADUP_IMPORT(") }
        var found: [ABI.HostFunction] = []
        for line in declarations {
            let name = line.split(separator: "(")[1].split(separator: ")")[0]
            let returnType = line.split(separator: ")", maxSplits: 1)[1].split(separator: "(")[0].split(separator: " ").dropLast().joined(separator: " ")
            let parameters = line.split(separator: "(", maxSplits: 2)[2].split(separator: ")")[0]
            let types = parameters == "void" ? [] : parameters.split(separator: ",").map(Self.wasmType)
            found.append(ABI.HostFunction(name: String(name), parameters: types, result: Self.wasmType(Substring(returnType))))
        }
        #expect(found == ABI.hostFunctions)
    }

    @Test func bothEnginesBindEveryHostFunctionOfTheABIInOrder() {
        #expect(HostABI.bindings.map(\.function) == ABI.hostFunctions)
    }

    @Test func theHeaderDefinesEveryErrorCode() throws {
        var codes: [String: Int32] = [:]
        for line in header.split(separator: "\n") where line.hasPrefix("#define WADUP_E_") {
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            let value = parts[2].trimmingCharacters(in: CharacterSet(charactersIn: "()"))
            codes[String(parts[1].dropFirst("WADUP_E_".count)).lowercased()] = Int32(value)
        }
        #expect(codes == Dictionary(uniqueKeysWithValues: ABIError.allCases.map { ($0.name, $0.rawValue) }))
    }

    @Test func theDocumentListsEveryFunctionErrorCodeAndFailureKind() throws {
        for function in ABI.hostFunctions {
            #expect(document.contains("| `\(function.name)` |"), "\(function.name)")
        }
        for error in ABIError.allCases {
            #expect(document.contains("| \(error.rawValue) | `\(error.name)` |"), "\(error.name)")
        }
        for kind in FailureKind.allCases {
            #expect(document.contains("| `\(kind.rawValue)` |"), "\(kind.rawValue)")
        }
        let documentedCodes = document.split(separator: "\n").filter { $0.hasPrefix("| -") }.count
        #expect(documentedCodes == ABIError.allCases.count)
    }
}
