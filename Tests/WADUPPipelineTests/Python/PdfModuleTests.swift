import Foundation
import GRDB
import Testing
import WADUPCore
import WADUPPipeline
import WADUPTestSupport

/// The standard `pdf` module (Guests/Modules/pdf/pdf.py with pypdf vendored in pdf.d, on the
/// CPython runtime) with `file_type` and `zip_parser`, through a whole run on wasmtime, against
/// independent native readers. The corpus: the machine's real PDFs (/usr/share/doc manuals made
/// by TeX and DocBook tool chains), files attached by poppler's `pdfattach`, pages selected by
/// `qpdf`, JavaScript, URI links, a file-attachment annotation and an XFA form written by `qpdf`'s
/// JSON round trip, AES-256 and RC4 encryption by `qpdf --encrypt`, a document cut in half and one
/// with a broken cross-reference table and `#xx`-escaped names. What the readers say: poppler's
/// `pdfinfo` (the document row), `pdfdetach -list`/`-saveall` (embedded files), `qpdf --json`
/// (links, JavaScript, XFA) and pdfid 1.1.3 (keyword counts). Tests/Support/pdf_expected.py makes
/// the corpus and asks them.
@Suite(.serialized)
struct PdfModuleTests {
    struct Expected: Decodable, Sendable {
        struct Info: Decodable {
            let version: String?
            let pages: Int?
            let encrypted: Bool
            let producer, creator, title, author, created, modified: String?
        }
        struct Detach: Decodable {
            let names: [String]
            let files: [String: String]
        }
        struct Qpdf: Decodable {
            let links: [[JSONScalar]]
            let scripts: [String]
            let xfa: String?
        }
        let info: Info?
        let detach: Detach?
        let qpdf: Qpdf?
        let pdfid: [String: Int]
    }

    /// The keywords the module counts (pdfid's, and /URI).
    static let keywords = ["obj", "endobj", "stream", "endstream", "xref", "trailer", "startxref", "/Page", "/Encrypt", "/ObjStm", "/JS",
                           "/JavaScript", "/AA", "/OpenAction", "/AcroForm", "/JBIG2Decode", "/RichMedia", "/Launch", "/EmbeddedFile", "/XFA",
                           "/URI", "/Colors > 2^24"]

    static let script = Harness.path("Tests/Support/pdf_expected.py")

    static let corpus = Result(catching: { try ReaderCorpus<Expected>(script: script, modules: ["file_type", "zip_parser", "pdf"]) })

    static func run(_ file: String) throws -> (db: DatabaseQueue, uuid: String, expected: Expected) {
        try corpus.get().root(file)
    }

    static func strings(_ db: DatabaseQueue, _ sql: String, _ arguments: StatementArguments = []) throws -> [String] {
        try db.strings(sql, arguments)
    }

    /// The made files and the machine's manuals (whichever /usr/share/doc has).
    static var files: [String] { (try? corpus.get().files) ?? [] }

    @Test func everyPdfOfTheCorpusIsReadAndNoContentFails() throws {
        let corpus = try Self.corpus.get()
        let db = try DatabaseQueue(path: corpus.output)
        #expect(try Self.strings(db, "SELECT filename || ': ' || coalesce(error_message, '') FROM __wadup_content WHERE status = 'failed'") == [])
        #expect(corpus.files.count >= 10)
        let read = try Self.strings(db, "SELECT c.filename FROM pdf_documents d JOIN __wadup_content c ON c.uuid = d.content_uuid WHERE c.depth = 0 ORDER BY 1")
        #expect(read == corpus.files)
    }

    @Test(arguments: files)
    func theDocumentRowIsWhatPdfinfoReads(file: String) throws {
        let (db, uuid, expected) = try Self.run(file)
        guard let info = expected.info, file != "encrypted-aes.pdf" else { return }  // pdfinfo could not open it: the malformed tests
        let row = try Self.strings(db, """
            SELECT coalesce(version, '∅') || '|' || coalesce(pages, '∅') || '|' || encrypted || '|' || coalesce(producer, '∅') || '|' ||
                   coalesce(creator, '∅') || '|' || coalesce(title, '∅') || '|' || coalesce(author, '∅') || '|' || coalesce(created, '∅') || '|' ||
                   coalesce(modified, '∅') FROM pdf_documents WHERE content_uuid = ?
            """, [uuid])
        let fields: [String?] = [info.version, info.pages.map(String.init), info.encrypted ? "1" : "0", info.producer, info.creator, info.title,
                                 info.author, info.created, info.modified]
        #expect(row == [fields.map { $0 ?? "∅" }.joined(separator: "|")])
    }

    @Test(arguments: files)
    func keywordCountsAreWhatPdfidCounts(file: String) throws {
        let (db, uuid, expected) = try Self.run(file)
        let rows = try db.read {
            try Row.fetchAll($0, sql: "SELECT keyword, count FROM pdf_features WHERE content_uuid = ?", arguments: [uuid])
                .map { "\($0["keyword"] as String)=\($0["count"] as Int)" }
        }
        let native = Self.keywords.compactMap { k in expected.pdfid[k].flatMap { $0 > 0 ? "\(k)=\($0)" : nil } }
        #expect(rows.sorted() == native.sorted())
    }

