import WADUPCommands

import Foundation

exit(WadupCommand.execute(Array(CommandLine.arguments.dropFirst())))
