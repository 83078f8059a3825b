import WADUPInspect
import WADUPPipeline

// The process exit statuses scripts rely on: the command layer alone maps error codes to them.
// 0 done; 1 the run or the output failed; 2 a problem found before any input was touched (a bad
// setting, an invalid module, an output that exists or is in use); 128+N a signal (RunCommand).

extension WADUPError.Code {
    /// 2 for problems found before any input is touched, 1 for a run that failed.
    var exitStatus: Int32 {
        [.usage, .invalidModule, .outputExists, .outputInUse, .resumeMismatch].contains(self) ? 2 : 1
    }
}

extension InspectError.Code {
    /// 2 when the wrong file or reference was given, 1 when the report or export could not be written.
    var exitStatus: Int32 { self == .output ? 1 : 2 }
}