    @Test(arguments: ["attached.pdf", "active.pdf", "broken-xref.pdf"])
    func embeddedFilesAreWhatPdfdetachSaves(file: String) throws {
        let (db, uuid, expected) = try Self.run(file)
        let detach = try #require(expected.detach)
        #expect(!detach.names.isEmpty)
        let children = try Self.strings(db, "SELECT filename || '|' || sha256 FROM __wadup_content WHERE parent_uuid = ?", [uuid])
        let embedded = children.filter { !$0.hasPrefix("javascript-") && !$0.hasPrefix("xfa.xml|") }
        #expect(embedded.sorted() == detach.names.map { "\($0)|\(detach.files[$0] ?? "")" }.sorted())
    }

    @Test func aZipAttachedToAPdfIsUnpackedInTurn() throws {
        let (db, uuid, _) = try Self.run("attached.pdf")
        let zip = try Self.strings(db, "SELECT uuid FROM __wadup_content WHERE parent_uuid = ? AND filename = 'bundle.zip'", [uuid])
        #expect(try Self.strings(db, "SELECT path FROM zip_entries WHERE content_uuid = ? ORDER BY path", [zip.first ?? ""]) == ["data.bin", "inner/readme.txt"])
    }

    @Test(arguments: ["active.pdf", "broken-xref.pdf", "libtasn1.pdf", "pages.pdf", "encrypted-rc4.pdf"])
    func linksJavaScriptAndTheXfaFormAreWhatQpdfShows(file: String) throws {
        guard Self.files.contains(file) else { return }
        let (db, uuid, expected) = try Self.run(file)
        let qpdf = try #require(expected.qpdf)
        let links = try Self.strings(db, "SELECT page || '|' || uri FROM pdf_links WHERE content_uuid = ?", [uuid])
        #expect(links.sorted() == qpdf.links.map { $0.map(\.description).joined(separator: "|") }.sorted())
        let scripts = try Self.strings(db, "SELECT sha256 FROM __wadup_content WHERE parent_uuid = ? AND filename LIKE 'javascript-%.js'", [uuid])
        #expect(scripts.sorted() == qpdf.scripts)
        let xfa = try Self.strings(db, "SELECT sha256 FROM __wadup_content WHERE parent_uuid = ? AND filename = 'xfa.xml'", [uuid])
        #expect(xfa == (qpdf.xfa.map { [$0] } ?? []))
        if file == "active.pdf" { #expect(qpdf.links.count == 2 && qpdf.scripts.count == 3 && qpdf.xfa != nil) }
    }

    @Test(arguments: ["truncated.pdf", "broken-xref.pdf"])
    func aMalformedPdfIsReadAsFarAsItGoesWithItsProblemsRecorded(file: String) throws {
        let (db, uuid, expected) = try Self.run(file)
        #expect(try Self.strings(db, "SELECT status FROM __wadup_content WHERE uuid = ?", [uuid]) == ["success"])
        #expect(try Self.strings(db, "SELECT count(*) FROM pdf_documents WHERE content_uuid = ?", [uuid]) == ["1"])
        #expect(try Self.strings(db, "SELECT count(*) FROM pdf_problems WHERE content_uuid = ?", [uuid]).first.flatMap(Int.init) ?? 0 > 0)
        // Counted lexically even where nothing parses.
        #expect(try Self.strings(db, "SELECT count FROM pdf_features WHERE content_uuid = ? AND keyword = 'obj'", [uuid]) == [String(expected.pdfid["obj"] ?? -1)])
        if file == "broken-xref.pdf" {
            // pypdf rebuilt the cross-reference table: the whole document, as pdfinfo reads it.
            #expect(try Self.strings(db, "SELECT pages FROM pdf_documents WHERE content_uuid = ?", [uuid]) == [String(expected.info?.pages ?? -1)])
        }
    }

    @Test func anAesEncryptedPdfIsRecordedAsEncrypted() throws {
        let (db, uuid, expected) = try Self.run("encrypted-aes.pdf")
        #expect(expected.info?.encrypted == true)
        #expect(try Self.strings(db, "SELECT encrypted || '|' || version FROM pdf_documents WHERE content_uuid = ?", [uuid]) == ["1|\(expected.info?.version ?? "")"])
        #expect(try Self.strings(db, "SELECT problem FROM pdf_problems WHERE content_uuid = ?", [uuid]).contains { $0.contains("cryptography") })
    }

    /// `wadup` without `--modules` runs the standard set beside the binary (`modules/`, where
    /// build-guests.sh puts pdf.py and pdf.d) on the runtime beside it (`python/`).
    @Test func theDefaultModuleSetReadsPdfsWithoutTheModulesFlag() throws {
        let corpus = try Self.corpus.get()
        let inputs = Harness.temporaryDirectory()
        try FileManager.default.copyItem(atPath: corpus.inputs + "/attached.pdf", toPath: inputs + "/attached.pdf")
        let output = Harness.temporaryDirectory() + "/default.db"
        _ = try Command(Harness.wadupBinary, ["--input", inputs, "--output", output]).output()
        let db = try DatabaseQueue(path: output)
        #expect(try Self.strings(db, "SELECT mime FROM __wadup_content WHERE depth = 0") == ["application/pdf"])
        #expect(try Self.strings(db, "SELECT count(*) FROM pdf_documents") == ["1"])
        #expect(Set(try Self.strings(db, "SELECT path FROM zip_entries")) == ["data.bin", "inner/readme.txt"])
    }
}
