import WADUPCore

/// Why a run's database cannot be read or a content cannot be found.
///
/// Every case is a one-line reason that names the file. The command layer maps the code to an exit
/// status: a usage error (the wrong file or reference was given), except ``Code/output`` (the
/// report or export could not be written).
package struct InspectError: Error, Sendable, CustomStringConvertible {
    package enum Code: String, Sendable {
        case notFound = "not_found"
        case notWADUP = "not_wadup"
        case newerSchema = "newer_schema"
        case unreadable
        case noSuchContent = "no_such_content"
        case noSuchTable = "no_such_table"
        case output
    }

    package let code: Code
    /// What is wrong, with settings kept apart (the command layer spells them as flags).
    package let text: SettingMessage

    package init(_ code: Code, _ text: SettingMessage) {
        self.code = code
        self.text = text
    }

    /// The message with settings by their plain names.
    package var message: String { text.description }

    package var description: String { message }
}
