import ArgumentParser
import Foundation
import Policies
import Claims

/// The root command. Each subcommand lives in its own file (`CheckCommand.swift`, ...).
@main
struct SFTRL: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sftrl",
        abstract: "Numerical evidence for the non-decoupling of SFT and RL in post-training (arXiv:2601.07389).",
        version: sftrlVersion,
        subcommands: [
            CheckCommand.self,
            FlowCommand.self,
            UpdateCommand.self,
            SpectrumCommand.self,
            ExplainCommand.self,
            TaskCommand.self,
            ProbeCommand.self,
            FiguresCommand.self,
            TrainCommand.self,
            LMCommand.self,
            SearchCommand.self,
            MergeCommand.self,
            ParetoCommand.self,
        ]
    )

    /// Exit codes: 0 success, 1 a failed run (or `--strict` with a failing claim), 2 bad arguments
    /// or bad input (ArgumentParser's usage errors are mapped from 64 to 2).
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let code as ExitCode {
            Foundation.exit(code.rawValue)
        } catch {
            let message = fullMessage(for: error)
            let code = exitCode(for: error)
            if code == .success {
                print(message)
                Foundation.exit(0)
            }
            FileHandle.standardError.write(Data(("error: " + message.replacingOccurrences(of: "Error: ", with: "") + "\n").utf8))
            Foundation.exit(isInputError(error) || code == .validationFailure ? 2 : 1)
        }
    }

    /// Errors that mean "change your input", as opposed to a failed computation.
    static func isInputError(_ error: Error) -> Bool {
        error is ValidationError || error is InstanceError || error is ClaimError || error is DecodingError || error is CocoaError
    }
}

/// The toolkit's version, recorded in every manifest and report.
let sftrlVersion = "0.1.0"
