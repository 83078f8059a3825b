import Foundation
import GRDB
import Testing
import WADUPCore
import WADUPPipeline
import WADUPTestSupport

/// The standard `mail` module (Guests/Modules/mail/mail.py, on the CPython runtime) with
/// `file_type`, `zip_parser` and `archive`, through a whole run on wasmtime, against independent
/// readers: mail made by Python's own `email` and `mailbox` packages (several charsets, RFC 2047
/// and RFC 2231, quoted-printable and base64, a ZIP, a nested message with its own attachment, an
/// mbox of 300 messages, a message cut short), read back by Debian's native Python `email` under
/// `email.policy.default` (headers, the message row, every leaf part, defects), `mailbox.mbox`
/// (every message's bytes), `zipfile` (the entries of every ZIP) and `ripmime` when installed
/// (every named attachment's bytes). Tests/Support/mail_expected.py makes the mail and asks them.
/// Outlook `.msg` and TNEF files are real ones from pinned Debian sources, read by `msgconvert`
/// and `tnef` (Tests/Support/msg_expected.py fetches them and asks the readers).
@Suite(.serialized)
struct MailModuleTests {
    /// What the native readers say about one file, as mail_expected.py prints it.
    struct Expected: Decodable {
        struct Message: Decodable {
            let messageId, date, sender, recipients, cc, subject, inReplyTo, xMailer: String?
            let receivedHops: Int
        }
        struct Leaf: Decodable {
            let contentType: String
            let filename: String?
            let size: Int
            let sha256: String
        }
        let headers: [[String]]?
        let message: Message?
        let leaves: [Leaf]?
        let defects: [String]?
        let zipEntries: [String]?
        let ripmime: [String: String]?
        let messages: [String]?
    }

    static let script = Harness.path("Tests/Support/mail_expected.py")

    /// The corpus and one run of it (made once per test process: the tests only read them): the
    /// input folder, the database and what the native readers say, by file name.
    static let corpus: Result<(inputs: String, output: String, expected: [String: Expected]), any Error> = Result(catching: {
        let inputs = Harness.temporaryDirectory() + "/in"
        _ = try Command("/usr/bin/python3", [script, "--make", inputs]).output()
        let files = try FileManager.default.contentsOfDirectory(atPath: inputs).sorted().map { "\(inputs)/\($0)" }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let expected = try decoder.decode([String: Expected].self, from: Data(try Command("/usr/bin/python3", [script] + files).output().utf8))
        let pipeline = try Harness.pipeline(
            modulesDirectory: try BuiltModules.folder(["file_type", "zip_parser", "archive", "mail"]), input: inputs, threads: 2,
            engine: .wasmtime, python: try BuiltModules.python)
        let outcome = try Harness.outcome(of: pipeline)
        return (inputs, outcome.output, expected)
    })

    /// The run's database and what the readers say about `file`.
    static func run(_ file: String) throws -> (db: DatabaseQueue, expected: Expected) {
        let corpus = try corpus.get()
        guard let expected = corpus.expected[file] else { throw SupportError("mail_expected.py said nothing about \(file)") }
        return (try DatabaseQueue(path: corpus.output), expected)
    }

    /// The input `file` and every content under it, as a recursive query's first part.
    static let tree = """
        WITH RECURSIVE tree(uuid) AS (
            SELECT uuid FROM __wadup_content WHERE filename = ? AND depth = 0
            UNION ALL SELECT c.uuid FROM __wadup_content c JOIN tree t ON c.parent_uuid = t.uuid)
        """

    static func strings(_ db: DatabaseQueue, _ sql: String, _ arguments: StatementArguments = []) throws -> [String] {
        try db.read { try String.fetchAll($0, sql: sql, arguments: arguments) }
    }

    static func uuid(of file: String, in db: DatabaseQueue) throws -> String {
        try strings(db, "SELECT uuid FROM __wadup_content WHERE filename = ? AND depth = 0", [file]).first ?? ""
    }

