import ArgumentParser
import Foundation
import Reports

/// A human summary line: on standard output, or on standard error when an output option is `-`
/// (standard output then carries only the JSON or Markdown, so it can be piped).
func printSummary(_ text: String, stdoutTaken: Bool) {
    if stdoutTaken { FileHandle.standardError.write(Data((text + "\n").utf8)) } else { print(text) }
}

/// Runs an up-front check of the library (`OutputPaths`, which throws ``UserInputError``) so that
/// it can be called from `validate()`: ArgumentParser maps only its own `ValidationError` from
/// there to a usage error (exit status 2); anything else it would report as a failure (1).
func validating(_ check: () throws -> Void) throws {
    do { try check() } catch let e as UserInputError { throw ValidationError(e.message) }
}
