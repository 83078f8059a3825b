import Foundation
import GRDB
import Testing
import WADUPCore
import WADUPPipeline
import WADUPTestSupport

/// The standard `office` module (Guests/Modules/office/office.py with olefile and oletools vendored
/// in office.d, on the CPython runtime) with `file_type` and `zip_parser`, through a whole run on
/// wasmtime, against independent native readers. The corpus: .doc/.docx/.odt/.rtf, .xls/.xlsx/.ods
/// and .ppt/.pptx/.odp written by LibreOffice from the same properties; an .xlsm XlsxWriter wrote
/// around the VBA project Excel saved in XlsxWriter's examples; an MSI written by msibuild; and
/// oletools' published test data (VBA in .docm and .ppt, Excel 4 macros, OLE packages, encrypted
/// documents, RTF). What the readers say: 7-Zip (a compound file's streams, where it opens it),
/// Debian's olefile 0.46 (streams and properties), `olevba -j` and `rtfobj -s all` and `oleobj`
/// (oletools 0.60.2 run natively), msoffcrypto-tool (encryption) and the standard library's XML
/// parser (docProps, meta.xml). Tests/Support/office_expected.py makes the corpus and asks them.
@Suite(.serialized)
struct OfficeModuleTests {
    struct Expected: Decodable, Sendable {
        struct SevenZip: Decodable {
            let streams: [[JSONScalar]]
            let storages: [String]
        }
        struct Olefile: Decodable {
            let streams: [[JSONScalar]]
            let properties: [[String]]
        }
        struct Olevba: Decodable {
            let macros: [[String]]
            let sources: [[String]]
            let analysis: [[String]]
        }
        let seven_zip: SevenZip?
        let olefile: Olefile?
        let olevba: Olevba?
        let encrypted: Bool?
        let oleobj: [String: String]?
        let rtfobj: [String: String]?
        let xml: [[String]]?
    }

    static let script = Harness.path("Tests/Support/office_expected.py")

    static let corpus = Result(catching: { try ReaderCorpus<Expected>(script: script, modules: ["file_type", "zip_parser", "office"]) })

    static func run(_ file: String) throws -> (db: DatabaseQueue, uuid: String, expected: Expected) {
        try corpus.get().root(file)
    }

    static func strings(_ db: DatabaseQueue, _ sql: String, _ arguments: StatementArguments = []) throws -> [String] {
        try db.strings(sql, arguments)
    }

    static var files: [String] { (try? corpus.get().files) ?? [] }
    static var compoundFiles: [String] { files.filter { (try? corpus.get().expected[$0]?.olefile) != nil } }
    static var packageDocuments: [String] { files.filter { (try? corpus.get().expected[$0]?.xml) != nil } }
    /// Documents whose macros olevba finds, but not the encrypted one (olevba decrypts it with
    /// msoffcrypto-tool and Excel's default password; the module records it as encrypted).
    static var macroDocuments: [String] {
        files.filter { file in
            guard let expected = try? corpus.get().expected[file] else { return false }
            return !(expected.olevba?.macros.isEmpty ?? true) && expected.encrypted != true
        }
    }

    @Test func everyDocumentOfTheCorpusIsReadAndNoContentFails() throws {
        let corpus = try Self.corpus.get()
        let db = try DatabaseQueue(path: corpus.output)
        #expect(try Self.strings(db, "SELECT filename || ': ' || coalesce(error_message, '') FROM __wadup_content WHERE status = 'failed'") == [])
        #expect(corpus.files.count >= 20)
        let read = try Self.strings(db, "SELECT c.filename FROM office_documents d JOIN __wadup_content c ON c.uuid = d.content_uuid WHERE c.depth = 0 ORDER BY 1")
        #expect(read == corpus.files)
        #expect(try Self.strings(db, "SELECT step || ': ' || problem FROM office_problems") == [])
    }

