import ArgumentParser
import Foundation
import Logging
import Synchronization
import WADUPPipeline
import WADUPCore
import WADUPInspect
import WADUPRuntime

/// A logger that drops everything (`wadup check`'s probe load).
enum QuietLogger {
    static var logger: Logger {
        var logger = Logger(label: "wadup-check") { _ in SwiftLogNoOpLogHandler() }
        logger.logLevel = .critical
        return logger
    }
}