    @Test func everyContentOfTheCorpusSucceeds() throws {
        let corpus = try Self.corpus.get()
        let db = try DatabaseQueue(path: corpus.output)
        #expect(try Self.strings(db, "SELECT filename || ': ' || coalesce(error_message, '') FROM __wadup_content WHERE status = 'failed'") == [])
        #expect(try Self.strings(db, "SELECT accepted FROM __wadup_modules WHERE name = 'mail'").first.flatMap(Int.init) ?? 0 > 300)
    }

    @Test(arguments: ["multipart.eml", "latin1.eml"])
    func headersAndTheMessageRowAreWhatNativeEmailReads(file: String) throws {
        let (db, expected) = try Self.run(file)
        let uuid = try Self.uuid(of: file, in: db)
        let headers = try db.read {
            try Row.fetchAll($0, sql: "SELECT name, value FROM mail_headers WHERE content_uuid = ? ORDER BY rowid", arguments: [uuid])
                .map { [$0["name"] as String, $0["value"] as String] }
        }
        #expect(headers == expected.headers)
        let message = try #require(expected.message)
        let row = try Self.strings(db, """
            SELECT coalesce(message_id, '∅') || '|' || coalesce(date, '∅') || '|' || coalesce(sender, '∅') || '|' || coalesce(recipients, '∅') || '|' ||
                   coalesce(cc, '∅') || '|' || coalesce(subject, '∅') || '|' || coalesce(in_reply_to, '∅') || '|' || coalesce(x_mailer, '∅') || '|' ||
                   received_hops FROM mail_messages WHERE content_uuid = ?
            """, [uuid])
        let fields = [message.messageId, message.date, message.sender, message.recipients, message.cc, message.subject, message.inReplyTo, message.xMailer]
        #expect(row == [(fields.map { $0 ?? "∅" } + [String(message.receivedHops)]).joined(separator: "|")])
    }

