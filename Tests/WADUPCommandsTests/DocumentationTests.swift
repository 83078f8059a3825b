import Foundation
import Testing
import WADUPCommands
import WADUPTestSupport

/// The README is a front page and `docs/` is behind it: every relative link between them resolves,
/// down to the heading an `#anchor` names, and the README stays short and names the test command CI runs.
struct DocumentationTests {
    /// The checkout's root.
    static let root = Harness.packageRoot

    /// The pages whose links are checked: the README, the changelog, the SDKs' guide and every page under docs/.
    static var pages: [String] {
        let docs = (FileManager.default.enumerator(atPath: root.appendingPathComponent("docs").path)?.allObjects as? [String]) ?? []
        return ["README.md", "CHANGELOG.md", "Guests/README.md"] + docs.filter { $0.hasSuffix(".md") }.sorted().map { "docs/" + $0 }
    }

    static func read(_ relative: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(relative), encoding: .utf8)
    }

    /// The lines of a Markdown text outside fenced code blocks, with their line numbers.
    static func proseLines(_ text: String) -> [(number: Int, text: String)] {
        var fenced = false
        var lines: [(Int, String)] = []
        for (index, line) in text.components(separatedBy: "\n").enumerated() {
            if line.trimmingCharacters(in: .whitespaces).hasPrefix("```") {
                fenced.toggle()
                continue
            }
            if !fenced { lines.append((index + 1, line)) }
        }
        return lines
    }

    /// `[text](target)` and `![alt](target)`, with an optional `"title"`; the target is group 1.
    static func linkPattern() throws -> NSRegularExpression {
        try NSRegularExpression(pattern: #"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(([^)\s]+)(?:\s+"[^"]*")?\)"#)
    }

    /// The anchor GitHub gives a heading: lowercase, only letters, marks, numbers, spaces, `-` and
    /// `_` kept, spaces made `-` (link syntax reduced to its text first).
    static func slug(_ heading: String) -> String {
        let link = try! NSRegularExpression(pattern: #"\[([^\]]*)\]\([^)]*\)"#)
        let text = link.stringByReplacingMatches(in: heading, range: NSRange(heading.startIndex..., in: heading), withTemplate: "$1")
        var slug = ""
        for scalar in text.lowercased().unicodeScalars {
            switch scalar.properties.generalCategory {
            case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
                .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .letterNumber, .otherNumber:
                slug.unicodeScalars.append(scalar)
            default:
                if scalar == " " {
                    slug.append("-")
                } else if scalar == "-" || scalar == "_" {
                    slug.unicodeScalars.append(scalar)
                }
            }
        }
        return slug
    }

    /// Every anchor of a page's headings; a repeated heading gets `-1`, `-2`, … as on GitHub.
    static func anchors(_ text: String) -> Set<String> {
        var seen: [String: Int] = [:]
        var anchors: Set<String> = []
        for (_, line) in proseLines(text) {
            guard let match = line.range(of: #"^#{1,6}\s+"#, options: .regularExpression) else { continue }
            let heading = line[match.upperBound...].replacingOccurrences(of: #"\s+#*\s*$"#, with: "", options: .regularExpression)
            let base = slug(heading)
            let count = seen[base, default: 0]
            seen[base] = count + 1
            anchors.insert(count == 0 ? base : "\(base)-\(count)")
        }
        return anchors
    }

    /// The links of `page` that do not resolve, as `page:line: target (why)`.
    static func brokenLinks(in page: String) throws -> [String] {
        let text = try read(page)
        let pattern = try linkPattern()
        let folder = root.appendingPathComponent(page).deletingLastPathComponent()
        var broken: [String] = []
        for (number, line) in proseLines(text) {
            let range = NSRange(line.startIndex..., in: line)
            for match in pattern.matches(in: line, range: range) {
                guard let targetRange = Range(match.range(at: 1), in: line) else { continue }
                let target = String(line[targetRange])
                if target.hasPrefix("http:") || target.hasPrefix("https:") || target.hasPrefix("mailto:") || target.hasPrefix("#") { continue }
                let parts = target.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)
                let path = String(parts[0]).removingPercentEncoding ?? String(parts[0])
                let destination = folder.appendingPathComponent(path).standardizedFileURL
                guard FileManager.default.fileExists(atPath: destination.path) else {
                    broken.append("\(page):\(number): \(target) (no such file)")
                    continue
                }
                if parts.count == 2, destination.pathExtension == "md" {
                    let anchor = String(parts[1])
                    let headings = anchors(try String(contentsOf: destination, encoding: .utf8))
                    if !headings.contains(anchor) { broken.append("\(page):\(number): \(target) (no heading with that anchor)") }
                }
            }
        }
        return broken
    }

    @Test func everyRelativeLinkInTheDocsResolves() throws {
        let pages = Self.pages
        #expect(pages.contains("docs/modules/ABI.md"), "the docs folder was not found under \(Self.root.path)")
        var broken: [String] = []
        for page in pages { broken += try Self.brokenLinks(in: page) }
        #expect(broken.isEmpty, "broken links:\n\(broken.joined(separator: "\n"))")
    }

    @Test func headingsGetGitHubsAnchors() {
        #expect(Self.slug("`wadup run`: the options") == "wadup-run-the-options")
        #expect(Self.slug("Analyst's view") == "analysts-view")
        #expect(Self.slug("Dedup across processes: the bound") == "dedup-across-processes-the-bound")
        #expect(Self.anchors("# A\n## Tests\n```\n## Not a heading\n```\n### Tests\n") == ["a", "tests", "tests-1"])
    }

    @Test func theReadmeIsAFrontPageOfAtMost250Lines() throws {
        let lines = try Self.read("README.md").split(separator: "\n", omittingEmptySubsequences: false)
        let count = lines.last == "" ? lines.count - 1 : lines.count
        #expect(count <= 250, "README.md has \(count) lines; move detail into docs/")
    }

    /// `wadup new`'s list of the standard tables is the one docs/modules/standard-modules.md gives
    /// (DispatchEquivalenceTests checks it against runs of the whole standard set).
    @Test func everyStandardTableIsDocumentedWithItsColumns() throws {
        let page = try Self.read("docs/modules/standard-modules.md")
        for entry in StandardTables.all {
            #expect(page.contains("`\(entry.module)`"), "\(entry.module)")
            let columns = entry.columns.split(separator: ", ")
            let documented = page.ranges(of: "`\(entry.table)(").contains { range in
                let rest = page[range.upperBound...].prefix { $0 != ")" }
                return rest.split(separator: ", ").map { $0.split(separator: " ").first.map(String.init) ?? "" } == columns.map(String.init)
            }
            #expect(documented, "\(entry.table)(\(entry.columns)) in standard-modules.md")
        }
    }

    @Test func theReadmeGivesTheTestCommandThatCIRuns() throws {
        #expect(try Self.read("README.md").contains("bash scripts/test.sh"))
        #expect(try Self.read(".ci/run").contains("scripts/test.sh"))
    }
}
