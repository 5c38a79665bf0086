import ArgumentParser
import Foundation
import Policies
import Claims
import Reports
import Figures

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
            MergeCommand.self, VerifyCommand.self, PowerCommand.self,
            ParetoCommand.self,
            FixedPointCommand.self,
        ]
    )

    /// Exit codes: 0 success, 1 a failed run (or `--strict` with a failing claim), 2 bad arguments
    /// or bad input (ArgumentParser's usage errors are mapped from 64 to 2).
    static func main() {
        do {
            var command = try parseAsRoot(joiningNegativeNumbers(Array(CommandLine.arguments.dropFirst())))
            try command.run()
        } catch let code as ExitCode {
            Foundation.exit(code.rawValue)
        } catch {
            let message = error is CocoaError || (error as NSError).domain == NSPOSIXErrorDomain ? plainMessage(error) : fullMessage(for: error)
            let status = exitStatus(for: error)
            if status == 0 {
                print(message)
                Foundation.exit(0)
            }
            FileHandle.standardError.write(Data(("error: " + withRange(message.replacingOccurrences(of: "Error: ", with: "")) + "\n").utf8))
            Foundation.exit(status)
        }
    }

    /// The exit status of an error that ends a command: 0 for --help and --version, 2 for an input
    /// error (`isInputError`, or ArgumentParser's usage errors, which it would exit with 64), 1 for
    /// a failed run; an `ExitCode` keeps its own.
    static func exitStatus(for error: Error) -> Int32 {
        if let code = error as? ExitCode { return code.rawValue }
        let code = exitCode(for: error)
        if code == .success { return 0 }
        return isInputError(error) || code == .validationFailure ? 2 : 1
    }

    /// Errors that mean "change your input", as opposed to a failed computation: the one place
    /// that maps them to exit status 2.
    static func isInputError(_ error: Error) -> Bool {
        if let f = error as? FiguresError { return f.isInputError }
        return error is ValidationError || error is UserInputError || error is InstanceError || error is ClaimError
            || error is DecodingError || error is CocoaError
    }
}

/// A computation or a write that failed after the input was accepted (exit status 1); the message
/// says what failed.
struct RunFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// `--rtol -1` as `--rtol=-1`: ArgumentParser reads a token starting with "-" as an option and would
/// answer "Missing value"; joined, the number reaches the command's own validation, which names the
/// valid range. Only a long option without "=" followed by a negative number is joined.
func joiningNegativeNumbers(_ args: [String]) -> [String] {
    var out: [String] = []
    var i = 0
    while i < args.count {
        let a = args[i]
        if a.hasPrefix("--"), a.count > 2, !a.contains("="), i + 1 < args.count, isNegativeNumber(args[i + 1]) {
            out.append(a + "=" + args[i + 1])
            i += 2
        } else {
            out.append(a)
            i += 1
        }
    }
    return out
}

/// "-1", "-0.5", "-.5", "-1e-3", "-inf"-free: a minus sign followed by a digit or a point and a digit.
func isNegativeNumber(_ s: String) -> Bool {
    let c = Array(s.utf8)
    guard c.count >= 2, c[0] == UInt8(ascii: "-") else { return false }
    let isDigit = { (b: UInt8) in b >= 0x30 && b <= 0x39 }
    return isDigit(c[1]) || (c[1] == UInt8(ascii: ".") && c.count >= 3 && isDigit(c[2])) ? Double(s) != nil : false
}

/// ArgumentParser's "The value '-1' is invalid for '--seed <seed>'" with the valid range added for
/// seeds (the parser does not say that a seed is a whole number from 0 to 2⁶⁴ − 1).
func withRange(_ message: String) -> String {
    guard let r = message.range(of: "is invalid for '--") else { return message }
    let option = message[r.upperBound...].prefix { $0 != " " && $0 != "'" }
    guard option.hasSuffix("seed") else { return message }
    let end = message[r.upperBound...].firstIndex(of: "\n") ?? message.endIndex
    return message[..<end] + "; a seed is a whole number from 0 to \(UInt64.max)" + message[end...]
}