    @Test(arguments: compoundFiles)
    func theStreamsAreWhatSevenZipAndOlefileRead(file: String) throws {
        let (db, uuid, expected) = try Self.run(file)
        let olefile = try #require(expected.olefile)
        // Sizes and bytes: olefile, for every compound file; names: 7-Zip's where it opens the file
        // (LibreOffice's are refused by 7-Zip 26.02), else olefile's as 7-Zip would name them.
        let listed = try Self.strings(db, "SELECT path || '|' || size FROM ole_streams WHERE content_uuid = ? AND kind = 'stream'", [uuid])
        let emitted = try Self.strings(db, """
            SELECT c.filename || '|' || c.size || '|' || c.sha256 FROM __wadup_content c
            WHERE c.parent_uuid = ? AND c.filename IN (SELECT path FROM ole_streams WHERE content_uuid = ? AND kind = 'stream')
            """, [uuid, uuid])
        let native = (expected.seven_zip?.streams ?? olefile.streams).map { $0.map(\.description).joined(separator: "|") }
        #expect(listed.sorted() == native.map { $0.split(separator: "|").prefix(2).joined(separator: "|") }.sorted())
        // Identical streams are one content (dedup): each name is there with its bytes.
        #expect(Set(emitted) == Set(native))
        #expect(Set(emitted.map { $0.split(separator: "|").dropFirst().joined(separator: "|") })
                == Set(olefile.streams.map { $0.dropFirst().map(\.description).joined(separator: "|") }))
        if let sevenZip = expected.seven_zip {
            #expect(try Self.strings(db, "SELECT path FROM ole_streams WHERE content_uuid = ? AND kind = 'storage'", [uuid]).sorted() == sevenZip.storages)
        }
    }

    @Test func anMsisEncodedStreamNamesAreDecodedAs7ZipDecodesThem() throws {
        let (db, uuid, expected) = try Self.run("setup.msi")
        let names = try Self.strings(db, "SELECT path FROM ole_streams WHERE content_uuid = ?", [uuid])
        #expect(names.contains("!_Tables") && names.contains("Payload"))
        #expect(names.sorted() == (expected.seven_zip?.streams ?? []).map { $0[0].description }.sorted())
    }

    @Test(arguments: compoundFiles)
    func thePropertiesAreWhatOlefileReads(file: String) throws {
        let (db, uuid, expected) = try Self.run(file)
        let rows = try Self.strings(db, "SELECT source || '|' || name || '|' || value FROM office_properties WHERE content_uuid = ?", [uuid])
        #expect(rows.sorted() == (expected.olefile?.properties ?? []).map { $0.joined(separator: "|") }.sorted())
    }

    @Test func theLibreOfficeDocumentsCarryTheirAuthorsProperties() throws {
        for file in ["memo.doc", "sheet.xls", "deck.ppt", "memo.docx", "sheet.xlsx", "deck.pptx", "memo.odt"] {
            let (db, uuid, _) = try Self.run(file)
            let rows = try Self.strings(db, "SELECT name || '=' || value FROM office_properties WHERE content_uuid = ? AND name IN ('title', 'author')", [uuid])
            #expect(Set(rows) == ["title=Quarterly report", "author=Alice Analyst"], "\(file)")
        }
    }

    @Test(arguments: packageDocuments)
    func anOoxmlOrOpenDocumentsPropertiesAreWhatItsXmlSays(file: String) throws {
        let (db, uuid, expected) = try Self.run(file)
        let rows = try Self.strings(db, "SELECT source || '|' || value FROM office_properties WHERE content_uuid = ?", [uuid])
        #expect(rows.sorted() == (expected.xml ?? []).map { "\($0[0])|\($0[2])" }.sorted())
        // The names olefile has: core.xml's creator and meta.xml's initial-creator are the author.
        for native in expected.xml ?? [] where (native[0], native[1]) == ("core.xml", "creator") || (native[0], native[1]) == ("meta.xml", "initial-creator") {
            #expect(try Self.strings(db, "SELECT value FROM office_properties WHERE content_uuid = ? AND name = 'author'", [uuid]) == [native[2]])
        }
    }

    /// An OOXML document's macros are in its vbaProject.bin, which zip_parser emits: the rows are
    /// that sub-content's.
    static func macroHolder(_ db: DatabaseQueue, _ uuid: String) throws -> String {
        try strings(db, "SELECT uuid FROM __wadup_content WHERE parent_uuid = ? AND filename LIKE '%vbaProject.bin'", [uuid]).first ?? uuid
    }

    @Test(arguments: macroDocuments)
    func theMacrosAndTheirAnalysisAreWhatOlevbaReports(file: String) throws {
        let (db, document, expected) = try Self.run(file)
        let olevba = try #require(expected.olevba)
        let uuid = try Self.macroHolder(db, document)
        #expect(try Self.strings(db, "SELECT name || '|' || stream FROM vba_modules WHERE content_uuid = ?", [uuid]).sorted()
                == olevba.macros.map { $0.joined(separator: "|") }.sorted())
        let sources = try Self.strings(db, """
            SELECT m.name || '|' || m.stream || '|' || c.sha256 FROM vba_modules m JOIN __wadup_content c
            ON c.parent_uuid = m.content_uuid AND c.filename = m.name WHERE m.content_uuid = ?
            """, [uuid])
        #expect(Set(sources) == Set(olevba.sources.map { $0.joined(separator: "|") }))
        let indicators = try Self.strings(db, "SELECT kind || '|' || keyword || '|' || description FROM vba_indicators WHERE content_uuid = ?", [uuid])
        #expect(indicators.sorted() == olevba.analysis.map { $0.joined(separator: "|") }.sorted())
    }

    @Test func theCorpusHasVbaInWordExcelPowerPointAndExcel4Macros() {
        #expect(Set(Self.macroDocuments).isSuperset(of: ["oleform-PR314.docm", "macros.xlsm", "sample_with_vba.ppt", "excel4_sample_macro.xls"]))
    }

    @Test(arguments: compoundFiles)
    func encryptionIsWhatMsoffcryptoSays(file: String) throws {
        let (db, uuid, expected) = try Self.run(file)
        #expect(try Self.strings(db, "SELECT encrypted FROM office_documents WHERE content_uuid = ?", [uuid]) == [expected.encrypted == true ? "1" : "0"])
    }

    @Test func anEncryptedDocumentIsARowNotAFailure() throws {
        for file in ["encrypted.docx", "encrypted.xls", "encrypted.ppt", "autostart-encrypt-standardpassword.xls"] {
            let (db, uuid, _) = try Self.run(file)
            #expect(try Self.strings(db, "SELECT status FROM __wadup_content WHERE uuid = ?", [uuid]) == ["success"])
            #expect(try Self.strings(db, "SELECT encrypted FROM office_documents WHERE content_uuid = ?", [uuid]) == ["1"], "\(file)")
        }
    }

    /// A package's file is a child of the document, or a grandchild when the package is in an OLE
    /// object a presentation keeps compressed (`ole-object-N`, a compound file read in turn).
    @Test(arguments: compoundFiles)
    func anOlePackagesFileIsWhatOleobjSaves(file: String) throws {
        let (db, uuid, expected) = try Self.run(file)
        let saved = expected.oleobj ?? [:]
        let found = try Self.strings(db, """
            WITH RECURSIVE below(uuid, depth) AS (
                SELECT uuid, 1 FROM __wadup_content WHERE parent_uuid = ?
                UNION SELECT c.uuid, below.depth + 1 FROM __wadup_content c JOIN below ON c.parent_uuid = below.uuid WHERE below.depth < 2)
            SELECT c.filename || '|' || c.sha256 FROM __wadup_content c JOIN below ON below.uuid = c.uuid
            WHERE c.filename NOT IN (SELECT path FROM ole_streams WHERE content_uuid = c.parent_uuid)
              AND c.filename NOT IN (SELECT name FROM vba_modules WHERE content_uuid = c.parent_uuid)
              AND c.filename NOT LIKE 'ole-object-%'
            """, [uuid])
        #expect(Set(found) == Set(saved.map { "\($0.key)|\($0.value)" }))
        if file == "sample_with_lnk_file.doc" { #expect(saved.keys.sorted() == ["calc.lnk"]) }
        if file == "embedded-simple-2007.ppt" {
            #expect(saved.keys.sorted() == ["simple-text-file.txt"])
            #expect(try Self.strings(db, "SELECT filename FROM __wadup_content WHERE parent_uuid = ? AND filename LIKE 'ole-object-%'", [uuid]) == ["ole-object-1"])
        }
    }

    @Test(arguments: ["issue_251.rtf", "package-object.rtf", "memo.rtf"])
    func anRtfsObjectsAreWhatRtfobjSaves(file: String) throws {
        let (db, uuid, expected) = try Self.run(file)
        let saved = try #require(expected.rtfobj)
        let children = try Self.strings(db, "SELECT filename || '|' || sha256 FROM __wadup_content WHERE parent_uuid = ?", [uuid])
        #expect(Set(children) == Set(saved.map { "\($0.key)|\($0.value)" }))
        #expect(try Self.strings(db, "SELECT count(*) FROM rtf_objects WHERE content_uuid = ?", [uuid]) == [String(saved.count)])
        if file == "package-object.rtf" {
            #expect(try Self.strings(db, "SELECT kind || '|' || filename FROM rtf_objects WHERE content_uuid = ?", [uuid]) == ["package|calc.lnk"])
        }
    }

    /// `wadup` without `--modules` runs the standard set beside the binary (`modules/`, where
    /// build-guests.sh puts office.py and office.d): a macro workbook's VBA is found through zip_parser.
    @Test func theDefaultModuleSetReadsOfficeDocumentsWithoutTheModulesFlag() throws {
        let corpus = try Self.corpus.get()
        let inputs = Harness.temporaryDirectory()
        try FileManager.default.copyItem(atPath: corpus.inputs + "/macros.xlsm", toPath: inputs + "/macros.xlsm")
        let output = Harness.temporaryDirectory() + "/default.db"
        _ = try Command(Harness.wadupBinary, ["--input", inputs, "--output", output]).output()
        let db = try DatabaseQueue(path: output)
        #expect(try Self.strings(db, "SELECT name FROM vba_modules ORDER BY name") == ["Module1.bas", "Sheet1.cls", "Sheet2.cls", "ThisWorkbook.cls", "ThisWorkbook1.cls"])
        #expect(try Self.strings(db, "SELECT value FROM office_properties WHERE name = 'author'") == ["Carol Coder"])
    }
}