    @Test(arguments: ["multipart.eml", "latin1.eml"])
    func everyPartAndAttachmentIsWhatNativeEmailAndRipmimeRead(file: String) throws {
        let (db, expected) = try Self.run(file)
        // The leaf parts native `email` walks (nested messages included) are the leaf rows of this
        // message and of the messages emitted under it, and each one's bytes are a content under it.
        let leaves = try Self.strings(db, Self.tree + """
            SELECT content_type || '|' || coalesce(filename, '∅') || '|' || size FROM mail_parts
            WHERE content_uuid IN tree AND content_type NOT LIKE 'multipart/%' AND content_type <> 'message/rfc822'
            """, [file])
        #expect(leaves.sorted() == (expected.leaves ?? []).map { "\($0.contentType)|\($0.filename ?? "∅")|\($0.size)" }.sorted())
        let contents = Set(try Self.strings(db, Self.tree + "SELECT filename || '|' || sha256 FROM __wadup_content WHERE uuid IN tree", [file]))
        let hashes = Set(contents.map { String($0.split(separator: "|").last ?? "") })
        for leaf in expected.leaves ?? [] where leaf.size > 0 {
            #expect(hashes.contains(leaf.sha256), "\(leaf.contentType) \(leaf.filename ?? "")")
            if let name = leaf.filename { #expect(contents.contains("\(name)|\(leaf.sha256)"), "\(name)") }
        }
        // ripmime's extraction: every named attachment and nested message, at any depth, the same bytes.
        if let ripmime = expected.ripmime {
            #expect(!ripmime.isEmpty || file == "latin1.eml")
            for (name, sha256) in ripmime { #expect(contents.contains("\(name)|\(sha256)"), "ripmime's \(name)") }
        } else {
            Issue.record("ripmime is not installed (scripts/install-deps.sh installs it)")
        }
    }

    @Test func everyMessageOfAnMboxIsEmittedAndAZipInAMessageInsideItIsUnpacked() throws {
        let (db, expected) = try Self.run("mailbox.mbox")
        let uuid = try Self.uuid(of: "mailbox.mbox", in: db)
        let messages = try #require(expected.messages)
        #expect(messages.count == 300)
        #expect(try Self.strings(db, "SELECT count(*) FROM mail_mbox_messages WHERE content_uuid = ?", [uuid]) == ["300"])
        let children = try Self.strings(db, "SELECT filename || '|' || sha256 FROM __wadup_content WHERE parent_uuid = ? ORDER BY filename", [uuid])
        #expect(children == messages.enumerated().map { String(format: "message-%04d.eml|", $0.offset + 1) + $0.element })
        // Each message was read in turn: a message row each, and the nested messages' own.
        #expect(try Self.strings(db, "SELECT count(*) FROM mail_messages WHERE content_uuid IN (SELECT uuid FROM __wadup_content WHERE parent_uuid = ?)", [uuid]) == ["300"])
        // Every ZIP entry, in a message or in a message attached to one, is a content under the mbox
        // (the nested messages' identical read-me files as duplicates of the first).
        let entries = try #require(expected.zipEntries)
        #expect(entries.count > 20)
        let unpacked = Set(try Self.strings(db, Self.tree + "SELECT path FROM zip_entries WHERE content_uuid IN tree", ["mailbox.mbox"]))
        let named = Set(try Self.strings(db, Self.tree + "SELECT filename FROM __wadup_content WHERE uuid IN tree AND status IN ('success', 'duplicate')", ["mailbox.mbox"]))
        for entry in entries {
            #expect(unpacked.contains(entry) && named.contains(entry), "\(entry)")
        }
        #expect(entries.contains { $0.hasPrefix("invoice-B") }, "a ZIP in a message in a message in the mbox")
    }

    /// A nested message sent base64 (RFC 2046 forbids it, mailers do it) is emitted decoded, the
    /// bytes ripmime decodes, and read as a message in turn.
    @Test func aNestedMessageSentBase64IsEmittedDecodedAndReadInTurn() throws {
        let (db, expected) = try Self.run("encoded.eml")
        let ripmime = try #require(expected.ripmime)
        #expect(ripmime.keys.contains("reported.eml") && ripmime.keys.contains("invoice-E1.zip"), "\(ripmime)")
        let contents = Set(try Self.strings(db, Self.tree + "SELECT filename || '|' || sha256 FROM __wadup_content WHERE uuid IN tree", ["encoded.eml"]))
        for (name, sha256) in ripmime { #expect(contents.contains("\(name)|\(sha256)"), "ripmime's \(name)") }
        #expect(try Self.strings(db, Self.tree + """
            SELECT m.subject FROM mail_messages m JOIN __wadup_content c ON c.uuid = m.content_uuid
            WHERE c.uuid IN tree AND c.filename = 'reported.eml'
            """, ["encoded.eml"]) == ["Fwd: invoice E1"])
    }

    /// `wadup` without `--modules` runs the standard set beside the binary (`modules/`, where
    /// build-guests.sh puts mail.py) on the runtime beside it (`python/`).
    @Test func theDefaultModuleSetReadsMailWithoutTheModulesFlag() throws {
        let corpus = try Self.corpus.get()
        let inputs = Harness.temporaryDirectory()
        try FileManager.default.copyItem(atPath: corpus.inputs + "/multipart.eml", toPath: inputs + "/multipart.eml")
        let output = Harness.temporaryDirectory() + "/default.db"
        _ = try Command(Harness.wadupBinary, ["--input", inputs, "--output", output]).output()
        let db = try DatabaseQueue(path: output)
        #expect(try Self.strings(db, "SELECT name FROM __wadup_modules WHERE name = 'mail'") == ["mail"])
        #expect(try Self.strings(db, "SELECT c.filename FROM mail_messages m JOIN __wadup_content c ON c.uuid = m.content_uuid ORDER BY 1") == [
            "forwarded.eml", "multipart.eml",
        ])
        // The attachments were typed and unpacked by the other standard modules.
        #expect(try Self.strings(db, "SELECT mime FROM __wadup_content WHERE filename = 'archive.zip'") == ["application/zip"])
        #expect(Set(try Self.strings(db, "SELECT path FROM zip_entries")) == ["a.txt", "dir/b.bin", "invoice-N1.txt", "docs/readme-N1.txt"])
    }

    @Test func aMalformedMessageIsReadAsFarAsItGoesWithItsDefectsRecorded() throws {
        let (db, expected) = try Self.run("broken.eml")
        let uuid = try Self.uuid(of: "broken.eml", in: db)
        #expect(try Self.strings(db, "SELECT status FROM __wadup_content WHERE uuid = ?", [uuid]) == ["success"])
        let defects = try Self.strings(db, "SELECT defect FROM mail_defects WHERE content_uuid = ? AND coalesce(detail, '') NOT LIKE 'header %'", [uuid])
        let native = try #require(expected.defects)
        #expect(native.contains("CloseBoundaryNotFoundDefect") && native.contains("InvalidBase64PaddingDefect"), "\(native)")
        #expect(defects.sorted() == native.sorted())
        // The attachment cut short is emitted as far as native email decodes it.
        let cut = try #require(expected.leaves?.first { $0.filename == "cut.bin" })
        #expect(try Self.strings(db, "SELECT sha256 FROM __wadup_content WHERE parent_uuid = ? AND filename = 'cut.bin'", [uuid]) == [cut.sha256])
    }

    // Outlook .msg and TNEF

    /// What msgconvert (a .msg) or tnef (a TNEF stream) says about one file, as msg_expected.py prints it.
    struct OutlookExpected: Decodable {
        struct Message: Decodable {
            let messageId, date, sender, recipients, cc, subject: String?
            let receivedHops: Int
        }
        struct Embedded: Decodable {
            let messageId, subject, recipients: String?
        }
        let missing: String?
        let sent: Bool?
        let embedded: [Embedded]?
        let message: Message?
        let headers: [[String]]?
        let bodies: [String: String]?
        let attachments: [String: String]?
        let tnef: [String: String]?
    }

    static let msgScript = Harness.path("Tests/Support/msg_expected.py")
    static let msgFiles = ["charset.msg", "embedded.msg", "gpg_signed.msg", "plain_jpeg_attached.msg", "plain_uc_unsent.msg", "plain_uc_wc_unsent.msg", "plain_unsent.msg"]
    static let tnefFiles = ["long-filename.tnef", "missing-filenames.tnef", "multi-value-attribute.tnef", "one-file.tnef", "rtf.tnef", "winmail.dat"]

    /// The real files (fetched once into the build cache), one run of them with `file_type` and
    /// `mail`, and what the readers say, by file name.
    static let outlook: Result<(inputs: String, output: String, modules: String, expected: [String: OutlookExpected]), any Error> = Result(catching: {
        let inputs = Harness.temporaryDirectory() + "/outlook"
        _ = try Command("/usr/bin/python3", [msgScript, "--fetch", inputs]).output()
        let files = try FileManager.default.contentsOfDirectory(atPath: inputs).sorted()
        guard files == (msgFiles + tnefFiles).sorted() else { throw SupportError("msg_expected.py --fetch gave \(files)") }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let expected = try decoder.decode([String: OutlookExpected].self, from: Data(try Command("/usr/bin/python3", [msgScript] + files.map { "\(inputs)/\($0)" }).output().utf8))
        let modules = try BuiltModules.folder(["file_type", "mail"])
        let pipeline = try Harness.pipeline(modulesDirectory: modules, input: inputs, threads: 2, engine: .wasmtime, python: try BuiltModules.python)
        let outcome = try Harness.outcome(of: pipeline)
        return (inputs, outcome.output, modules, expected)
    })

    static func outlookRun(_ file: String) throws -> (db: DatabaseQueue, uuid: String, expected: OutlookExpected) {
        let corpus = try outlook.get()
        guard let expected = corpus.expected[file] else { throw SupportError("msg_expected.py said nothing about \(file)") }
        if let missing = expected.missing { throw SupportError("\(missing) is not installed (scripts/install-deps.sh installs it)") }
        let db = try DatabaseQueue(path: corpus.output)
        return (db, try uuid(of: file, in: db), expected)
    }

    /// `name|sha256` of every content emitted from `uuid`.
    static func children(_ db: DatabaseQueue, _ uuid: String) throws -> Set<String> {
        Set(try strings(db, "SELECT filename || '|' || sha256 FROM __wadup_content WHERE parent_uuid = ?", [uuid]))
    }

    @Test func everyOutlookMessageAndTNEFStreamIsReadWithoutAFailure() throws {
        let corpus = try Self.outlook.get()
        let db = try DatabaseQueue(path: corpus.output)
        #expect(try Self.strings(db, "SELECT filename || ': ' || coalesce(error_message, '') FROM __wadup_content WHERE status = 'failed'") == [])
        let read = try Self.strings(db, """
            SELECT DISTINCT c.filename FROM mail_messages m JOIN __wadup_content c ON c.uuid = m.content_uuid WHERE c.depth = 0 ORDER BY 1
            """)
        #expect(read == (Self.msgFiles + Self.tnefFiles).sorted())
        // file_type's types, which the manifest dispatches on, for both formats.
        #expect(Set(try Self.strings(db, "SELECT mime FROM __wadup_content WHERE depth = 0 AND filename LIKE '%.msg'")) == ["application/vnd.ms-outlook"])
        #expect(Set(try Self.strings(db, "SELECT mime FROM __wadup_content WHERE depth = 0 AND filename NOT LIKE '%.msg'")) == ["application/vnd.ms-tnef"])
        // A PGP-signed message's multipart/signed attachment is emitted as mail and read in turn.
        #expect(try Self.strings(db, "SELECT filename FROM __wadup_content WHERE filename = 'attachment-0.eml'") == ["attachment-0.eml"])
        #expect(try Self.strings(db, """
            SELECT p.content_type FROM mail_parts p JOIN __wadup_content c ON c.uuid = p.content_uuid
            WHERE c.filename = 'attachment-0.eml' ORDER BY p.part
            """) == ["multipart/signed", "text/plain", "application/pgp-signature"])
        // The compressed RTF bodies decompressed with their CRC right: no defect at all in these files.
        #expect(try Self.strings(db, "SELECT part || ' ' || defect || ' ' || coalesce(detail, '') FROM mail_defects") == [])
    }

    /// With `office` in the run (the default set), a .msg's streams are emitted too; the one of
    /// transport headers is typed `message/rfc822`, and `mail` must not read it as a message again.
    @Test func aMessagesTransportHeadersStreamThatOfficeEmitsIsNotASecondMessage() throws {
        let corpus = try Self.outlook.get()
        let inputs = Harness.temporaryDirectory()
        for file in Self.msgFiles { try FileManager.default.copyItem(atPath: "\(corpus.inputs)/\(file)", toPath: "\(inputs)/\(file)") }
        let pipeline = try Harness.pipeline(
            modulesDirectory: try BuiltModules.folder(["file_type", "office", "mail"]), input: inputs, threads: 2, engine: .wasmtime,
            python: try BuiltModules.python)
        let db = try DatabaseQueue(path: try Harness.outcome(of: pipeline).output)
        let headers = try Self.strings(db, "SELECT count(*) FROM __wadup_content WHERE filename LIKE '__substg1.0_007D%'")
        #expect(Int(headers.first ?? "0") ?? 0 > 0)
        let messages = try Self.strings(db, """
            SELECT DISTINCT c.filename FROM mail_messages m JOIN __wadup_content c ON c.uuid = m.content_uuid ORDER BY 1
            """)
        #expect(messages.allSatisfy { !$0.hasPrefix("__substg1.0_") }, "\(messages)")
        #expect(Set(messages).isSuperset(of: Self.msgFiles))
    }

    @Test(arguments: msgFiles)
    func anOutlookMessageHasTheSubjectAddressesAndHeadersMsgconvertReads(file: String) throws {
        let (db, uuid, expected) = try Self.outlookRun(file)
        let message = try #require(expected.message)
        let rows = try db.read {
            try Row.fetchAll($0, sql: "SELECT message_id, date, sender, recipients, cc, subject, received_hops FROM mail_messages WHERE content_uuid = ? ORDER BY rowid", arguments: [uuid])
        }
        let row = try #require(rows.first)
        // The message's own row first, then one per embedded message, in order (read in place).
        let embedded = expected.embedded ?? []
        #expect(rows.count == 1 + embedded.count)
        for (inner, message) in zip(rows.dropFirst(), embedded) {
            #expect(inner["message_id"] as String? == message.messageId)
            #expect(inner["subject"] as String? == message.subject)
            #expect(inner["recipients"] as String? == message.recipients)
        }
        #expect(file != "embedded.msg" || embedded.count == 1)
        #expect(row["message_id"] as String? == message.messageId)
        #expect(row["subject"] as String? == message.subject)
        #expect(row["recipients"] as String? == message.recipients)
        #expect(row["cc"] as String? == message.cc)
        #expect(row["received_hops"] as Int == message.receivedHops)
        // A message that kept its transport headers: msgconvert copies them, so its From and Date
        // are the message's own (for an unsent one it makes a Date up from the file's times).
        if expected.sent == true {
            #expect(row["date"] as String? == message.date)
            #expect(row["sender"] as String? == message.sender)
            var headers: [String: Int] = [:]
            for header in try db.read({ try Row.fetchAll($0, sql: "SELECT name, value FROM mail_headers WHERE content_uuid = ? ORDER BY rowid", arguments: [uuid]) }) {
                let value = (header["value"] as String).split(whereSeparator: \.isWhitespace).joined(separator: " ")
                headers[(header["name"] as String).lowercased() + ": " + value, default: 0] += 1
            }
            for header in expected.headers ?? [] {
                let key = header.joined(separator: ": ")
                #expect((headers[key] ?? 0) > 0, "\(key)")
                headers[key, default: 0] -= 1
            }
        } else {
            #expect(try Self.strings(db, "SELECT count(*) FROM mail_headers WHERE content_uuid = ?", [uuid]) == ["0"])
        }
    }

    @Test(arguments: msgFiles)
    func theBodiesAndAttachmentsOfAnOutlookMessageAreTheBytesMsgconvertWrites(file: String) throws {
        let (db, uuid, expected) = try Self.outlookRun(file)
        let children = try Self.children(db, uuid)
        let bodies = try #require(expected.bodies)
        #expect(!bodies.isEmpty)
        for (kind, sha256) in bodies {
            let name = ["text": "body.txt", "html": "body.html", "rtf": "body.rtf"][kind] ?? kind
            #expect(children.contains("\(name)|\(sha256)"), "\(name)")
        }
        for (name, sha256) in expected.attachments ?? [:] { #expect(children.contains("\(name)|\(sha256)"), "\(name)") }
        // Every body and attachment msgconvert writes has its row (a .msg's parts are its bodies and attachments).
        let parts = try Self.strings(db, "SELECT part FROM mail_parts WHERE content_uuid = ? ORDER BY part", [uuid])
        #expect(parts.filter { !$0.hasPrefix("attach-") }.sorted() == bodies.keys.sorted())
        #expect(parts.filter { $0.hasPrefix("attach-") }.count >= (expected.attachments ?? [:]).count)
    }

    @Test(arguments: tnefFiles)
    func everyFileTnefExtractsFromATNEFStreamIsEmittedWithItsNameAndBytes(file: String) throws {
        let (db, uuid, expected) = try Self.outlookRun(file)
        let files = try #require(expected.tnef)
        #expect(!files.isEmpty)
        let children = try Self.children(db, uuid)
        for (name, sha256) in files {
            // tnef names the bodies message.txt, message.html, message.rtf; the module body.*.
            let emitted: String = name.hasPrefix("message.") ? "body." + String(name.dropFirst("message.".count)) : name
            #expect(children.contains("\(emitted)|\(sha256)"), "\(name)")
        }
        #expect(children.count == files.count, "\(children)")
        #expect(try Self.strings(db, "SELECT count(*) FROM mail_parts WHERE content_uuid = ?", [uuid]) == [String(files.count)])
    }

    /// The manifest (types, names, the TNEF and OLE2 signatures) and `process`'s own test agree:
    /// a run that offers every content to every module gives the same rows.
    @Test func outlookFilesGiveTheSameRowsWithAndWithoutDispatch() throws {
        let corpus = try Self.outlook.get()
        let dir = Harness.temporaryDirectory()
        _ = try Command(Harness.wadupBinary, ["--modules", corpus.modules, "--input", corpus.inputs, "--output", dir + "/dispatch.db", "--threads", "2"]).output()
        _ = try Command(Harness.wadupBinary, ["--modules", corpus.modules, "--input", corpus.inputs, "--output", dir + "/all.db", "--threads", "2", "--no-dispatch"]).output()
        let with = try RunDump.sqlite(dir + "/dispatch.db").lines(.invariant)
        #expect(with.count > 50)
        #expect(try RunDump.sqlite(dir + "/all.db").lines(.invariant) == with)
    }
}
